# Every public entry point rejects bad input with an R error that names the
# argument; none lets a C++ exception or a crash through.
test_that("bad input gets an error naming the argument", {
  set.seed(1)
  p <- gmoe_paper_truth(1)
  sim <- rgmoe(50, p)
  x <- sim$x
  y <- sim$y
  G2 <- array(c(1, 0.5, 0.2, 1), c(2, 2, 1))
  cases <- list(
    list(quote(fit_gmoe(x, y[-1], k = 2)), "`y`"),
    list(quote(fit_gmoe(cbind(x, NA), y, k = 2)), "`x`"),
    list(quote(fit_gmoe(x, replace(y, 3, Inf), k = 2)), "`y`"),
    list(quote(fit_gmoe(x, replace(y, 3, NA), k = 2)), "`y`"),
    list(quote(fit_gmoe(letters[1:50], y, k = 2)), "`x`"),
    list(quote(fit_gmoe(x, as.character(y), k = 2)), "`y`"),
    list(quote(fit_gmoe(x, y, k = 0)), "`k`"),
    list(quote(fit_gmoe(x, y, k = 2.5)), "`k`"),
    list(quote(fit_gmoe(x, y, k = 50)), "`k`"),
    list(quote(fit_gmoe(x[1:3, , drop = FALSE], y[1:3], k = 5)), "`k`"),
    list(quote(fit_gmoe(x, y, k = 2, init = "spectral")), "`init`"),
    list(quote(fit_gmoe(x, y, k = 2, init = p)), "`init`"),
    list(quote(fit_gmoe(x, y, k = 2, n_starts = 0)), "`n_starts`"),
    list(quote(fit_gmoe(x, y, k = 2, control = list(max_iter = 3))), "`control`"),
    list(quote(fit_gmoe(rep(1, 50), y, k = 2)), "`x`"),
    list(quote(fit_gmoe(x, rep(1, 50), k = 2)), "`y`"),
    list(quote(gmoe_params(c(0.5, 0.6), 1:2, c(1, 1), 1:2, 1:2, c(1, 1))), "`pi`"),
    list(quote(gmoe_params(c(-0.5, 1.5), 1:2, c(1, 1), 1:2, 1:2, c(1, 1))), "`pi`"),
    list(quote(gmoe_params(c(0.5, 0.5), 1:2, c(1, -1), 1:2, 1:2, c(1, 1))), "`Gamma`"),
    list(quote(gmoe_params(c(0.5, 0.5), 1:2, c(1, 1), 1:2, 1:2, c(1, 0))), "`nu`"),
    list(quote(gmoe_params(c(0.5, 0.5), 1:2, c(1, 1), 1:2, 1:3, c(1, 1))), "`b`"),
    list(quote(gmoe_params(1, c(0, 0), G2, c(1, 1), 0, 1)), "`Gamma`"),
    list(quote(gmoe_params(c(0.5, 0.5), 1:2, matrix(1, 2, 2), 1:2, 1:2, c(1, 1))), "`Gamma`"),
    list(quote(gmoe_params(c(0.5, 0.5), matrix(0, 3, 1), c(1, 1), 1:2, 1:2, c(1, 1))), "`c`"),
    list(quote(gmoe_params(c(0.5, NA), 1:2, c(1, 1), 1:2, 1:2, c(1, 1))), "`pi`"),
    list(quote(gmoe_params(c(0.5, 0.5), c("a", "b"), c(1, 1), 1:2, 1:2, c(1, 1))), "`c`"),
    list(quote(rgmoe(0, p)), "`n`"),
    list(quote(rgmoe(10, list(pi = 1))), "`params`"),
    list(quote(dgmoe(cbind(x, x), y, p)), "`x`"),
    list(quote(dgmoe(x, y[1:3], p)), "`y`"),
    list(quote(dgmoe(x, y, p, log = NA)), "`log`"),
    list(quote(init_near_truth(p, k = 2, n = 100)), "`k`"),
    list(quote(init_near_truth(p, k = 4, n = -1)), "`n`"),
    list(quote(init_near_truth(p, k = 4, n = 100, split = c(2, 2, 1))), "`split`"),
    list(quote(gmoe_paper_truth(5)), "`model`")
  )
  expect_gte(length(cases), 15)
  for (case in cases) {
    err <- tryCatch(eval(case[[1]]), error = function(e) e)
    expect_s3_class(err, "error")
    expect_match(conditionMessage(err), case[[2]], fixed = TRUE,
                 info = deparse(case[[1]]))
    expect_false(inherits(err, "Rcpp::exception"), info = deparse(case[[1]]))
  }
})

test_that("the C++ layer turns inconsistent input into R errors", {
  p <- gmoe_paper_truth(1)
  bad <- unclass(p)
  bad$Gamma[1, 1, 1] <- -1
  bounds <- list(gamma = 1e-8, nu = 1e-8, weight = 1e-10, a_max = Inf, b_shift = 0,
                 b_lo = -Inf, b_hi = Inf)
  expect_error(.gmoe_fit_cpp(matrix(1:4 / 4), 1:4 / 4, bad, 1L, 0, "none", 1L, TRUE, bounds),
               "gate covariance of component 1 is numerically singular")
  bad <- unclass(p)
  bad$nu[2] <- 1e-320
  expect_error(.gmoe_fit_cpp(matrix(1:4 / 4), 1:4 / 4, bad, 1L, 0, "none", 1L, TRUE, bounds),
               "variance of component 2 is not a positive normal number")
  expect_error(.gmoe_fit_cpp(matrix(1:4 / 4), 1:3, p, 1L, 0, "none", 1L, TRUE, bounds),
               "one value per row")
  expect_error(.gmoe_log_density_cpp(matrix(1:4, 2), 1:2, p, "joint", TRUE), "c must be k x d")
})

test_that("counts above the integer range get a clear error, not NA", {
  expect_identical(check_count(.Machine$integer.max, "n"), .Machine$integer.max)
  expect_error(check_count(2^31, "n"), "`n` must be at most 2147483647")
  expect_warning(expect_error(check_count(1e10, "k"), "`k` must be at most"), NA)
  expect_error(check_count(Inf, "k"), "`k` must be a single whole number")
  expect_error(check_count(NA_real_, "k"), "`k` must be a single whole number")
  expect_error(check_count(-1, "k", min = 0), ">= 0")
})

test_that("GMoE objects are rebuilt where they enter, with the constructor's error", {
  p <- gmoe_paper_truth(1)
  q <- p
  q$pi <- c(0.5, 0.6, 0.1)
  expect_error(check_gmoe_params(q, "init"),
               "`init` holds invalid contents: `pi` must sum to 1, not 1.2.", fixed = TRUE)
  q <- p
  q$Gamma[1, 1, 3] <- -0.1
  expect_error(check_gmoe_params(q, "truth"), "`truth` holds invalid contents: `Gamma`")
  expect_error(check_gmoe_params(unclass(p), "params"), "`params` must be a `gmoe_params` object")
  # a valid object comes back as the constructor makes it, with its attributes
  start <- init_near_truth(p, 4, 100)
  expect_identical(attr(check_gmoe_params(start), "true_atom"), attr(start, "true_atom"))

  ctl <- gmoe_control()
  expect_identical(check_gmoe_control(ctl), ctl)
  ctl$accelerate <- "Squarem"
  expect_error(check_gmoe_control(ctl),
               "`control` holds invalid contents: `accelerate` must be \"newton\", \"squarem\" or \"none\".",
               fixed = TRUE)
  ctl <- gmoe_control()
  ctl$maxiter <- 10
  expect_error(check_gmoe_control(ctl), "`control` has unknown setting(s) `maxiter`", fixed = TRUE)
  ctl <- gmoe_control()
  ctl$tol <- NULL
  expect_error(check_gmoe_control(ctl), "`control` lacks the setting(s) `tol`", fixed = TRUE)
  expect_error(check_gmoe_control(list(), "x"), "`x` must be made by gmoe_control()", fixed = TRUE)

  set.seed(3)
  sim <- rgmoe(200, p)
  fit <- fit_gmoe(sim$x, sim$y, 2)
  expect_identical(check_gmoe_fit(fit), fit)
  bad <- fit
  bad$params$nu[1] <- -1
  expect_error(check_gmoe_fit(bad), "`object$params` holds invalid contents: `nu`", fixed = TRUE)
  bad <- fit
  bad$x <- cbind(bad$x, 1)
  expect_error(check_gmoe_fit(bad, "fit"), "`fit$x` must have 1 column", fixed = TRUE)
  bad <- fit
  bad$responsibilities[1, 1] <- 2
  expect_error(check_gmoe_fit(bad), "`object$responsibilities` must be an n x k matrix",
               fixed = TRUE)
  bad <- fit
  bad$control$threads <- 0
  expect_error(check_gmoe_fit(bad), "`object$control` holds invalid contents: `threads`",
               fixed = TRUE)
  expect_error(check_gmoe_fit(unclass(fit)), "`object` must be a `gmoe_fit` object")
})

test_that("what the C++ core refuses in validated input is reported naming the argument", {
  expect_error(gmoe_cpp("init", stop("the gate covariance of component 2 is numerically singular")),
               "`init` cannot be used: the gate covariance of component 2 is numerically singular.",
               fixed = TRUE)
  expect_identical(gmoe_cpp("init", 3), 3)
})
