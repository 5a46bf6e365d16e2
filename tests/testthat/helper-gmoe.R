# Runs `iters` EM iterations of mclust's VVV model on cbind(x, y) from the
# GMoE start and maps the result back to GMoE parameters.
mclust_gmoe <- function(x, y, start, iters) {
  j <- gmoe_to_joint(start)
  p <- nrow(j$mean)
  k <- ncol(j$mean)
  chols <- array(vapply(seq_len(k), function(g) chol(j$sigma[, , g]), numeric(p * p)),
                 c(p, p, k))
  fit <- mclust::emVVV(cbind(x, y),
                    parameters = list(pro = j$pro, mean = j$mean,
                                      variance = list(modelName = "VVV", d = p, G = k,
                                                      sigma = j$sigma, cholsigma = chols)),
                    control = mclust::emControl(tol = c(0, 0), itmax = iters))
  list(params = gmoe_from_joint(fit$parameters$pro, fit$parameters$mean,
                                fit$parameters$variance$sigma),
       loglik = fit$loglik)
}

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
