test_that("efficient errors fall as n^-1/2 at a truth that does not move", {
  eff <- cmoe_efficient_errors("gated_distinguishable", n = c(1e3, 1e4, 1e5), n_mc = 2e4,
                               seed = 1)
  expect_named(eff, c("n", "metric", "value", "se"))
  expect_setequal(unique(eff$metric), c("beta", "exp_tau", "eta", "nu", "prompt"))
  for (m in unique(eff$metric)) {
    e <- eff[eff$metric == m, ]
    expect_equal(unname(coef(lm(log(value) ~ log(n), e))[2]), -0.5, tolerance = 0.03)
  }
  # a scalar's mean absolute normal error is sqrt(2 / pi) times its sd
  nu <- eff[eff$metric == "nu", ]
  expect_equal(nu$value, sqrt(2 / pi) * nu$se, tolerance = 0.05)
  # the standard errors are those of the information, also where it is
  # ill-conditioned (setting (ii) with eta* = eta0 at n = 1000)
  sc <- cmoe_scenario("gated_merging_nu")
  eff <- cmoe_efficient_errors(sc, n = 1000, n_mc = 5000, seed = 4)
  v <- solve(cmoe_information(sc$truth(1000), sc$pretrained, n_mc = 5000, seed = 4)) / 1000
  expect_equal(eff$se[eff$metric == "exp_tau"], exp(1) * sqrt(v["tau", "tau"]))
  expect_equal(eff$se[eff$metric == "nu"], sqrt(v["nu", "nu"]))
  expect_equal(eff$value[eff$metric == "exp_tau"], sqrt(2 / pi) * exp(1) * sqrt(v["tau", "tau"]),
               tolerance = 0.06)
  constant <- cmoe_efficient_errors("merging", n = 2000, n_mc = 5000, seed = 1)
  expect_identical(constant$metric, c("lambda", "eta", "nu", "prompt"))
  expect_true(all(constant$value > 0))
})

test_that("the information matches the observed information of a fit", {
  # the efficient standard errors at n come from the mean outer product of
  # the scores; vcov() of a fit on n observations from its numerical Hessian
  set.seed(11)
  sc <- cmoe_scenario("gated_distinguishable")
  n <- 20000
  truth <- sc$truth(n)
  sim <- rcmoe(n, truth, sc$pretrained)
  fit <- fit_cmoe(sim$x, sim$y, sc$pretrained, expert = "tanh", gate = "sigmoid",
                  intercept = FALSE, init = truth)
  se_fit <- sqrt(diag(vcov(fit)))
  eff <- cmoe_efficient_errors(sc, n = n, n_mc = 1e5, seed = 2)
  expect_equal(eff$se[eff$metric == "exp_tau"], exp(fit$params$tau) * se_fit[["tau"]],
               tolerance = 0.1)
  expect_equal(eff$se[eff$metric == "nu"], se_fit[["nu"]], tolerance = 0.1)
})

test_that("converged fits of setting (i) have the efficient errors", {
  # the MLE oracle: mean errors of fits from the truth over 100 data sets
  # against the efficient ones (Monte Carlo error of the mean about 8%)
  sc <- cmoe_scenario("gated_merging_eta")
  n <- 4000
  study <- cmoe_study(sc, n = n, reps = 100, seed = 5)
  eff <- cmoe_efficient_errors(sc, n = n, seed = 6)
  for (m in c("beta", "exp_tau", "eta", "nu")) {
    ours <- mean(study$results$value[study$results$metric == m])
    ratio <- ours / eff$value[eff$metric == m]
    expect_true(ratio > 0.8 && ratio < 1.25, info = sprintf("%s: ratio %.3f", m, ratio))
  }
})

test_that("efficient errors are reproducible and leave the caller's stream alone", {
  set.seed(3)
  before <- .Random.seed
  a <- cmoe_efficient_errors("gated_merging_eta", n = 1000, n_mc = 2000, draws = 200, seed = 9)
  expect_identical(.Random.seed, before)
  b <- cmoe_efficient_errors("gated_merging_eta", n = 1000, n_mc = 2000, draws = 200, seed = 9)
  expect_identical(a, b)
  set.seed(4)
  c1 <- cmoe_efficient_errors("vanishing", n = 500, n_mc = 2000, draws = 200)
  set.seed(4)
  c2 <- cmoe_efficient_errors("vanishing", n = 500, n_mc = 2000, draws = 200)
  expect_identical(c1, c2)
})

test_that("cmoe_efficient_errors() refuses bad input by name", {
  expect_error(cmoe_efficient_errors("gated_nothing"), "^`scenario`")
  expect_error(cmoe_efficient_errors(cmoe_scenario("merging"), power = 0.1), "^`power`")
  expect_error(cmoe_efficient_errors("merging", n = c(100, -1)), "^`n`")
  expect_error(cmoe_efficient_errors("merging", n = 100, n_mc = 10), "^`n_mc`")
  expect_error(cmoe_efficient_errors("merging", n = 100, draws = 1.5), "^`draws`")
  expect_error(cmoe_efficient_errors("merging", n = 100, seed = "a"), "^`seed`")
  expect_error(cmoe_efficient_errors(list(scenario = "merging")), "^`scenario`")
})

test_that("the information of exp(tau) degrades like Delta^-1 with an x-dependent gate", {
  # with a constant gate (beta = 0) the scores of tau and eta coincide to
  # first order in Delta, so exp(tau) has a standard error of order
  # Delta^-2 (the theory's rate); a gate that varies with x keeps them apart
  f0 <- pretrained_model("gaussian", "tanh", eta0 = c(1, 0, 0), nu0 = 0.01)
  se <- function(delta, beta, name) {
    p <- cmoe_params(eta = c(1 + delta, 0), nu = 0.01, expert = "tanh", gate = "sigmoid",
                     beta = beta, tau = 1, intercept = FALSE)
    info <- cmoe_information(p, f0, n_mc = 5000, seed = 1)
    expect_identical(rownames(info), c("beta1", "beta2", "tau", "a1", "a2", "nu"))
    expect_equal(info, t(info))
    sqrt(solve(info)[name, name])
  }
  power <- function(beta, name) log(se(0.02, beta, name) / se(0.01, beta, name)) / log(2)
  expect_equal(power(c(1, 1), "tau"), -1, tolerance = 0.1)
  expect_equal(power(c(0, 0), "tau"), -2, tolerance = 0.1)
  expect_equal(power(c(0, 0), "a1"), -1, tolerance = 0.1)
})

test_that("cmoe_information() refuses bad input by name", {
  f0 <- pretrained_model("gaussian", eta0 = c(2, 0), nu0 = 1)
  p <- cmoe_params(0.5, c(1, 1), 1.5)
  expect_identical(dim(cmoe_information(p, f0, n_mc = 1000, seed = 1)), c(4L, 4L))
  expect_error(cmoe_information(list(lambda = 2), f0), "^`params`")
  expect_error(cmoe_information(p, list()), "^`pretrained`")
  expect_error(cmoe_information(cmoe_params(0.5, c(1, 1, 1), 1.5), f0), "^`params`")
  expect_error(cmoe_information(p, f0, n_mc = 999), "^`n_mc`")
  expect_error(cmoe_information(p, f0, seed = NA), "^`seed`")
})
