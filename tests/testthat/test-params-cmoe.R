test_that("cmoe_params builds a named, classed list", {
  p <- cmoe_params(lambda = 0.3, eta = c(-1, 1), nu = 0.5)
  expect_s3_class(p, "cmoe_params")
  expect_named(p, c("lambda", "eta", "nu", "expert", "gate", "beta", "tau", "intercept"))
  expect_identical(p$gate, "constant")
  expect_null(p$beta)
  expect_true(p$intercept)
  expect_identical(p$lambda, 0.3)
  expect_identical(p$eta, c(a1 = -1, b = 1))
  expect_identical(p$nu, 0.5)
  expect_identical(p$expert, "linear")
  q <- cmoe_params(0.2, eta = c(1, -2, 0), nu = 1, expert = "tanh")
  expect_identical(q$eta, c(a1 = 1, a2 = -2, b = 0))
  expect_identical(q$expert, "tanh")
  # integers become doubles, names given by the user are replaced
  r <- cmoe_params(0.5, eta = c(u = 1L, v = 2L, w = 3L, z = 4L), nu = 2L, expert = "sigmoid")
  expect_identical(r$eta, c(a1 = 1, a2 = 2, a3 = 3, b = 4))
  expect_type(r$eta, "double")
  # values very close to the ends of (0, 1) are still valid
  expect_identical(cmoe_params(1e-12, c(0, 0), 1)$lambda, 1e-12)
  expect_identical(cmoe_params(1 - 1e-12, c(0, 0), 1)$lambda, 1 - 1e-12)
})

test_that("coefficients are laid out as (lambda, a, b, nu)", {
  p <- cmoe_params(0.2, eta = c(1, -2, 0.5), nu = 0.3, expert = "sigmoid")
  expect_identical(moerates:::cmoe_coef(p), c(lambda = 0.2, a1 = 1, a2 = -2, b = 0.5, nu = 0.3))
})

test_that("printing shows the expert, d and the coefficients", {
  p <- cmoe_params(0.2, eta = c(1, -2, 0), nu = 1, expert = "tanh")
  expect_output(print(p), "Contaminated MoE parameters: tanh prompt expert, d = 2")
  expect_output(print(p), "lambda +a1 +a2 +b +nu")
  capture_output(vis <- withVisible(print(p)))
  expect_false(vis$visible)
  expect_identical(vis$value, p)
  expect_output(print(cmoe_params(0.3, c(-1, 1), 0.5)), "linear prompt expert, d = 1")
})

test_that("the covariate dimension is checked against the pre-trained model", {
  f0 <- pretrained_model(eta0 = c(1, 2, 0), nu0 = 1)
  expect_equal(moerates:::cmoe_dimension(cmoe_params(0.3, c(1, 1, 1), 1), f0), 2)
  expect_error(moerates:::cmoe_dimension(cmoe_params(0.3, c(1, 1), 1), f0),
               "^`params` has d = 1 covariate\\(s\\) but `pretrained` has 2")
  own <- pretrained_model(logdensity = function(x, y) dnorm(y, log = TRUE))
  expect_equal(moerates:::cmoe_dimension(cmoe_params(0.3, c(1, 1, 1, 1), 1), own), 3)
})

test_that("bad parameters are R errors naming the argument", {
  cases <- list(
    list(quote(cmoe_params(0, c(1, 0), 1)), "^`lambda` must be strictly between 0 and 1"),
    list(quote(cmoe_params(1, c(1, 0), 1)), "^`lambda` must be strictly between 0 and 1"),
    list(quote(cmoe_params(-0.1, c(1, 0), 1)), "^`lambda` must be strictly between 0 and 1"),
    list(quote(cmoe_params(1.5, c(1, 0), 1)), "^`lambda` must be strictly between 0 and 1"),
    list(quote(cmoe_params(NA, c(1, 0), 1)), "^`lambda`"),
    list(quote(cmoe_params(NA_real_, c(1, 0), 1)), "^`lambda`.*finite"),
    list(quote(cmoe_params(NaN, c(1, 0), 1)), "^`lambda`.*finite"),
    list(quote(cmoe_params("0.3", c(1, 0), 1)), "^`lambda` must be numeric"),
    list(quote(cmoe_params(c(0.3, 0.4), c(1, 0), 1)), "^`lambda` must have length 1"),
    list(quote(cmoe_params(NULL, c(1, 0), 1)), "^`lambda` is missing"),
    list(quote(cmoe_params(0.3, 1, 1)), "^`eta`.*length >= 2"),
    list(quote(cmoe_params(0.3, numeric(0), 1)), "^`eta`.*length >= 2"),
    list(quote(cmoe_params(0.3, c(1, Inf), 1)), "^`eta`.*finite"),
    list(quote(cmoe_params(0.3, c(1, NA), 1)), "^`eta`.*finite"),
    list(quote(cmoe_params(0.3, list(1, 0), 1)), "^`eta` must be numeric"),
    list(quote(cmoe_params(0.3, c(1, 0), 0)), "^`nu` must be strictly positive"),
    list(quote(cmoe_params(0.3, c(1, 0), -2)), "^`nu` must be strictly positive"),
    list(quote(cmoe_params(0.3, c(1, 0), NA)), "^`nu`"),
    list(quote(cmoe_params(0.3, c(1, 0), c(1, 2))), "^`nu` must have length 1"),
    list(quote(cmoe_params(0.3, c(1, 0), 1, expert = "relu")), "^`expert` must be one of"),
    list(quote(cmoe_params(0.3, c(1, 0), 1, expert = "Linear")), "^`expert` must be one of"),
    list(quote(cmoe_params(0.3, c(1, 0), 1, expert = 1)), "^`expert` must be one of"),
    list(quote(cmoe_params(0.3, c(1, 0), 1, expert = c("linear", "tanh"))), "^`expert` must be one of")
  )
  for (case in cases) {
    err <- expect_error(eval(case[[1]]), case[[2]])
    expect_null(err$call)
  }
  # a list that looks like parameters is not accepted where a cmoe_params is expected
  f0 <- pretrained_model(eta0 = c(1, 0), nu0 = 1)
  fake <- list(lambda = 0.3, eta = c(a1 = 1, b = 0), nu = 1, expert = "linear")
  expect_error(rcmoe(10, fake, f0), "^`params` must be a `cmoe_params` object")
  expect_error(dcmoe(0, 0, fake, f0), "^`params` must be a `cmoe_params` object")
})

test_that("edited parameter objects are rebuilt or refused, where they enter and when printed", {
  p <- cmoe_params(0.3, c(1, 0), 1)
  edited <- function(field, value) {
    out <- p
    out[field] <- list(value)
    out
  }
  expect_error(print(edited("eta", "a")), "^`x` holds invalid contents: `eta` must be numeric")
  expect_error(print(edited("lambda", NULL)), "^`x` holds invalid contents: `lambda` is missing")
  removed <- p
  removed$lambda <- NULL
  expect_error(print(removed), "^`x` lacks the field\\(s\\) `lambda`")
  expect_error(print(edited("lamda", 0.5)), "^`x` has unknown field\\(s\\) `lamda`")
  expect_error(print(structure(1, class = "cmoe_params")), "^`x` is not a list")
  expect_output(print(edited("eta", c(2, 1))), "a1 +b")
  # 1 / (2 nu) must be a double
  expect_error(cmoe_params(0.3, c(1, 0), 1e-320), "^`nu` must be at least")
  expect_identical(moerates:::eta_names(0), "b")
})
