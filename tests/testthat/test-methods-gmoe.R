set.seed(11)
sim1 <- rgmoe(600, gmoe_paper_truth(1))
fit1 <- fit_gmoe(sim1$x, sim1$y, k = 3, init = init_near_truth(gmoe_paper_truth(1), 3, 600))

test_that("print, summary and coef describe the fit", {
  expect_output(print(fit1), "fitted by EM: n = 600, d = 1, k = 3")
  s <- summary(fit1)
  expect_s3_class(s, "summary.gmoe_fit")
  expect_output(print(s), "Components:")
  expect_equal(sum(s$components$hard_count), 600)
  expect_equal(coef(fit1), coef(fit1$params), ignore_attr = TRUE)
  expect_identical(colnames(coef(fit1)), c("pi", "c_x1", "Gamma_x1_x1", "a_x1", "b", "nu"))
  expect_equal(nrow(coef(fit1)), 3)
})

test_that("logLik carries df and nobs, so AIC and BIC work", {
  ll <- logLik(fit1)
  expect_equal(attr(ll, "df"), 2 + 3 * 5)
  expect_equal(attr(ll, "nobs"), 600)
  expect_equal(nobs(fit1), 600)
  expect_equal(AIC(fit1), -2 * fit1$loglik + 2 * 17)
  expect_equal(BIC(fit1), -2 * fit1$loglik + log(600) * 17)
  sim2 <- rgmoe(300, gmoe_paper_truth(3))
  fit2 <- fit_gmoe(sim2$x, sim2$y, k = 2)
  expect_equal(attr(logLik(fit2), "df"), 1 + 2 * (2 + 3 + 2 + 2))
})

test_that("logLik(type = \"conditional\") is the joint one minus the covariates' marginal", {
  # d = 1: the marginal of x by direct sums of normal densities
  p <- fit1$params
  dens_x <- vapply(1:3, function(j) p$pi[j] * dnorm(sim1$x[, 1], p$c[j, 1], sqrt(p$Gamma[1, 1, j])),
                   numeric(600))
  cond <- logLik(fit1, type = "conditional")
  expect_equal(as.numeric(cond), fit1$loglik - sum(log(rowSums(dens_x))), tolerance = 1e-10)
  expect_equal(attr(cond, "df"), attr(logLik(fit1), "df"))
  expect_equal(attr(cond, "nobs"), 600)
  expect_equal(attr(cond, "type"), "conditional")
  expect_equal(attr(logLik(fit1), "type"), "joint")
  expect_identical(logLik(fit1, type = "joint"), logLik(fit1))
  expect_equal(BIC(cond), -2 * as.numeric(cond) + log(600) * 17)
  expect_equal(AIC(cond), -2 * as.numeric(cond) + 2 * 17)
  expect_output(print(cond), "df=17\\), conditional: of y given x")
  expect_output(print(logLik(fit1)), "joint: of \\(x, y\\)")
  expect_error(logLik(fit1, type = "marginal"), "`type` must be \"joint\" or \"conditional\"")
})

test_that("the conditional log-likelihood matches mclust's marginal (d = 2) and lm() (k = 1)", {
  skip_if_not_installed("mclust")
  set.seed(12)
  sim <- rgmoe(500, gmoe_paper_truth(3))
  fit <- fit_gmoe(sim$x, sim$y, k = 3)
  p <- fit$params
  chol_factors <- array(apply(p$Gamma, 3, chol), c(2, 2, 3))
  marginal <- mclust::dens(data = sim$x, modelName = "VVV", logarithm = TRUE,
                           parameters = list(pro = p$pi, mean = t(p$c),
                                             variance = list(modelName = "VVV", d = 2, G = 3,
                                                             sigma = p$Gamma,
                                                             cholsigma = chol_factors)))
  expect_equal(as.numeric(logLik(fit, type = "conditional")), fit$loglik - sum(marginal),
               tolerance = 1e-10)
  # k = 1: the MLE's experts are least squares, and p(y | x) is lm()'s model
  one <- fit_gmoe(sim$x, sim$y, k = 1)
  ols <- lm(sim$y ~ sim$x)
  expect_equal(as.numeric(logLik(one, type = "conditional")), as.numeric(logLik(ols)),
               tolerance = 1e-8)
  # formula fit on real data
  ff <- fit_gmoe(waiting ~ eruptions, data = faithful, k = 1)
  expect_equal(as.numeric(logLik(ff, type = "conditional")),
               as.numeric(logLik(lm(waiting ~ eruptions, data = faithful))), tolerance = 1e-8)
})

test_that("the conditional log-likelihood is exact in any units", {
  set.seed(4)
  a <- fit_gmoe(sim1$x, sim1$y, k = 2)
  for (s in c(1e6, 1e150)) {
    set.seed(4)
    b <- fit_gmoe(sim1$x * s, sim1$y / s, k = 2)
    # y / s multiplies every conditional density by s
    expect_equal(as.numeric(logLik(b, type = "conditional")),
                 as.numeric(logLik(a, type = "conditional")) + 600 * log(s), tolerance = 1e-8)
  }
})

test_that("predict, fitted and residuals are consistent", {
  g <- predict(fit1, type = "gate")
  expect_equal(dim(g), c(600, 3))
  expect_equal(rowSums(g), rep(1, 600))
  m <- predict(fit1)
  expect_equal(m, fitted(fit1))
  expect_equal(residuals(fit1), sim1$y - m)
  manual <- rowSums(g * (sim1$x %*% t(fit1$params$a) + rep(fit1$params$b, each = 600)))
  expect_equal(m, manual)
  expect_equal(predict(fit1, type = "component"), max.col(g, ties.method = "first"))
  newx <- c(-0.2, 0.1, 0.6)
  expect_length(predict(fit1, newx), 3)
  expect_equal(predict(fit1, newx, type = "density", y = c(0.3, 0, 0.2)),
               dgmoe(newx, c(0.3, 0, 0.2), fit1$params, conditional = TRUE))
  expect_equal(predict(fit1, type = "density"),
               dgmoe(sim1$x, sim1$y, fit1$params, conditional = TRUE))
  expect_error(predict(fit1, cbind(newx, newx)), "`newdata`")
  expect_error(predict(fit1, newx, type = "density"), "`y`")
})

test_that("simulate draws responses from p(y | x), reproducibly", {
  s1 <- simulate(fit1, nsim = 3, seed = 42)
  s2 <- simulate(fit1, nsim = 3, seed = 42)
  expect_identical(s1, s2)
  expect_equal(dim(s1), c(600, 3))
  expect_equal(names(s1), paste0("sim_", 1:3))
  big <- as.matrix(simulate(fit1, nsim = 2000, seed = 1))
  p <- fit1$params
  g <- predict(fit1, type = "gate")
  mu <- sim1$x %*% t(p$a) + rep(p$b, each = 600)
  cond_var <- rowSums(g * (mu^2 + rep(p$nu, each = 600))) - fitted(fit1)^2
  z <- (rowMeans(big) - fitted(fit1)) / sqrt(cond_var / 2000)
  expect_lt(max(abs(z)), 4.5)
  expect_equal(mean(apply(big, 1, var) / cond_var), 1, tolerance = 0.02)
})

test_that("methods check the fit and name the part that is wrong", {
  bad <- fit1
  bad$params$pi <- c(0.5, 0.6, 0.1)
  for (f in list(print, summary, coef, logLik, nobs, fitted, residuals, simulate, predict)) {
    expect_error(f(bad), "`(object|x)\\$params` holds invalid contents: `pi` must sum to 1")
  }
  expect_error(plot(bad), "`x$params`", fixed = TRUE)
  expect_error(is_degenerate(bad), "`fit$params`", fixed = TRUE)
  bad <- fit1
  bad$control$accelerate <- "Squarem"
  expect_error(summary(bad), "`object$control` holds invalid contents: `accelerate`", fixed = TRUE)
  expect_error(predict(fit1, type = "mode"), "`type` must be one of")
  expect_error(simulate(fit1, seed = 2^40), "`seed` must be NULL or a single number")
  expect_output(print(summary(fit1)), sprintf("kernels: %s", fit1$diagnostics$kernels))
})

test_that("predictions far outside the data are finite", {
  newx <- c(1e200, -1e300, 0.2)
  expect_true(all(is.finite(predict(fit1, newx))))
  g <- predict(fit1, newx, type = "gate")
  expect_true(all(is.finite(g)))
  expect_equal(unname(rowSums(g)), rep(1, 3))
  expect_false(anyNA(predict(fit1, newx, type = "component")))
  expect_true(all(is.finite(predict(fit1, newx, type = "density", y = c(0, 0, 0.2)))))
})
