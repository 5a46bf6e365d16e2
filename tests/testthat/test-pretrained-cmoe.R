# The frozen pre-trained model f0 of the contaminated MoE. Its log-density is
# checked against formulas written out here from the definitions (not through
# dnorm/dt with the package's own arguments), for every family and expert.

test_that("every family and expert has the log-density of its definition", {
  set.seed(101)
  for (family in c("gaussian", "laplace", "student")) {
    for (expert in c("linear", "sigmoid", "tanh")) {
      for (d in 1:2) {
        eta0 <- round(rnorm(d + 1, sd = 1.5), 2)
        nu0 <- runif(1, 0.2, 2)
        df <- if (family == "student") runif(1, 1.5, 8) else NULL
        pre <- pretrained_model(family, expert = expert, eta0 = eta0, nu0 = nu0, df = df)
        expect_s3_class(pre, "cmoe_pretrained")
        expect_identical(pre$family, family)
        expect_identical(pre$expert, expert)
        x <- matrix(rnorm(50 * d, sd = 2), 50, d)
        y <- rnorm(50, sd = 3)
        got <- moerates:::pretrained_logdensity(pre, x, y)
        want <- ref_logf0(list(family = family, expert = expert, eta0 = eta0, nu0 = nu0, df = df), x, y)
        expect_length(got, 50)
        expect_equal(got, want, tolerance = 1e-12)
      }
    }
  }
})

test_that("nu0 is the squared scale and the families integrate to one", {
  x <- matrix(c(0.3, -1), 1)
  for (family in c("gaussian", "laplace", "student")) {
    df <- if (family == "student") 4 else NULL
    pre <- pretrained_model(family, expert = "tanh", eta0 = c(1, -0.5, 0.2), nu0 = 0.7, df = df)
    f <- function(y) exp(moerates:::pretrained_logdensity(pre, x[rep(1, length(y)), , drop = FALSE], y))
    expect_equal(integrate(f, -Inf, Inf, rel.tol = 1e-10)$value, 1, tolerance = 1e-7)
    mu <- tanh(0.3 * 1 + (-1) * (-0.5) + 0.2)
    # the second moment about mu: nu0 (gaussian), 2 nu0 (laplace), nu0 df / (df - 2) (student)
    m2 <- integrate(function(y) (y - mu)^2 * f(y), -Inf, Inf, rel.tol = 1e-10)$value
    expect_equal(m2, 0.7 * switch(family, gaussian = 1, laplace = 2, student = 4 / 2),
                 tolerance = 1e-6)
  }
})

test_that("special cases match the textbook densities", {
  x <- matrix(seq(-2, 2, length.out = 9))
  y <- seq(-3, 3, length.out = 9)
  # Student with df = 1 is Cauchy
  cauchy <- pretrained_model("student", eta0 = c(0.5, 1), nu0 = 4, df = 1)
  expect_equal(moerates:::pretrained_logdensity(cauchy, x, y),
               log(1 / (pi * 2 * (1 + ((y - 0.5 * x[, 1] - 1) / 2)^2))), tolerance = 1e-12)
  # a very large df is (nearly) Gaussian
  big <- pretrained_model("student", eta0 = c(0.5, 1), nu0 = 4, df = 1e8)
  gauss <- pretrained_model("gaussian", eta0 = c(0.5, 1), nu0 = 4)
  expect_equal(moerates:::pretrained_logdensity(big, x, y),
               moerates:::pretrained_logdensity(gauss, x, y), tolerance = 1e-6)
  # the sigmoid location lies in (0, 1)
  sig <- pretrained_model("laplace", expert = "sigmoid", eta0 = c(50, 0), nu0 = 1)
  expect_equal(moerates:::pretrained_logdensity(sig, matrix(c(-1, 1)), c(0, 1)),
               rep(-log(2), 2), tolerance = 1e-12)
})

test_that("the family argument defaults to gaussian and eta0 gets its names", {
  pre <- pretrained_model(eta0 = c(1, 2, 3), nu0 = 1)
  expect_identical(pre$family, "gaussian")
  expect_identical(pre$expert, "linear")
  expect_identical(pre$eta0, c(a1 = 1, a2 = 2, b = 3))
  expect_null(pre$df)
  expect_equal(moerates:::pretrained_d(pre), 2)
})

test_that("a user log-density is used as it is, and checked", {
  own <- pretrained_model(logdensity = function(x, y) dnorm(y, 2 * x[, 1], 1, log = TRUE))
  expect_s3_class(own, "cmoe_pretrained")
  expect_identical(own$family, "user")
  expect_null(moerates:::pretrained_d(own))
  x <- matrix(c(-1, 0, 1))
  y <- c(0, 1, 2)
  expect_equal(moerates:::pretrained_logdensity(own, x, y),
               -0.5 * log(2 * pi) - (y - 2 * x[, 1])^2 / 2)
  # -Inf (f0 = 0) is allowed
  trunc <- pretrained_model(logdensity = function(x, y) ifelse(y > 0, -y, -Inf))
  expect_equal(moerates:::pretrained_logdensity(trunc, x, c(-1, 1, 2)), c(-Inf, -1, -2))
  # integers are turned into doubles
  int <- pretrained_model(logdensity = function(x, y) rep(-1L, length(y)))
  expect_identical(moerates:::pretrained_logdensity(int, x, y), rep(-1, 3))

  bad <- list(
    nan = function(x, y) rep(NaN, length(y)),
    na = function(x, y) c(NA, rep(0, length(y) - 1)),
    plus_inf = function(x, y) rep(Inf, length(y)),
    short = function(x, y) 0,
    character = function(x, y) rep("a", length(y)),
    list = function(x, y) as.list(y)
  )
  for (f in bad) {
    expect_error(moerates:::pretrained_logdensity(pretrained_model(logdensity = f), x, y),
                 "^`logdensity`")
  }
})

test_that("printing shows the family, the expert and the parameters", {
  expect_output(print(pretrained_model("laplace", eta0 = c(2, 0), nu0 = 1)),
                "Pre-trained model: laplace, linear expert")
  st <- pretrained_model("student", expert = "tanh", eta0 = c(1, 0.5), nu0 = 0.5, df = 3)
  expect_output(print(st), "student \\(df = 3\\), tanh expert")
  expect_output(print(st), "eta0: 1(\\.0)? 0\\.5")
  expect_output(print(st), "nu0:  0.5")
  capture_output(vis <- withVisible(print(st)))
  expect_false(vis$visible)
  expect_identical(vis$value, st)
  expect_output(print(pretrained_model(logdensity = function(x, y) y)),
                "user log-density \\(no simulator\\)")
  expect_output(print(pretrained_model(logdensity = function(x, y) y, simulate = function(x) x[, 1])),
                "user log-density with simulator")
})

test_that("bad arguments are R errors naming the argument", {
  f <- function(x, y) y
  cases <- list(
    list(quote(pretrained_model("cauchy", eta0 = c(1, 0), nu0 = 1)), "^`family`"),
    list(quote(pretrained_model(1, eta0 = c(1, 0), nu0 = 1)), "^`family`"),
    list(quote(pretrained_model(c("gaussian", "laplace"), eta0 = c(1, 0), nu0 = 1)), "^`family`"),
    list(quote(pretrained_model(expert = "relu", eta0 = c(1, 0), nu0 = 1)), "^`expert`"),
    list(quote(pretrained_model(expert = c("linear", "tanh"), eta0 = c(1, 0), nu0 = 1)), "^`expert`"),
    list(quote(pretrained_model(expert = NA, eta0 = c(1, 0), nu0 = 1)), "^`expert`"),
    list(quote(pretrained_model(nu0 = 1)), "^`eta0` is missing"),
    list(quote(pretrained_model(eta0 = 1, nu0 = 1)), "^`eta0`.*length >= 2"),
    list(quote(pretrained_model(eta0 = c(1, NA), nu0 = 1)), "^`eta0`.*finite"),
    list(quote(pretrained_model(eta0 = c("1", "0"), nu0 = 1)), "^`eta0` must be numeric"),
    list(quote(pretrained_model(eta0 = c(1, 0))), "^`nu0` is missing"),
    list(quote(pretrained_model(eta0 = c(1, 0), nu0 = 0)), "^`nu0`.*positive"),
    list(quote(pretrained_model(eta0 = c(1, 0), nu0 = -1)), "^`nu0`.*positive"),
    list(quote(pretrained_model(eta0 = c(1, 0), nu0 = c(1, 2))), "^`nu0`.*length 1"),
    list(quote(pretrained_model(eta0 = c(1, 0), nu0 = Inf)), "^`nu0`.*finite"),
    list(quote(pretrained_model("student", eta0 = c(1, 0), nu0 = 1)), "^`df` is needed"),
    list(quote(pretrained_model("student", eta0 = c(1, 0), nu0 = 1, df = 0)), "^`df`.*positive"),
    list(quote(pretrained_model("gaussian", eta0 = c(1, 0), nu0 = 1, df = 3)), "^`df` is only"),
    list(quote(pretrained_model(eta0 = c(1, 0), nu0 = 1, simulate = function(x) x)), "^`simulate`"),
    list(quote(pretrained_model(eta0 = c(1, 0), nu0 = 1, mean = function(x) x)), "^`mean`"),
    list(quote(pretrained_model("laplace", logdensity = f)), "^`logdensity` replaces"),
    list(quote(pretrained_model(eta0 = c(1, 0), logdensity = f)), "^`logdensity` replaces"),
    list(quote(pretrained_model(logdensity = "dnorm")), "^`logdensity` must be a function"),
    list(quote(pretrained_model(logdensity = function(x) x)), "^`logdensity` must be a function of 2"),
    list(quote(pretrained_model(logdensity = f, simulate = 1)), "^`simulate` must be a function"),
    list(quote(pretrained_model(logdensity = f, mean = function() 1)), "^`mean` must be a function of 1")
  )
  for (case in cases) {
    err <- expect_error(eval(case[[1]]), case[[2]])
    expect_null(err$call)
  }
})

test_that("errors inside a user's functions are reported under the argument's name", {
  x <- matrix(rnorm(20), 10, 2)
  y <- rnorm(10)
  broken <- pretrained_model(logdensity = function(x, y) stop("no model here"),
                             simulate = function(x) stop("cannot draw"),
                             mean = function(x) stop("no mean"))
  p <- cmoe_params(0.3, c(1, 1, 0), 1)
  expect_error(dcmoe(x, y, p, broken), "^`logdensity` failed with the error: no model here$")
  expect_error(fit_cmoe(x, y, broken), "^`logdensity` failed with the error: no model here$")
  expect_error(rcmoe(10, p, broken), "^`simulate` failed with the error: cannot draw$")
  working <- pretrained_model(logdensity = function(x, y) stats::dnorm(y, log = TRUE),
                              mean = function(x) stop("no mean"))
  fit <- fit_cmoe(x, y, working, init = p, control = cmoe_control(max_iter = 0))
  expect_error(predict(fit, x), "^`mean` failed with the error: no mean$")
  with_nan <- pretrained_model(logdensity = function(x, y) stats::dnorm(y, log = TRUE),
                               mean = function(x) rep(NaN, nrow(x)))
  fit <- fit_cmoe(x, y, with_nan, init = p, control = cmoe_control(max_iter = 0))
  expect_error(fitted(fit), "^`mean` must return one finite number per row")
})

test_that("pre-trained models edited by hand are rebuilt, or refused naming the argument", {
  pre <- pretrained_model("student", eta0 = c(1, 0), nu0 = 1, df = 3)
  p <- cmoe_params(0.3, c(1, 0), 1)
  edited <- function(field, value) {
    out <- pre
    out[field] <- list(value)
    out
  }
  expect_error(dcmoe(0, 0, p, edited("df", -1)), "^`pretrained` holds invalid contents: `df`")
  expect_error(dcmoe(0, 0, p, edited("nu", 1)), "^`pretrained` has unknown field\\(s\\) `nu`")
  expect_error(dcmoe(0, 0, p, edited("family", "cauchy")), "^`pretrained` holds invalid contents: `family`")
  expect_error(print(edited("eta0", "a")), "^`x` holds invalid contents: `eta0`")
  no_family <- pre
  no_family$family <- NULL
  expect_error(print(no_family), "^`x` lacks the field\\(s\\) `family`")
  own <- pretrained_model(logdensity = function(x, y) stats::dnorm(y, log = TRUE))
  own_eta <- own
  own_eta$eta0 <- c(1, 0)
  expect_error(dcmoe(0, 0, p, own_eta), "^`pretrained` is a user log-density but holds `eta0`")
  own_bad <- own
  own_bad$logdensity <- "dnorm"
  expect_error(dcmoe(0, 0, p, own_bad), "^`pretrained` holds invalid contents: `logdensity` must be a function")
  # the smallest squared scale is the smallest normal double
  expect_error(pretrained_model(eta0 = c(1, 0), nu0 = 1e-320), "^`nu0` must be at least 2.2")
  expect_s3_class(pretrained_model(eta0 = c(1, 0), nu0 = 1e-300), "cmoe_pretrained")
})

test_that("a location overflowing in opposite directions is an error naming x", {
  pre <- pretrained_model("laplace", eta0 = c(2, 2, 0), nu0 = 1)
  p <- cmoe_params(0.3, c(1, 1, 0), 1)
  expect_error(dcmoe(cbind(1e308, -1e308), 0, p, pre), "^`x` has row\\(s\\) 1 at which")
  # one direction only: f0 is 0 there, and so is the density
  expect_identical(dcmoe(cbind(1e308, 1e308), 0, p, pre), 0)
})
