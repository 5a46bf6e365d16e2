#' Losses of a contaminated mixture of experts fit
#'
#' The distances between an estimate and the true prompt that the
#' convergence theory of Yan et al. (2025) speaks about. With \eqn{\theta = (\eta, \nu)}{theta = (eta, nu)}:
#' \describe{
#'   \item{`lambda`}{\eqn{|\hat\lambda - \lambda^*|}{|lambda_hat - lambda*|};}
#'   \item{`eta`, `nu`}{\eqn{\|\hat\eta - \eta^*\|}{||eta_hat - eta*||} and
#'     \eqn{|\hat\nu - \nu^*|}{|nu_hat - nu*|};}
#'   \item{`prompt`}{\eqn{\|\hat\theta - \theta^*\|}{||theta_hat - theta*||};}
#'   \item{`loss_distinguishable`}{\eqn{|\hat\lambda - \lambda^*| + \lambda^* \|\hat\theta - \theta^*\|}{|lambda_hat - lambda*| + lambda* ||theta_hat - theta*||}.
#'     When \eqn{f_0}{f0} and the prompt are distinguishable both terms are of
#'     order \eqn{n^{-1/2}}, uniformly, also when \eqn{\lambda^*}{lambda*}
#'     shrinks with \eqn{n} (prompt vanishing), so this loss keeps the
#'     parametric rate while \eqn{\|\hat\theta - \theta^*\|}{||theta_hat - theta*||} alone does
#'     not;}
#'   \item{`loss_merging`}{\eqn{|\hat\lambda - \lambda^*| \Delta^2 + \lambda^* \Delta \|\hat\theta - \theta^*\|}{|lambda_hat - lambda*| Delta^2 + lambda* Delta ||theta_hat - theta*||}
#'     with \eqn{\Delta = \|\theta^* - \theta_0\|}{Delta = ||theta* - theta0||}, the distance from the true
#'     prompt to the pre-trained model's \eqn{(\eta_0, \nu_0)}{(eta0, nu0)}:
#'     the loss of order \eqn{n^{-1/2}} when they are not distinguishable
#'     (Gaussian \eqn{f_0}{f0} with the prompt's expert structure), where
#'     \eqn{|\hat\lambda - \lambda^*|}{|lambda_hat - lambda*|} is of order
#'     \eqn{n^{-1/2} \Delta^{-2}} and the prompt error of order
#'     \eqn{n^{-1/2} \Delta^{-1} / \lambda^*}{n^(-1/2) / (Delta lambda*)}
#'     (prompt merging). `NA` when \eqn{f_0}{f0} is not of that kind.}
#' }
#'
#' **Sigmoid gate** (Yan et al. 2025b). The errors the paper plots,
#' `beta` \eqn{\|\hat\beta - \beta^*\|}{||beta_hat - beta*||}, `exp_tau`
#' \eqn{|e^{\hat\tau} - e^{\tau^*}|}{|exp(tau_hat) - exp(tau*)|}, `eta` and
#' `nu`, then `prompt` as above and the two losses of order \eqn{n^{-1/2}}
#' that the theorems bound: `loss_distinguishable`
#' \eqn{\|\Delta\beta\| + |\Delta e^\tau| + \|\Delta\eta\| + |\Delta\nu|}{||d beta|| + |d exp(tau)| + ||d eta|| + |d nu|},
#' every term at the parametric rate when \eqn{f_0}{f0} and the prompt are
#' distinguishable, and `loss_merging`
#' \eqn{|\Delta e^\tau| \Delta^2 + \Delta (\|\Delta\beta\| + \|\Delta\eta\| + |\Delta\nu|)}{|d exp(tau)| Delta^2 + Delta (||d beta|| + ||d eta|| + |d nu|)},
#' the loss of order \eqn{n^{-1/2}} when they are not: \eqn{e^\tau}{exp(tau)}
#' is then estimated at \eqn{n^{-1/2} \Delta^{-2}} and
#' \eqn{(\beta, \eta, \nu)}{(beta, eta, nu)} at \eqn{n^{-1/2} \Delta^{-1}}.
#' These Voronoi-type losses are written in the form the rates of the paper
#' imply, one true prompt being its own Voronoi cell.
#'
#' @param estimate A [fit_cmoe()] fit or a [cmoe_params()] object.
#' @param truth The true [cmoe_params()], with the same expert and \eqn{d}.
#' @param pretrained The [pretrained_model()]; taken from `estimate` when it
#'   is a fit. Only `loss_merging` needs it.
#' @return A named numeric vector with the seven values above (`delta`
#'   \eqn{= \Delta} comes before `loss_merging`); for the sigmoid gate
#'   `beta`, `exp_tau`, `eta`, `nu`, `prompt`, `loss_distinguishable`,
#'   `delta`, `loss_merging`.
#' @references Yan, F., Nguyen, H., Le, D., Akbarian, P. and Ho, N. (2025a).
#'   Understanding expert structures on minimax parameter estimation in
#'   contaminated mixture of experts. AISTATS 2025.
#'
#'   Yan, F., Nguyen, H., Le, D., Akbarian, P., Ho, N. and Rinaldo, A.
#'   (2025b). On minimax estimation of parameters in softmax-contaminated
#'   mixture of experts. NeurIPS 2025, arXiv:2505.18455.
#' @seealso [fit_cmoe()], [distinguishable()], [cmoe_study()].
#' @examples
#' set.seed(1)
#' f0 <- pretrained_model("gaussian", eta0 = c(2, 0), nu0 = 1)
#' truth <- cmoe_params(0.5, c(1, 1), 1.5)
#' sim <- rcmoe(5000, truth, f0)
#' fit <- fit_cmoe(sim$x, sim$y, f0)
#' cmoe_loss(fit, truth)
#' @export
cmoe_loss <- function(estimate, truth, pretrained = NULL) {
  if (inherits(estimate, "cmoe_fit")) {
    estimate <- check_cmoe_fit(estimate, "estimate")
    if (is.null(pretrained)) pretrained <- estimate$pretrained
    estimate <- estimate$params
  } else {
    estimate <- check_cmoe_params(estimate, "estimate")
  }
  truth <- check_cmoe_params(truth, "truth")
  if (estimate$expert != truth$expert || length(estimate$eta) != length(truth$eta) ||
      estimate$gate != truth$gate || estimate$intercept != truth$intercept) {
    stop_arg("truth", "must have the estimate's expert (\"", estimate$expert, "\"), gate (\"",
             estimate$gate, "\"), intercept (", estimate$intercept, ") and d = ",
             cmoe_d(estimate), ", not \"", truth$expert, "\", \"", truth$gate, "\", ",
             truth$intercept, " and d = ", cmoe_d(truth), ".")
  }
  if (!is.null(pretrained)) pretrained <- check_pretrained(pretrained)
  theta_hat <- c(estimate$eta, estimate$nu)
  theta_star <- c(truth$eta, truth$nu)
  prompt <- vector_norm(theta_hat - theta_star)
  delta <- merging_distance(truth, pretrained)
  if (truth$gate == "sigmoid") {
    beta <- vector_norm(estimate$beta - truth$beta)
    exp_tau <- abs(exp(estimate$tau) - exp(truth$tau))
    eta <- vector_norm(estimate$eta - truth$eta)
    nu <- abs(estimate$nu - truth$nu)
    return(c(beta = beta, exp_tau = exp_tau, eta = eta, nu = nu, prompt = prompt,
             loss_distinguishable = beta + exp_tau + eta + nu, delta = delta,
             loss_merging = exp_tau * delta^2 + delta * (beta + eta + nu)))
  }
  lambda <- abs(estimate$lambda - truth$lambda)
  c(lambda = lambda,
    eta = vector_norm(estimate$eta - truth$eta),
    nu = abs(estimate$nu - truth$nu),
    prompt = prompt,
    loss_distinguishable = lambda + truth$lambda * prompt,
    delta = delta,
    loss_merging = lambda * delta^2 + truth$lambda * delta * prompt)
}

# Scaled by the largest entry first, so that it overflows only when the norm
# itself is beyond the range of a double.
vector_norm <- function(v) {
  top <- max(abs(v))
  if (top == 0 || !is.finite(top)) return(top)
  top * sqrt(sum((v / top)^2))
}

# ||(eta*, nu*) - (eta0, nu0)|| when f0 is Gaussian with the prompt's
# expert structure (the only case in which the prompt can merge into f0).
# A prompt without intercept merges only into an f0 with b0 = 0.
merging_distance <- function(truth, pretrained) {
  if (is.null(pretrained) || pretrained$family != "gaussian" ||
      pretrained$expert != truth$expert || length(pretrained$eta0) != cmoe_d(truth) + 1) {
    return(NA_real_)
  }
  eta0 <- pretrained$eta0
  if (!truth$intercept) {
    if (eta0[[length(eta0)]] != 0) return(NA_real_)
    eta0 <- eta0[-length(eta0)]
  }
  vector_norm(c(truth$eta - eta0, truth$nu - pretrained$nu0))
}
