#' Errors of an efficient estimator in a contaminated-MoE scenario
#'
#' The errors a maximum-likelihood fit would have if it were exactly normal
#' around the truth with the inverse Fisher information over \eqn{n} as its
#' covariance: at each sample size, the truth of the scenario at that
#' \eqn{n}, its Fisher information per observation, and the mean of each
#' error of [cmoe_study()] (`beta`, `exp_tau`, `eta`, `nu`, `prompt` for the
#' sigmoid gate; `lambda`, `eta`, `nu`, `prompt` for the constant weight)
#' under that normal law, \eqn{e^\tau}{exp(tau)} by the delta method.
#'
#' These are the errors of the converged maximum-likelihood estimator once
#' \eqn{n} is large enough for its normal approximation, so they separate two
#' questions a rate study mixes: whether the fits are the MLE (their mean
#' errors should then be close to these, the ratio near 1), and which slope
#' the MLE can show over the sizes of the study when the truth moves with
#' \eqn{n}. The theory's rates are uniform over truths (minimax); the
#' slope of these errors is the one of the Fisher information at the
#' scenario's own truths, which can be faster. For instance in setting (i)
#' of Yan et al. (2025b), the gate \eqn{s(x)} varies with \eqn{x}, so the
#' scores of \eqn{\tau} and of \eqn{\eta} stay apart to first order in
#' \eqn{\Delta} and \eqn{e^\tau}{exp(tau)} has a standard error of order
#' \eqn{\Delta^{-1}}{Delta^-1}, not \eqn{\Delta^{-2}}{Delta^-2}, as the
#' vignette "Contaminated MoE" measures.
#'
#' The information is the mean outer product of the scores at the truth over
#' `n_mc` observations simulated from it (by R's generator, so `set.seed()`
#' or `seed` reproduces the result); the means of the errors are over
#' `draws` normal draws. Both add a Monte Carlo error of about
#' \eqn{1/\sqrt{n_{mc}}}{1 / sqrt(n_mc)} and \eqn{1/\sqrt{draws}}{1 / sqrt(draws)} relative.
#'
#' @param scenario A [cmoe_scenario()] object or its name.
#' @param n Sample sizes.
#' @param power Passed to [cmoe_scenario()] when `scenario` is a name.
#' @param n_mc Simulated observations behind each information matrix
#'   (at least 1000).
#' @param draws Normal draws behind each mean error (at least 100).
#' @param seed `NULL` to use the current random-number state, or a seed
#'   for [set.seed()], used without changing the caller's state.
#' @return A data frame with one row per sample size and error: `n`,
#'   `metric`, `value` (the mean error), `se` (the standard error of the
#'   scalar parameter behind it, `NA` for the norms of vectors).
#' @references Yan, F., Nguyen, H., Le, D., Akbarian, P., Ho, N. and
#'   Rinaldo, A. (2025b). On minimax estimation of parameters in
#'   softmax-contaminated mixture of experts. NeurIPS 2025, arXiv:2505.18455.
#' @seealso [cmoe_study()], [reproduce_gated_cmoe()], [rate_slopes()].
#' @examples
#' # setting (i) of Yan et al. (2025b): the slope a converged MLE can show
#' eff <- cmoe_efficient_errors("gated_merging_eta", n = c(1e3, 1e4, 1e5),
#'                              n_mc = 2e4, seed = 1)
#' tau <- eff[eff$metric == "exp_tau", ]
#' tau
#' coef(lm(log(value) ~ log(n), data = tau))[2]
#' @export
cmoe_efficient_errors <- function(scenario, n = round(10^seq(3, 5, length.out = 20)),
                                  power = NULL, n_mc = 1e5, draws = 4000, seed = NULL) {
  scenario <- as_cmoe_scenario(scenario, power)
  n <- check_sizes(n)
  n_mc <- check_count(n_mc, "n_mc", min = 1000)
  draws <- check_count(draws, "draws", min = 100)
  seed <- check_rng_seed(seed)
  with_seed(seed, {
    rows <- lapply(n, function(size) efficient_errors_at(scenario, size, n_mc, draws))
    do.call(rbind, rows)
  })
}

# The mean errors at one sample size, see ?cmoe_efficient_errors.
efficient_errors_at <- function(scenario, size, n_mc, draws) {
  truth <- scenario$truth(size)
  info <- fisher_information(truth, scenario$pretrained, n_mc)
  root <- if (all(is.finite(info))) tryCatch(chol(info), error = function(e) NULL)
  if (is.null(root)) {
    stop(sprintf(paste0("The Fisher information of scenario \"%s\" at its truth for n = %d is ",
                        "not positive definite, so no efficient errors exist there."),
                 scenario$scenario, size), call. = FALSE)
  }
  gated <- truth$gate == "sigmoid"
  d <- cmoe_d(truth)
  q <- nrow(info)
  # rows are draws from N(0, info^-1 / size), since info = R'R
  z <- t(backsolve(root, matrix(stats::rnorm(q * draws), q))) / sqrt(size)
  sd <- sqrt(rowSums(backsolve(root, diag(q))^2) / size)
  head <- if (gated) d + 1 else 1
  eta <- head + seq_along(truth$eta)
  norm <- function(cols) mean(sqrt(rowSums(z[, cols, drop = FALSE]^2)))
  value <- c(
    if (gated) {
      c(beta = norm(seq_len(d)), exp_tau = exp(truth$tau) * mean(abs(z[, d + 1])))
    } else {
      c(lambda = mean(abs(z[, 1])))
    },
    eta = norm(eta), nu = mean(abs(z[, q])), prompt = norm(c(eta, q)))
  se <- c(if (gated) c(beta = NA, exp_tau = exp(truth$tau) * sd[d + 1]) else c(lambda = sd[1]),
          eta = if (length(eta) == 1) sd[eta] else NA, nu = sd[q], prompt = NA)
  data.frame(n = size, metric = names(value), value = unname(value), se = unname(se[names(value)]))
}

#' Fisher information of a contaminated mixture of experts
#'
#' The expected information per observation about the parameters of
#' [cmoe_params()] (in the order of [coef()] of a fit: the gate's
#' \eqn{\lambda}, or \eqn{(\beta, \tau)}, then \eqn{\eta}, then \eqn{\nu}),
#' for covariates \eqn{x \sim N(0, I_d)}{x ~ N(0, I_d)} as [rcmoe()] draws
#' them. It is the mean outer product of the scores at `params` over `n_mc`
#' observations simulated from the model, so it carries a Monte Carlo error
#' of order \eqn{1/\sqrt{n_{mc}}}{1 / sqrt(n_mc)}; `solve()` of it over
#' \eqn{n} is the asymptotic covariance of the maximum-likelihood estimator
#' from \eqn{n} observations. It shows how identifiable a prompt is before
#' any data are drawn: as the prompt merges into a Gaussian \eqn{f_0}{f0},
#' the standard errors grow like a power of the distance \eqn{\Delta}, and
#' the example measures that power.
#'
#' @param params The true [cmoe_params()].
#' @param pretrained The [pretrained_model()].
#' @param n_mc Simulated observations (at least 1000).
#' @param seed `NULL` to use the current random-number state, or a seed
#'   for [set.seed()], used without changing the caller's state.
#' @return A symmetric matrix named by parameter.
#' @references Yan, F., Nguyen, H., Le, D., Akbarian, P., Ho, N. and
#'   Rinaldo, A. (2025b). On minimax estimation of parameters in
#'   softmax-contaminated mixture of experts. NeurIPS 2025, arXiv:2505.18455.
#' @seealso [cmoe_efficient_errors()], [vcov()] of a [fit_cmoe()] fit.
#' @examples
#' # standard error of exp(tau) per observation as a tanh prompt merges into f0
#' f0 <- pretrained_model("gaussian", "tanh", eta0 = c(1, 0, 0), nu0 = 0.01)
#' se_exp_tau <- function(delta, beta) {
#'   p <- cmoe_params(eta = c(1 + delta, 0), nu = 0.01, expert = "tanh", gate = "sigmoid",
#'                    beta = beta, tau = 1, intercept = FALSE)
#'   exp(1) * sqrt(solve(cmoe_information(p, f0, n_mc = 5000, seed = 1))["tau", "tau"])
#' }
#' delta <- c(0.01, 0.02)
#' # about Delta^-1 with a gate that varies with x, Delta^-2 with a constant one
#' log(se_exp_tau(delta[2], c(1, 1)) / se_exp_tau(delta[1], c(1, 1))) / log(2)
#' log(se_exp_tau(delta[2], c(0, 0)) / se_exp_tau(delta[1], c(0, 0))) / log(2)
#' @export
cmoe_information <- function(params, pretrained, n_mc = 1e5, seed = NULL) {
  params <- check_cmoe_params(params)
  pretrained <- check_pretrained(pretrained)
  cmoe_dimension(params, pretrained)
  n_mc <- check_count(n_mc, "n_mc", min = 1000)
  seed <- check_rng_seed(seed)
  with_seed(seed, fisher_information(params, pretrained, n_mc))
}

fisher_information <- function(params, pretrained, n_mc) {
  sim <- rcmoe(n_mc, params, pretrained)
  logf0 <- pretrained_logdensity(pretrained, sim$x, sim$y)
  theta <- cmoe_coef(params)
  scores <- cmoe_scores(sim$x, sim$y, logf0, params, unname(theta))
  info <- crossprod(scores) / n_mc
  dimnames(info) <- list(names(theta), names(theta))
  info
}
