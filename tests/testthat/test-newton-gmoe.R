# The stopping rule and the optimiser of fit_gmoe(); the heavy version of
# these checks (more seeds, k = 4 and 5, n up to 1e5, timings) is
# inst/bench/bench-mle.R.

# Fits of the paper's model from the near-truth start: the default one, one
# with a 10 times tighter tolerance, and the same fit run on to tol 1e-12
# (the local maximum it converges to).
stopping_case <- function(model, n, seed, k = 5) {
  truth <- gmoe_paper_truth(model)
  set.seed(seed)
  sim <- rgmoe(n, truth)
  start <- init_near_truth(truth, k, n, split = if (k == 5) c(3, 1, 1) else c(2, 1, 1))
  fit <- fit_gmoe(sim$x, sim$y, k, init = start)
  tight <- fit_gmoe(sim$x, sim$y, k, init = start, control = gmoe_control(tol = 1e-7))
  on <- fit_gmoe(sim$x, sim$y, k, init = fit$params, control = gmoe_control(tol = 1e-12))
  list(fit = fit, tight = tight, on = on)
}

test_that("converged means the same distance to the maximum at n = 1e3 and 1e4", {
  gaps <- NULL
  for (model in 1:2) for (n in c(1e3, 1e4)) for (seed in 1:2) {
    case <- stopping_case(model, n, seed)
    fit <- case$fit
    expect_true(fit$converged)
    expect_lt(fit$diagnostics$remaining_gain, 1e-6)
    # within 0.01 of the fit with a 10 times tighter tolerance (in fact
    # much nearer: the tighter fit runs on along the same path)
    expect_lt(abs(case$tight$loglik - fit$loglik), 0.01)
    expect_gte(case$tight$loglik, fit$loglik)
    gap <- case$on$loglik - fit$loglik
    expect_gte(gap, -1e-9)
    gaps <- rbind(gaps, data.frame(n = n, gap = gap, estimate = fit$diagnostics$remaining_gain))
  }
  # the distance to the maximum stays below tol at every n, and the decrement
  # estimates it (the old relative rule let it grow like n)
  expect_true(all(gaps$gap < 1e-6))
  expect_true(all(abs(gaps$gap - gaps$estimate) < 1e-7 + 0.1 * gaps$estimate))
})

test_that("at n = 1e5 a default fit ends within 0.01 of a 10 times tighter fit, in a few hundred passes", {
  skip_on_cran()
  for (model in 1:2) {
    case <- stopping_case(model, 1e5, 42)
    fit <- case$fit
    expect_true(fit$converged)
    expect_lt(abs(case$tight$loglik - fit$loglik), 0.01)
    expect_lt(case$on$loglik - fit$loglik, 1e-6)
    # today's relative rule stopped these fits about 3 log-likelihood units
    # short after 300-400 passes; this one reaches the maximum in about as
    # many (the issue's target: 5 times as many)
    expect_lt(fit$diagnostics$passes, 600)
    expect_lt(fit$diagnostics$information_passes, 80)
    message(sprintf("model %d, n = 1e5, k = 5: %d passes (%d information passes), gap to tol 1e-12: %.2g",
                    model, fit$diagnostics$passes, fit$diagnostics$information_passes,
                    case$on$loglik - fit$loglik))
  }
})

test_that("no general-purpose optimiser beats a converged fit from starts around it", {
  # an optimiser oracle: BFGS on the log-likelihood in the unconstrained
  # parametrisation of gmoe_information(), from the fit and from random
  # perturbations of it, with numerical gradients
  configs <- list(list(model = 1, k = 3, n = 300), list(model = 2, k = 4, n = 400),
                  list(model = 3, k = 3, n = 300))
  for (cfg in configs) {
    truth <- gmoe_paper_truth(cfg$model)
    set.seed(cfg$n + cfg$k)
    sim <- rgmoe(cfg$n, truth)
    fit <- fit_gmoe(sim$x, sim$y, cfg$k, init = init_near_truth(truth, cfg$k, cfg$n))
    expect_true(fit$converged)
    theta <- gmoe_information(fit)$theta
    negll <- function(th) {
      p <- tryCatch(.gmoe_unpack_cpp(th, fit$params), error = function(e) NULL)
      if (is.null(p)) return(Inf)
      -sum(dgmoe(sim$x, sim$y, p, log = TRUE))
    }
    expect_equal(-negll(theta), fit$loglik, tolerance = 1e-12)
    best <- -Inf
    for (s in 1:5) {
      th <- theta + if (s == 1) 0 else stats::rnorm(length(theta), sd = 0.02)
      opt <- stats::optim(th, negll, method = "BFGS",
                          control = list(maxit = 5000, reltol = 1e-15, parscale = rep(0.1, length(th))))
      best <- max(best, -opt$value)
    }
    expect_lt(best - fit$loglik, 1e-6)
  }
})

test_that("with active box bounds, L-BFGS-B within the same box does not beat the fit", {
  truth <- gmoe_paper_truth(1)
  set.seed(12)
  sim <- rgmoe(300, truth)
  bounds <- gmoe_bounds(nu_min = 0.009, gamma_min = 0.011, a_max = 0.6)
  start <- init_near_truth(truth, 3, 300)
  start$a[] <- pmin(pmax(start$a, -0.6), 0.6)
  start$Gamma[] <- pmax(start$Gamma, 0.011)
  start$nu <- pmax(start$nu, 0.009)
  fit <- fit_gmoe(sim$x, sim$y, 3, init = start, control = gmoe_control(bounds = bounds))
  expect_true(fit$converged)
  act <- fit$diagnostics$bounds
  expect_true(any(act$nu) || any(act$gamma) || any(act$a))
  theta <- gmoe_information(fit)$theta
  # the box in theta: log nu >= log(nu_min), log R <= -log(gamma_min) / 2, |a| <= a_max
  lower <- rep(-Inf, length(theta))
  upper <- rep(Inf, length(theta))
  nm <- names(theta)
  lower[grepl("^log_nu", nm)] <- log(0.009)
  upper[grepl("^logR", nm)] <- -log(0.011) / 2
  lower[grepl("^a\\[", nm)] <- -0.6
  upper[grepl("^a\\[", nm)] <- 0.6
  negll <- function(th) -sum(dgmoe(sim$x, sim$y, .gmoe_unpack_cpp(th, fit$params), log = TRUE))
  best <- -Inf
  for (s in 1:6) {
    th <- pmin(pmax(theta + if (s == 1) 0 else stats::rnorm(length(theta), sd = 0.02), lower), upper)
    opt <- stats::optim(th, negll, method = "L-BFGS-B", lower = lower, upper = upper,
                        control = list(maxit = 5000, factr = 1, pgtol = 0))
    best <- max(best, -opt$value)
  }
  expect_lt(best - fit$loglik, 1e-6)
})

test_that("the Newton phase gives the same fit with threads and on the portable kernels", {
  truth <- gmoe_paper_truth(3)
  set.seed(12)
  sim <- rgmoe(5000, truth)
  start <- init_near_truth(truth, 4, 5000)
  base <- fit_gmoe(sim$x, sim$y, 4, init = start)
  expect_gt(base$diagnostics$newton_steps, 0)
  for (ctl in list(gmoe_control(threads = 2), gmoe_control(kernels = "portable"))) {
    other <- fit_gmoe(sim$x, sim$y, 4, init = start, control = ctl)
    expect_true(other$converged)
    expect_equal(other$loglik, base$loglik, tolerance = 1e-10)
    expect_equal(other$params, base$params, tolerance = 1e-5)
  }
})
