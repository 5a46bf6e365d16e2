# A random, well-conditioned GMoE with k components in d dimensions.
random_gmoe <- function(k, d) {
  Gamma <- array(0, c(d, d, k))
  for (j in seq_len(k)) {
    A <- matrix(rnorm(d * d, sd = 0.3), d, d)
    Gamma[, , j] <- crossprod(A) + diag(0.2, d)
  }
  w <- runif(k, 0.5, 1)
  gmoe_params(pi = w / sum(w), c = matrix(rnorm(k * d, sd = 2), k, d), Gamma = Gamma,
              a = matrix(rnorm(k * d), k, d), b = rnorm(k), nu = runif(k, 0.1, 0.5))
}

max_param_diff <- function(p, q) {
  max(abs(unlist(unclass(p)) - unlist(unclass(q))))
}
