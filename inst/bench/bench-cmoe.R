# Seconds to fit a contaminated mixture of experts with fit_cmoe() (EM in
# C++) against a plain-R maximum-likelihood fit with optim(): BFGS on the
# negative log-likelihood in (logit(lambda), eta, log(nu)), with R's default
# numerical gradient ("numgrad", the headline baseline) and with an analytic
# gradient ("anagrad"). Both start from fit_cmoe()'s own data-driven start.
# fit_cmoe() runs with its defaults (SQUAREM-accelerated EM) and, for
# comparison, with plain EM.
# Laplace f0 (eta0 = c(2, 0), nu0 = 1), d = 1, n in 1e3, 1e4, 1e5, a linear
# and a tanh prompt. fit_cmoe() is timed best of 3 runs, optim() best of 3
# below n = 1e5 and once at n = 1e5 (it is slow there). Below n = 1e4 each
# run is a batch of 1e4 / n fits, divided back, because a single fit takes
# about as long as the timer's resolution.
# Run from the repository root with the package installed:
#   Rscript inst/bench/bench-cmoe.R
library(moerates)

reps <- 3
f0 <- pretrained_model("laplace", eta0 = c(2, 0), nu0 = 1)
cases <- list(
  linear = cmoe_params(0.3, c(-1, 1), 0.5, expert = "linear"),
  tanh = cmoe_params(0.4, c(3, 0), 0.1, expert = "tanh"))

# Best elapsed time per call of `reps` runs of `batch` calls of f(), and
# f()'s value.
timed <- function(f, reps, batch = 1) {
  best <- Inf
  for (r in seq_len(reps)) {
    t <- system.time(for (b in seq_len(batch)) value <- f())[["elapsed"]]
    best <- min(best, t / batch)
  }
  list(value = value, seconds = best)
}

# log f0 is written out here rather than taken from the package so that the
# baseline does not lean on any of the code it is compared with.
laplace_logf0 <- function(x, y) -log(2) - abs(y - (2 * x[, 1] + 0)) / 1

h <- list(linear = function(z) z, tanh = tanh)
dh <- list(linear = function(z) rep(1, length(z)), tanh = function(z) 1 - tanh(z)^2)

# Negative log-likelihood and its gradient in theta = (logit(lambda), a, b,
# log(nu)); log-sum-exp keeps it finite where either component underflows.
make_nll <- function(x, y, expert) {
  logf0 <- laplace_logf0(x, y)
  X <- cbind(x, 1)
  parts <- function(theta) {
    k <- length(theta)
    lambda <- plogis(theta[1])
    eta <- theta[2:(k - 1)]
    nu <- exp(theta[k])
    z <- drop(X %*% eta)
    r <- y - h[[expert]](z)
    l0 <- log1p(-lambda) + logf0
    l1 <- log(lambda) + dnorm(r, 0, sqrt(nu), log = TRUE)
    m <- pmax(l0, l1)
    lse <- m + log(exp(l0 - m) + exp(l1 - m))
    list(lambda = lambda, nu = nu, z = z, r = r, lse = lse, l1 = l1)
  }
  nll <- function(theta) -sum(parts(theta)$lse)
  grad <- function(theta) {
    p <- parts(theta)
    w <- exp(p$l1 - p$lse)
    g_eta <- colSums(X * (w * p$r / p$nu * dh[[expert]](p$z)))
    -c(sum(w) - length(y) * p$lambda, g_eta,
       sum(w * (p$r^2 / (2 * p$nu) - 0.5)))
  }
  list(nll = nll, grad = grad)
}

to_theta <- function(p) c(qlogis(p$lambda), p$eta, log(p$nu))

fit_optim <- function(x, y, expert, start, analytic) {
  f <- make_nll(x, y, expert)
  # reltol far below the default so optim() is not stopped short and the
  # log-likelihood comparison is about the maximum each method reaches.
  optim(to_theta(start), f$nll, if (analytic) f$grad, method = "BFGS",
        control = list(reltol = 1e-12, maxit = 10000))
}

rows <- list()
set.seed(20240601)
for (case in names(cases)) {
  truth <- cases[[case]]
  expert <- truth$expert
  for (n in c(1e3, 1e4, 1e5)) {
    sim <- rcmoe(n, truth, f0)
    start <- fit_cmoe(sim$x, sim$y, f0, expert = expert,
                      control = cmoe_control(max_iter = 0))$start
    # fit_cmoe() is timed as a user calls it, start search included, so it
    # pays for work the baseline is given for free.
    batch <- max(1, round(1e4 / n))
    ours <- timed(function() fit_cmoe(sim$x, sim$y, f0, expert = expert), reps, batch)
    plain <- timed(function() fit_cmoe(sim$x, sim$y, f0, expert = expert,
                                       control = cmoe_control(accelerate = "none")),
                   reps, batch)
    stopifnot(isTRUE(all.equal(ours$value$start, start)))
    # Its reported log-likelihood is checked against the baseline's own
    # objective, so the two columns measure the same function.
    check <- -make_nll(sim$x, sim$y, expert)$nll(to_theta(ours$value$params))
    stopifnot(abs(check - ours$value$loglik) < 1e-6 * (1 + abs(check)))
    for (analytic in c(FALSE, TRUE)) {
      theirs <- timed(function() fit_optim(sim$x, sim$y, expert, start, analytic),
                      if (n >= 1e5) 1 else reps, batch)
      rows[[length(rows) + 1]] <- data.frame(
        case = case, n = n,
        baseline = if (analytic) "anagrad" else "numgrad",
        fit_cmoe_s = ours$seconds,
        optim_s = theirs$seconds,
        speedup = theirs$seconds / ours$seconds,
        loglik_fit = ours$value$loglik,
        loglik_optim = -theirs$value$value,
        diff = ours$value$loglik + theirs$value$value,
        squarem_cycles = ours$value$iterations,
        plain_em_s = plain$seconds,
        plain_em_iter = plain$value$iterations,
        optim_evals = paste(theirs$value$counts, collapse = "/"),
        conv = theirs$value$convergence)
    }
  }
}
tab <- do.call(rbind, rows)
cat("Seconds to fit: fit_cmoe() (best of", reps, "runs) vs optim() BFGS on the",
    "same likelihood from the same start\n",
    "(numgrad: R's numerical gradient; anagrad: analytic gradient; optim best of",
    reps, "below n = 1e5, one run at 1e5)\n",
    "speedup = optim_s / fit_cmoe_s; diff = loglik_fit - loglik_optim;",
    "optim_evals = function/gradient calls; conv = optim convergence code;\n",
    "fit_cmoe uses SQUAREM by default (squarem_cycles of three EM steps);",
    "plain_em_s / plain_em_iter: fit_cmoe(control = cmoe_control(accelerate = \"none\"))\n")
print(format(tab, digits = 4, nsmall = 3), row.names = FALSE)
