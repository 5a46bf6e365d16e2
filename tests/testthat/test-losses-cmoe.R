# Hand-computed cases use differences forming 3-4-5 and 5-12-13 triangles,
# so every expected loss below can be checked with pencil and paper.

loss_names <- c("lambda", "eta", "nu", "prompt", "loss_distinguishable", "delta",
                "loss_merging")

truth_a <- cmoe_params(0.3, c(-1, 4), 1)
# eta off by (0.3, 0.4): 0.5; nu off by 1.2; (eta, nu) off by 1.3; lambda by 0.05
est_a <- cmoe_params(0.35, c(-0.7, 4.4), 2.2)

test_that("the losses of one parameter set against another are the documented norms", {
  l <- cmoe_loss(est_a, truth_a)
  expect_named(l, loss_names)
  expect_equal(l[["lambda"]], 0.05, tolerance = 1e-12)
  expect_equal(l[["eta"]], 0.5, tolerance = 1e-12)
  expect_equal(l[["nu"]], 1.2, tolerance = 1e-12)
  expect_equal(l[["prompt"]], 1.3, tolerance = 1e-12)
  # |0.35 - 0.3| + 0.3 * 1.3
  expect_equal(l[["loss_distinguishable"]], 0.44, tolerance = 1e-12)
  # no pre-trained model given: no merging loss
  expect_identical(l[["delta"]], NA_real_)
  expect_identical(l[["loss_merging"]], NA_real_)
  expect_equal(unname(cmoe_loss(truth_a, truth_a)[1:5]), rep(0, 5))
})

test_that("the merging loss uses the distance from the true prompt to f0", {
  g0 <- pretrained_model("gaussian", eta0 = c(2, 0), nu0 = 1)
  l <- cmoe_loss(est_a, truth_a, g0)
  # (eta*, nu*) - (eta0, nu0) = (-3, 4, 0)
  expect_equal(l[["delta"]], 5, tolerance = 1e-12)
  # 0.05 * 5^2 + 0.3 * 5 * 1.3
  expect_equal(l[["loss_merging"]], 3.2, tolerance = 1e-12)
  expect_equal(l[1:5], cmoe_loss(est_a, truth_a)[1:5])

  # a true prompt equal to f0 has delta = 0 and a zero merging loss
  l0 <- cmoe_loss(est_a, cmoe_params(0.3, c(2, 0), 1), g0)
  expect_identical(l0[["delta"]], 0)
  expect_identical(l0[["loss_merging"]], 0)

  # d = 2, sigmoid on both sides: (1, -2, 0.5, 3) - (1, 1, 0.5, 7) = (0, -3, 0, -4)
  s0 <- pretrained_model("gaussian", "sigmoid", eta0 = c(1, 1, 0.5), nu0 = 7)
  truth_s <- cmoe_params(0.2, c(1, -2, 0.5), 3, expert = "sigmoid")
  est_s <- cmoe_params(0.1, c(1, -2, 0.5), 3, expert = "sigmoid")
  ls <- cmoe_loss(est_s, truth_s, s0)
  expect_equal(ls[["delta"]], 5, tolerance = 1e-12)
  expect_equal(ls[["loss_merging"]], 0.1 * 25, tolerance = 1e-12)
  expect_equal(ls[["prompt"]], 0)
})

test_that("the merging loss is NA unless f0 is Gaussian with the prompt's expert", {
  not_merging <- list(
    pretrained_model("laplace", eta0 = c(2, 0), nu0 = 1),
    pretrained_model("student", eta0 = c(2, 0), nu0 = 1, df = 1000),
    pretrained_model("gaussian", "tanh", eta0 = c(2, 0), nu0 = 1),
    pretrained_model("gaussian", "sigmoid", eta0 = c(2, 0), nu0 = 1),
    pretrained_model(logdensity = function(x, y) dnorm(y, 2 * x[, 1], log = TRUE)))
  for (f0 in not_merging) {
    l <- cmoe_loss(est_a, truth_a, f0)
    expect_identical(l[["delta"]], NA_real_)
    expect_identical(l[["loss_merging"]], NA_real_)
    expect_equal(l[["loss_distinguishable"]], 0.44, tolerance = 1e-12)
  }
  # a tanh prompt against a Gaussian tanh f0 does merge
  t0 <- pretrained_model("gaussian", "tanh", eta0 = c(2, 0), nu0 = 1)
  lt <- cmoe_loss(cmoe_params(0.35, c(-0.7, 4.4), 2.2, "tanh"),
                  cmoe_params(0.3, c(-1, 4), 1, "tanh"), t0)
  expect_equal(lt[["delta"]], 5, tolerance = 1e-12)
  expect_equal(lt[["loss_merging"]], 3.2, tolerance = 1e-12)
})

test_that("a fit is measured by its parameters and its own pre-trained model", {
  set.seed(4)
  g0 <- pretrained_model("gaussian", eta0 = c(2, 0), nu0 = 1)
  truth <- cmoe_params(0.5, c(1, 1), 1.5)
  sim <- rcmoe(3000, truth, g0)
  fit <- fit_cmoe(sim$x, sim$y, g0, init = truth)
  l <- cmoe_loss(fit, truth)
  expect_named(l, loss_names)
  th <- coef(fit)
  eta_err <- sqrt((th[["a_x1"]] - 1)^2 + (th[["b"]] - 1)^2)
  prompt_err <- sqrt(eta_err^2 + (th[["nu"]] - 1.5)^2)
  delta <- sqrt((1 - 2)^2 + (1 - 0)^2 + (1.5 - 1)^2)
  expect_equal(l[["lambda"]], abs(th[["lambda"]] - 0.5))
  expect_equal(l[["eta"]], eta_err)
  expect_equal(l[["nu"]], abs(th[["nu"]] - 1.5))
  expect_equal(l[["prompt"]], prompt_err)
  expect_equal(l[["loss_distinguishable"]], abs(th[["lambda"]] - 0.5) + 0.5 * prompt_err)
  expect_equal(l[["delta"]], delta)
  expect_equal(l[["loss_merging"]], abs(th[["lambda"]] - 0.5) * delta^2 +
                 0.5 * delta * prompt_err)
  expect_identical(l, cmoe_loss(fit$params, truth, g0))
  # a pre-trained model given explicitly replaces the fit's
  lap <- pretrained_model("laplace", eta0 = c(2, 0), nu0 = 1)
  expect_identical(cmoe_loss(fit, truth, lap)[["loss_merging"]], NA_real_)
  expect_identical(cmoe_loss(fit, truth, lap)[1:5], l[1:5])

  # a fit with a non-Gaussian f0 has no merging loss
  sim_l <- rcmoe(1000, cmoe_params(0.3, c(-1, 1), 0.5), lap)
  fit_l <- fit_cmoe(sim_l$x, sim_l$y, lap, init = cmoe_params(0.3, c(-1, 1), 0.5))
  ll <- cmoe_loss(fit_l, cmoe_params(0.3, c(-1, 1), 0.5))
  expect_true(is.na(ll[["loss_merging"]]))
  expect_true(all(is.finite(ll[1:5])))
})

test_that("mismatched or wrong arguments are refused, naming the argument", {
  expect_error(cmoe_loss(est_a, cmoe_params(0.3, c(-1, 4), 1, "tanh")),
               "`truth` must have the estimate's expert \\(\"linear\"\\)")
  expect_error(cmoe_loss(est_a, cmoe_params(0.3, c(-1, 0, 4), 1)),
               "`truth` must have the estimate's expert \\(\"linear\"\\), gate \\(\"constant\"\\), intercept \\(TRUE\\) and d = 1, not \"linear\", \"constant\", TRUE and d = 2")
  expect_error(cmoe_loss(est_a, list(lambda = 0.3, eta = c(-1, 4), nu = 1, expert = "linear")),
               "`truth` must be a `cmoe_params` object")
  expect_error(cmoe_loss(c(0.35, -0.7, 4.4, 2.2), truth_a), "`estimate`")
  expect_error(cmoe_loss(unclass(est_a), truth_a), "`estimate` must be a `cmoe_params` object")
  expect_error(cmoe_loss(est_a, truth_a, pretrained = list(family = "gaussian")),
               "`pretrained`")
  expect_error(cmoe_loss(est_a), "truth")
})

test_that("losses of huge parameters are finite, and an edited fit is refused", {
  big <- cmoe_loss(cmoe_params(0.3, c(1e300, 1), 1), cmoe_params(0.3, c(-1e300, 1), 1))
  expect_equal(big[["eta"]], 2e300)
  expect_equal(big[["prompt"]], 2e300)
  pre <- pretrained_model("laplace", eta0 = c(2, 0), nu0 = 1)
  truth <- cmoe_params(0.3, c(-1, 1), 0.5)
  set.seed(2)
  sim <- rcmoe(300, truth, pre)
  fit <- fit_cmoe(sim$x, sim$y, pre)
  fit$params$lambda <- 0.5
  expect_error(cmoe_loss(fit, truth), "^`estimate` holds parameters, data or a log-likelihood")
})
