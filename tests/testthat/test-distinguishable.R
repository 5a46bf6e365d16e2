experts <- c("linear", "sigmoid", "tanh")

expect_verdict <- function(object, value, reason = NULL) {
  expect_s3_class(object, "cmoe_distinguishability")
  expect_identical(unclass(object)[1], value)
  expect_length(object, 1)
  expect_true(is.character(attr(object, "reason")) && nzchar(attr(object, "reason")))
  if (!is.null(reason)) expect_match(attr(object, "reason"), reason)
}

test_that("a non-Gaussian f0 is distinguishable from every prompt", {
  for (f0_expert in experts) for (prompt in experts) {
    lap <- pretrained_model("laplace", f0_expert, eta0 = c(2, 0), nu0 = 1)
    expect_verdict(distinguishable(lap, prompt), TRUE, "f0 is laplace, not Gaussian")
    stu <- pretrained_model("student", f0_expert, eta0 = c(2, 0), nu0 = 1, df = 3)
    v <- distinguishable(stu, prompt)
    expect_verdict(v, TRUE, "f0 is student, not Gaussian")
    expect_false(grepl("close to Gaussian", attr(v, "reason")))
  }
  # even with a constant f0 mean, which a Gaussian f0 would lose to
  flat <- pretrained_model("laplace", eta0 = c(0, 0.5), nu0 = 1)
  expect_verdict(distinguishable(flat, "sigmoid"), TRUE)
})

test_that("a Student f0 with many degrees of freedom is flagged as close to Gaussian", {
  v <- distinguishable(pretrained_model("student", eta0 = c(2, 0), nu0 = 1, df = 100))
  expect_verdict(v, TRUE, "close to Gaussian")
  expect_match(attr(v, "reason"), "df = 100")
})

test_that("a Gaussian f0 with the prompt's own expert is not distinguishable", {
  for (e in experts) {
    g0 <- pretrained_model("gaussian", e, eta0 = c(2, 0), nu0 = 1)
    expect_verdict(distinguishable(g0, e), FALSE,
                   sprintf("the prompt's own \\(%s\\) expert", e))
    # whatever the dimension
    g2 <- pretrained_model("gaussian", e, eta0 = c(1, -1, 0.3), nu0 = 0.5)
    expect_verdict(distinguishable(g2, e), FALSE, "merges into f0")
  }
})

test_that("a Gaussian f0 with a different non-constant expert is distinguishable", {
  pairs <- 0
  for (f0_expert in experts) for (prompt in setdiff(experts, f0_expert)) {
    g0 <- pretrained_model("gaussian", f0_expert, eta0 = c(2, 0), nu0 = 1)
    expect_verdict(distinguishable(g0, prompt), TRUE,
                   sprintf("its %s expert is not a %s expert", f0_expert, prompt))
    # one nonzero slope among several is enough
    g2 <- pretrained_model("gaussian", f0_expert, eta0 = c(0, 0.5, 0.2), nu0 = 1)
    expect_verdict(distinguishable(g2, prompt), TRUE)
    pairs <- pairs + 1
  }
  expect_equal(pairs, 6)
})

test_that("a constant Gaussian f0 mean is distinguishable only outside the prompt's range", {
  lin <- function(b0) pretrained_model("gaussian", "linear", eta0 = c(0, b0), nu0 = 1)
  # 0.5 is a sigmoid level: plogis(0) = 0.5
  expect_verdict(distinguishable(lin(0.5), "sigmoid"), FALSE,
                 "constant mean \\(0.5\\), which a sigmoid prompt with zero slopes reproduces")
  # 2 is not in (0, 1)
  expect_verdict(distinguishable(lin(2), "sigmoid"), TRUE)
  expect_verdict(distinguishable(lin(0.5), "tanh"), FALSE, "constant mean")
  expect_verdict(distinguishable(lin(-0.5), "tanh"), FALSE)
  expect_verdict(distinguishable(lin(-3), "tanh"), TRUE)
  # the ends of the range are not reached by the prompt
  expect_verdict(distinguishable(lin(0), "sigmoid"), TRUE)
  expect_verdict(distinguishable(lin(1), "sigmoid"), TRUE)
  expect_verdict(distinguishable(lin(1), "tanh"), TRUE)
  expect_verdict(distinguishable(lin(-1), "tanh"), TRUE)
  # a linear prompt with zero slopes reproduces any constant
  expect_verdict(distinguishable(pretrained_model("gaussian", "tanh", eta0 = c(0, 5), nu0 = 1),
                                 "linear"), FALSE)
  expect_verdict(distinguishable(pretrained_model("gaussian", "sigmoid", eta0 = c(0, 0, -2), nu0 = 1),
                                 "linear"), FALSE)
  # the constant is the f0 expert's value at b0: tanh(2) is in (0, 1), tanh(-1) is not
  expect_verdict(distinguishable(pretrained_model("gaussian", "tanh", eta0 = c(0, 2), nu0 = 1),
                                 "sigmoid"), FALSE)
  expect_verdict(distinguishable(pretrained_model("gaussian", "tanh", eta0 = c(0, -1), nu0 = 1),
                                 "sigmoid"), TRUE)
  # a sigmoid level is always inside (-1, 1)
  expect_verdict(distinguishable(pretrained_model("gaussian", "sigmoid", eta0 = c(0, 4), nu0 = 1),
                                 "tanh"), FALSE)
})

test_that("a user's log-density is undetermined", {
  own <- pretrained_model(logdensity = function(x, y) dnorm(y, 2 * x[, 1], 1, log = TRUE))
  for (e in experts) {
    v <- distinguishable(own, e)
    expect_verdict(v, NA, "user's log-density")
    expect_true(is.na(v))
    expect_false(isTRUE(v))
    expect_false(isFALSE(v))
  }
})

test_that("isTRUE and isFALSE read the verdict", {
  g0 <- pretrained_model("gaussian", eta0 = c(2, 0), nu0 = 1)
  expect_true(isTRUE(distinguishable(pretrained_model("laplace", eta0 = c(2, 0), nu0 = 1))))
  expect_false(isTRUE(distinguishable(g0, "linear")))
  expect_true(isFALSE(distinguishable(g0, "linear")))
  expect_true(isTRUE(distinguishable(g0, "tanh")))
  expect_true(if (distinguishable(g0, "sigmoid")) TRUE else FALSE)
  # the default prompt is linear
  expect_identical(distinguishable(g0), distinguishable(g0, "linear"))
})

test_that("print gives the verdict and the reason", {
  g0 <- pretrained_model("gaussian", eta0 = c(2, 0), nu0 = 1)
  expect_output(print(distinguishable(g0, "linear")),
                "^Not distinguishable\nf0 is Gaussian with the prompt's own \\(linear\\) expert")
  expect_output(print(distinguishable(g0, "tanh")),
                "^Distinguishable\nf0 is Gaussian but its linear expert is not a tanh expert")
  lap <- pretrained_model("laplace", eta0 = c(2, 0), nu0 = 1)
  expect_output(print(distinguishable(lap)), "^Distinguishable\nf0 is laplace")
  own <- pretrained_model(logdensity = function(x, y) dnorm(y, log = TRUE))
  expect_output(print(distinguishable(own)), "^Undetermined\nf0 is a user's log-density")
  v <- distinguishable(g0)
  expect_output(expect_invisible(print(v)), "Not distinguishable")
  expect_output(expect_identical(print(v), v))
})

test_that("bad arguments are refused, naming the argument", {
  g0 <- pretrained_model("gaussian", eta0 = c(2, 0), nu0 = 1)
  expect_error(distinguishable(g0, "quadratic"), "`expert` must be one of")
  expect_error(distinguishable(g0, c("linear", "tanh")), "`expert`")
  expect_error(distinguishable(g0, 1), "`expert`")
  expect_error(distinguishable(list(family = "gaussian"), "linear"),
               "`pretrained` must be made by pretrained_model\\(\\), not a list")
  expect_error(distinguishable(cmoe_params(0.3, c(1, 0), 1)), "`pretrained`")
  expect_error(distinguishable("gaussian"), "`pretrained`")
})

test_that("an edited verdict is refused when printed", {
  verdict <- distinguishable(pretrained_model("gaussian", eta0 = c(2, 0), nu0 = 1))
  no_reason <- verdict
  attr(no_reason, "reason") <- NULL
  expect_error(print(no_reason), "^`x` must be a result of distinguishable\\(\\)")
  expect_error(print(structure(c(TRUE, FALSE), reason = "r", class = "cmoe_distinguishability")),
               "^`x` must be a result")
})
