#' Control settings for fitting a Gaussian-gated mixture of experts
#'
#' @param max_iter Largest number of EM iterations, a whole number >= 0.
#'   `max_iter = 1` is the published one-step procedure (one EM step from the
#'   start); `max_iter = 0` only evaluates the start.
#' @param tol Convergence tolerance: the fit stops at a point where one
#'   plain EM step changes the log-likelihood by less than `tol` relative,
#'   \eqn{|l_t - l_{t-1}| / (1 + |l_t|) < tol} (mclust's rule). Plain EM
#'   tests every step; SQUAREM tests the first EM step of each cycle, not the
#'   cycle's total gain, so both schemes stop by the same criterion. With
#'   `tol = 0` the fit runs exactly `max_iter` iterations.
#' @param accelerate `"squarem"` (the default) makes each iteration one
#'   SQUAREM cycle (Varadhan and Roland 2008): two EM steps, a jump along
#'   them and an EM step from the jump. The jump is taken in a
#'   parametrisation in which every point is valid (log weights, log
#'   variances, log-Cholesky factors of the \eqn{\Gamma_j}) and is kept only
#'   if its EM step ends at least as high as the cycle's start; otherwise the
#'   step length is halved, and after four failures the second plain step is
#'   kept, so the log-likelihood never decreases. It ends at least as high as
#'   plain EM in far fewer passes over the data. `"none"`: plain EM, one EM step per
#'   iteration. `max_iter = 1` (the published one-step mode) is one plain EM
#'   step whatever this setting.
#' @param threads Threads for the passes over the data inside one fit (OpenMP,
#'   where the compiler supports it; otherwise one thread). The observations
#'   are split into `threads` contiguous parts whose sums are added in a fixed
#'   order, so results equal the single-threaded ones up to rounding and do
#'   not depend on scheduling. Worth it for one large data set; rate studies
#'   parallelise across fits through the future framework instead.
#'   Independently of `threads`, the passes over the data use the
#'   processor's AVX2 and FMA instructions when it has them (x86-64 Linux
#'   and macOS, up to three covariates; detected at run time, as the package
#'   is built with R's portable flags): about twice as fast as the baseline
#'   code and equal to it up to rounding.
#' @param var_floor Relative floor on variances: the eigenvalues of each
#'   gate covariance \eqn{\Gamma_j} are kept at or above `var_floor` times the
#'   average sample variance of the covariates, and each expert variance
#'   \eqn{\nu_j} at or above `var_floor` times the sample variance of `y`.
#'   Every time a floor is applied it is counted in the fit's diagnostics.
#' @param min_weight A component whose summed responsibility falls below
#'   `min_weight` times \eqn{n} has collapsed: it keeps its last atom and
#'   weight `min_weight` (the weights are renormalised) rather than producing
#'   NaN or being dropped, and the iteration at which it collapsed is
#'   recorded.
#' @return A list of class `gmoe_control`.
#' @seealso [fit_gmoe()], [is_degenerate()].
#' @examples
#' gmoe_control()
#' gmoe_control(max_iter = 1)          # the published one-step mode
#' gmoe_control(max_iter = 25, tol = 0) # exactly 25 EM iterations
#' @export
gmoe_control <- function(max_iter = 2000, tol = 1e-8, accelerate = c("squarem", "none"),
                         threads = 1, var_floor = 1e-8, min_weight = 1e-10) {
  max_iter <- check_count(max_iter, "max_iter", min = 0)
  tol <- check_numeric(tol, "tol", len = 1)
  if (tol < 0) stop_arg("tol", "must be >= 0.")
  if (!is.character(accelerate) || !length(accelerate) %in% c(1, 2) ||
      !all(accelerate %in% c("squarem", "none"))) {
    stop_arg("accelerate", "must be \"squarem\" or \"none\".")
  }
  accelerate <- accelerate[1]
  threads <- check_count(threads, "threads")
  var_floor <- check_positive(var_floor, "var_floor", len = 1)
  if (var_floor >= 1) stop_arg("var_floor", "must be in (0, 1).")
  min_weight <- check_positive(min_weight, "min_weight", len = 1)
  if (min_weight >= 0.01) stop_arg("min_weight", "must be in (0, 0.01).")
  structure(list(max_iter = max_iter, tol = tol, accelerate = accelerate,
                 threads = threads, var_floor = var_floor, min_weight = min_weight),
            class = "gmoe_control")
}

# Whether the E-steps use the AVX2 and FMA code (chosen at run time where the
# processor has it). `enable = FALSE` switches to the baseline code for the
# session so that tests and benchmarks can compare the two; NA only reports.
simd_kernels <- function(enable = NA) .simd_cpp(as.logical(enable))

#' @export
print.gmoe_control <- function(x, ...) {
  cat("GMoE fit control\n")
  cat(sprintf("  %-11s %s\n", names(x), vapply(x, format, character(1))), sep = "")
  invisible(x)
}

#' Fit a Gaussian-gated mixture of experts by EM
#'
#' Maximum-likelihood fit of a \eqn{k}-component Gaussian-gated mixture of
#' experts by the EM algorithm, written in C++. The likelihood is the joint
#' likelihood of \eqn{(x, y)}, as in the theory and the published
#' simulations. From the same start, the EM iterates equal those of
#' `mclust::emVVV()` (that is, `mclust::em(modelName = "VVV")`, with the
#' start's Cholesky factors in `variance$cholsigma`) on `cbind(x, y)`
#' mapped through
#' [gmoe_from_joint()].
#'
#' Starts: `"kmeans"` runs [stats::kmeans()] on the standardised
#' `cbind(x, y)` and turns the partition into parameters by one M-step;
#' `"random"` assigns each observation to the nearest of \eqn{k} randomly
#' chosen observations (standardised scale) and does the same; a
#' [gmoe_params()] object is used as it is (see [init_near_truth()]). With
#' `n_starts > 1` the random starts are repeated and the fit with the highest
#' log-likelihood is kept. All randomness goes through R's generator.
#'
#' Degenerate fits never return NaN and never drop a component: variances are
#' floored and collapsed components kept (see [gmoe_control()]); what
#' happened is recorded in `$diagnostics` and reported by [is_degenerate()].
#'
#' @param x Covariates (an \eqn{n \times d}{n x d} numeric matrix, data frame
#'   or, for \eqn{d = 1}, vector), or a formula `y ~ x1 + x2` with `data`.
#' @param y Responses, one per row of `x`.
#' @param k Number of components, a whole number >= 1 and smaller than the
#'   number of observations.
#' @param init `"kmeans"`, `"random"` or a `gmoe_params` start with \eqn{k}
#'   components and \eqn{d} covariates.
#' @param n_starts Number of starts for `"kmeans"` and `"random"`.
#' @param control A [gmoe_control()] object.
#' @param verbose If `TRUE`, report each start through [message()].
#' @param data A data frame holding the variables of the formula.
#' @param ... Arguments passed from the formula method to the default
#'   method.
#' @return An object of class `gmoe_fit`: a list with `params` (a
#'   `gmoe_params`), `loglik`, `loglik_trace` (at the start and after each
#'   iteration), `iterations`, `converged`, `responsibilities`
#'   (\eqn{n \times k}{n x k}), `diagnostics` (per component: number of
#'   M-steps in which \eqn{\Gamma_j} or \eqn{\nu_j} was floored, iteration at
#'   which it collapsed, its final effective size; the number of
#'   log-likelihood decreases, of SQUAREM cycles that fell back to the plain
#'   EM step, and `passes`, the number of E-steps, i.e. passes over the data,
#'   which measures the fit's cost), `start`, `starts` (log-likelihood of every
#'   start), the data `x`, `y`, `control` and `call`.
#' @seealso [gmoe_control()], [predict.gmoe_fit()], [voronoi_loss()].
#' @examples
#' set.seed(1)
#' truth <- gmoe_paper_truth(1)
#' sim <- rgmoe(2000, truth)
#' fit <- fit_gmoe(sim$x, sim$y, k = 3)
#' fit
#' voronoi_loss(fit, truth)
#'
#' # the published one-step mode, from the near-truth start
#' start <- init_near_truth(truth, k = 4, n = 2000)
#' one <- fit_gmoe(sim$x, sim$y, k = 4, init = start,
#'                 control = gmoe_control(max_iter = 1))
#' one$iterations
#'
#' # formula interface
#' df <- data.frame(x1 = sim$x[, 1], y = sim$y)
#' fit_gmoe(y ~ x1, data = df, k = 3)
#' @export
fit_gmoe <- function(x, ...) UseMethod("fit_gmoe")

#' @rdname fit_gmoe
#' @export
fit_gmoe.default <- function(x, y, k, init = "kmeans", n_starts = 1,
                             control = gmoe_control(), verbose = FALSE, ...) {
  check_dots_empty(...)
  x <- as_covariates(x, "x")
  n <- nrow(x)
  d <- ncol(x)
  y <- as_response(y, n)
  k <- check_count(k, "k")
  if (k >= n) {
    stop_arg("k", "must be smaller than the number of observations (", n,
             "), not ", k, ".")
  }
  n_starts <- check_count(n_starts, "n_starts")
  if (!inherits(control, "gmoe_control")) {
    stop_arg("control", "must be made by gmoe_control().")
  }
  check_flag(verbose, "verbose")
  var_x <- apply(x, 2, stats::var)
  if (any(var_x == 0)) {
    stop_arg("x", "has constant column(s) ", paste(which(var_x == 0), collapse = ", "),
             "; a Gaussian gate needs every covariate to vary.")
  }
  if (stats::var(y) == 0) stop_arg("y", "is constant; the experts need it to vary.")
  floors <- c(control$var_floor * mean(var_x), control$var_floor * stats::var(y),
              control$min_weight)

  starts <- start_list(init, x, y, k, n_starts, floors)
  run <- best_of_starts(starts, verbose, function(start) {
    .gmoe_em_cpp(x, y, start, control$max_iter, control$tol,
                 control$accelerate == "squarem", control$threads, floors)
  })
  new_gmoe_fit(run$res, run$start, run$final, x, y, control, generic_call(match.call()))
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
fit_gmoe.formula <- function(x, data, k, ...) {
  if (missing(data)) data <- environment(x)
  mf <- stats::model.frame(x, data, na.action = stats::na.fail)
  terms <- stats::terms(mf)
  if (attr(terms, "response") == 0) {
    stop_arg("x", "must be a formula with a response, such as y ~ x1 + x2.")
  }
  X <- stats::model.matrix(terms, mf)
  X <- X[, colnames(X) != "(Intercept)", drop = FALSE]
  if (ncol(X) == 0) stop_arg("x", "must name at least one covariate.")
  fit <- fit_gmoe.default(X, stats::model.response(mf), k, ...)
  fit$terms <- terms
  fit$call <- generic_call(match.call())
  fit
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

start_list <- function(init, x, y, k, n_starts, floors) {
  if (inherits(init, "gmoe_params")) {
    if (length(init$pi) != k || ncol(init$c) != ncol(x)) {
      stop_arg("init", "must have k = ", k, " components and d = ", ncol(x),
               " covariates, not k = ", length(init$pi), " and d = ",
               ncol(init$c), ".")
    }
    if (n_starts > 1) {
      warning("`n_starts` is ignored when `init` is a gmoe_params start.",
              call. = FALSE)
    }
    return(list(init))
  }
  if (!is.character(init) || length(init) != 1 || !init %in% c("kmeans", "random")) {
    stop_arg("init", "must be \"kmeans\", \"random\" or a gmoe_params object.")
  }
  make <- if (init == "kmeans") start_kmeans else start_random
  lapply(seq_len(n_starts), function(s) make(x, y, k, floors))
}

new_gmoe_fit <- function(res, start, start_logliks, x, y, control, call) {
  k <- length(res$params$pi)
  trace <- res$loglik
  diagnostics <- data.frame(
    component = seq_len(k),
    size = colSums(res$resp),
    gamma_floored = res$gamma_floor_hits,
    nu_floored = res$nu_floor_hits,
    collapsed_at = ifelse(res$collapsed_at > 0, res$collapsed_at, NA_integer_))
  collapsed <- which(!is.na(diagnostics$collapsed_at))
  if (length(collapsed)) {
    warning(sprintf("component(s) %s collapsed (summed responsibility below min_weight * n); kept with weight %g.",
                    paste(collapsed, collapse = ", "), control$min_weight),
            call. = FALSE)
  }
  if (res$nonfinite) {
    warning("EM stopped at a step with a non-finite log-likelihood; the last finite iterate is returned.",
            call. = FALSE)
  }
  structure(list(
    params = res$params,
    loglik = trace[length(trace)],
    loglik_trace = trace,
    iterations = res$iterations,
    converged = res$converged,
    responsibilities = res$resp,
    diagnostics = list(components = diagnostics, decreases = res$decreases,
                       squarem_fallbacks = res$squarem_fallbacks, passes = res$passes,
                       nonfinite = res$nonfinite),
    start = start,
    starts = start_logliks,
    x = x,
    y = y,
    control = control,
    call = call),
    class = "gmoe_fit")
}

#' Did a fit degenerate?
#'
#' In the spirit of `lme4::isSingular()`. For a Gaussian-gated MoE
#' ([fit_gmoe()]): `TRUE` when, during the fit, a variance floor was
#' applied, a component collapsed, or a step produced a non-finite
#' log-likelihood. For a contaminated MoE ([fit_cmoe()]): `TRUE` when the
#' final \eqn{\lambda} sits at its bound, the prompt variance was floored,
#' the prompt received no weight in some M-step, or a step was non-finite.
#' The details are in `fit$diagnostics`.
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
  comp <- fit$diagnostics$components
  any(comp$gamma_floored > 0) || any(comp$nu_floored > 0) ||
    any(!is.na(comp$collapsed_at)) || fit$diagnostics$nonfinite
}
