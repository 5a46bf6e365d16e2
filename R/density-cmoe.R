#' Density of a contaminated mixture of experts
#'
#' The conditional density
#' \eqn{p(y | x) = (1 - s(x)) f_0(y | x) + s(x)\, \phi(y; h(x, \eta), \nu)}{p(y | x) = (1 - s(x)) f0(y | x) + s(x) phi(y; h(x, eta), nu)},
#' with the prompt's weight \eqn{s(x)} constant (\eqn{\lambda}) or the
#' sigmoid gate (see [cmoe_params()]), computed in log space (so it stays
#' accurate far in the tails).
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
#' # the sigmoid gate
#' gated <- cmoe_params(eta = c(-1, 1), nu = 0.5, gate = "sigmoid", beta = 2, tau = -1)
#' dcmoe(c(-1, 0, 1), c(0, 0, 0), gated, f0)
#' @export
dcmoe <- function(x, y, params, pretrained, log = FALSE) {
  params <- check_cmoe_params(params)
  pretrained <- check_pretrained(pretrained)
  check_flag(log, "log")
  d <- cmoe_dimension(params, pretrained)
  x <- as_covariates(x, "x", d = d)
  y <- as_response(y, nrow(x))
  out <- cmoe_evaluate(x, y, pretrained_logdensity(pretrained, x, y), params, pretrained)$logdens
  if (log) out else exp(out)
}

# Per-row log p(y | x) and posterior prompt probabilities, given log f0.
# Where both log f0 and the prompt's log-density fall below the most
# negative double (y or x so far out that each term is -Inf), the density is
# 0 (log -Inf) and the posterior goes to whichever density has the lighter
# decay there (see tail_posterior()); without `pretrained` it is NA.
cmoe_evaluate <- function(x, y, logf0, params, pretrained = NULL,
                          kernels = getOption("moerates.kernels", "auto")) {
  out <- .cmoe_log_density_cpp(x, y, logf0, params$expert, cmoe_core_params(params),
                               kernel_path(kernels) == "avx2")
  # both terms -Inf: the portable and AVX2 code disagree on 0 / 0, so decide here
  lost <- which(is.nan(out$logdens) | is.nan(out$posterior) | out$logdens == -Inf)
  if (length(lost) > 0) {
    out$logdens[lost] <- -Inf
    out$posterior[lost] <- if (is.null(pretrained)) NA_real_ else
      tail_posterior(x[lost, , drop = FALSE], y[lost], logf0[lost], params, pretrained)
  }
  out
}

# The posterior where both densities underflow, from the order of magnitude
# of each -log density (log(z^2 / 2) for a Gaussian, log|z| for a Laplace,
# with z the standardised residual): the component whose -log density is of the
# smaller order dominates; equal orders leave the prior weight s(x). A
# user's log f0 of -Inf means f0 = 0 exactly, where the prompt wins.
tail_posterior <- function(x, y, logf0, params, pretrained) {
  prompt_z <- abs(y - prompt_mean(params, x)) / sqrt(params$nu)
  prompt_order <- 2 * log(prompt_z) - log(2)
  prompt_order[is.nan(prompt_order)] <- Inf
  f0_order <- if (pretrained$family == "user") {
    rep(Inf, length(y))
  } else {
    z <- abs(y - expert_mean(pretrained$expert, pretrained$eta0, x)) / sqrt(pretrained$nu0)
    order <- switch(pretrained$family, gaussian = 2 * log(z) - log(2), log(z))
    replace(order, is.nan(order), Inf)
  }
  ifelse(prompt_order < f0_order, 1, ifelse(prompt_order > f0_order, 0, cmoe_weight(params, x)))
}
