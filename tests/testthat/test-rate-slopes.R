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

# A power law with slope -0.5 whose replication 1 is 1000 times too large at
# the four largest sample sizes.
dominated_study <- function(seed = 7) {
  set.seed(seed)
  x <- power_law(-0.5, reps = 20, sd = 0.2)
  far <- x$n >= sort(unique(x$n), decreasing = TRUE)[4] & x$rep == 1
  x$value[far] <- x$value[far] * 1000
  as_rate_study(x, theory = c(loss = -0.5))
}

test_that("the median and the trimmed mean resist a dominating replication; the mean does not", {
  s <- dominated_study()
  mean_slope <- rate_slopes(s)
  median_slope <- rate_slopes(s, summary = "median")
  trimmed_slope <- rate_slopes(s, summary = "trimmed")
  expect_gt(mean_slope$slope, -0.2)
  expect_equal(median_slope$slope, -0.5, tolerance = 0.03 / 0.5)
  expect_equal(trimmed_slope$slope, -0.5, tolerance = 0.03 / 0.5)
  expect_true(median_slope$lower < -0.5 && median_slope$upper > -0.5)
  expect_true(trimmed_slope$lower < -0.5 && trimmed_slope$upper > -0.5)
  # the mean's interval is wide: the line does not fit its points
  expect_lt(mean_slope$lack_of_fit_p, 1e-6)
  # the slopes are those of the log summaries on log n
  m <- moerates:::rate_means(s)
  lx <- log(m$n)
  expect_equal(median_slope$slope, unname(stats::coef(stats::lm(log(m$median) ~ lx))[2]))
  expect_equal(trimmed_slope$slope, unname(stats::coef(stats::lm(log(m$trimmed) ~ lx))[2]))
  r <- s$results
  expect_equal(m$trimmed, as.vector(tapply(r$value, r$n, mean, trim = 0.1)))
  expect_equal(rate_slopes(s, summary = "trimmed", trim = 0)$slope, mean_slope$slope)
})

test_that("dominated points are flagged exactly where one replication carries the mean", {
  s <- dominated_study()
  largest <- sort(unique(s$results$n), decreasing = TRUE)[1:4]
  for (summary in c("mean", "median")) {
    out <- rate_slopes(s, summary = summary)
    expect_equal(out$dominated, 4)
    flagged <- attr(out, "dominated")
    expect_equal(sort(flagged$n), sort(largest))
    expect_true(all(flagged$rep == 1))
    expect_true(all(flagged$share > 0.5))
  }
  m <- moerates:::rate_means(s)
  expect_equal(m$n[m$dominated], sort(largest))
  r <- s$results
  share <- tapply(r$value, r$n, function(v) max(v) / sum(v))
  expect_equal(m$share, as.vector(share))
  expect_output(print(rate_slopes(s)), "dominated")
  expect_output(print(rate_slopes(s)), "4 design points are dominated by one replication")
  expect_output(print(rate_slopes(s)), "loss at n = 100000: replication 1")
  # summary() of a study shows them too
  expect_output(print(summary(s)), "4 design points are dominated by one replication")
  expect_equal(summary(s)$means$dominated, m$dominated)
  # min_n counts only the points used
  expect_equal(rate_slopes(s, min_n = max(largest))$dominated, 1)
  # no flag with two replications, nor for values of both signs
  two <- as_rate_study(data.frame(n = rep(c(10, 100, 1000), each = 2), rep = 1:2,
                                  metric = "m", value = c(1, 9, 1, 8, 1, 7)))
  expect_equal(rate_slopes(two)$dominated, 0)
  signed <- as_rate_study(data.frame(n = rep(c(10, 100, 1000), each = 3), rep = 1:3,
                                     metric = "m", value = c(-1, 0, 9, -1, 0, 8, 2, 1, 10)))
  expect_equal(moerates:::rate_means(signed)$dominated, c(FALSE, FALSE, TRUE))
  expect_false(grepl("dominated", paste(capture.output(print(rate_slopes(two))), collapse = "\n")))
})

test_that("bootstrap intervals are reproducible and leave the caller's generator alone", {
  s <- dominated_study()
  set.seed(99)
  before <- .Random.seed
  a <- rate_slopes(s, summary = "median")
  expect_identical(.Random.seed, before)
  expect_identical(rate_slopes(s, summary = "median"), a)
  b <- rate_slopes(s, summary = "median", seed = 2)
  expect_false(identical(a$se, b$se))
  expect_equal(a$slope, b$slope)
  expect_equal(a$se, b$se, tolerance = 0.2)
  expect_equal(attr(a, "summary"),
               list(summary = "median", trim = 0.1, bootstrap = 1000L, seed = 1L))
  expect_output(print(a), paste0("Slopes of log\\(median\\) on log\\(n\\), ",
                                 "bootstrap intervals \\(1000 resamples, seed 1\\)"))
  expect_output(print(rate_slopes(s, summary = "trimmed")), "log\\(10% trimmed mean\\)")

  # each point's resamples depend on the point alone: the same with another
  # metric beside, and with fewer sample sizes
  two <- as_rate_study(rbind(s$results[c("n", "rep", "metric", "value")],
                             transform(s$results[c("n", "rep", "metric", "value")],
                                       metric = "other", value = value * 2)))
  m1 <- moerates:::rate_means(s, summary = "median")
  m2 <- moerates:::rate_means(two, summary = "median")
  expect_equal(m2$var_log[m2$metric == "loss"], m1$var_log)
  expect_equal(m2$var_log[m2$metric == "other"], m1$var_log)

  # the variance of each log median is that of the bootstrap medians drawn
  # from the point's own stream (the indices address the replications in
  # increasing order)
  r <- s$results[s$results$n_index == 5, ]
  old_kind <- RNGkind()
  set.seed(1, kind = "L'Ecuyer-CMRG")
  assign(".Random.seed", moerates:::.rng_stream_cpp(.Random.seed, 1, 5), envir = globalenv())
  idx <- matrix(sample.int(20, 20 * 1000, replace = TRUE), 20)
  RNGkind(old_kind[1], old_kind[2], old_kind[3])
  v <- sort(r$value)
  medians <- apply(idx, 2, function(i) stats::median(v[i]))
  expect_equal(m1$var_log[5], stats::var(log(medians)))
  trimmed <- apply(idx, 2, function(i) mean(v[i], trim = 0.1))
  expect_equal(moerates:::rate_means(s, summary = "trimmed")$var_log[5], stats::var(log(trimmed)))
})

test_that("bootstrap intervals of the median slope cover the truth about as often as they say", {
  set.seed(11)
  covered <- vapply(1:150, function(i) {
    x <- power_law(-0.5, reps = 10, sizes = round(10^seq(2, 5, length.out = 8)))
    fit <- rate_slopes(as_rate_study(x), summary = "median", bootstrap = 200)
    fit$lower < -0.5 && fit$upper > -0.5
  }, logical(1))
  expect_gt(mean(covered), 0.88)
  expect_lt(mean(covered), 1)
})

test_that("bad summary settings are refused", {
  s <- dominated_study()
  expect_error(rate_slopes(s, summary = "mode"),
               "`summary` must be \"mean\", \"median\" or \"trimmed\"")
  expect_error(rate_slopes(s, summary = "trimmed", trim = 0.5), "`trim` must be in \\[0, 0.5\\)")
  expect_error(rate_slopes(s, summary = "median", bootstrap = 1), "`bootstrap`")
  expect_error(rate_slopes(s, summary = "median", seed = -1), "`seed`")
})
