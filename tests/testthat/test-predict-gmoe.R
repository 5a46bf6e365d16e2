predict_fit <- function(n = 1500, seed = 21) {
  set.seed(seed)
  sim <- rgmoe(n, gmoe_paper_truth(1))
  fit_gmoe(sim$x, sim$y, k = 3, init = init_near_truth(gmoe_paper_truth(1), 3, n))
}

# Moments and CDF of p(y | x) by numerical integration of predict()'s
# density: an oracle that shares nothing with the closed forms.
integrated <- function(fit, x0, f, upper = Inf) {
  dens <- function(y) predict(fit, rep(x0, length(y)), type = "density", y = y)
  stats::integrate(function(y) f(y) * dens(y), -Inf, upper, rel.tol = 1e-10)$value
}

test_that("the conditional mean, variance and quantiles are those of the mixture p(y | x)", {
  fit <- predict_fit()
  x0 <- c(-0.2, 0.05, 0.1, 0.3, 0.7)
  mu <- predict(fit, x0)
  v <- predict(fit, x0, type = "variance")
  q <- predict(fit, x0, type = "quantile", probs = c(0.025, 0.5, 0.9))
  expect_identical(colnames(q), c("2.5%", "50%", "90%"))
  for (i in seq_along(x0)) {
    expect_equal(integrated(fit, x0[i], function(y) y), mu[i], tolerance = 1e-7)
    expect_equal(integrated(fit, x0[i], function(y) (y - mu[i])^2), v[i], tolerance = 1e-7)
    for (j in 1:3) {
      cdf <- integrated(fit, x0[i], function(y) 1, upper = q[i, j])
      expect_equal(cdf, c(0.025, 0.5, 0.9)[j], tolerance = 1e-7)
    }
  }
  # the mixture is not Gaussian where the experts disagree: its quantiles
  # differ from those of a normal law with the same moments
  gap <- abs(q[, 1] - (mu + qnorm(0.025) * sqrt(v)))
  expect_gt(max(gap), 0.01)
})

test_that("with one expert the quantiles are the normal ones", {
  set.seed(22)
  x <- rnorm(400)
  y <- 1 + 2 * x + rnorm(400, sd = 0.5)
  fit <- fit_gmoe(x, y, k = 1)
  p <- fit$params
  new <- c(-3, 0, 2.5)
  q <- predict(fit, new, type = "quantile", probs = c(0.01, 0.3, 0.999))
  expect_equal(unname(q), outer(p$a[1] * new + p$b, qnorm(c(0.01, 0.3, 0.999)) * sqrt(p$nu), "+"),
               tolerance = 1e-13)
  pi <- predict(fit, new, interval = "prediction", level = 0.8)
  expect_identical(colnames(pi), c("fit", "lwr", "upr"))
  expect_equal(unname(pi[, "fit"]), p$a[1] * new + p$b)
  expect_equal(unname(pi[, "upr"] - pi[, "fit"]), rep(qnorm(0.9) * sqrt(p$nu), 3),
               tolerance = 1e-13)
  expect_equal(predict(fit, new, type = "variance"), rep(p$nu, 3))
})

test_that("prediction intervals cover new observations of the fit's own model", {
  fit <- predict_fit(1000, 23)
  set.seed(24)
  new <- rgmoe(20000, fit$params)
  for (level in c(0.8, 0.95)) {
    pi <- predict(fit, new$x, interval = "prediction", level = level)
    cover <- mean(new$y >= pi[, "lwr"] & new$y <= pi[, "upr"])
    # binomial sd of the coverage: about 0.003 at level 0.8, 0.0015 at 0.95
    expect_lt(abs(cover - level), 0.01)
  }
})

test_that("posterior probabilities are the E-step's responsibilities", {
  fit <- predict_fit(800, 25)
  post <- predict(fit, type = "posterior")
  expect_identical(colnames(post), paste0("comp", 1:3))
  p <- fit$params
  terms <- sapply(1:3, function(j) {
    p$pi[j] * dnorm(fit$x[, 1], p$c[j, 1], sqrt(p$Gamma[1, 1, j])) *
      dnorm(fit$y, p$a[j, 1] * fit$x[, 1] + p$b[j], sqrt(p$nu[j]))
  })
  expect_equal(unname(post), terms / rowSums(terms), tolerance = 1e-10)
  expect_equal(rowSums(post), rep(1, 800))
  expect_equal(predict(fit, fit$x[2:3, ], type = "posterior", y = fit$y[2:3]), post[2:3, ])
  new <- predict(fit, c(0, 0.5), type = "posterior", y = c(0.3, 0.2))
  expect_true(all(is.finite(new)) && all(abs(rowSums(new) - 1) < 1e-12))
  # far from the data: finite, one component takes it all
  far <- predict(fit, c(1e200, -1e200), type = "posterior", y = c(0, 1e200))
  expect_true(all(is.finite(far)))
})

test_that("formula fits read covariates and the response from newdata", {
  set.seed(26)
  sim <- rgmoe(600, gmoe_paper_truth(3))
  df <- data.frame(u = sim$x[, 1], v = sim$x[, 2], resp = sim$y)
  fit <- fit_gmoe(resp ~ u + v, data = df, k = 2)
  mat <- fit_gmoe(sim$x, sim$y, k = 2, init = fit$params, control = gmoe_control(max_iter = 0))
  expect_equal(predict(fit, df[1:5, ], type = "posterior"),
               predict(mat, sim$x[1:5, ], type = "posterior", y = sim$y[1:5]))
  expect_equal(predict(fit, df[1:5, ], type = "quantile", probs = 0.5),
               predict(mat, sim$x[1:5, ], type = "quantile", probs = 0.5))
  expect_error(predict(fit, df[1:5, c("u", "v")], type = "posterior"), "`y` is needed")
})

test_that("residuals are y minus the mean, Pearson ones scaled by the conditional sd", {
  fit <- predict_fit(500, 27)
  r <- residuals(fit)
  expect_equal(r, fit$y - fitted(fit))
  expect_equal(residuals(fit, type = "pearson"), r / sqrt(predict(fit, type = "variance")))
  # Pearson residuals of the fit's own model have variance near 1
  expect_lt(abs(var(residuals(fit, "pearson")) - 1), 0.15)
})

test_that("predictions stay finite far from the data", {
  fit <- predict_fit(500, 28)
  far <- c(-1e200, 1e-300, 1e200)
  expect_true(all(is.finite(predict(fit, far, type = "variance"))))
  expect_true(all(is.finite(predict(fit, far, type = "quantile"))))
  expect_true(all(is.finite(predict(fit, far, interval = "prediction"))))
})

test_that("unsupported arguments and combinations are errors, never ignored", {
  fit <- predict_fit(300, 29)
  expect_error(predict(fit, 0.1, se.fit = TRUE), "`se.fit` is not an argument of predict")
  expect_error(predict(fit, 0.1, interval = "confidence"), "`interval` must be one of")
  expect_error(predict(fit, 0.1, type = "gate", interval = "prediction"), "`interval` is only")
  expect_error(predict(fit, 0.1, level = 0.9), "`level` is only used with interval")
  expect_error(predict(fit, 0.1, interval = "prediction", level = 1), "`level`")
  expect_error(predict(fit, 0.1, probs = 0.5), "`probs` is only used by type = \"quantile\"")
  expect_error(predict(fit, 0.1, type = "quantile", probs = c(0.5, 1)), "`probs`")
  expect_error(predict(fit, 0.1, type = "quantile", probs = NA), "`probs`")
  expect_error(predict(fit, 0.1, y = 1), "`y` is only used")
  expect_error(predict(fit, 0.1, type = "posterior"), "`y` is needed")
  expect_error(predict(fit, 0.1, type = "posterior", y = 1:2), "`y`")
  expect_error(residuals(fit, type = "deviance"), "`type`")
  expect_error(residuals(fit, scaled = TRUE), "`scaled` is not an argument")
})
