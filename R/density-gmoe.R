#' Density of a Gaussian-gated mixture of experts
#'
#' The joint density \eqn{p(x, y) = \sum_i \pi_i \phi_d(x; c_i, \Gamma_i)
#' \phi(y; a_i^\top x + b_i, \nu_i)}, or with `conditional = TRUE` the mixture
#' of experts \eqn{p(y | x) = \sum_i g_i(x) \phi(y; a_i^\top x + b_i, \nu_i)}
#' with Gaussian gates \eqn{g_i(x) \propto \pi_i \phi_d(x; c_i, \Gamma_i)}.
#' Computed in C++ in log space, so `log = TRUE` is accurate far in the
#' tails; the gates of the conditional density are computed with every
#' distance scaled, so they stay finite however far `x` lies from the
#' components (where the joint density is below the smallest double, its
#' log is `-Inf`). The code path is chosen by the option `moerates.kernels`
#' (see [gmoe_control()]).
#'
#' @param x Covariates: an \eqn{n \times d}{n x d} matrix, or a vector when
#'   \eqn{d = 1}.
#' @param y Responses, one per row of `x`.
#' @param params A [gmoe_params()] object.
#' @param log If `TRUE`, return log densities.
#' @param conditional If `TRUE`, the conditional density of `y` given `x`;
#'   otherwise the joint density of `(x, y)`.
#' @return A numeric vector of length \eqn{n}.
#' @examples
#' p <- gmoe_paper_truth(1)
#' dgmoe(c(0, 0.5), c(0.3, 0.2), p)
#' dgmoe(c(0, 0.5), c(0.3, 0.2), p, conditional = TRUE, log = TRUE)
#' # the conditional density integrates to one in y
#' integrate(function(y) dgmoe(rep(0.2, length(y)), y, p, conditional = TRUE),
#'           -Inf, Inf)$value
#' @export
dgmoe <- function(x, y, params, log = FALSE, conditional = FALSE) {
  params <- check_gmoe_params(params)
  x <- as_covariates(x, "x", d = ncol(params$c))
  y <- as_response(y, nrow(x))
  check_flag(log, "log")
  check_flag(conditional, "conditional")
  avx2 <- kernel_path() == "avx2"
  out <- gmoe_cpp("params", .gmoe_log_density_cpp(x, y, params,
                                                  if (conditional) "conditional" else "joint",
                                                  avx2))
  if (log) out else exp(out)
}

# n x k log gate probabilities of checked params at checked covariates,
# finite wherever x lies; `kernels` is a path, "avx2" or "portable".
gate_log_probs <- function(x, params, kernels, arg = "params") {
  gmoe_cpp(arg, .gmoe_log_density_cpp(x, numeric(0), params, "gate", kernels == "avx2"))
}
