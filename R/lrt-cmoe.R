#' Test of no prompt in a contaminated mixture of experts
#'
#' The likelihood ratio test of \eqn{H_0: \lambda = 0}{H0: lambda = 0} (the
#' data come from the pre-trained model \eqn{f_0}{f0} alone) against
#' \eqn{\lambda > 0}{lambda > 0}, calibrated by a parametric bootstrap under
#' \eqn{f_0}{f0}.
#'
#' **Statistic.** \eqn{LR = 2\{l(\hat\lambda, \hat\eta, \hat\nu) - l_0\}}{LR = 2 (l(lambda_hat, eta_hat, nu_hat) - l0)}
#' with \eqn{l_0 = \sum_i c_i \log f_0(y_i | x_i)}{l0 = sum_i c_i log f0(y_i | x_i)}
#' the log-likelihood of \eqn{f_0}{f0} alone (case weights \eqn{c_i = 1}
#' without `weights`), which has no free parameter since \eqn{f_0}{f0} is
#' frozen. A fit whose \eqn{\lambda} ended at its lower bound has
#' \eqn{LR = 0}: the likelihood could not rise above \eqn{l_0}{l0}.
#'
#' **Why not a chi-square law.** Under \eqn{H_0}{H0} the parameter
#' \eqn{\lambda} sits on the boundary of its space, and the prompt's
#' \eqn{(\eta, \nu)} vanish from the model: at \eqn{\lambda = 0}{lambda = 0}
#' every \eqn{(\eta, \nu)} gives the same distribution. The mixture
#' \eqn{\frac12 \chi^2_0 + \frac12 \chi^2_1}{1/2 chi2(0) + 1/2 chi2(1)} of a
#' regular boundary problem (Self and Liang 1987) assumes the other
#' parameters identified under \eqn{H_0}{H0}, so it does not apply. The
#' statistic is instead the supremum over \eqn{(\eta, \nu)} of a process of
#' such statistics (Davies 1977, 1987), whose law depends on the covariates,
#' on \eqn{f_0}{f0} and on the prompt's family, and is stochastically larger:
#' a chi-square or chi-bar-square p-value would find prompts in data that
#' have none.
#'
#' **Calibration.** Because \eqn{f_0}{f0} is known, \eqn{H_0}{H0} is one
#' distribution of \eqn{y} given the covariates. `prompt_test()` draws `B`
#' response vectors from \eqn{f_0}{f0} at the observed covariates, refits each
#' by the fit's own procedure (the same prompt expert, [cmoe_control()],
#' case weights and starts: the same number of data-driven starts, or the
#' same `init`), computes its \eqn{LR_b}{LR_b}, and returns the p-value
#' \deqn{p = \frac{1 + \#\{b: LR_b \ge LR\}}{B + 1}.}{p = (1 + #{b: LR_b >= LR}) / (B + 1).}
#' With a simple null hypothesis this is a Monte Carlo test (Barnard 1963;
#' Davison and Hinkley 1997, section 4.2.5): it is exact for any `B`,
#' \eqn{P(p \le \alpha) \le \alpha}{P(p <= alpha) <= alpha} under
#' \eqn{H_0}{H0} for every \eqn{\alpha}{alpha} a multiple of
#' \eqn{1 / (B + 1)}, whatever the law of the statistic and even where EM
#' stops short of the global maximum, because the observed and the
#' simulated statistics come from one procedure. A larger `B` only sharpens
#' the p-value (its smallest value is \eqn{1 / (B + 1)}) and adds a little
#' power. `n_starts` changes the procedure for both: the data are then
#' refitted with that many data-driven starts too.
#'
#' **Small samples.** The likelihood grows without bound as the prompt
#' shrinks onto a few observations; the fit stops it at
#' `cmoe_control(var_floor =)`. In small samples (tens of observations)
#' such near-degenerate prompts are found now and then in data without a
#' prompt, giving large \eqn{LR_b}{LR_b}: the test stays exact but loses
#' power. A larger `var_floor` in the fit's control (which the refits use
#' too) bounds them.
#'
#' **Parallel and reproducible.** The refits run through
#' [future.apply::future_lapply()] on whatever [future::plan()] is set, each
#' with its own L'Ecuyer-CMRG stream drawn from R's generator
#' (`future.seed = TRUE`), so [set.seed()] before `prompt_test()` gives the
#' same result under any plan and any number of workers. Progress is
#' reported through progressr (shown inside [progressr::with_progress()] or
#' with a global handler).
#'
#' The result prints as a test; give it to [summary()] of the fit (`test =`)
#' to see it with the estimates, where it decides the lower end of
#' \eqn{\lambda}'s interval (see [cmoe_fit-methods]).
#'
#' @param fit A [fit_cmoe()] fit. A pre-trained model given as a user's
#'   log-density needs its `simulate` function.
#' @param B Number of bootstrap refits, a whole number >= 1 (199 or 999
#'   are usual).
#' @param n_starts `NULL` (the fit's own starts) or the number of
#'   data-driven starts with which to refit both the data and the simulated
#'   data sets.
#' @return An object of class `c("cmoe_prompt_test", "htest")`: `statistic`
#'   (LR), `parameter` (B), `p.value`, `null.value`, `alternative`,
#'   `estimate` (\eqn{\hat\lambda}{lambda_hat} of the fit the statistic is
#'   from), `method`, `data.name`, and `null_statistics` (the \eqn{B}
#'   simulated LRs), `loglik` and `null_loglik` (\eqn{l}, \eqn{l_0}),
#'   `n_starts`, `init` and `fit_loglik` (the log-likelihood of `fit`, which
#'   ties the test to it).
#' @references Barnard, G. A. (1963). Discussion of "The spectral analysis of
#'   point processes" by M. S. Bartlett. Journal of the Royal Statistical
#'   Society B 25, 294.
#'
#'   Davies, R. B. (1977). Hypothesis testing when a nuisance parameter is
#'   present only under the alternative. Biometrika 64, 247-254; (1987)
#'   Biometrika 74, 33-43.
#'
#'   Davison, A. C. and Hinkley, D. V. (1997). Bootstrap Methods and Their
#'   Application. Cambridge University Press.
#'
#'   Self, S. G. and Liang, K.-Y. (1987). Asymptotic properties of maximum
#'   likelihood estimators and likelihood ratio tests under nonstandard
#'   conditions. Journal of the American Statistical Association 82,
#'   605-610.
#'
#'   Yan, F., Nguyen, H., Le, D., Akbarian, P. and Ho, N. (2025).
#'   Understanding expert structures on minimax parameter estimation in
#'   contaminated mixture of experts. AISTATS 2025.
#' @seealso [fit_cmoe()], [cmoe_fit-methods] (`summary(fit, test = )`).
#' @examples
#' set.seed(1)
#' f0 <- pretrained_model("laplace", eta0 = c(2, 0), nu0 = 1)
#' # data with a prompt
#' sim <- rcmoe(1000, cmoe_params(0.1, c(-1, 1), 0.5), f0)
#' fit <- fit_cmoe(sim$x, sim$y, f0)
#' test <- prompt_test(fit, B = 99)
#' test
#' summary(fit, test = test)
#'
#' # data from f0 alone
#' x <- rnorm(1000)
#' y <- 2 * x + rexp(1000) - rexp(1000)
#' null_fit <- suppressWarnings(fit_cmoe(x, y, f0))
#' prompt_test(null_fit, B = 99)$p.value
#'
#' # the refits run on the current future plan, e.g. after
#' # future::plan(future::multisession, workers = 2), with the same result
#' set.seed(2)
#' prompt_test(fit, B = 99)$p.value
#' @export
prompt_test <- function(fit, B = 199, n_starts = NULL) {
  data_name <- paste(deparse(substitute(fit), width.cutoff = 500L), collapse = " ")
  fit <- check_cmoe_fit(fit, "fit")
  if (fit$params$gate != "constant") {
    stop_arg("fit", "has the sigmoid gate; prompt_test() tests lambda = 0 of the constant ",
             "gate (fit with gate = \"constant\").")
  }
  B <- check_count(B, "B")
  pretrained <- fit$pretrained
  if (pretrained$family == "user" && is.null(pretrained$simulate)) {
    stop_arg("fit", "has a pre-trained model given as a user log-density without `simulate`; ",
             "the test draws data from f0: give pretrained_model(logdensity = , simulate = ).")
  }
  if (is.null(n_starts)) {
    init <- fit$init
    n_starts <- fit$n_starts
    observed <- cmoe_lr(fit$loglik, fit$params$lambda, fit$logf0, fit)
  } else {
    n_starts <- check_count(n_starts, "n_starts")
    init <- NULL
    observed <- cmoe_refit_lr(fit, fit$y, fit$logf0, init, n_starts)
  }
  progress <- progressr::progressor(steps = B)
  x <- fit$x
  replicate <- function(b) {
    y <- pretrained_draw(pretrained, x)
    lr <- cmoe_refit_lr(fit, y, pretrained_logdensity(pretrained, x, y), init, n_starts)
    progress()
    lr$statistic
  }
  null <- unlist(future.apply::future_lapply(seq_len(B), replicate, future.seed = TRUE,
                                             future.packages = "moerates"))
  structure(list(
    statistic = c(LR = observed$statistic), parameter = c(B = B),
    p.value = (1 + sum(null >= observed$statistic)) / (B + 1),
    null.value = c(lambda = 0), alternative = "greater",
    estimate = c(lambda = observed$lambda),
    method = "Likelihood ratio test of no prompt, calibrated by parametric bootstrap under f0",
    data.name = data_name, null_statistics = null, loglik = observed$loglik,
    null_loglik = observed$null_loglik, n_starts = n_starts, init = init,
    fit_loglik = fit$loglik),
    class = c("cmoe_prompt_test", "htest"))
}

# LR = 2 (l - l0) of a maximised log-likelihood, 0 for a fit with lambda at
# its lower bound.
cmoe_lr <- function(loglik, lambda, logf0, fit) {
  null_loglik <- sum(if (is.null(fit$weights)) logf0 else fit$weights * logf0)
  at_bound <- lambda <= fit$control$lambda_bound * (1 + 1e-6)
  list(statistic = if (at_bound) 0 else max(0, 2 * (loglik - null_loglik)),
       loglik = loglik, null_loglik = null_loglik, lambda = lambda)
}

# The fit's procedure (its expert, control, weights; the given starts) on
# responses y at the fit's covariates, and its LR.
cmoe_refit_lr <- function(fit, y, logf0, init, n_starts) {
  expert <- fit$params$expert
  frame <- cmoe_frame(fit$x, y, logf0, expert, fit$weights, fit$params$intercept)
  starts <- cmoe_start_list(frame, expert, init, n_starts, fit$control)
  run <- cmoe_maximise(frame, expert, starts, fit$control)
  cmoe_lr(max(run$final), run$res$params$lambda, logf0, fit)
}

# A prompt_test() result, and of this fit.
check_prompt_test <- function(test, fit, arg = "test") {
  if (!inherits(test, "cmoe_prompt_test") || !is.list(test) ||
      !is.numeric(test$p.value) || length(test$p.value) != 1 || is.na(test$p.value) ||
      !is.numeric(test$parameter) || length(test$parameter) != 1 ||
      !is.numeric(test$statistic) || length(test$statistic) != 1) {
    stop_arg(arg, "must be NULL or a result of prompt_test(), not a ", class(test)[1], ".")
  }
  if (!identical(test$fit_loglik, fit$loglik)) {
    stop_arg(arg, "is the prompt_test() of another fit; give prompt_test() of this one.")
  }
  test
}

#' @export
print.cmoe_prompt_test <- function(x, ...) {
  NextMethod()
  cat(sprintf("Null distribution: %d refits to data drawn from f0 at the observed covariates,\n",
              x$parameter[[1]]),
      sprintf("each with %s; the p-value is (1 + #{LR_b >= LR}) / (B + 1).\n",
              if (is.null(x$init)) sprintf("%d data-driven start(s)", x$n_starts)
              else "the fit's own start"), sep = "")
  invisible(x)
}

# The profile likelihood interval of lambda (see ?cmoe_fit-methods): the
# upper end always, the lower end only once a test has spoken about
# lambda = 0. Each profile point is an EM fit with lambda held, from the
# fit's prompt and from the data-driven start, the better kept.
cmoe_lambda_interval <- function(fit, level, test) {
  expert <- fit$params$expert
  control <- fit$control
  frame <- cmoe_frame(fit$x, fit$y, fit$logf0, expert, fit$weights, fit$params$intercept)
  starts <- c(list(to_internal(frame, fit$params)),
              cmoe_start_list(frame, expert, NULL, 1, control))
  cut <- stats::qchisq(level, 1)
  excess <- function(t) {
    run <- cmoe_maximise(frame, expert, starts, control, fixed_lambda = stats::plogis(t))
    value <- 2 * (fit$loglik - max(run$final)) - cut
    if (is.finite(value)) value else 1e10
  }
  root <- function(from, to) {
    stats::plogis(stats::uniroot(excess, sort(c(from, to)), tol = 1e-6, maxiter = 100)$root)
  }
  bound <- control$lambda_bound
  t_hat <- stats::qlogis(fit$params$lambda)
  t_top <- stats::qlogis(1 - bound)
  t_bottom <- stats::qlogis(bound)
  upper <- 1
  if (t_hat < t_top && excess(t_top) > 0) upper <- root(t_hat, t_top)
  lower <- NA_real_
  if (!is.null(test)) {
    lower <- 0
    if (test$p.value <= 1 - level && t_hat > t_bottom && excess(t_bottom) > 0) {
      lower <- root(t_bottom, t_hat)
    }
  }
  c(lower, upper)
}
