# The test of no prompt (prompt_test()) and the intervals that depend on it
# (the profile interval of lambda in summary() and confint()). The
# 200-data-set size and power study is inst/bench/bench-prompt-test.R; here a
# smaller one that can still fail, and exact checks of the machinery.

set.seed(61)
lap <- pretrained_model("laplace", eta0 = c(2, 0), nu0 = 1)
null_data <- function(n) {
  x <- rnorm(n)
  list(x = x, y = 2 * x + rexp(n) - rexp(n))
}
prompt_sim <- rcmoe(1000, cmoe_params(0.1, c(-1, 1), 0.5), lap)
prompt_fit <- fit_cmoe(prompt_sim$x, prompt_sim$y, lap)
nd <- null_data(1000)
null_fit <- suppressWarnings(fit_cmoe(nd$x, nd$y, lap))

test_that("the statistic is 2 (l - l0) and the p-value counts the refits at least as large", {
  set.seed(1)
  test <- prompt_test(prompt_fit, B = 19)
  expect_s3_class(test, c("cmoe_prompt_test", "htest"))
  l0 <- sum(ref_logf0(lap, prompt_sim$x, prompt_sim$y))
  expect_equal(test$null_loglik, l0)
  expect_equal(test$statistic, c(LR = 2 * (prompt_fit$loglik - l0)))
  expect_equal(test$parameter, c(B = 19))
  expect_length(test$null_statistics, 19)
  expect_true(all(test$null_statistics >= 0))
  expect_equal(test$p.value, (1 + sum(test$null_statistics >= test$statistic)) / 20)
  expect_equal(test$estimate, c(lambda = prompt_fit$params$lambda))
  expect_identical(test$data.name, "prompt_fit")
  expect_output(print(test), "Likelihood ratio test of no prompt")
  expect_output(print(test), "LR = [0-9.]+, B = 19, p-value = 0.05")
  expect_output(print(test), "19 refits to data drawn from f0 at the observed covariates")
  # refitting the observed data by the fit's procedure gives the fit's statistic
  again <- moerates:::cmoe_refit_lr(prompt_fit, prompt_fit$y, prompt_fit$logf0, NULL, 1)
  expect_equal(again$statistic, test$statistic[[1]])
})

test_that("a fit with lambda at its lower bound has LR = 0 and p-value 1", {
  set.seed(2)
  x <- rnorm(400)
  y <- 2 * x + rexp(400) - rexp(400)
  expect_warning(at_bound <- fit_cmoe(x, y, lap, init = cmoe_params(0.5, c(0, 50), 0.01)),
                 "lambda ended at its bound")
  test <- prompt_test(at_bound, B = 9)
  expect_identical(test$statistic[[1]], 0)
  expect_identical(test$p.value, 1)
  # refits from the same start: the test repeats the fit's own procedure
  expect_identical(test$init, at_bound$init)
})

test_that("set.seed reproduces the test, under any future plan", {
  set.seed(3)
  first <- prompt_test(null_fit, B = 19)
  set.seed(3)
  second <- prompt_test(null_fit, B = 19)
  expect_identical(first, second)
  set.seed(4)
  expect_false(identical(prompt_test(null_fit, B = 19)$null_statistics, first$null_statistics))
  old <- future::plan(future::multisession, workers = 2)
  on.exit(future::plan(old))
  set.seed(3)
  parallel <- prompt_test(null_fit, B = 19)
  expect_identical(parallel$null_statistics, first$null_statistics)
  expect_identical(parallel$p.value, first$p.value)
})

test_that("n_starts refits the data and the simulated data with those starts", {
  set.seed(5)
  test <- prompt_test(null_fit, B = 9, n_starts = 4)
  set.seed(5)
  refit <- moerates:::cmoe_refit_lr(null_fit, null_fit$y, null_fit$logf0, NULL, 4)
  expect_equal(test$statistic[[1]], refit$statistic)
  expect_identical(test$n_starts, 4L)
  expect_gte(test$loglik, null_fit$loglik - 1e-6)
})

test_that("weights enter the statistic as they enter the fit", {
  set.seed(6)
  w <- sample(1:3, 1000, replace = TRUE)
  weighted <- fit_cmoe(prompt_sim$x, prompt_sim$y, lap, weights = w)
  test <- prompt_test(weighted, B = 9)
  l0 <- sum(w * ref_logf0(lap, prompt_sim$x, prompt_sim$y))
  expect_equal(test$statistic[[1]], 2 * (weighted$loglik - l0))
})

test_that("a user's model needs its simulator; bad arguments name themselves", {
  own <- pretrained_model(logdensity = function(x, y) -log(2) - abs(y - 2 * x[, 1]))
  fit <- fit_cmoe(prompt_sim$x, prompt_sim$y, own)
  expect_error(prompt_test(fit, B = 9), "^`fit` has a pre-trained model given as a user log-density without `simulate`")
  with_sim <- pretrained_model(logdensity = function(x, y) -log(2) - abs(y - 2 * x[, 1]),
                               simulate = function(x) 2 * x[, 1] + rexp(nrow(x)) - rexp(nrow(x)))
  set.seed(7)
  user <- prompt_test(fit_cmoe(prompt_sim$x, prompt_sim$y, with_sim), B = 9)
  set.seed(7)
  family <- prompt_test(prompt_fit, B = 9)
  expect_equal(user$statistic, family$statistic)
  expect_error(prompt_test(prompt_fit, B = 0), "^`B`")
  expect_error(prompt_test(prompt_fit, B = 1.5), "^`B`")
  expect_error(prompt_test(prompt_fit, n_starts = 0), "^`n_starts`")
  expect_error(prompt_test(list()), "^`fit`")
})

test_that("under no prompt the p-values are uniform where chi-square ones are not", {
  # 40 data sets from f0 alone; a test of the right size rejects in 2 of 40
  # on average (at most 6 with probability 0.997), and about half its
  # p-values lie below 1/2
  set.seed(8)
  res <- t(vapply(1:40, function(i) {
    d <- null_data(300)
    test <- prompt_test(suppressWarnings(fit_cmoe(d$x, d$y, lap)), B = 99)
    c(p = test$p.value, lr = test$statistic[[1]])
  }, numeric(2)))
  expect_lte(sum(res[, "p"] <= 0.05), 6)
  expect_true(sum(res[, "p"] <= 0.5) >= 12 && sum(res[, "p"] <= 0.5) <= 28)
  # the chi-bar-square law of a regular boundary problem would find prompts
  # in most of these data sets (Davies' problem: (eta, nu) vanish under H0)
  chibar <- pchisq(res[, "lr"], 1, lower.tail = FALSE) / 2
  expect_gte(sum(chibar <= 0.05), 20)
})

test_that("a prompt with lambda = 0.1 at n = 2000 is detected", {
  set.seed(9)
  p <- vapply(1:10, function(i) {
    sim <- rcmoe(2000, cmoe_params(0.1, c(-1, 1), 0.5), lap)
    prompt_test(fit_cmoe(sim$x, sim$y, lap), B = 49)$p.value
  }, numeric(1))
  expect_gte(sum(p <= 0.05), 9)
})

# The profile log-likelihood at lambda, maximised over (a, b, log nu) by
# optim() on dcmoe(), independently of the package's EM.
profile_by_optim <- function(fit, lambda) {
  th <- coef(fit)
  objective <- function(v) {
    -sum(dcmoe(fit$x, fit$y, cmoe_params(lambda, v[1:2], exp(v[3])), lap, log = TRUE))
  }
  starts <- list(c(th[[2]], th[[3]], log(th[[4]])), c(2, 0, 0))
  -min(vapply(starts, function(s) {
    optim(s, objective, method = "BFGS", control = list(reltol = 1e-14, maxit = 1000))$value
  }, numeric(1)))
}

test_that("lambda's interval is the profile likelihood's, its lower end given by the test", {
  set.seed(10)
  test <- prompt_test(prompt_fit, B = 39)
  expect_lte(test$p.value, 0.05)
  ends <- confint(prompt_fit, "lambda", test = test)
  expect_equal(dimnames(ends), list("lambda", c("2.5 %", "97.5 %")))
  cut <- qchisq(0.95, 1)
  for (end in ends) {
    expect_equal(2 * (prompt_fit$loglik - profile_by_optim(prompt_fit, end)), cut, tolerance = 1e-3)
  }
  expect_true(ends[1] < coef(prompt_fit)[["lambda"]] && coef(prompt_fit)[["lambda"]] < ends[2])
  # not symmetric, and at 90% inside the 95% interval
  ends90 <- confint(prompt_fit, "lambda", level = 0.9, test = test)
  expect_true(ends90[1] > ends[1] && ends90[2] < ends[2])
  # without a test the lower end is not given; summary() agrees with confint()
  expect_true(is.na(confint(prompt_fit, "lambda")[1]))
  tab <- summary(prompt_fit, test = test)$coefficients
  expect_equal(unlist(tab["lambda", c("lower", "upper")]), ends[1, ], ignore_attr = TRUE)
  expect_equal(confint(prompt_fit, test = test)[-1, ], as.matrix(tab[-1, c("lower", "upper")]),
               ignore_attr = TRUE)
  expect_output(print(summary(prompt_fit, test = test)),
                "Test of no prompt \\(lambda = 0\\): LR = [0-9.]+, p-value 0.025 \\(parametric bootstrap under f0, 39 refits\\)")
})

test_that("with no prompt in the data, no interval claims one", {
  set.seed(11)
  test <- prompt_test(null_fit, B = 39)
  expect_gt(test$p.value, 0.05)
  s <- summary(null_fit, test = test)
  tab <- s$coefficients
  expect_identical(tab["lambda", "lower"], 0)
  expect_gt(tab["lambda", "upper"], coef(null_fit)[["lambda"]])
  expect_equal(2 * (null_fit$loglik - profile_by_optim(null_fit, tab["lambda", "upper"])),
               qchisq(0.95, 1), tolerance = 1e-3)
  expect_gt(tab["nu", "lower"], 0)
  expect_output(print(s), "No evidence of a prompt at the 5% level: lambda's interval starts at 0")
  # at its bound, lambda's interval is still [0, upper]; the rest is NA
  x <- rnorm(400)
  y <- 2 * x + rexp(400) - rexp(400)
  at_bound <- suppressWarnings(fit_cmoe(x, y, lap, init = cmoe_params(0.5, c(0, 50), 0.01)))
  ends <- confint(at_bound, test = prompt_test(at_bound, B = 9))
  expect_identical(ends[1, 1], 0)
  expect_equal(2 * (at_bound$loglik - profile_by_optim(at_bound, ends[1, 2])), qchisq(0.95, 1),
               tolerance = 1e-3)
  expect_true(all(is.na(ends[-1, ])))
})

test_that("summary and confint check their arguments", {
  set.seed(12)
  test <- prompt_test(prompt_fit, B = 9)
  expect_error(summary(null_fit, test = test), "^`test` is the prompt_test\\(\\) of another fit")
  expect_error(summary(prompt_fit, test = 0.05), "^`test` must be NULL or a result of prompt_test\\(\\)")
  expect_error(confint(prompt_fit, "kappa"), "^`parm` must name parameters of coef\\(object\\)")
  expect_error(confint(prompt_fit, 7), "^`parm`")
  expect_error(confint(prompt_fit, level = 1.5), "^`level`")
  expect_error(summary(prompt_fit, lrt = TRUE), "^`lrt` is not an argument of summary.cmoe_fit\\(\\)")
  expect_identical(rownames(confint(prompt_fit, 2:3)), c("a_x1", "b"))
})
