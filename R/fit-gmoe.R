#' Control settings for fitting a Gaussian-gated mixture of experts
#'
#' @param max_iter Largest number of iterations (EM steps, SQUAREM cycles or
#'   Newton iterations), a whole number >= 0. `max_iter = 1` is the
#'   published one-step procedure (one plain EM step from the start,
#'   whatever `accelerate`); `max_iter = 0` only evaluates the start.
#' @param tol Convergence tolerance, in log-likelihood units. The fit stops
#'   at a point where the estimated remaining gain in log-likelihood is
#'   below `tol`: the Newton decrement \eqn{g^\top (-H)^{-1} g / 2}, with
#'   \eqn{g} the score and \eqn{H} the Hessian of the log-likelihood (the
#'   observed information's negative) over the parameters not held at a
#'   bound; `Inf` where \eqn{-H} is not positive definite, so such points
#'   never pass. It is the gain the quadratic model of the log-likelihood
#'   predicts to its maximum; near a maximum whose log-likelihood falls off
#'   like a power \eqn{|\theta - \hat\theta|^p}, \eqn{p \ge 2}, in some
#'   direction (over-fitted mixtures have such flat directions), it is
#'   between half the true remaining gain and the true remaining gain. It
#'   does not grow with \eqn{n} and does not depend on the units, so
#'   "converged" means the same distance to the maximum at every sample
#'   size: on the paper's models 1 and 2 (\eqn{k = 4, 5}, \eqn{n} from
#'   \eqn{10^3} to \eqn{10^5}) converged fits ended within `tol` of the
#'   maximum that the same fit reaches with `tol = 1e-12`, and the decrement
#'   matched that distance to about 10 per cent. It is a local estimate:
#'   far from a maximum, along a curved ridge, the quadratic model can
#'   promise much less than remains (decrements of 0.01 were seen three
#'   log-likelihood units below a maximum), which is why the default `tol`
#'   is small. Where a bound other than a box on a
#'   single parameter is active (see [gmoe_bounds()]), a plain EM step,
#'   which handles every bound exactly, must also gain less than `tol`.
#'   Plain EM and SQUAREM (`accelerate = "none"`, `"squarem"`) run the test
#'   where an EM step gains less than `tol`, at iterations spaced
#'   geometrically, so that it costs a few passes over the data. This is
#'   convergence to a local maximum: which maximum is found depends on the
#'   start. With `tol = 0` the fit runs exactly `max_iter` iterations.
#' @param accelerate `"newton"` (the default): SQUAREM cycles until one
#'   cycle's first EM step gains less than one log-likelihood unit, then
#'   Newton iterations: steps of a trust region (Moré and Sorensen 1983) on
#'   the quadratic model made of the score and the observed information, in
#'   an unconstrained parametrisation (log-ratio weights, \eqn{c_j}, the
#'   triangular factor \eqn{R_j} of \eqn{\Gamma_j^{-1} = R_j^\top R_j} with
#'   its diagonal as logs, \eqn{a_j}, \eqn{b_j}, \eqn{\log \nu_j}), each
#'   judged by one E-step pass. The information is computed exactly (one
#'   pass over the data) at the first Newton iteration, every ten steps,
#'   after a failed step, and near the maximum (where the model's decrement
#'   falls below \eqn{10^{-4}}, and at every stopping test); in between it
#'   is carried along by BFGS updates from the scores, which the E-steps
#'   give at no extra cost. Parameters held at a bound stay fixed (box
#'   bounds on single parameters only where the log-likelihood rises beyond
#'   them). A step that raises the log-likelihood more than the model
#'   predicted is doubled while the log-likelihood keeps rising; one that
#'   does not raise it is retried in a smaller region, and after three
#'   failures a SQUAREM cycle is made instead, so the log-likelihood never
#'   decreases. Near a maximum Newton converges in a few iterations where EM
#'   crawls (over-fitted likelihoods are flat, and EM converges sublinearly
#'   there). The path does not depend on `tol`: a fit with a smaller `tol`
#'   runs on along the same path. `"squarem"`: SQUAREM cycles only (Varadhan and Roland 2008): two
#'   EM steps, a jump along them and an EM step from the jump. The jump is
#'   taken in a parametrisation in which every point is valid (log weights,
#'   log variances, log-Cholesky factors of the \eqn{\Gamma_j}) and is kept
#'   only if its EM step ends at least as high as the cycle's start;
#'   otherwise the step length is halved, and after four failures the second
#'   plain step is kept. `"none"`: plain EM, one EM step per iteration (its
#'   iterates equal mclust's). Every pass over the data is counted in the
#'   fit's `$diagnostics$passes`, the information passes also in
#'   `$diagnostics$information_passes`; one costs about 16 E-step passes
#'   (\eqn{d = 1}, \eqn{k = 5}).
#' @param threads Threads for the passes over the data inside one fit (OpenMP,
#'   where the compiler supports it; otherwise one thread). The observations
#'   are split into `threads` contiguous parts whose sums are added in a fixed
#'   order, so results equal the single-threaded ones up to rounding and do
#'   not depend on scheduling. Worth it for one large data set; rate studies
#'   parallelise across fits through the future framework instead.
#' @param bounds The parameter space: a [gmoe_bounds()] object (the default
#'   keeps variances above tiny floors relative to the data's variances and
#'   leaves slopes and intercepts free) or, for studies of the MLE, bounds
#'   from the truth by [gmoe_bounds_from_truth()]. Every M-step is the exact
#'   maximiser within them, and every fit reports which are active at its
#'   end.
#' @param kernels Which code the passes over the data run. `"auto"` (the
#'   default, unless the option `moerates.kernels` says otherwise): the
#'   processor's AVX2 and FMA instructions where it has them (x86-64 Linux
#'   and macOS; detected at run time, as the package is built with R's
#'   portable flags), about twice as fast for up to three covariates, and
#'   the portable code elsewhere. `"portable"`: the portable code
#'   everywhere. The two agree up to rounding, and EM is deterministic, so
#'   a fit is reproducible bit for bit on one path; but fits that stop on
#'   the flat ridges of over-fitted likelihoods can stop at different
#'   iterations on the two paths. Results are therefore identical bit for
#'   bit across the workers of a study only when every worker runs the same
#'   path: with workers of both kinds, set
#'   `options(moerates.kernels = "portable")` on every worker (or
#'   `kernels = "portable"` here). Every fit records the path it ran in
#'   `$diagnostics$kernels`, which `summary()` shows.
#' @return A list of class `gmoe_control`.
#' @references Varadhan, R. and Roland, C. (2008). Simple and globally
#'   convergent methods for accelerating the convergence of any EM
#'   algorithm. Scandinavian Journal of Statistics 35, 335-353.
#'
#'   Moré, J. J. and Sorensen, D. C. (1983). Computing a trust region step.
#'   SIAM Journal on Scientific and Statistical Computing 4, 553-572.
#' @seealso [fit_gmoe()], [gmoe_bounds()], [is_degenerate()].
#' @examples
#' gmoe_control()
#' gmoe_control(max_iter = 1)          # the published one-step mode
#' gmoe_control(max_iter = 25, tol = 0, accelerate = "none") # exactly 25 EM steps
#' gmoe_control(bounds = gmoe_bounds_from_truth(gmoe_paper_truth(1)))
#' gmoe_control(kernels = "portable")   # the same code path on every processor
#' @export
gmoe_control <- function(max_iter = 2000, tol = 1e-6, accelerate = c("newton", "squarem", "none"),
                         threads = 1, bounds = gmoe_bounds(),
                         kernels = getOption("moerates.kernels", "auto")) {
  max_iter <- check_count(max_iter, "max_iter", min = 0)
  tol <- check_numeric(tol, "tol", len = 1)
  if (tol < 0) stop_arg("tol", "must be >= 0.")
  if (!is.character(accelerate) || !length(accelerate) %in% c(1, 3) ||
      !all(accelerate %in% c("newton", "squarem", "none"))) {
    stop_arg("accelerate", "must be \"newton\", \"squarem\" or \"none\".")
  }
  accelerate <- accelerate[1]
  threads <- check_count(threads, "threads")
  bounds <- check_gmoe_bounds(bounds, "bounds")
  kernels <- check_kernels(kernels)
  structure(list(max_iter = max_iter, tol = tol, accelerate = accelerate,
                 threads = threads, bounds = bounds, kernels = kernels),
            class = "gmoe_control")
}

#' @export
print.gmoe_control <- function(x, ...) {
  x <- check_gmoe_control(x, "x")
  cat("GMoE fit control\n")
  cat(sprintf("  %-11s %s\n", names(x), vapply(x, format, character(1))), sep = "")
  invisible(x)
}

#' Fit a Gaussian-gated mixture of experts by maximum likelihood
#'
#' Maximum-likelihood fit of a \eqn{k}-component Gaussian-gated mixture of
#' experts over a compact parameter space ([gmoe_bounds()]), by EM,
#' SQUAREM and Newton steps on the analytic observed information (see
#' [gmoe_control()]), written in C++. The likelihood is the joint
#' likelihood of \eqn{(x, y)}, as in the theory and the published
#' simulations. The fit stops where the estimated remaining gain in
#' log-likelihood is below `control$tol`, a test whose meaning does not
#' change with \eqn{n}. From the same start, plain EM's iterates
#' (`accelerate = "none"`, no bound active) equal those of
#' `mclust::emVVV()` (that is, `mclust::em(modelName = "VVV")`, with the
#' start's Cholesky factors in `variance$cholsigma`) on `cbind(x, y)`
#' mapped through
#' [gmoe_from_joint()].
#'
#' **Units.** The fit runs on standardised data: each covariate and the
#' response centred and divided by its standard deviation (computed without
#' overflow or underflow). The GMoE family is closed under these affine
#' maps and EM is equivariant under them, so the parameters and the
#' log-likelihood are mapped back exactly: the fit is the same, up to
#' rounding, in any units (`x * 1e6`, `y * 1e-6`, columns permuted), and data
#' near `1e-150` or `1e150` fit like data near 1. Where a double cannot hold
#' the answer (a variance of data near `1e300` exceeds the largest double,
#' one of data near `1e-300` is below the smallest) the fit stops with an
#' error that says so. Bounds given in the data's units are mapped into the
#' standardised units exactly (see [gmoe_bounds()]).
#'
#' **Covariates.** A Gaussian gate needs covariates whose covariance is not
#' singular. A constant covariate, and columns that are collinear
#' (duplicated, proportional, or a linear combination of others, as found
#' by a pivoted QR decomposition with tolerance `1e-7`, the test of
#' [stats::lm()]), are refused with an error that names them: on such data
#' every gate covariance is singular, the likelihood is unbounded, and the
#' model is a GMoE on fewer covariates. Drop the aliased columns (or fit on
#' a basis of the covariates' span) and refit.
#'
#' **Starts.** `"kmeans"` runs [stats::kmeans()] on the standardised
#' `cbind(x, y)` and turns the partition into parameters by one M-step;
#' `"random"` assigns each observation to the nearest of \eqn{k} randomly
#' chosen observations (standardised scale) and does the same; a
#' [gmoe_params()] object is used as it is (see [init_near_truth()]), after
#' it is checked as [gmoe_params()] checks its arguments. A start whose
#' log-likelihood at the data is not finite is refused. With
#' `n_starts > 1` the random starts are repeated and the fit with the highest
#' log-likelihood is kept. All randomness goes through R's generator.
#'
#' Degenerate fits never return NaN and never drop a component: variances
#' stay within their bounds and collapsed components are kept (see
#' [gmoe_bounds()]); what happened is recorded in `$diagnostics` and
#' reported by [is_degenerate()]. A start given as a [gmoe_params()] object
#' must lie within the bounds.
#'
#' **Formula interface.** `fit_gmoe(y ~ x1 + x2, data, k, subset, na.action)`
#' builds the model frame as [stats::lm()] does: `subset` is evaluated in
#' `data`, then in the formula's environment, and rows with missing values
#' are handled by `na.action` (that of the call, else
#' `getOption("na.action")`, factory-fresh [stats::na.omit()]); the rows
#' left out are in `fit$na.action`, so that [stats::na.action()] and
#' `print()` report them as for `lm()`. The columns of the model matrix, in
#' order and without the intercept, are the covariates \eqn{x} of the gates
#' and the experts; transformations such as `I(x^2)` or `poly(x, 2)` are
#' columns like any other, evaluated at new data as fitted by [predict()].
#' Factor, character and logical covariates are refused: the gates are
#' Gaussian densities in \eqn{x}, and the 0/1 columns of a dummy-coded
#' category are not Gaussian (their gate covariances degenerate, and the fit
#' with them). Fit each level separately (`subset = group == "a"`), or code
#' the variable as a number yourself if a Gaussian gate in that coding is
#' what you mean. The formula must keep its intercept (every expert has its
#' own \eqn{b}) and have no offset. Observation weights are refused: the
#' EM maximises the unweighted log-likelihood (for whole-number case
#' weights, repeat the rows).
#'
#' **Names.** The covariates' names, those of the formula's model matrix or
#' the column names of a matrix or data frame `x`, name the columns of
#' [coef()], as printed by `print()` and `summary()`: `c_wt`, `c_hp`,
#' `Gamma_wt_hp`, `a_wt`, ... (without distinct names, numbered: `c1`,
#' `Gamma12`, `a1`, as in [coef.gmoe_params()]). [plot()] labels its axes
#' with them.
#'
#' @param x Covariates (an \eqn{n \times d}{n x d} numeric matrix, data frame
#'   or, for \eqn{d = 1}, vector), or a formula `y ~ x1 + x2` (see Details,
#'   Formula interface).
#' @param y Responses, one per row of `x`.
#' @param k Number of components, a whole number >= 1 and smaller than the
#'   number of observations; or several such numbers (`k = 1:6`), to fit
#'   each and choose among them by BIC: see [gmoe_selection].
#' @param init `"kmeans"`, `"random"` or a `gmoe_params` start with \eqn{k}
#'   components and \eqn{d} covariates.
#' @param n_starts Number of starts for `"kmeans"` and `"random"`.
#' @param control A [gmoe_control()] object.
#' @param verbose If `TRUE`, report each start through [message()].
#' @param data A data frame holding the variables of the formula (else they
#'   are taken from the formula's environment).
#' @param subset An optional expression saying which rows of `data` to use,
#'   as in [stats::lm()].
#' @param weights Not supported: an error (see Details).
#' @param na.action What to do with rows with missing values, as in
#'   [stats::lm()]: [stats::na.omit()] (the factory-fresh default),
#'   [stats::na.exclude()] (`fitted()` and `residuals()` padded with `NA` at
#'   the rows left out) or [stats::na.fail()].
#' @param ... For the formula method, the arguments of the default method
#'   (`init`, `n_starts`, `control`, `verbose`); anything else is an error.
#' @return An object of class `gmoe_fit`: a list with `params` (a
#'   `gmoe_params`), `loglik`, `loglik_trace` (at the start and after each
#'   iteration), `iterations`, `converged`, `responsibilities`
#'   (\eqn{n \times k}{n x k}), `diagnostics` (`components`, per
#'   component: number of M-steps in which the bound on \eqn{\Gamma_j} or
#'   \eqn{\nu_j} was active, iteration at which it collapsed, its final
#'   effective size; `bounds`, per component, whether the bound on its
#'   weight, \eqn{\Gamma_j}, \eqn{\nu_j}, \eqn{a_j} (any coordinate) and
#'   \eqn{b_j} is active at the end; `remaining_gain`, for a converged fit,
#'   the Newton decrement at which it stopped (`NULL` otherwise); the number
#'   of log-likelihood decreases, of SQUAREM cycles that fell back to the
#'   plain EM step, `passes`, the number of passes over the data, which
#'   measures the fit's cost, of which `information_passes` computed the
#'   observed information, `newton_steps`, and `kernels`, the code path the
#'   passes ran, `"avx2"` or `"portable"`; see [gmoe_control()]), `start`, `starts`
#'   (log-likelihood of every start), the data `x` (with the covariates'
#'   names as column names, where they have names), `y`, `control`, `terms`
#'   and `na.action` (formula fits; `NULL` otherwise) and `call`.
#' @seealso [gmoe_control()], [predict.gmoe_fit()], [voronoi_loss()].
#' @examples
#' set.seed(1)
#' truth <- gmoe_paper_truth(1)
#' sim <- rgmoe(2000, truth)
#' fit <- fit_gmoe(sim$x, sim$y, k = 3)
#' fit
#' voronoi_loss(fit, truth)
#'
#' # the same fit in other units: slopes scale by 1e-6 / 1e6
#' set.seed(2)
#' a <- fit_gmoe(sim$x, sim$y, k = 3)
#' set.seed(2)
#' b <- fit_gmoe(sim$x * 1e6, sim$y * 1e-6, k = 3)
#' all.equal(b$params$a * 1e12, a$params$a)
#'
#' # the published one-step mode, from the near-truth start
#' start <- init_near_truth(truth, k = 4, n = 2000)
#' one <- fit_gmoe(sim$x, sim$y, k = 4, init = start,
#'                 control = gmoe_control(max_iter = 1))
#' one$iterations
#'
#' # formula interface: names, subset, missing values
#' fit_gmoe(waiting ~ eruptions, faithful, k = 2, subset = eruptions > 1.8)
#' holes <- faithful
#' holes$waiting[c(2, 5)] <- NA
#' na.action(fit_gmoe(waiting ~ eruptions, holes, k = 2))
#' # categorical covariates and weights are refused, saying why
#' try(fit_gmoe(mpg ~ wt + factor(cyl), mtcars, k = 2))
#'
#' # collinear covariates are refused, naming the aliased column
#' try(fit_gmoe(cbind(u = sim$x[, 1], v = 2 * sim$x[, 1]), sim$y, k = 2))
#' @export
fit_gmoe <- function(x, ...) UseMethod("fit_gmoe")

#' @rdname fit_gmoe
#' @export
fit_gmoe.default <- function(x, y, k, init = "kmeans", n_starts = 1,
                             control = gmoe_control(), verbose = FALSE, ...) {
  check_gmoe_dots(...)
  if (length(k) > 1) {
    return(select_gmoe(x, y, k, init, n_starts, control, verbose, generic_call(match.call())))
  }
  x <- as_covariates(x, "x")
  n <- nrow(x)
  y <- as_response(y, n)
  k <- check_count(k, "k")
  if (k >= n) {
    stop_arg("k", "must be smaller than the number of observations (", n,
             "), not ", k, ".")
  }
  n_starts <- check_count(n_starts, "n_starts")
  control <- check_gmoe_control(control)
  check_flag(verbose, "verbose")
  avx2 <- kernel_path(control$kernels, "control$kernels") == "avx2"
  units <- standard_units(x, y)
  bounds <- gmoe_bounds_in_units(control$bounds, units, k)
  if (inherits(init, "gmoe_params")) init <- check_gmoe_params(init, "init")

  starts <- start_list(init, units, k, n_starts, bounds, avx2)
  # log-likelihoods in the data's units are those in standard units minus this
  shift <- n * units$log_jacobian
  run <- best_of_starts(starts, verbose, function(start) {
    res <- gmoe_cpp("init", .gmoe_fit_cpp(units$x, units$y, start, control$max_iter,
                                          control$tol, control$accelerate, control$threads,
                                          avx2, bounds))
    if (!is.finite(res$loglik[1])) {
      stop_arg("init", if (is.character(init)) paste0("= \"", init, "\" gave ") else "is ",
               "a start whose log-likelihood at the data is not finite (some observations ",
               "have zero density under every component); start nearer the data.")
    }
    res$loglik <- res$loglik - shift
    res
  })
  start <- if (inherits(init, "gmoe_params")) init else checked_from_units(run$start, units)
  new_gmoe_fit(run$res, start, run$final, units, x, y, control, generic_call(match.call()))
}

# Runs `em(start)` from every start and keeps the highest final
# log-likelihood; shared by fit_gmoe() and fit_cmoe().
best_of_starts <- function(starts, verbose, em) {
  fits <- lapply(seq_along(starts), function(s) {
    res <- em(starts[[s]])
    if (verbose) {
      message(sprintf("start %d: log-likelihood %.6f after %d iteration(s)%s",
                      s, res$loglik[length(res$loglik)], res$iterations,
                      if (res$converged) ", converged" else ""))
    }
    res
  })
  final <- vapply(fits, function(f) f$loglik[length(f$loglik)], numeric(1))
  best <- which.max(final)
  list(res = fits[[best]], start = starts[[best]], final = final)
}

#' @rdname fit_gmoe
#' @export
fit_gmoe.formula <- function(x, data = NULL, k, subset, weights, na.action, ...) {
  if (!missing(weights)) stop_gmoe_weights()
  frame <- formula_frame(match.call(), parent.frame(), gmoe_categorical_reason)
  fit <- fit_gmoe.default(frame$x, frame$y, k, ...)
  fit$terms <- frame$terms
  fit$na.action <- frame$na_action
  fit$call <- generic_call(match.call())
  fit
}

gmoe_categorical_reason <- paste(
  "the gates are Gaussian densities in x, and the 0/1 columns of a dummy-coded category are",
  "not Gaussian (their gate covariances degenerate), so categorical covariates are not",
  "supported. Fit each level separately (with `subset =`), or code the variable as a number",
  "yourself if a Gaussian gate in that coding is what you mean.")

stop_gmoe_weights <- function() {
  stop_arg("weights", "cannot be used: the EM of fit_gmoe() maximises the unweighted ",
           "log-likelihood and has no observation weights. For whole-number case weights, ",
           "repeat each row as many times as its weight; to leave rows out, use `subset`.")
}

# What the default method refuses in `...`, with the reason where there is one.
check_gmoe_dots <- function(...) {
  given <- dots_names(...)
  if ("weights" %in% given) stop_gmoe_weights()
  formula_only <- intersect(given, c("subset", "na.action"))
  if (length(formula_only) > 0) {
    stop_arg(formula_only[1], "belongs to the formula interface, fit_gmoe(y ~ x1 + x2, data, ",
             "k, ...); with covariates `x` and responses `y`, select the rows yourself.")
  }
  stop_unused_args("fit_gmoe()", ...)
}

# The call as the user wrote it: fit_gmoe(...), not the method's name.
generic_call <- function(call) {
  call[[1]] <- as.name("fit_gmoe")
  call
}

check_dots_empty <- function(...) {
  if (...length() > 0) {
    nm <- names(list(...))
    stop("unused argument(s): ",
         paste(if (is.null(nm)) rep("?", ...length()) else nm, collapse = ", "),
         call. = FALSE)
  }
}

# ---- Standardised units ------------------------------------------------------
# The data centred and scaled to unit standard deviation, column by column,
# and the exact affine maps of GMoE parameters between the data's units and
# these. EM is equivariant under the maps, so fitting in standard units and
# mapping back gives the fit in the data's units, while the arithmetic stays
# near 1 whatever the units.

standard_units <- function(x, y) {
  d <- ncol(x)
  name <- function(j) {
    nm <- colnames(x)
    if (is.null(nm)) return(as.character(j))
    ifelse(is.na(nm[j]) | nm[j] == "", j, paste0(j, " (`", nm[j], "`)"))
  }
  cx <- lapply(seq_len(d), function(j) centre_scale(x[, j]))
  constant <- vapply(cx, is.null, logical(1))
  if (any(constant)) {
    stop_arg("x", "has constant column(s) ", paste(name(which(constant)), collapse = ", "),
             "; a Gaussian gate needs every covariate to vary.")
  }
  cy <- centre_scale(y)
  if (is.null(cy)) stop_arg("y", "is constant; the experts need it to vary.")
  x_scale <- vapply(cx, `[[`, numeric(1), "scale")
  check_representable(x_scale, "x", "gate covariances", name)
  check_representable(cy$scale, "y", "expert variances", function(j) "")
  xu <- vapply(cx, `[[`, numeric(nrow(x)), "unit")
  dim(xu) <- dim(x)
  qx <- qr(xu, tol = 1e-7)
  if (qx$rank < d) {
    aliased <- sort(qx$pivot[(qx$rank + 1):d])
    one <- length(aliased) == 1
    stop_arg("x", "has collinear columns: ", if (one) "column " else "columns ",
             paste(name(aliased), collapse = ", "),
             if (one) " is a linear combination" else " are linear combinations",
             " of the other columns (aliased, as in lm()). On such data every gate covariance ",
             "is singular; drop the aliased column", if (one) "" else "s", " and refit.")
  }
  list(x = xu, y = cy$unit,
       x_centre = vapply(cx, `[[`, numeric(1), "centre"), x_scale = x_scale,
       y_centre = cy$centre, y_scale = cy$scale,
       log_jacobian = sum(log(x_scale)) + log(cy$scale))
}

# Centre, standard deviation and standardised values of v, computed on v
# divided by a power of two near its largest absolute value: exact, and
# neither overflows near 1e300 nor underflows near 1e-300. NULL when v is
# constant (all values equal, whatever their scale).
centre_scale <- function(v) {
  if (all(v == v[1])) return(NULL)
  top <- 2^floor(log2(max(abs(v))))
  u <- v / top
  centre <- mean(u)
  s <- sqrt(sum((u - centre)^2) / (length(u) - 1))
  list(centre = centre * top, scale = s * top, unit = (u - centre) / s)
}

# The variance of the data in their own units must fit in a double, or the
# fitted variances cannot.
check_representable <- function(scale, arg, what, name) {
  bad <- !is.finite(scale^2) | scale^2 < .Machine$double.xmin
  if (any(bad)) {
    j <- which(bad)[1]
    stop_arg(arg, if (length(scale) > 1) paste0("has column ", name(j), " with ") else "has ",
             "standard deviation ", format(scale[j], digits = 3), ", whose square is ",
             if (is.finite(scale[j]^2)) "too small" else "too large",
             " for a double (variances must lie between ", format(.Machine$double.xmin, digits = 2),
             " and ", format(.Machine$double.xmax, digits = 2), "): the fitted ", what,
             " cannot be represented in these units. Rescale `", arg, "`.")
  }
}

# A GMoE in the data's units as a GMoE in standard units: x = mx + sx * u,
# y = my + sy * v.
params_to_units <- function(p, units) {
  sx <- units$x_scale
  k <- length(p$pi)
  inv <- rep(1 / sx, each = k)
  Gamma <- p$Gamma
  for (j in seq_len(k)) Gamma[, , j] <- p$Gamma[, , j] / sx / rep(sx, each = length(sx))
  new_gmoe_params(p$pi,
                  (p$c - rep(units$x_centre, each = k)) * inv,
                  Gamma,
                  p$a * rep(sx, each = k) / units$y_scale,
                  (drop(p$a %*% units$x_centre) + p$b - units$y_centre) / units$y_scale,
                  p$nu / units$y_scale / units$y_scale)
}

params_from_units <- function(p, units) {
  sx <- units$x_scale
  sy <- units$y_scale
  k <- length(p$pi)
  d <- length(sx)
  Gamma <- p$Gamma
  for (j in seq_len(k)) {
    G <- p$Gamma[, , j] * sx * rep(sx, each = d)
    Gamma[, , j] <- (G + t(G)) / 2
  }
  a <- p$a * rep(sy / sx, each = k)
  new_gmoe_params(p$pi,
                  p$c * rep(sx, each = k) + rep(units$x_centre, each = k),
                  Gamma, a,
                  units$y_centre + sy * p$b - drop(a %*% units$x_centre),
                  p$nu * sy * sy)
}

# Parameters mapped back and checked: what a double cannot hold is an
# error about the data's units, not a silent Inf or 0.
checked_from_units <- function(p, units) {
  out <- params_from_units(p, units)
  tryCatch(gmoe_params(out$pi, out$c, out$Gamma, out$a, out$b, out$nu), error = function(e) {
    arg <- if (grepl("^`(c|Gamma)`", conditionMessage(e))) "x" else "y"
    stop_arg(arg, "is on a scale at which the fitted parameters cannot be held in a double (",
             conditionMessage(e), " in the data's units). Rescale `x` and `y`.")
  })
}

# Starts in standard units; a gmoe_params `init` has been checked.
start_list <- function(init, units, k, n_starts, bounds, avx2) {
  d <- ncol(units$x)
  if (inherits(init, "gmoe_params")) {
    if (length(init$pi) != k || ncol(init$c) != d) {
      stop_arg("init", "must have k = ", k, " components and d = ", d,
               " covariates, not k = ", length(init$pi), " and d = ",
               ncol(init$c), ".")
    }
    if (n_starts > 1) {
      warning("`n_starts` is ignored when `init` is a gmoe_params start.",
              call. = FALSE)
    }
    start <- params_to_units(init, units)
    start <- tryCatch(
      gmoe_params(start$pi, start$c, start$Gamma, start$a, start$b, start$nu),
      error = function(e) {
        stop_arg("init", "is too far from the scale of the data: in the data's ",
                 "standardised units, ", conditionMessage(e))
      })
    outside <- bounds_violation(start, bounds)
    if (!is.null(outside)) {
      stop_arg("init", "lies outside the parameter space of `control$bounds`: ", outside,
               ". Start within the bounds, or widen them (see ?gmoe_bounds).")
    }
    return(list(start))
  }
  if (!is.character(init) || length(init) != 1 || !init %in% c("kmeans", "random")) {
    stop_arg("init", "must be \"kmeans\", \"random\" or a gmoe_params object.")
  }
  make <- if (init == "kmeans") start_kmeans else start_random
  lapply(seq_len(n_starts), function(s) make(units$x, units$y, k, bounds, avx2))
}

new_gmoe_fit <- function(res, start, start_logliks, units, x, y, control, call) {
  k <- length(res$params$pi)
  trace <- res$loglik
  diagnostics <- data.frame(
    component = seq_len(k),
    size = colSums(res$resp),
    gamma_floored = res$gamma_floor_hits,
    nu_floored = res$nu_floor_hits,
    collapsed_at = ifelse(res$collapsed_at > 0, res$collapsed_at, NA_integer_))
  params <- checked_from_units(res$params, units)
  collapsed <- which(!is.na(diagnostics$collapsed_at))
  if (length(collapsed)) {
    warning(sprintf("component(s) %s collapsed (summed responsibility below 1e-10 * n); kept with their atoms, at weight %s.",
                    paste(collapsed, collapse = ", "),
                    paste(format(res$params$pi[collapsed], digits = 3), collapse = ", ")),
            call. = FALSE)
  }
  if (res$nonfinite) {
    warning("EM stopped at a step with a non-finite log-likelihood; the last finite iterate is returned.",
            call. = FALSE)
  }
  structure(list(
    params = params,
    loglik = trace[length(trace)],
    loglik_trace = trace,
    iterations = res$iterations,
    converged = res$converged,
    responsibilities = res$resp,
    diagnostics = list(components = diagnostics, bounds = res$bounds,
                       remaining_gain = if (is.finite(res$remaining)) res$remaining,
                       decreases = res$decreases,
                       squarem_fallbacks = res$squarem_fallbacks, passes = res$passes,
                       information_passes = res$information_passes,
                       newton_steps = res$newton_steps,
                       nonfinite = res$nonfinite, kernels = res$kernels),
    start = start,
    starts = start_logliks,
    x = x,
    y = y,
    control = control,
    call = call),
    class = "gmoe_fit")
}

# The bounds active at the end of a fit, as "component 2: nu; component 4:
# weight", or NULL; fits saved before 0.5.0 do not record them.
active_bounds_text <- function(fit) {
  act <- fit$diagnostics$bounds
  if (is.null(act)) return(NULL)
  kinds <- c(weight = "weight", gamma = "Gamma", nu = "nu", a = "a", b = "b")
  parts <- vapply(seq_len(nrow(act)), function(j) {
    on <- kinds[vapply(names(kinds), function(v) isTRUE(act[[v]][j]), logical(1))]
    if (length(on)) paste0("component ", j, ": ", paste(on, collapse = ", ")) else ""
  }, character(1))
  parts <- parts[nzchar(parts)]
  if (length(parts)) paste(parts, collapse = "; ") else NULL
}

#' Did a fit degenerate?
#'
#' In the spirit of `lme4::isSingular()`. For a Gaussian-gated MoE
#' ([fit_gmoe()]): `TRUE` when the fit ends on a bound of its parameter
#' space (a variance at its floor, a weight at its minimum, a slope or an
#' intercept at its bound: see [gmoe_bounds()] and `fit$diagnostics$bounds`),
#' a component collapsed, or a step produced a non-finite log-likelihood.
#' (Fits saved before version 0.5.0, which do not record their final bounds,
#' count any M-step in which a variance floor was applied.) For a
#' contaminated MoE ([fit_cmoe()]): `TRUE` when the final \eqn{\lambda}
#' sits at its bound, or, with `gate = "sigmoid"`, a gate coefficient at
#' `cmoe_control(gate_bound = )`, the prompt variance was floored, the prompt received
#' no weight in some M-step, or a step was non-finite. The details are in
#' `fit$diagnostics`.
#'
#' @param fit A `gmoe_fit` or `cmoe_fit` object.
#' @return `TRUE` or `FALSE`.
#' @examples
#' set.seed(2)
#' sim <- rgmoe(300, gmoe_paper_truth(1))
#' is_degenerate(fit_gmoe(sim$x, sim$y, k = 2))
#' @export
is_degenerate <- function(fit) UseMethod("is_degenerate")

#' @export
is_degenerate.default <- function(fit) {
  stop_arg("fit", "must be a `gmoe_fit` or `cmoe_fit` object, not ", class(fit)[1], ".")
}

#' @rdname is_degenerate
#' @export
is_degenerate.gmoe_fit <- function(fit) {
  fit <- check_gmoe_fit(fit, "fit")
  comp <- fit$diagnostics$components
  act <- fit$diagnostics$bounds
  on_bound <- if (is.null(act)) {
    any(comp$gamma_floored > 0) || any(comp$nu_floored > 0)
  } else {
    any(unlist(act[c("weight", "gamma", "nu", "a", "b")]))
  }
  on_bound || any(!is.na(comp$collapsed_at)) || fit$diagnostics$nonfinite
}
