power_law <- function(slope, reps = 20, sd = 0.3, sizes = round(10^seq(2, 5, length.out = 15))) {
  n <- rep(sizes, each = reps)
  data.frame(n = n, rep = rep(seq_len(reps), length(sizes)), metric = "loss",
             value = 2 * n^slope * exp(stats::rnorm(length(n), sd = sd)))
}

test_that("rate_slopes() recovers a known power law and its interval covers it", {
  set.seed(42)
  s <- rate_slopes(as_rate_study(power_law(-0.25), theory = c(loss = -0.25)))
  expect_s3_class(s, "rate_slopes")
  expect_equal(s$slope, -0.25, tolerance = 0.02)
  expect_true(s$lower < -0.25 && s$upper > -0.25)
  expect_equal(s$theory, -0.25)
  expect_equal(s$points, 15)
  expect_output(print(s), "95% CI")

  covered <- vapply(1:200, function(i) {
    fit <- rate_slopes(as_rate_study(power_law(-0.5, reps = 10)))
    fit$lower < -0.5 && fit$upper > -0.5
  }, logical(1))
  expect_gt(mean(covered), 0.9)
  expect_lt(mean(covered), 0.99)
})

test_that("the standard error follows the replication spread", {
  set.seed(1)
  noisy <- rate_slopes(as_rate_study(power_law(-0.5, sd = 0.8)))
  quiet <- rate_slopes(as_rate_study(power_law(-0.5, sd = 0.1)))
  expect_gt(noisy$se, 4 * quiet$se)
  # se = sqrt(sum w^2 v) with v the delta-method variance of each log mean
  x <- as_rate_study(power_law(-0.5))
  m <- moerates:::rate_means(x)
  lx <- log(m$n)
  w <- (lx - mean(lx)) / sum((lx - mean(lx))^2)
  se <- sqrt(sum(w^2 * m$sd^2 / (m$reps * m$mean^2)))
  s <- rate_slopes(x)
  expect_equal(s$slope, unname(stats::coef(stats::lm(log(m$mean) ~ lx))[2]))
  if (s$lack_of_fit_p > 0) expect_gte(s$se, se * (1 - 1e-12))
})

test_that("a curved relation is flagged and its interval widened", {
  set.seed(2)
  n <- rep(round(10^seq(2, 5, length.out = 15)), each = 20)
  x <- data.frame(n = n, rep = rep(1:20, 15), metric = "m",
                  value = exp(0.05 * log(n)^2 - 1.2 * log(n)) * exp(stats::rnorm(length(n), sd = 0.1)))
  s <- rate_slopes(as_rate_study(x))
  expect_lt(s$lack_of_fit_p, 1e-6)
  m <- moerates:::rate_means(as_rate_study(x))
  lx <- log(m$n)
  w <- (lx - mean(lx)) / sum((lx - mean(lx))^2)
  expect_gt(s$se, 3 * sqrt(sum(w^2 * m$sd^2 / (m$reps * m$mean^2))))
})

test_that("the published slopes are reproduced from the published mean losses", {
  means <- utils::read.csv(test_path("fixtures", "crpe-gmoe-mean-losses.csv"))
  published <- gmoe_published_slopes()
  for (i in seq_len(nrow(published))) {
    g <- means[means$model == published$model[i] & means$K == published$k[i], ]
    study <- as_rate_study(data.frame(n_index = g$n_index, n = g$n, rep = 1,
                                      metric = "loss", value = g$mean_loss))
    expect_equal(rate_slopes(study)$slope, published$slope[i], tolerance = 6e-5 / 0.5)
  }
})

test_that("min_n, metrics and level select what is used", {
  set.seed(3)
  x <- as_rate_study(rbind(power_law(-0.5), transform(power_law(-1), metric = "other")))
  s <- rate_slopes(x, min_n = 1000)
  expect_equal(s$metric, c("loss", "other"))
  expect_true(all(s$n_min >= 1000))
  expect_equal(rate_slopes(x, metrics = "other")$slope, s$slope[2], tolerance = 0.2)
  wide <- rate_slopes(x, level = 0.99)
  narrow <- rate_slopes(x, level = 0.5)
  expect_true(all(wide$upper - wide$lower > narrow$upper - narrow$lower))
  expect_error(rate_slopes(x, metrics = "nope"), "`metrics` must name metrics")
  expect_error(rate_slopes(x, level = 1), "`level`")
  expect_error(rate_slopes(x, min_n = -1), "`min_n`")
})

test_that("non-positive means and single points give NA slopes, not errors", {
  x <- data.frame(n = c(10, 20, 40), rep = 1, metric = "zero", value = 0)
  s <- rate_slopes(as_rate_study(x))
  expect_true(is.na(s$slope))
  expect_equal(s$points, 0)
  y <- data.frame(n = c(10, 20), rep = 1, metric = "two", value = c(1, 0.5))
  s2 <- rate_slopes(as_rate_study(y))
  expect_equal(s2$slope, -1)
  expect_true(is.na(s2$se))
})
