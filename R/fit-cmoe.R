#' Control settings for fitting a contaminated mixture of experts
#'
#' @param max_iter Largest number of iterations, a whole number >= 0 (`0`
#'   only evaluates the start).
#' @param tol Convergence tolerance. EM converges linearly, so a small last
#'   gain in log-likelihood, \eqn{g_t = l_t - l_{t-1}}, can hide a large
#'   remaining one; the fit therefore stops when both \eqn{g_t} and
#'   Aitken's estimate of the gain still to come,
#'   \eqn{g_t a_t / (1 - a_t)} with \eqn{a_t = g_t / g_{t-1}}, are below
#'   `tol` \eqn{(1 + |l_t|)}. With `tol = 0` the fit runs exactly
#'   `max_iter` iterations. EM slows down where the theory says estimation
#'   is hard (small \eqn{\lambda}, a prompt close to \eqn{f_0}{f0}), which is
#'   where a rule on the last gain alone would stop short of the maximum.
#' @param accelerate `"squarem"` (the default) makes each iteration one
#'   SQUAREM cycle (Varadhan and Roland 2008): two EM steps, a jump along
#'   them (in the parametrisation logit \eqn{\lambda}, \eqn{\eta}, log
#'   \eqn{\nu}, so that it stays valid) and an EM step from the jump, kept
#'   only if its log-likelihood is at least that of the second EM step, so
#'   the log-likelihood still never decreases. It reaches the same maximum
#'   in fewer passes over the data, most of all where EM is slow (a prompt
#'   close to \eqn{f_0}{f0}); `inst/bench/bench-cmoe.R` measures it.
#'   `"none"`: plain EM, one EM step per iteration.
#' @param mstep_iter For a nonlinear prompt expert: the largest number of
#'   Levenberg-Marquardt steps in each M-step. Each step is accepted only if
#'   it lowers the weighted residual sum of squares, so the log-likelihood
#'   never decreases whatever the value. One step per M-step (a generalised
#'   EM) is the default because, measured, more steps hardly reduce the
#'   number of EM iterations but each costs about half an iteration.
#' @param lambda_bound \eqn{\lambda} is kept in
#'   `[lambda_bound, 1 - lambda_bound]`. When the data push it to a bound
#'   (no prompt in the data, or no need for \eqn{f_0}{f0}) the fit stays
#'   finite, the bound is reported by [is_degenerate()] and a warning says
#'   so.
#' @param var_floor The prompt variance \eqn{\nu} is kept at or above
#'   `var_floor` times the sample variance of `y` (the likelihood is
#'   unbounded as the prompt shrinks onto one observation).
#' @param kernels `"auto"` (the default, unless the option
#'   `moerates.kernels` says otherwise) or `"portable"`: whether the
#'   exponentials of the E-step may use the processor's AVX2 and FMA
#'   instructions, as for [gmoe_control()], whose `kernels` documents what
#'   the choice means for reproducibility across machines. The fit records
#'   the path it ran in `$diagnostics$kernels`.
#' @return A list of class `cmoe_control`.
#' @seealso [fit_cmoe()].
#' @examples
#' cmoe_control()
#' cmoe_control(max_iter = 50, tol = 0)  # exactly 50 EM iterations
#' @export
cmoe_control <- function(max_iter = 5000, tol = 1e-12, accelerate = c("squarem", "none"),
                         mstep_iter = 1, lambda_bound = 1e-8, var_floor = 1e-8,
                         kernels = getOption("moerates.kernels", "auto")) {
  max_iter <- check_count(max_iter, "max_iter", min = 0)
  if (!is.character(accelerate) || !length(accelerate) %in% c(1, 2) ||
      !all(accelerate %in% c("squarem", "none"))) {
    stop_arg("accelerate", "must be \"squarem\" or \"none\".")
  }
  accelerate <- accelerate[1]
  tol <- check_numeric(tol, "tol", len = 1)
  if (tol < 0) stop_arg("tol", "must be >= 0.")
  mstep_iter <- check_count(mstep_iter, "mstep_iter")
  lambda_bound <- check_positive(lambda_bound, "lambda_bound", len = 1)
  if (lambda_bound >= 0.01) stop_arg("lambda_bound", "must be in (0, 0.01).")
  var_floor <- check_positive(var_floor, "var_floor", len = 1)
  if (var_floor >= 1) stop_arg("var_floor", "must be in (0, 1).")
  kernels <- check_kernels(kernels)
  structure(list(max_iter = max_iter, tol = tol, accelerate = accelerate,
                 mstep_iter = mstep_iter,
                 lambda_bound = lambda_bound, var_floor = var_floor, kernels = kernels),
            class = "cmoe_control")
}

check_cmoe_control <- function(control) {
  if (!inherits(control, "cmoe_control")) {
    stop_arg("control", "must be made by cmoe_control().")
  }
  rebuild("control", do.call(cmoe_control, unclass(control)))
}

#' @export
print.cmoe_control <- function(x, ...) {
  cat("Contaminated MoE fit control\n")
  cat(sprintf("  %-12s %s\n", names(x), vapply(x, format, character(1))), sep = "")
  invisible(x)
}

#' Fit a contaminated mixture of experts by EM
#'
#' Maximum-likelihood fit of the prompt of
#' \deqn{p(y | x) = (1 - \lambda) f_0(y | x) + \lambda\, \phi(y; h(a^\top x + b), \nu)}{p(y | x) = (1 - lambda) f0(y | x) + lambda phi(y; h(a'x + b), nu)}
#' with the pre-trained \eqn{f_0}{f0} frozen, by the EM algorithm written in
#' C++. \eqn{\log f_0}{log f0} is evaluated once, at the data, before the EM
#' starts.
#'
#' Each EM step: the E-step computes the posterior prompt probabilities
#' \eqn{w_i} in log space; the M-step sets \eqn{\lambda = \bar w}{lambda = mean(w)},
#' fits \eqn{\eta} by weighted least squares (in closed form for a linear
#' expert; for a sigmoid or tanh expert by Levenberg-Marquardt steps, each
#' accepted only if it lowers the weighted sum of squares) and sets
#' \eqn{\nu} to the weighted mean squared residual. The log-likelihood
#' therefore never decreases; the number of (rounding-level) decreases is
#' recorded in `$diagnostics`. By default the EM steps are accelerated by
#' SQUAREM with a safeguard that keeps this property (see [cmoe_control()]).
#'
#' **Boundaries.** \eqn{\lambda} stays in `[lambda_bound, 1 - lambda_bound]`
#' and \eqn{\nu} above a floor ([cmoe_control()]); if the prompt receives no
#' weight at all, its \eqn{(\eta, \nu)} are kept. All of this is counted in
#' `$diagnostics` and reported by [is_degenerate()]; the estimate is always
#' finite.
#'
#' **Starts.** With `init = NULL` the first start weights each observation by
#' how much worse \eqn{f_0}{f0} explains it than a normal distribution fitted
#' to all of `y` (the posterior of "not \eqn{f_0}{f0}" at
#' \eqn{\lambda = 1/2}{lambda = 1/2}), then takes one M-step. The second
#' start is neutral: \eqn{\lambda = 1/2}{lambda = 1/2}, zero slopes (and the
#' mean of `y` as intercept of a linear prompt), \eqn{\nu} the variance of
#' `y`. Further starts take the M-step on random fifths of the data. The
#' start value of \eqn{\lambda} is kept within \eqn{[0.1, 0.9]}. The fit
#' with the highest log-likelihood is returned. A [cmoe_params()] object is
#' used as it is. Sigmoid and tanh prompts have local maxima (one is a
#' prompt that saturates into a step function), so for them several starts
#' are worth their cost.
#'
#' @param x Covariates: an \eqn{n \times d}{n x d} numeric matrix, a data
#'   frame of numeric columns or, for \eqn{d = 1}, a vector.
#' @param y Responses, one per row of `x`.
#' @param pretrained The frozen model, a [pretrained_model()].
#' @param expert Structure of the prompt expert: `"linear"`, `"sigmoid"` or
#'   `"tanh"`.
#' @param init `NULL` (data-driven starts) or a [cmoe_params()] start with
#'   the same expert and \eqn{d}.
#' @param n_starts Number of starts when `init = NULL`.
#' @param control A [cmoe_control()] object.
#' @param verbose If `TRUE`, report each start through [message()].
#' @return An object of class `cmoe_fit`: a list with `params` (a
#'   [cmoe_params()]), `loglik`, `loglik_trace` (at the start and after each
#'   iteration), `iterations`, `converged`, `posterior` (the posterior prompt
#'   probability of each observation), `diagnostics` (M-steps in which
#'   \eqn{\lambda} was held at a bound or \eqn{\nu} floored, M-steps with an
#'   empty prompt, log-likelihood decreases, SQUAREM cycles that kept the
#'   plain EM step, a non-finite step), `start`,
#'   `starts` (final log-likelihood from every start), the data `x`, `y`,
#'   `logf0` (log \eqn{f_0}{f0} at the data), `pretrained`, `control` and
#'   `call`.
#' @seealso [cmoe_control()], [cmoe_fit-methods], [cmoe_loss()],
#'   [distinguishable()].
#' @examples
#' set.seed(1)
#' f0 <- pretrained_model("laplace", eta0 = c(2, 0), nu0 = 1)
#' truth <- cmoe_params(0.3, c(-1, 1), 0.5)
#' sim <- rcmoe(2000, truth, f0)
#' fit <- fit_cmoe(sim$x, sim$y, f0)
#' fit
#' cmoe_loss(fit, truth)
#'
#' # a nonlinear prompt
#' truth_tanh <- cmoe_params(0.4, c(3, 0), 0.1, expert = "tanh")
#' sim <- rcmoe(2000, truth_tanh, f0)
#' fit_cmoe(sim$x, sim$y, f0, expert = "tanh", n_starts = 3)
#' @export
fit_cmoe <- function(x, y, pretrained, expert = "linear", init = NULL, n_starts = 1,
                     control = cmoe_control(), verbose = FALSE) {
  pretrained <- check_pretrained(pretrained)
  x <- as_covariates(x, "x", d = pretrained_d(pretrained))
  n <- nrow(x)
  d <- ncol(x)
  y <- as_response(y, n)
  expert <- check_expert(expert, "expert")
  if (n < d + 3) {
    stop_arg("x", "has ", n, " row(s); the prompt has d + 3 = ", d + 3,
             " free parameters, so at least that many observations are needed.")
  }
  var_y <- stats::var(y)
  if (var_y == 0) stop_arg("y", "is constant; the prompt expert needs it to vary.")
  n_starts <- check_count(n_starts, "n_starts")
  control <- check_cmoe_control(control)
  check_flag(verbose, "verbose")
  logf0 <- pretrained_logdensity(pretrained, x, y)
  bounds <- c(control$lambda_bound, control$var_floor * var_y)

  starts <- cmoe_starts(init, x, y, var_y, logf0, expert, n_starts, control, bounds)
  run <- best_of_starts(starts, verbose, function(start) {
    .cmoe_em_cpp(x, y, logf0, expert, start, control$max_iter, control$tol,
                 control$mstep_iter, control$accelerate == "squarem", bounds,
                 kernel_path(control$kernels, "control$kernels") == "avx2")
  })
  new_cmoe_fit(run$res, run$start, run$final, x, y, logf0, pretrained, expert,
               control, match.call())
}

cmoe_starts <- function(init, x, y, var_y, logf0, expert, n_starts, control, bounds) {
  if (!is.null(init)) {
    init <- check_cmoe_params(init, "init")
    if (init$expert != expert || length(init$eta) != ncol(x) + 1) {
      stop_arg("init", "must have the prompt's expert (\"", expert, "\") and d = ",
               ncol(x), ", not \"", init$expert, "\" and d = ", length(init$eta) - 1, ".")
    }
    if (n_starts > 1) {
      warning("`n_starts` is ignored when `init` is a cmoe_params start.", call. = FALSE)
    }
    return(list(init))
  }
  n <- nrow(x)
  neutral <- cmoe_params(0.5, c(rep(0, ncol(x)), if (expert == "linear") mean(y) else 0),
                         var_y, expert)
  from_weights <- function(w) {
    p <- .cmoe_mstep_cpp(x, y, w, expert, neutral, control$mstep_iter, bounds,
                         kernel_path(control$kernels, "control$kernels") == "avx2")
    cmoe_params(min(max(p$lambda, 0.1), 0.9), p$eta, p$nu, expert)
  }
  log_normal <- stats::dnorm(y, mean(y), sqrt(var_y), log = TRUE)
  contrast <- 1 / (1 + exp(logf0 - log_normal))
  random <- lapply(seq_len(max(n_starts - 2, 0)), function(s) {
    w <- numeric(n)
    w[sample.int(n, max(2 * (ncol(x) + 1), ceiling(n / 5)))] <- 1
    from_weights(w)
  })
  c(list(from_weights(contrast)), if (n_starts > 1) list(neutral), random)
}

new_cmoe_fit <- function(res, start, start_logliks, x, y, logf0, pretrained, expert,
                         control, call) {
  p <- res$params
  params <- cmoe_params(p$lambda, p$eta, p$nu, expert)
  trace <- res$loglik
  # 1 - (1 - bound) is not bound in floating point: compare on each side.
  margin <- control$lambda_bound * (1 + 1e-6)
  at_bound <- p$lambda <= margin || p$lambda >= 1 - margin
  if (at_bound) {
    warning(sprintf("lambda ended at its bound (%s): %s; see ?is_degenerate.",
                    format(p$lambda),
                    if (p$lambda < 0.5) "the data show no prompt" else "the data show no pre-trained model"),
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
    posterior = res$posterior,
    diagnostics = list(lambda_at_bound = at_bound,
                       lambda_bound_hits = res$lambda_bound_hits,
                       nu_floor_hits = res$nu_floor_hits,
                       prompt_empty = res$prompt_empty,
                       decreases = res$decreases,
                       squarem_fallbacks = res$squarem_fallbacks,
                       nonfinite = res$nonfinite, kernels = res$kernels),
    start = start,
    starts = start_logliks,
    x = x,
    y = y,
    logf0 = logf0,
    pretrained = pretrained,
    control = control,
    call = call),
    class = "cmoe_fit")
}

#' @rdname is_degenerate
#' @export
is_degenerate.cmoe_fit <- function(fit) {
  diag <- fit$diagnostics
  diag$lambda_at_bound || diag$nu_floor_hits > 0 || diag$prompt_empty > 0 ||
    diag$nonfinite
}
