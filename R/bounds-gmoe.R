#' The parameter space of a Gaussian-gated mixture-of-experts fit
#'
#' The convergence theory of the maximum-likelihood estimator (Nguyen,
#' Nguyen, Nguyen and Ho 2024) assumes a compact parameter space: variances
#' bounded away from zero, slopes and intercepts bounded. Without such
#' bounds the likelihood is unbounded (a variance collapses onto a few
#' observations, a slope runs off) and there is no maximum to find.
#' `gmoe_bounds()` states the space a fit by [fit_gmoe()] maximises over;
#' pass it as `gmoe_control(bounds = )`.
#'
#' **The bounds.** For every component \eqn{j}:
#' \itemize{
#'   \item \eqn{\nu_j \ge} `nu_min`;
#'   \item every eigenvalue of \eqn{\Gamma_j} \eqn{\ge} `gamma_min`;
#'   \item \eqn{|a_{jl}| \le} `a_max[l]` for each covariate \eqn{l}: a box,
#'     coordinate by coordinate, which maps exactly between units (a bound
#'     on the norm of \eqn{a_j} would not);
#'   \item \eqn{|b_j| \le} `b_max` (the intercept at \eqn{x = 0});
#'   \item \eqn{\pi_j \ge} `weight_min`.
#' }
#' All are in the data's units. The fit runs on standardised data (see
#' [fit_gmoe()]), into whose units the bounds are mapped exactly: an
#' eigenvalue floor \eqn{g} on \eqn{\Gamma_j} becomes the matrix bound
#' \eqn{\Gamma_j \succeq g S^{-2}}{Gamma_j >= g S^-2} with \eqn{S} the
#' covariates' standard deviations, the box on \eqn{a} a box, the bound on
#' \eqn{b} a bound on a linear combination of the standardised slope and
#' intercept.
#'
#' **Defaults: data-driven.** Without `nu_min`, \eqn{\nu_j} is kept at or
#' above `var_floor` times the sample variance of `y`; without `gamma_min`,
#' \eqn{\Gamma_j - } `var_floor` \eqn{\mathrm{diag}(s_1^2, \dots, s_d^2)}
#' is kept positive semidefinite, \eqn{s_l} the sample standard deviation
#' of covariate \eqn{l} (with one covariate: an eigenvalue floor at
#' `var_floor` times its variance). Slopes and intercepts are free. These
#' floors only keep the arithmetic finite on degenerate data; a study of the
#' MLE needs the bounds the theory assumes: see [gmoe_bounds_from_truth()].
#'
#' **How they are enforced.** Each M-step is the exact maximiser of the EM
#' Q-function within the bounds, not a clamp, so the log-likelihood never
#' decreases. The blocks separate: the weights maximise
#' \eqn{\sum_j n_j \log \pi_j} subject to \eqn{\pi_j \ge} `weight_min`
#' (water-filling: \eqn{\pi_j = \max(}`weight_min`\eqn{, n_j / \lambda)});
#' \eqn{c_j} is the weighted mean and \eqn{\Gamma_j} the weighted covariance
#' with its eigenvalues (relative to the floor) clipped from below, which is
#' the exact constrained maximiser of the Gaussian term; \eqn{(a_j, b_j)}
#' are the weighted least-squares fit within their box (an active-set
#' solver of \eqn{d + 1} variables); \eqn{\nu_j} is the weighted mean
#' squared residual or `nu_min`, whichever is larger. A component whose
#' summed responsibility falls below \eqn{10^{-10} n} has collapsed (the
#' data hold nothing of it): it keeps its atom, brought within the bounds,
#' and the iteration is recorded. Newton steps (see [gmoe_control()]) hold
#' the parameters on an active bound fixed (a component whose weight is on
#' its bound, whole), and leave them to the EM steps.
#'
#' Every fit reports, per component, which bounds are active at its end
#' (`fit$diagnostics$bounds`); `print()` and `summary()` say so.
#'
#' @param nu_min Smallest expert variance \eqn{\nu_j}, in the units of
#'   \eqn{y^2}; `NULL`: `var_floor` times the sample variance of `y`.
#' @param gamma_min Smallest eigenvalue of each gate covariance
#'   \eqn{\Gamma_j}, in the units of \eqn{x^2}; `NULL`: the relative floor
#'   described above.
#' @param a_max Largest \eqn{|a_{jl}|}: one number for every covariate or
#'   one per covariate (`Inf` leaves a covariate's slopes free); `NULL`:
#'   every slope free.
#' @param b_max Largest \eqn{|b_j|}; `NULL` (or `Inf`): free.
#' @param weight_min Smallest weight \eqn{\pi_j}, in (0, 1); a fit of
#'   \eqn{k} components needs \eqn{k \times}`weight_min` \eqn{< 1}.
#' @param var_floor Relative floor on the variances where `nu_min` or
#'   `gamma_min` is `NULL`, in (0, 1).
#' @return A list of class `gmoe_bounds`.
#' @references Nguyen, H., Nguyen, T., Nguyen, K. and Ho, N. (2024).
#'   Towards convergence rates for parameter estimation in Gaussian-gated
#'   mixture of experts. AISTATS 2024. arXiv:2305.07572.
#' @seealso [gmoe_bounds_from_truth()], [gmoe_control()], [fit_gmoe()].
#' @examples
#' gmoe_bounds()
#' gmoe_bounds(nu_min = 1e-3, gamma_min = 1e-3, a_max = 10, b_max = 5)
#'
#' set.seed(1)
#' sim <- rgmoe(500, gmoe_paper_truth(1))
#' fit <- fit_gmoe(sim$x, sim$y, k = 3,
#'                 control = gmoe_control(bounds = gmoe_bounds(nu_min = 0.005)))
#' fit$diagnostics$bounds
#' @export
gmoe_bounds <- function(nu_min = NULL, gamma_min = NULL, a_max = NULL, b_max = NULL,
                        weight_min = 1e-10, var_floor = 1e-8) {
  if (!is.null(nu_min)) nu_min <- check_finite_positive(nu_min, "nu_min")
  if (!is.null(gamma_min)) gamma_min <- check_finite_positive(gamma_min, "gamma_min")
  if (!is.null(a_max)) {
    if (!is.numeric(a_max) || length(a_max) < 1 || anyNA(a_max) || any(a_max <= 0)) {
      stop_arg("a_max", "must be NULL or positive numbers (Inf: no bound), one or one per covariate.")
    }
    a_max <- if (all(a_max == Inf)) NULL else as.double(a_max)
  }
  if (!is.null(b_max)) {
    if (!is.numeric(b_max) || length(b_max) != 1 || is.na(b_max) || b_max <= 0) {
      stop_arg("b_max", "must be NULL or a single positive number (Inf: no bound).")
    }
    b_max <- if (b_max == Inf) NULL else as.double(b_max)
  }
  weight_min <- check_positive(weight_min, "weight_min", len = 1)
  if (weight_min >= 1) stop_arg("weight_min", "must be in (0, 1).")
  var_floor <- check_positive(var_floor, "var_floor", len = 1)
  if (var_floor >= 1) stop_arg("var_floor", "must be in (0, 1).")
  structure(list(nu_min = nu_min, gamma_min = gamma_min, a_max = a_max,
                 b_max = b_max, weight_min = weight_min, var_floor = var_floor),
            class = "gmoe_bounds")
}

check_finite_positive <- function(x, arg) {
  if (!is.numeric(x) || length(x) != 1 || !is.finite(x) || x <= 0) {
    stop_arg(arg, "must be NULL or a single positive finite number.")
  }
  as.double(x)
}

#' @export
format.gmoe_bounds <- function(x, ...) {
  num <- function(v) paste(format(v, digits = 3), collapse = ", ")
  paste0("nu >= ", if (is.null(x$nu_min)) paste0(num(x$var_floor), " var(y)") else num(x$nu_min),
         "; eigen(Gamma) >= ",
         if (is.null(x$gamma_min)) paste0(num(x$var_floor), " var(x)") else num(x$gamma_min),
         "; |a| <= ", if (is.null(x$a_max)) "Inf" else num(x$a_max),
         "; |b| <= ", if (is.null(x$b_max)) "Inf" else num(x$b_max),
         "; pi >= ", num(x$weight_min))
}

#' @export
print.gmoe_bounds <- function(x, ...) {
  x <- check_gmoe_bounds(x, "x")
  cat("GMoE parameter space:", format(x), "\n")
  invisible(x)
}

check_gmoe_bounds <- function(bounds, arg = "bounds") {
  if (!inherits(bounds, "gmoe_bounds") || !is.list(bounds)) {
    stop_arg(arg, "must be made by gmoe_bounds() or gmoe_bounds_from_truth(), not a ",
             class(bounds)[1], ".")
  }
  settings <- names(formals(gmoe_bounds))
  unknown <- setdiff(names(bounds), settings)
  if (length(unknown)) {
    stop_arg(arg, "has unknown setting(s) ", paste0("`", unknown, "`", collapse = ", "), ".")
  }
  args <- unclass(bounds)[intersect(settings, names(bounds))]
  rebuild(arg, do.call(gmoe_bounds, args))
}

#' Bounds for a study of the maximum-likelihood estimator, from the truth
#'
#' A compact parameter space for fits of data simulated from `truth`, by a
#' fixed rule: the theory of Nguyen, Nguyen, Nguyen and Ho (2024) assumes
#' such a space, containing the truth in its interior, and the MLE over it
#' is the estimator whose rates a study measures.
#'
#' **The rule.** With \eqn{f} = `variance_fraction` and \eqn{m} =
#' `range_multiple`:
#' \itemize{
#'   \item `nu_min` \eqn{= f \min_j \nu^*_j};
#'   \item `gamma_min` \eqn{= f \min_j \lambda_{\min}(\Gamma^*_j)};
#'   \item `a_max[l]` \eqn{= m \max(\max_j |a^*_{jl}|, \sigma^*_y / \sigma^*_{x_l})};
#'   \item `b_max` \eqn{= m \max(\max_j |b^*_j|, \sigma^*_y)};
#'   \item `weight_min` as given (the theory leaves the weights free in the
#'     simplex: an over-fitted atom's weight may vanish).
#' }
#' \eqn{\sigma^*_y} and \eqn{\sigma^*_{x_l}} are the standard deviations of
#' \eqn{y} and \eqn{x_l} under the truth, computed exactly from its moments:
#' the natural scale of a slope and of an intercept, so that the rule holds
#' when every true slope or intercept is 0.
#'
#' **Why.** The bounds must leave the truth and its neighbourhood free (so
#' that they do not bind where the estimator converges), scale with the
#' data's units (every bound here is equivariant under rescaling \eqn{x} and
#' \eqn{y}), and exclude the directions in which the likelihood runs away:
#' a variance collapsing onto a few observations, and atoms of small weight
#' with far-off slopes and intercepts fitted to a local pattern. Estimates
#' of the variances converge to the true ones (at rate \eqn{n^{-1/r}} in
#' over-fitted cells), so a floor at a tenth of the smallest true variance
#' binds only on such degenerate atoms, not on the estimator's limit; ten
#' times the range of the true slopes and intercepts leaves every estimate
#' near the truth free. The fraction and the multiple are arguments so that
#' the sensitivity of a study to them can be measured.
#'
#' @param truth A [gmoe_params()] object.
#' @param variance_fraction \eqn{f}, in (0, 1).
#' @param range_multiple \eqn{m}, at least 1.
#' @param weight_min Smallest weight, as in [gmoe_bounds()].
#' @return A [gmoe_bounds()] object.
#' @references Nguyen, H., Nguyen, T., Nguyen, K. and Ho, N. (2024).
#'   Towards convergence rates for parameter estimation in Gaussian-gated
#'   mixture of experts. AISTATS 2024. arXiv:2305.07572.
#' @seealso [gmoe_bounds()], [gmoe_study()].
#' @examples
#' truth <- gmoe_paper_truth(1)
#' gmoe_bounds_from_truth(truth)
#'
#' set.seed(1)
#' sim <- rgmoe(2000, truth)
#' start <- init_near_truth(truth, k = 4, n = 2000)
#' fit <- fit_gmoe(sim$x, sim$y, k = 4, init = start,
#'                 control = gmoe_control(bounds = gmoe_bounds_from_truth(truth)))
#' fit$diagnostics$bounds
#' @export
gmoe_bounds_from_truth <- function(truth, variance_fraction = 0.1, range_multiple = 10,
                                   weight_min = 1e-10) {
  truth <- check_gmoe_params(truth, "truth")
  variance_fraction <- check_positive(variance_fraction, "variance_fraction", len = 1)
  if (variance_fraction >= 1) stop_arg("variance_fraction", "must be in (0, 1).")
  range_multiple <- check_positive(range_multiple, "range_multiple", len = 1)
  if (range_multiple < 1) stop_arg("range_multiple", "must be at least 1.")
  k <- length(truth$pi)
  eig_min <- vapply(seq_len(k), function(j) {
    min(eigen(truth$Gamma[, , j], symmetric = TRUE, only.values = TRUE)$values)
  }, numeric(1))
  m <- truth_moments(truth)
  gmoe_bounds(nu_min = variance_fraction * min(truth$nu),
              gamma_min = variance_fraction * min(eig_min),
              a_max = range_multiple * pmax(apply(abs(truth$a), 2, max), m$sd_y / m$sd_x),
              b_max = range_multiple * max(abs(truth$b), m$sd_y),
              weight_min = weight_min)
}

# Standard deviations of each covariate and of y under a GMoE: the mixture's
# moments, x ~ sum_j pi_j N(c_j, Gamma_j), y | j, x ~ N(a_j'x + b_j, nu_j).
truth_moments <- function(p) {
  k <- length(p$pi)
  d <- ncol(p$c)
  mean_x <- colSums(p$pi * p$c)
  second_x <- matrix(0, d, d)
  mean_y <- 0
  second_y <- 0
  for (j in seq_len(k)) {
    G <- matrix(p$Gamma[, , j], d, d)
    cj <- p$c[j, ]
    aj <- p$a[j, ]
    my <- sum(aj * cj) + p$b[j]
    second_x <- second_x + p$pi[j] * (G + tcrossprod(cj))
    mean_y <- mean_y + p$pi[j] * my
    second_y <- second_y + p$pi[j] * (drop(crossprod(aj, G %*% aj)) + p$nu[j] + my^2)
  }
  list(sd_x = sqrt(diag(second_x) - mean_x^2), sd_y = sqrt(second_y - mean_y^2))
}

# The bounds in the standardised units of a fit (see standard_units() in
# fit-gmoe.R), as the C++ core takes them: Gamma_j >= diag(gamma), nu_j >=
# nu, pi_j >= weight, |a_jl| <= a_max[l], b_lo <= b_j - b_shift'a_j <= b_hi.
gmoe_bounds_in_units <- function(bounds, units, k) {
  d <- length(units$x_scale)
  a_max <- if (is.null(bounds$a_max)) Inf else bounds$a_max
  b_max <- if (is.null(bounds$b_max)) Inf else bounds$b_max
  if (length(a_max) != 1 && length(a_max) != d) {
    stop_arg("control$bounds", "has `a_max` of length ", length(a_max),
             "; it needs one value or one per covariate (", d, ").")
  }
  if (k * bounds$weight_min >= 1) {
    stop_arg("control$bounds", "has `weight_min` = ", format(bounds$weight_min),
             ", too large for k = ", k, " components (k * weight_min must be below 1).")
  }
  sx <- units$x_scale
  sy <- units$y_scale
  out <- list(
    gamma = if (is.null(bounds$gamma_min)) rep(bounds$var_floor, d) else bounds$gamma_min / sx^2,
    nu = if (is.null(bounds$nu_min)) bounds$var_floor else bounds$nu_min / sy^2,
    weight = bounds$weight_min,
    a_max = rep_len(a_max, d) * sx / sy,
    b_shift = units$x_centre / sx,
    b_lo = (-b_max - units$y_centre) / sy,
    b_hi = (b_max - units$y_centre) / sy)
  bad <- !is.finite(c(out$gamma, out$nu)) | c(out$gamma, out$nu) <= 0
  if (any(bad)) {
    stop_arg("control$bounds", "has variance floors that cannot be held in a double in the ",
             "data's standardised units; choose floors nearer the data's variances.")
  }
  out
}

# The first bound a start in standardised units violates, as a message in
# the data's terms, or NULL.
bounds_violation <- function(p, b) {
  slack <- 1e-9
  k <- length(p$pi)
  for (j in seq_len(k)) {
    if (p$pi[j] < b$weight * (1 - slack)) return(sprintf("its weight pi[%d] is below weight_min", j))
    if (p$nu[j] < b$nu * (1 - slack)) return(sprintf("its expert variance nu[%d] is below the floor", j))
    G <- matrix(p$Gamma[, , j], length(b$gamma)) / sqrt(outer(b$gamma, b$gamma))
    if (min(eigen(G, symmetric = TRUE, only.values = TRUE)$values) < 1 - slack) {
      return(sprintf("its gate covariance Gamma[, , %d] has an eigenvalue below the floor", j))
    }
    if (any(abs(p$a[j, ]) > b$a_max * (1 + slack))) {
      return(sprintf("its slope a[%d, ] exceeds a_max", j))
    }
    beta <- p$b[j] - sum(b$b_shift * p$a[j, ])
    if (beta < b$b_lo - slack * max(1, abs(b$b_lo)) || beta > b$b_hi + slack * max(1, abs(b$b_hi))) {
      return(sprintf("its intercept |b[%d]| exceeds b_max", j))
    }
  }
  NULL
}
