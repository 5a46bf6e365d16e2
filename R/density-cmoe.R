#' Density of a contaminated mixture of experts
#'
#' The conditional density
#' \eqn{p(y | x) = (1 - \lambda) f_0(y | x) + \lambda\, \phi(y; h(a^\top x + b), \nu)}{p(y | x) = (1 - lambda) f0(y | x) + lambda phi(y; h(a'x + b), nu)},
#' computed in log space (so it stays accurate far in the tails).
#'
#' @param x Covariates: an \eqn{n \times d}{n x d} matrix, or a vector when
#'   \eqn{d = 1}.
#' @param y Responses, one per row of `x`.
#' @param params A [cmoe_params()] object.
#' @param pretrained A [pretrained_model()].
#' @param log If `TRUE`, the log-density.
#' @return A numeric vector of length \eqn{n}.
#' @seealso [rcmoe()], [fit_cmoe()].
#' @examples
#' f0 <- pretrained_model("laplace", eta0 = c(2, 0), nu0 = 1)
#' truth <- cmoe_params(0.3, c(-1, 1), 0.5)
#' dcmoe(c(0, 0, 0), c(-1, 0, 1), truth, f0)
#' # integrates to one in y
#' integrate(function(y) dcmoe(rep(0.5, length(y)), y, truth, f0), -Inf, Inf)
#' @export
dcmoe <- function(x, y, params, pretrained, log = FALSE) {
  params <- check_cmoe_params(params)
  pretrained <- check_pretrained(pretrained)
  check_flag(log, "log")
  d <- cmoe_dimension(params, pretrained)
  x <- as_covariates(x, "x", d = d)
  y <- as_response(y, nrow(x))
  out <- cmoe_evaluate(x, y, pretrained_logdensity(pretrained, x, y), params)$logdens
  if (log) out else exp(out)
}

# Per-row log p(y | x) and posterior prompt probabilities, given log f0.
cmoe_evaluate <- function(x, y, logf0, params) {
  .cmoe_log_density_cpp(x, y, logf0, params$expert, params)
}
