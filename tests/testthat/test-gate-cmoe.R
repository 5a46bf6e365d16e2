# The sigmoid-gated contaminated MoE (Yan et al. 2025b) and experts without
# intercept: the model's parts, its EM, and an optimiser oracle.

gated_truth <- function(d, expert = "tanh", intercept = FALSE) {
  cmoe_params(eta = c(-1, rep(0.3, d - 1), if (intercept) 0.5), nu = 0.1, expert = expert,
              gate = "sigmoid", beta = rep(1, d) / sqrt(d), tau = 0.5, intercept = intercept)
}

test_that("the gated density and simulation follow the definition", {
  set.seed(1)
  f0 <- pretrained_model("laplace", "tanh", eta0 = c(1, 0, 0), nu0 = 0.05)
  truth <- gated_truth(2)
  x <- matrix(rnorm(40), 20, 2)
  y <- rnorm(20)
  s <- 1 / (1 + exp(-(drop(x %*% truth$beta) + truth$tau)))
  h <- tanh(drop(x %*% truth$eta))
  expected <- (1 - s) * exp(ref_logf0(f0, x, y)) + s * dnorm(y, h, sqrt(truth$nu))
  expect_equal(dcmoe(x, y, truth, f0), expected, tolerance = 1e-12)
  expect_equal(predict_weight <- moerates:::cmoe_weight(truth, x), s)
  # the prompt's share follows the gate
  sim <- rcmoe(20000, truth, f0)
  gate <- 1 / (1 + exp(-(drop(sim$x %*% truth$beta) + truth$tau)))
  expect_lt(abs(mean(sim$prompt) - mean(gate)), 0.015)
  expect_lt(abs(mean(sim$prompt[gate > 0.8]) - mean(gate[gate > 0.8])), 0.02)
  # the density integrates to one
  total <- integrate(function(v) dcmoe(matrix(c(0.3, -0.2), length(v), 2, byrow = TRUE), v,
                                       truth, f0), -Inf, Inf)$value
  expect_equal(total, 1, tolerance = 1e-6)
})

test_that("the gated EM never lowers the log-likelihood, plain or accelerated", {
  set.seed(2)
  for (family in c("gaussian", "laplace")) {
    f0 <- pretrained_model(family, "tanh", eta0 = c(1, 0, 0), nu0 = 0.05)
    truth <- gated_truth(2, "linear", TRUE)
    sim <- rcmoe(800, truth, f0)
    for (accelerate in c("none", "squarem")) {
      for (mstep_iter in c(1, 5)) {
        fit <- fit_cmoe(sim$x, sim$y, f0, gate = "sigmoid", n_starts = 3,
                        control = cmoe_control(accelerate = accelerate, mstep_iter = mstep_iter))
        trace <- fit$loglik_trace
        expect_true(all(diff(trace) >= -1e-9 * abs(trace[-1])),
                    label = paste(family, accelerate, mstep_iter, "monotone"))
        expect_identical(fit$diagnostics$decreases, 0L)
        expect_true(fit$converged)
        expect_equal(fit$loglik, sum(dcmoe(sim$x, sim$y, fit$params, f0, log = TRUE)),
                     tolerance = 1e-10)
      }
    }
  }
})

test_that("the gated fit is the maximum: optim() from many starts finds nothing higher", {
  set.seed(3)
  gaps <- numeric(0)
  for (d in c(1, 2, 8)) for (family in c("gaussian", "laplace")) for (intercept in c(TRUE, FALSE)) {
    expert <- if (intercept && d < 8) "linear" else "tanh"
    n <- if (d == 8) 1000 else 400
    f0 <- pretrained_model(family, "tanh", eta0 = c(1, numeric(d - 1), 0), nu0 = 0.05)
    truth <- cmoe_params(eta = c(-1, rnorm(d - 1, sd = 0.3), if (intercept) 0.5), nu = 0.1,
                         expert = expert, gate = "sigmoid", beta = rnorm(d) / sqrt(d), tau = 0.5,
                         intercept = intercept)
    sim <- rcmoe(n, truth, f0)
    fit <- fit_cmoe(sim$x, sim$y, f0, expert = expert, gate = "sigmoid", intercept = intercept,
                    init = truth)
    p <- fit$params
    theta <- c(p$beta, p$tau, p$eta, log(p$nu))
    objective <- function(th) -ref_gated_loglik(th, sim$x, sim$y, fit$logf0, expert, intercept)
    expect_equal(-objective(theta), fit$loglik, tolerance = 1e-10)
    truth_theta <- c(truth$beta, truth$tau, truth$eta, log(truth$nu))
    starts <- c(list(truth_theta),
                lapply(c(0.01, 0.1, 0.3, 1), function(sd) theta + rnorm(length(theta), sd = sd)))
    best <- max(vapply(starts, function(start) {
      -stats::optim(start, objective, method = "BFGS",
                    control = list(maxit = 500, reltol = 1e-14))$value
    }, numeric(1)))
    gaps <- c(gaps, best - fit$loglik)
  }
  expect_length(gaps, 12)
  expect_true(all(gaps <= 1e-6), label = paste("largest gap", format(max(gaps))))
})

test_that("the gate's estimates converge to the truth and SQUAREM finds plain EM's maximum", {
  set.seed(4)
  f0 <- pretrained_model("laplace", "tanh", eta0 = c(1, 0, 0), nu0 = 0.001 / 2)
  truth <- gated_truth(2)
  sim <- rcmoe(20000, truth, f0)
  fast <- fit_cmoe(sim$x, sim$y, f0, expert = "tanh", gate = "sigmoid", intercept = FALSE,
                   init = truth)
  plain <- fit_cmoe(sim$x, sim$y, f0, expert = "tanh", gate = "sigmoid", intercept = FALSE,
                    init = truth, control = cmoe_control(accelerate = "none"))
  expect_equal(fast$loglik, plain$loglik, tolerance = 1e-9)
  expect_equal(coef(fast), coef(plain), tolerance = 1e-4)
  expect_equal(unname(coef(fast)), unname(moerates:::cmoe_coef(truth)), tolerance = 0.1)
  # the data-driven starts reach the same maximum
  free <- fit_cmoe(sim$x, sim$y, f0, expert = "tanh", gate = "sigmoid", intercept = FALSE,
                   n_starts = 3)
  expect_equal(free$loglik, fast$loglik, tolerance = 1e-9)
})

test_that("gated fits do not depend on the units of x", {
  set.seed(5)
  f0 <- pretrained_model("gaussian", "tanh", eta0 = c(1, 0, 0), nu0 = 0.05)
  truth <- gated_truth(2, "linear", TRUE)
  sim <- rcmoe(600, truth, f0)
  fit <- fit_cmoe(sim$x, sim$y, f0, gate = "sigmoid", init = truth)
  scale <- c(1000, 0.01)
  f0s <- pretrained_model("gaussian", "tanh", eta0 = c(1 / scale[1], 0, 0), nu0 = 0.05)
  ts <- cmoe_params(eta = c(truth$eta[1:2] / scale, truth$eta[3]), nu = truth$nu,
                    gate = "sigmoid", beta = truth$beta / scale, tau = truth$tau)
  fits <- fit_cmoe(t(t(sim$x) * scale), sim$y, f0s, gate = "sigmoid", init = ts)
  expect_equal(fits$loglik, fit$loglik, tolerance = 1e-8)
  expect_equal(fits$params$beta * scale, fit$params$beta, tolerance = 1e-5)
  expect_equal(fits$params$eta[1:2] * scale, fit$params$eta[1:2], tolerance = 1e-5)
  # an expert without intercept keeps its form when x is rescaled
  truth0 <- gated_truth(2)
  sim0 <- rcmoe(600, truth0, f0)
  fit0 <- fit_cmoe(sim0$x, sim0$y, f0, expert = "tanh", gate = "sigmoid", intercept = FALSE,
                   init = truth0)
  ts0 <- cmoe_params(eta = truth0$eta / scale, nu = truth0$nu, expert = "tanh", gate = "sigmoid",
                     beta = truth0$beta / scale, tau = truth0$tau, intercept = FALSE)
  fit0s <- fit_cmoe(t(t(sim0$x) * scale), sim0$y, f0s, expert = "tanh", gate = "sigmoid",
                    intercept = FALSE, init = ts0)
  expect_equal(fit0s$loglik, fit0$loglik, tolerance = 1e-8)
  expect_equal(fit0s$params$eta * scale, fit0$params$eta, tolerance = 1e-5)
})

test_that("case weights and the formula interface carry the gate", {
  set.seed(6)
  f0 <- pretrained_model("laplace", eta0 = c(1, 0), nu0 = 0.3)
  truth <- cmoe_params(eta = c(-1, 1), nu = 0.2, gate = "sigmoid", beta = 1.5, tau = 0)
  sim <- rcmoe(300, truth, f0)
  w <- rep(1:3, 100)
  weighted <- fit_cmoe(sim$x, sim$y, f0, gate = "sigmoid", weights = w, init = truth)
  rows <- rep(seq_len(300), w)
  repeated <- fit_cmoe(sim$x[rows, , drop = FALSE], sim$y[rows], f0, gate = "sigmoid",
                       init = truth)
  expect_equal(weighted$loglik, repeated$loglik, tolerance = 1e-9)
  expect_equal(coef(weighted), coef(repeated), tolerance = 1e-6)
  expect_equal(unname(sqrt(diag(vcov(weighted)))), unname(sqrt(diag(vcov(repeated)))),
               tolerance = 1e-4)
  df <- data.frame(dose = sim$x[, 1], resp = sim$y)
  ffit <- fit_cmoe(resp ~ dose, df, f0, gate = "sigmoid", init = truth)
  expect_named(coef(ffit), c("beta_dose", "tau", "a_dose", "b", "nu"))
  expect_equal(unname(coef(ffit)), unname(coef(fit_cmoe(sim$x, sim$y, f0, gate = "sigmoid",
                                                         init = truth))))
  expect_equal(predict(ffit, data.frame(dose = c(-1, 1)), type = "gate"),
               stats::plogis(ffit$params$beta * c(-1, 1) + ffit$params$tau))
})

test_that("the gated fit's methods: coef, logLik, vcov against a numerical Hessian", {
  set.seed(7)
  f0 <- pretrained_model("laplace", "tanh", eta0 = c(1, 0, 0), nu0 = 0.05)
  truth <- gated_truth(2)
  sim <- rcmoe(1500, truth, f0)
  colnames(sim$x) <- c("u", "v")
  fit <- fit_cmoe(sim$x, sim$y, f0, expert = "tanh", gate = "sigmoid", intercept = FALSE,
                  init = truth)
  expect_named(coef(fit), c("beta_u", "beta_v", "tau", "a_u", "a_v", "nu"))
  expect_identical(attr(logLik(fit), "df"), 6L)
  expect_equal(AIC(fit), -2 * fit$loglik + 12)
  # the observed information of the definition, by optimHess on (beta, tau, eta, nu)
  objective <- function(th) {
    -ref_gated_loglik(c(th[1:5], log(th[6])), sim$x, sim$y, fit$logf0, "tanh", FALSE)
  }
  reference <- solve(stats::optimHess(unname(coef(fit)), objective))
  expect_equal(unname(vcov(fit)), reference, tolerance = 1e-3)
  summary_table <- summary(fit)$coefficients
  expect_identical(summary_table$interval, c(rep("Wald", 5), "Wald, log scale"))
  expect_output(print(fit), "tanh without intercept; sigmoid gate")
  expect_output(print(summary(fit)), "beta_u")
  expect_equal(fitted(fit), (1 - predict(fit, type = "gate")) * tanh(sim$x[, 1]) +
                 predict(fit, type = "gate") * tanh(drop(sim$x %*% fit$params$eta)))
  expect_equal(dim(simulate(fit, nsim = 2, seed = 1)), c(1500L, 2L))
  expect_error(prompt_test(fit, B = 5), "^`fit` has the sigmoid gate")
  ci <- confint(fit)
  expect_true(all(ci[, 1] < coef(fit) & coef(fit) < ci[, 2]))
  with_pdf <- function(expr) {
    grDevices::pdf(NULL)
    on.exit(grDevices::dev.off())
    expr
  }
  expect_invisible(with_pdf(plot(fit, which = c("data", "index", "fitted", "trace"))))
})

test_that("the gate's losses and distinguishability", {
  f0 <- pretrained_model("gaussian", "tanh", eta0 = c(1, 0, 0), nu0 = 0.001)
  truth <- cmoe_params(eta = c(1.1, 0), nu = 0.001, expert = "tanh", gate = "sigmoid",
                       beta = c(1, 1) / sqrt(2), tau = 1, intercept = FALSE)
  est <- cmoe_params(eta = c(1.2, 0.1), nu = 0.002, expert = "tanh", gate = "sigmoid",
                     beta = c(1, 0), tau = 1.5, intercept = FALSE)
  l <- cmoe_loss(est, truth, f0)
  expect_named(l, c("beta", "exp_tau", "eta", "nu", "prompt", "loss_distinguishable", "delta",
                    "loss_merging"))
  db <- sqrt(sum((c(1, 0) - c(1, 1) / sqrt(2))^2))
  de <- sqrt(0.1^2 + 0.1^2)
  dt <- exp(1.5) - exp(1)
  expect_equal(unname(l[c("beta", "exp_tau", "eta", "nu")]), c(db, dt, de, 0.001))
  expect_equal(l[["delta"]], 0.1)
  expect_equal(l[["loss_distinguishable"]], db + dt + de + 0.001)
  expect_equal(l[["loss_merging"]], dt * 0.01 + 0.1 * (db + de + 0.001))
  expect_true(is.na(cmoe_loss(est, truth, pretrained_model("laplace", "tanh", eta0 = c(1, 0, 0),
                                                             nu0 = 0.001))[["delta"]]))
  expect_error(cmoe_loss(est, cmoe_params(0.3, c(1, 0, 0), 1, "tanh")), "^`truth` must have")
  expect_false(distinguishable(f0, "tanh", gate = "sigmoid", intercept = FALSE))
  expect_match(attr(distinguishable(f0, "tanh", "sigmoid", FALSE), "reason"), "sigmoid gate")
  shifted <- pretrained_model("gaussian", "tanh", eta0 = c(1, 0, 0.5), nu0 = 0.001)
  expect_true(distinguishable(shifted, "tanh", intercept = FALSE))
  expect_false(distinguishable(shifted, "tanh", intercept = TRUE))
  expect_true(distinguishable(pretrained_model("laplace", "tanh", eta0 = c(1, 0, 0), nu0 = 1),
                              "tanh", gate = "sigmoid", intercept = FALSE))
})

test_that("the gate's bound keeps the fit finite and is reported", {
  set.seed(8)
  f0 <- pretrained_model("laplace", eta0 = c(1, 0), nu0 = 0.3)
  truth <- cmoe_params(eta = c(-1, 1), nu = 0.2, gate = "sigmoid", beta = 3, tau = 0)
  sim <- rcmoe(500, truth, f0)
  expect_warning(fit <- fit_cmoe(sim$x, sim$y, f0, gate = "sigmoid", init = truth,
                                 control = cmoe_control(gate_bound = 0.5)),
                 "the gate ended on its bound")
  expect_true(fit$diagnostics$gate_at_bound)
  expect_gt(fit$diagnostics$gate_bound_hits, 0)
  expect_true(is_degenerate(fit))
  internal <- fit$params$beta * sd(sim$x[, 1])
  expect_lte(abs(internal), 0.5 + 1e-8)
  expect_true(all(diff(fit$loglik_trace) >= -1e-9 * abs(fit$loglik)))
  expect_true(all(is.na(vcov(fit))))
  free <- fit_cmoe(sim$x, sim$y, f0, gate = "sigmoid", init = truth)
  expect_false(free$diagnostics$gate_at_bound)
  expect_false(is_degenerate(free))
  expect_gt(free$loglik, fit$loglik)
})
