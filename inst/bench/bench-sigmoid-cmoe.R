# Benchmark of the sigmoid-gated contaminated MoE fit (Yan et al. 2025b,
# d = 8, tanh(eta'x) experts without intercept): fit_cmoe()'s EM (C++, the
# gate by Newton steps, SQUAREM) against
#   - "EM + BFGS M-step": the paper's method, EM whose M-step maximises the
#     expected complete-data log-likelihood by stats::optim(method = "BFGS")
#     (analytic gradients; E-step vectorised in R), iterated until the gain
#     in log-likelihood is below 1e-10 (1 + |l|) or 2000 iterations;
#   - "optim() on the likelihood": BFGS on the full log-likelihood
#     (analytic gradient), reltol 1e-14;
# all from the same start (the truth plus N(0, 0.05^2) noise on every
# coordinate, log nu for the variance), at n = 1e3, 1e4, 1e5. Reports the
# elapsed time and the final log-likelihood of each.
# Usage: Rscript inst/bench/bench-sigmoid-cmoe.R [setting]
#   setting: gated_distinguishable (default) or gated_merging_eta.
library(moerates)

args <- commandArgs(trailingOnly = TRUE)
setting <- if (length(args) > 0) args[1] else "gated_distinguishable"
scenario <- cmoe_scenario(setting)
f0 <- scenario$pretrained

# theta = (beta, tau, eta, log nu), as for optim()
unpack <- function(theta, d) {
  list(beta = theta[1:d], tau = theta[d + 1], eta = theta[d + 1 + 1:d], nu = exp(theta[2 * d + 2]))
}
as_params <- function(theta, d) {
  p <- unpack(theta, d)
  cmoe_params(eta = p$eta, nu = p$nu, expert = "tanh", gate = "sigmoid", beta = p$beta,
              tau = p$tau, intercept = FALSE)
}
pieces <- function(theta, x, y, logf0) {
  d <- ncol(x)
  p <- unpack(theta, d)
  g <- drop(x %*% p$beta) + p$tau
  h <- tanh(drop(x %*% p$eta))
  r <- y - h
  log_prompt <- -0.5 * (log(2 * pi * p$nu) + r^2 / p$nu) - log1p(exp(-g))
  log_f0 <- logf0 - log1p(exp(g))
  top <- pmax(log_prompt, log_f0)
  ll <- top + log(exp(log_prompt - top) + exp(log_f0 - top))
  list(p = p, g = g, h = h, r = r, w = exp(log_prompt - ll), ll = ll)
}
loglik <- function(theta, x, y, logf0) sum(pieces(theta, x, y, logf0)$ll)
# d l / d theta and d Q / d theta share one form, with w the posterior
score <- function(q, x, w) {
  s <- stats::plogis(q$g)
  c(colSums((w - s) * x), sum(w - s),
    colSums((w * q$r / q$p$nu * (1 - q$h^2)) * x),
    sum(w * (q$r^2 / q$p$nu - 1)) / 2)
}

em_bfgs <- function(theta, x, y, logf0, max_iter = 2000, tol = 1e-10) {
  q <- pieces(theta, x, y, logf0)
  ll <- sum(q$ll)
  iter <- 0
  for (iter in seq_len(max_iter)) {
    w <- q$w
    expected <- function(th) {
      e <- pieces(th, x, y, logf0)
      s_log <- -log1p(exp(-e$g))
      s1_log <- -log1p(exp(e$g))
      -sum(w * (s_log - 0.5 * (log(2 * pi * e$p$nu) + e$r^2 / e$p$nu)) + (1 - w) * s1_log)
    }
    gradient <- function(th) -score(pieces(th, x, y, logf0), x, w)
    theta <- stats::optim(theta, expected, gradient, method = "BFGS",
                          control = list(maxit = 200, reltol = 1e-12))$par
    q <- pieces(theta, x, y, logf0)
    new <- sum(q$ll)
    gain <- new - ll
    ll <- new
    if (abs(gain) < tol * (1 + abs(ll))) break
  }
  list(theta = theta, loglik = ll, iterations = iter)
}

direct <- function(theta, x, y, logf0) {
  o <- stats::optim(theta, function(th) -loglik(th, x, y, logf0),
                    function(th) {
                      q <- pieces(th, x, y, logf0)
                      -score(q, x, q$w)
                    }, method = "BFGS", control = list(maxit = 10000, reltol = 1e-14))
  list(theta = o$par, loglik = -o$value, iterations = o$counts[["function"]])
}

rows <- list()
for (n in c(1e3, 1e4, 1e5)) {
  set.seed(n)
  truth <- scenario$truth(n)
  sim <- rcmoe(n, truth, f0)
  d <- ncol(sim$x)
  theta_true <- c(truth$beta, truth$tau, truth$eta, log(truth$nu))
  start <- theta_true + stats::rnorm(length(theta_true), sd = 0.05)
  init <- as_params(start, d)
  ours_time <- system.time(
    ours <- fit_cmoe(sim$x, sim$y, f0, expert = "tanh", gate = "sigmoid", intercept = FALSE,
                     init = init))[["elapsed"]]
  logf0 <- ours$logf0
  bfgs_time <- system.time(bfgs <- em_bfgs(start, sim$x, sim$y, logf0))[["elapsed"]]
  optim_time <- system.time(full <- direct(start, sim$x, sim$y, logf0))[["elapsed"]]
  check <- function(theta) sum(dcmoe(sim$x, sim$y, as_params(theta, d), f0, log = TRUE))
  rows[[length(rows) + 1]] <- data.frame(
    n = n,
    method = c("fit_cmoe (C++ EM, Newton gate, SQUAREM)", "EM + BFGS M-step (optim)",
               "optim() BFGS on the likelihood"),
    seconds = c(ours_time, bfgs_time, optim_time),
    loglik = c(ours$loglik, check(bfgs$theta), check(full$theta)),
    iterations = c(ours$iterations, bfgs$iterations, full$iterations))
  print(rows[[length(rows)]], digits = 12)
}
table <- do.call(rbind, rows)
table$loglik_minus_ours <- table$loglik - rep(table$loglik[table$method == table$method[1]],
                                              each = 3)
table$speedup_of_ours <- table$seconds / rep(table$seconds[table$method == table$method[1]],
                                             each = 3)
cat(sprintf("\nSetting %s, d = 8; %s\n", setting, format(Sys.time())))
print(table, digits = 10, row.names = FALSE)
