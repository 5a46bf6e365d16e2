test_that("rcmoe returns x, y and prompt of the right shapes", {
  set.seed(1)
  f0 <- pretrained_model("laplace", eta0 = c(2, -1, 0), nu0 = 1)
  truth <- cmoe_params(0.3, c(-1, 1, 1), 0.5)
  sim <- rcmoe(200, truth, f0)
  expect_named(sim, c("x", "y", "prompt"))
  expect_true(is.matrix(sim$x))
  expect_equal(dim(sim$x), c(200, 2))
  expect_identical(colnames(sim$x), c("x1", "x2"))
  expect_type(sim$y, "double")
  expect_length(sim$y, 200)
  expect_type(sim$prompt, "logical")
  expect_length(sim$prompt, 200)
  expect_true(all(is.finite(sim$y)))
  expect_false(anyNA(sim$prompt))
})

test_that("rcmoe is reproducible under set.seed", {
  for (family in c("gaussian", "laplace", "student")) {
    df <- if (family == "student") 3 else NULL
    f0 <- pretrained_model(family, expert = "sigmoid", eta0 = c(1, 0), nu0 = 0.5, df = df)
    truth <- cmoe_params(0.4, c(-1, 1), 0.3, expert = "tanh")
    set.seed(42)
    a <- rcmoe(300, truth, f0)
    set.seed(42)
    b <- rcmoe(300, truth, f0)
    expect_identical(a, b)
    c <- rcmoe(300, truth, f0)
    expect_false(identical(a$y, c$y))
  }
  own <- pretrained_model(logdensity = function(x, y) dnorm(y, log = TRUE),
                          simulate = function(x) rnorm(nrow(x)))
  set.seed(3)
  a <- rcmoe(100, cmoe_params(0.5, c(1, 1), 1), own)
  set.seed(3)
  expect_identical(rcmoe(100, cmoe_params(0.5, c(1, 1), 1), own), a)
})

test_that("the prompt fraction is lambda", {
  set.seed(2)
  f0 <- pretrained_model("gaussian", eta0 = c(1, 0), nu0 = 1)
  for (lambda in c(0.05, 0.3, 0.8)) {
    sim <- rcmoe(20000, cmoe_params(lambda, c(-1, 2), 0.5), f0)
    # binomial sd at most 0.0035; 5 sd
    expect_lt(abs(mean(sim$prompt) - lambda), 0.018)
  }
})

test_that("prompt rows follow the prompt expert and the others follow f0", {
  set.seed(7)
  for (family in c("gaussian", "laplace", "student")) {
    for (expert in c("linear", "sigmoid", "tanh")) {
      df <- if (family == "student") 5 else NULL
      f0 <- pretrained_model(family, expert = "tanh", eta0 = c(0.5, -1, 0.3), nu0 = 0.8, df = df)
      truth <- cmoe_params(0.4, c(1.5, 0.5, -0.2), 0.25, expert = expert)
      sim <- rcmoe(5000, truth, f0)
      z <- as.vector(sim$x %*% c(1.5, 0.5)) - 0.2
      h <- switch(expert, linear = z, sigmoid = 1 / (1 + exp(-z)), tanh = tanh(z))
      u <- (sim$y - h)[sim$prompt] / sqrt(0.25)
      expect_gt(suppressWarnings(ks.test(u, "pnorm"))$p.value, 1e-3)
      mu0 <- tanh(as.vector(sim$x %*% c(0.5, -1)) + 0.3)
      v <- (sim$y - mu0)[!sim$prompt] / sqrt(0.8)
      cdf <- switch(family, gaussian = pnorm,
                    laplace = function(q) ifelse(q < 0, exp(q) / 2, 1 - exp(-q) / 2),
                    student = function(q) pt(q, 5))
      expect_gt(suppressWarnings(ks.test(v, cdf))$p.value, 1e-3)
    }
  }
})

test_that("given covariates are used as they are", {
  set.seed(4)
  f0 <- pretrained_model("student", eta0 = c(1, 1, 0), nu0 = 1, df = 4)
  truth <- cmoe_params(0.5, c(0, 0, 10), 0.01)
  x <- matrix(runif(40), 20, 2, dimnames = list(NULL, c("u", "v")))
  sim <- rcmoe(20, truth, f0, x = x)
  expect_equal(unname(sim$x), unname(x))
  expect_identical(colnames(sim$x), c("x1", "x2"))
  # the prompt rows sit at 10 +- 0.1
  expect_true(all(abs(sim$y[sim$prompt] - 10) < 1))
  # a data frame and, for d = 1, a vector
  sim_df <- rcmoe(20, truth, f0, x = as.data.frame(x))
  expect_equal(unname(sim_df$x), unname(x))
  f1 <- pretrained_model(eta0 = c(1, 0), nu0 = 1e-6)
  p1 <- cmoe_params(0.01, c(1, 100), 1e-6)
  sim1 <- rcmoe(5, p1, f1, x = 1:5)
  expect_equal(sim1$x, matrix(as.double(1:5), 5, 1, dimnames = list(NULL, "x1")))
  expect_equal(sim1$y[!sim1$prompt], (1:5)[!sim1$prompt], tolerance = 1e-2)
  # covariates drawn by default are standard normal
  set.seed(5)
  big <- rcmoe(20000, cmoe_params(0.5, c(1, 1, 0), 1), f0)
  expect_lt(max(abs(colMeans(big$x))), 0.04)
  expect_lt(max(abs(cov(big$x) - diag(2))), 0.04)
})

test_that("a user model simulates with its own function", {
  set.seed(6)
  own <- pretrained_model(logdensity = function(x, y) dunif(y, 100, 101, log = TRUE),
                          simulate = function(x) runif(nrow(x), 100, 101))
  sim <- rcmoe(500, cmoe_params(0.3, c(0, 0, 0), 1), own)
  expect_equal(ncol(sim$x), 2)
  expect_true(all(sim$y[!sim$prompt] >= 100 & sim$y[!sim$prompt] <= 101))
  expect_true(all(sim$y[sim$prompt] < 10))
})

test_that("bad arguments are R errors naming the argument", {
  f0 <- pretrained_model(eta0 = c(1, 0), nu0 = 1)
  truth <- cmoe_params(0.3, c(1, 0), 1)
  no_sim <- pretrained_model(logdensity = function(x, y) dnorm(y, log = TRUE))
  short <- pretrained_model(logdensity = function(x, y) dnorm(y, log = TRUE),
                            simulate = function(x) 0)
  nonfinite <- pretrained_model(logdensity = function(x, y) dnorm(y, log = TRUE),
                                simulate = function(x) rep(NA_real_, nrow(x)))
  chr <- pretrained_model(logdensity = function(x, y) dnorm(y, log = TRUE),
                          simulate = function(x) rep("a", nrow(x)))
  cases <- list(
    list(quote(rcmoe(0, truth, f0)), "^`n`"),
    list(quote(rcmoe(-5, truth, f0)), "^`n`"),
    list(quote(rcmoe(2.5, truth, f0)), "^`n`"),
    list(quote(rcmoe(NA, truth, f0)), "^`n`"),
    list(quote(rcmoe(c(2, 3), truth, f0)), "^`n`"),
    list(quote(rcmoe(10, unclass(truth), f0)), "^`params`"),
    list(quote(rcmoe(10, truth, list(family = "gaussian"))), "^`pretrained`"),
    list(quote(rcmoe(10, cmoe_params(0.3, c(1, 1, 0), 1), f0)), "^`params` has d = 2"),
    list(quote(rcmoe(10, truth, f0, x = 1:9)), "^`x` must have n = 10 rows"),
    list(quote(rcmoe(10, truth, f0, x = matrix(0, 10, 2))), "^`x` must have 1 column"),
    list(quote(rcmoe(3, truth, f0, x = c(1, NA, 2))), "^`x`.*finite"),
    list(quote(rcmoe(3, truth, f0, x = c("a", "b", "c"))), "^`x` must be numeric"),
    list(quote(rcmoe(10, truth, no_sim)), "^`pretrained` is a user log-density without `simulate`"),
    list(quote(rcmoe(10, truth, short)), "^`simulate` must return"),
    list(quote(rcmoe(10, truth, nonfinite)), "^`simulate` must return"),
    list(quote(rcmoe(10, truth, chr)), "^`simulate` must return")
  )
  for (case in cases) {
    err <- expect_error(eval(case[[1]]), case[[2]])
    expect_null(err$call)
  }
})

test_that("draws beyond the range of a double are an error naming their source", {
  pre <- pretrained_model("laplace", eta0 = c(2, 0), nu0 = 1)
  set.seed(1)
  expect_error(rcmoe(50, cmoe_params(0.9, c(1e308, 1), 1), pre, x = rep(10, 50)),
               "^`params` drew values beyond the range of a double")
  expect_error(rcmoe(1000, cmoe_params(0.1, c(1, 0), 1),
                     pretrained_model("student", eta0 = c(1, 0), nu0 = 1, df = 1e-3)),
               "^`pretrained` drew values beyond the range of a double")
  far <- rcmoe(50, cmoe_params(0.3, c(-1, 1), 0.5), pre, x = rep(1e300, 50))
  expect_true(all(is.finite(far$y)))
})
