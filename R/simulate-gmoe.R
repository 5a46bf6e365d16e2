#' Simulate from a Gaussian-gated mixture of experts
#'
#' Draws \eqn{n} independent pairs \eqn{(x, y)} from the joint GMoE density:
#' a latent component \eqn{z} with probabilities \eqn{\pi}, then
#' \eqn{x \sim N_d(c_z, \Gamma_z)} and
#' \eqn{y \sim N(a_z^\top x + b_z, \nu_z)}. All randomness comes from R's
#' generator, so [set.seed()] reproduces the draw.
#'
#' @param n Number of observations, a whole number >= 1.
#' @param params A [gmoe_params()] object.
#' @return A list with `x` (an \eqn{n \times d}{n x d} matrix with columns
#'   `x1, ..., xd`), `y` (length \eqn{n}) and `component` (the latent
#'   labels, integers in \eqn{1..k}).
#' @examples
#' set.seed(1)
#' sim <- rgmoe(500, gmoe_paper_truth(1))
#' str(sim)
#' table(sim$component) / 500
#' @export
rgmoe <- function(n, params) {
  n <- check_count(n, "n")
  params <- check_gmoe_params(params)
  k <- length(params$pi)
  d <- ncol(params$c)
  component <- sample.int(k, n, replace = TRUE, prob = params$pi)
  noise_x <- matrix(stats::rnorm(n * d), n, d)
  noise_y <- stats::rnorm(n)
  x <- matrix(0, n, d, dimnames = list(NULL, paste0("x", seq_len(d))))
  for (j in seq_len(k)) {
    idx <- which(component == j)
    if (length(idx) == 0) next
    R <- chol(matrix(params$Gamma[, , j], d, d))
    x[idx, ] <- sweep(noise_x[idx, , drop = FALSE] %*% R, 2, params$c[j, ], "+")
  }
  y <- rowSums(x * params$a[component, , drop = FALSE]) + params$b[component] +
    sqrt(params$nu[component]) * noise_y
  list(x = x, y = y, component = component)
}

