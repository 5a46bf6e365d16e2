# dcmoe() against the mixture written out here from its definition.

# log p(y | x) with a stable log-sum-exp.
ref_logdens <- function(lambda, eta, nu, expert, logf0, x, y) {
  h <- ref_location(expert, eta, x)
  la <- log(1 - lambda) + logf0
  lb <- log(lambda) - 0.5 * log(2 * pi * nu) - (y - h)^2 / (2 * nu)
  m <- pmax(la, lb)
  m + log(exp(la - m) + exp(lb - m))
}

test_that("dcmoe is the mixture for every family and expert", {
  set.seed(11)
  for (family in c("gaussian", "laplace", "student")) {
    for (expert0 in c("linear", "sigmoid", "tanh")) {
      for (expert in c("linear", "sigmoid", "tanh")) {
        d <- sample(1:3, 1)
        spec <- list(family = family, expert = expert0, eta0 = rnorm(d + 1),
                     nu0 = runif(1, 0.3, 2), df = if (family == "student") runif(1, 2, 6))
        pre <- make_pre(spec)
        lambda <- runif(1, 0.1, 0.9)
        eta <- rnorm(d + 1, sd = 2)
        nu <- runif(1, 0.05, 1)
        params <- cmoe_params(lambda, eta, nu, expert)
        x <- matrix(rnorm(40 * d), 40, d)
        y <- rnorm(40, sd = 2)
        want <- ref_logdens(lambda, eta, nu, expert, ref_logf0(spec, x, y), x, y)
        expect_equal(dcmoe(x, y, params, pre, log = TRUE), want, tolerance = 1e-12)
        expect_equal(dcmoe(x, y, params, pre), exp(want), tolerance = 1e-12)
      }
    }
  }
})

test_that("dcmoe works with a user log-density", {
  set.seed(12)
  own <- pretrained_model(logdensity = function(x, y) dnorm(y, 2 * x[, 1] - x[, 2], 0.5, log = TRUE))
  params <- cmoe_params(0.35, c(1, 1, -1), 0.4, "sigmoid")
  x <- matrix(rnorm(60), 30, 2)
  y <- rnorm(30)
  logf0 <- -0.5 * log(2 * pi * 0.25) - (y - 2 * x[, 1] + x[, 2])^2 / (2 * 0.25)
  expect_equal(dcmoe(x, y, params, own, log = TRUE),
               ref_logdens(0.35, c(1, 1, -1), 0.4, "sigmoid", logf0, x, y), tolerance = 1e-12)
  # where f0 is zero, only the prompt is left
  half <- pretrained_model(logdensity = function(x, y) ifelse(y > 0, dexp(y, log = TRUE), -Inf))
  p1 <- cmoe_params(0.2, c(1, 0), 1)
  expect_equal(dcmoe(c(0.5, 0.5), c(-1, 1), p1, half),
               c(0.2 * dnorm(-1, 0.5, 1), 0.8 * dexp(1) + 0.2 * dnorm(1, 0.5, 1)),
               tolerance = 1e-12)
})

test_that("dcmoe integrates to one over y", {
  set.seed(13)
  for (family in c("gaussian", "laplace", "student")) {
    for (expert in c("linear", "sigmoid", "tanh")) {
      spec <- list(family = family, expert = "linear", eta0 = c(2, 0.5), nu0 = 1,
                   df = if (family == "student") 2.5)
      pre <- make_pre(spec)
      params <- cmoe_params(0.3, c(-1, 1), 0.2, expert)
      for (x0 in c(-1.5, 0, 2)) {
        f <- function(y) dcmoe(rep(x0, length(y)), y, params, pre)
        total <- integrate(f, -Inf, Inf, rel.tol = 1e-10, subdivisions = 500)$value
        expect_equal(total, 1, tolerance = 1e-6)
      }
    }
  }
  pre2 <- pretrained_model("laplace", expert = "tanh", eta0 = c(1, -1, 0), nu0 = 0.5)
  params2 <- cmoe_params(0.6, c(0.5, 0.5, 2), 0.1)
  for (i in 1:3) {
    x0 <- rnorm(2)
    f <- function(y) dcmoe(matrix(x0, length(y), 2, byrow = TRUE), y, params2, pre2)
    expect_equal(integrate(f, -Inf, Inf, rel.tol = 1e-10, subdivisions = 500)$value, 1,
                 tolerance = 1e-6)
  }
})

test_that("log = TRUE is the log of the density, and accurate in the tails", {
  pre <- pretrained_model("gaussian", eta0 = c(1, 0), nu0 = 1)
  params <- cmoe_params(0.3, c(-1, 1), 0.5)
  x <- c(-1, 0, 1, 2)
  y <- c(-2, 0.5, 3, 1)
  expect_equal(dcmoe(x, y, params, pre, log = TRUE), log(dcmoe(x, y, params, pre)),
               tolerance = 1e-14)
  # far in the tails exp() underflows but the log-density stays finite and right
  far <- dcmoe(0, 1e3, params, pre, log = TRUE)
  expect_true(is.finite(far))
  expect_equal(dcmoe(0, 1e3, params, pre), 0)
  # here f0 dominates: log(0.7) + log phi(1000; 0, 1), and the prompt adds ~exp(-5e5)
  expect_equal(far, log(0.7) - 0.5 * log(2 * pi) - 1e6 / 2, tolerance = 1e-14)
  # and here the prompt dominates
  wide <- cmoe_params(0.3, c(-1, 1), 1e4)
  far0 <- dcmoe(0, -1e3, wide, pre, log = TRUE)
  expect_equal(far0, log(0.3) - 0.5 * log(2 * pi * 1e4) - (1e3 + 1)^2 / (2 * 1e4),
               tolerance = 1e-14)
  x <- c(-30, 0, 40, 5)
  y <- c(600, -800, 2000, -1e4)
  for (p in list(params, wide, cmoe_params(0.5, c(3, -2), 1e-3, "tanh"))) {
    got <- dcmoe(x, y, p, pre, log = TRUE)
    expect_true(all(is.finite(got)))
    expect_equal(got, ref_logdens(p$lambda, p$eta, p$nu, p$expert,
                                  -0.5 * log(2 * pi) - (y - x)^2 / 2, matrix(x), y),
                 tolerance = 1e-13)
  }
})

test_that("x may be a vector, a matrix or a data frame", {
  pre <- pretrained_model("laplace", eta0 = c(1, 1, 0), nu0 = 1)
  params <- cmoe_params(0.3, c(-1, 0, 1), 0.5)
  x <- matrix(c(0, 1, 2, 3, -1, 0), 3, 2)
  y <- c(1, 2, 3)
  want <- dcmoe(x, y, params, pre)
  expect_equal(dcmoe(as.data.frame(x), y, params, pre), want)
  expect_equal(dcmoe(x, matrix(y), params, pre), want)
  pre1 <- pretrained_model("laplace", eta0 = c(1, 0), nu0 = 1)
  p1 <- cmoe_params(0.3, c(-1, 1), 0.5)
  expect_equal(dcmoe(1:3, y, p1, pre1), dcmoe(matrix(1:3), y, p1, pre1))
  expect_length(dcmoe(0.5, 1, p1, pre1), 1)
})

test_that("bad arguments are R errors naming the argument", {
  pre <- pretrained_model("gaussian", eta0 = c(1, 0), nu0 = 1)
  params <- cmoe_params(0.3, c(-1, 1), 0.5)
  nan <- pretrained_model(logdensity = function(x, y) rep(NaN, length(y)))
  chr <- pretrained_model(logdensity = function(x, y) rep("0", length(y)))
  len <- pretrained_model(logdensity = function(x, y) c(0, 0))
  cases <- list(
    list(quote(dcmoe(1:3, 1:3, unclass(params), pre)), "^`params`"),
    list(quote(dcmoe(1:3, 1:3, params, "gaussian")), "^`pretrained`"),
    list(quote(dcmoe(1:3, 1:3, params, pre, log = NA)), "^`log`"),
    list(quote(dcmoe(1:3, 1:3, params, pre, log = "yes")), "^`log`"),
    list(quote(dcmoe(1:3, 1:2, params, pre)), "^`y` must have one value per row"),
    list(quote(dcmoe(matrix(0, 3, 2), 1:3, params, pre)), "^`x` must have 1 column"),
    list(quote(dcmoe(1:3, 1:3, cmoe_params(0.3, c(1, 1, 1), 1), pre)), "^`params` has d = 2"),
    list(quote(dcmoe(c(1, NA, 3), 1:3, params, pre)), "^`x`.*finite"),
    list(quote(dcmoe(1:3, c(1, Inf, 3), params, pre)), "^`y`.*finite"),
    list(quote(dcmoe(letters[1:3], 1:3, params, pre)), "^`x` must be numeric"),
    list(quote(dcmoe(1:3, letters[1:3], params, pre)), "^`y` must be numeric"),
    list(quote(dcmoe(1:3, matrix(1:6, 3), params, pre)), "^`y` must be a numeric vector"),
    list(quote(dcmoe(1:3, 1:3, params, nan)), "^`logdensity` returned NA"),
    list(quote(dcmoe(1:3, 1:3, params, chr)), "^`logdensity` must return"),
    list(quote(dcmoe(1:3, 1:3, params, len)), "^`logdensity` must return")
  )
  for (case in cases) {
    err <- expect_error(eval(case[[1]]), case[[2]])
    expect_null(err$call)
    expect_false(grepl("internal:|c\\+\\+ exception", conditionMessage(err), ignore.case = TRUE))
  }
})

test_that("where both densities underflow, the density is 0 and the posterior goes to the heavier tail", {
  gau <- pretrained_model("gaussian", eta0 = c(2, 0), nu0 = 1)
  narrow <- cmoe_params(0.3, c(-1, 1), 0.5)
  wide <- cmoe_params(0.3, c(-1, 1), 2)
  fit_with <- function(params, pre) {
    set.seed(1)
    sim <- rcmoe(300, params, gau)
    fit_cmoe(sim$x, sim$y, pre, init = params, control = cmoe_control(max_iter = 0))
  }
  far <- c(1e200, -1e300, 1e160)
  # log p is about -y^2 / (2 nu): beyond the most negative double for both
  expect_identical(dcmoe(rep(0, 3), far, narrow, gau, log = TRUE), rep(-Inf, 3))
  expect_identical(dcmoe(rep(0, 3), far, narrow, gau), rep(0, 3))
  # the posterior odds are exp(y^2 (1 / nu0 - 1 / nu) / 2): the larger variance wins
  expect_identical(predict(fit_with(narrow, gau), rep(0, 3), type = "posterior", y = far), rep(0, 3))
  expect_identical(predict(fit_with(wide, gau), rep(0, 3), type = "posterior", y = far), rep(1, 3))
  # a Laplace f0 has the heavier tail (and its log-density is finite here)
  lap <- pretrained_model("laplace", eta0 = c(2, 0), nu0 = 1)
  expect_identical(predict(fit_with(wide, lap), rep(0, 3), type = "posterior", y = far), rep(0, 3))
  # a user's -Inf means f0 = 0 exactly, where the prompt explains all
  own <- pretrained_model(logdensity = function(x, y) ifelse(abs(y) > 10, -Inf, stats::dnorm(y, log = TRUE)))
  expect_identical(predict(fit_with(narrow, own), rep(0, 3), type = "posterior", y = far), rep(1, 3))
  # covariates far out: finite posteriors and densities, never NaN
  grid <- expand.grid(x = c(-1e308, -1e200, 0, 1e200, 1e308), y = c(-1e308, -1e150, 0, 1e150, 1e308))
  for (pre in list(gau, lap, own)) {
    fit <- fit_with(narrow, pre)
    post <- predict(fit, grid$x, type = "posterior", y = grid$y)
    expect_true(all(post >= 0 & post <= 1))
    dens <- predict(fit, grid$x, type = "density", y = grid$y)
    expect_true(all(is.finite(dens)))
    expect_false(anyNA(dcmoe(grid$x, grid$y, narrow, pre, log = TRUE)))
  }
})

test_that("edited parameters and pre-trained models are refused by dcmoe", {
  pre <- pretrained_model("laplace", eta0 = c(2, 0), nu0 = 1)
  p <- cmoe_params(0.3, c(-1, 1), 0.5)
  p_bad <- p
  p_bad$lambda <- 2
  expect_error(dcmoe(0, 0, p_bad, pre), "^`params` holds invalid contents: `lambda` must be strictly")
  p_typo <- p
  p_typo$lamda <- 0.5
  expect_error(dcmoe(0, 0, p_typo, pre), "^`params` has unknown field\\(s\\) `lamda`")
  pre_bad <- pre
  pre_bad$nu0 <- NA
  expect_error(dcmoe(0, 0, p, pre_bad), "^`pretrained` holds invalid contents: `nu0`")
  pre_long <- pre
  pre_long$eta0 <- c(1, 2, 0)
  expect_error(dcmoe(0, 0, p, pre_long), "^`params` has d = 1 covariate\\(s\\) but `pretrained` has 2")
})
