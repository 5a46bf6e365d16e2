# The log-likelihood of the sigmoid-gated contaminated MoE written out from
# its definition, for optim(): theta = (beta, tau, eta, log nu).
ref_gated_loglik <- function(theta, x, y, logf0, expert, intercept) {
  d <- ncol(x)
  q <- d + intercept
  beta <- theta[seq_len(d)]
  tau <- theta[d + 1]
  eta <- theta[d + 1 + seq_len(q)]
  nu <- exp(theta[d + 2 + q])
  s <- 1 / (1 + exp(-(drop(x %*% beta) + tau)))
  z <- drop(x %*% eta[seq_len(d)]) + if (intercept) eta[d + 1] else 0
  h <- ref_expert(expert, z)
  sum(log((1 - s) * exp(logf0) + s * dnorm(y, h, sqrt(nu))))
}
