# The bad-input table of the contaminated mixture of experts and of the
# rate-study exports it runs on: every case is a call and the class of its
# outcome, either an error whose message names the argument (backquoted) and
# carries no text from the machinery underneath, or a finite valid result.
# Cases whose counts exceed the integer range (1e10) rely on check_count()
# refusing them.

forbidden_words <- c("internal", "Rcpp", "Eigen", "LAPACK", "Lapack", "chol", "solve",
                     "subscript")

error_case <- function(call, arg) list(call = call, arg = arg)

# `check` says what a valid value is (finite by default); `warning` is a
# pattern every warning of the call must match (none is allowed without it).
valid_case <- function(call, check = finite_result, warning = NULL) {
  list(call = call, arg = NULL, check = check, warning = warning)
}

# Every number in the value is finite: for a fit its estimates,
# log-likelihood and posterior; for lists, every numeric element.
finite_result <- function(value) {
  if (inherits(value, "cmoe_fit")) {
    return(all(is.finite(coef(value))) && is.finite(value$loglik) &&
             all(is.finite(value$posterior)))
  }
  if (is.numeric(value)) return(length(value) > 0 && all(is.finite(value)))
  if (is.character(value)) return(length(value) > 0)
  if (is.logical(value)) return(length(value) == 1)
  if (is.list(value)) {
    return(all(vapply(value, function(e) {
      is.null(e) || is.function(e) || is.language(e) || is.environment(e) || finite_result(e)
    }, logical(1))))
  }
  FALSE
}

# Finite where defined: the entries of an aliased slope are NA by design.
finite_or_aliased <- function(value) {
  value <- as.matrix(value)
  all(is.finite(value[-3, -3])) && all(is.na(value[3, ])) && all(is.na(value[, 3]))
}

study_result <- function(value) {
  inherits(value, "rate_study") && nrow(value$results) > 0 &&
    all(is.finite(value$results$value))
}

with_null_device <- function(expr) {
  grDevices::pdf(NULL)
  on.exit(grDevices::dev.off())
  expr
}

run_case <- function(case, env) {
  label <- paste(deparse(case$call, width.cutoff = 200L), collapse = " ")
  warnings <- character(0)
  outcome <- withCallingHandlers(
    tryCatch(list(value = eval(case$call, env)), error = function(e) e),
    warning = function(w) {
      warnings <<- c(warnings, conditionMessage(w))
      invokeRestart("muffleWarning")
    })
  if (!is.null(case$arg)) {
    expect_s3_class(outcome, "error")
    message <- if (inherits(outcome, "error")) conditionMessage(outcome) else ""
    expect_true(grepl(paste0("`", case$arg, "`"), message, fixed = TRUE),
                label = paste0(label, " names `", case$arg, "` (message: ", message, ")"))
    for (word in forbidden_words) {
      expect_false(grepl(word, message, fixed = TRUE),
                   label = paste0(label, " has no \"", word, "\" in its message"))
    }
    return(invisible())
  }
  expect_false(inherits(outcome, "error"),
               label = paste0(label, " is valid (error: ",
                              if (inherits(outcome, "error")) conditionMessage(outcome), ")"))
  if (inherits(outcome, "error")) return(invisible())
  expect_true(case$check(outcome$value), label = paste(label, "gives a finite valid result"))
  expected <- if (is.null(case$warning)) character(0) else case$warning
  if (length(expected) == 0) {
    expect_identical(warnings, character(0), label = paste(label, "warnings"))
  } else {
    expect_true(length(warnings) > 0 && all(grepl(expected, warnings)),
                label = paste(label, "warns as expected"))
  }
}

test_that("every cmoe export and method: clear errors naming the argument, or finite results", {
  set.seed(20)
  lap <- pretrained_model("laplace", eta0 = c(2, 0), nu0 = 1)
  gau <- pretrained_model("gaussian", eta0 = c(2, 0), nu0 = 1)
  lap2 <- pretrained_model("laplace", eta0 = c(1, -1, 0), nu0 = 1)
  truth <- cmoe_params(0.3, c(-1, 1), 0.5)
  sim <- rcmoe(400, truth, lap)
  x <- sim$x
  y <- sim$y
  z <- stats::rnorm(400)
  fit <- fit_cmoe(x, y, lap)
  aliased_fit <- suppressWarnings(fit_cmoe(cbind(x, x), y, lap2))
  own <- function(logdensity, ...) pretrained_model(logdensity = logdensity, ...)
  normal_ld <- function(x, y) stats::dnorm(y, log = TRUE)
  # an object with one field replaced (NULL removes it)
  edit <- function(object, field, value) {
    object[field] <- list(value)
    if (is.null(value)) object[[field]] <- NULL
    object
  }
  edit_fit <- function(part, field, value) {
    f <- fit
    f[[part]] <- edit(f[[part]], field, value)
    f
  }
  # the pre-trained model in units of x scaled by s_x and of y by s_y
  scaled_lap <- function(sx = 1, sy = 1) {
    pretrained_model("laplace", eta0 = c(2 * sy / sx, 0), nu0 = sy^2)
  }
  ctl <- cmoe_control()
  sc <- cmoe_scenario("merging")
  verdict <- distinguishable(gau)
  sim_fn <- function(n) stats::rnorm(n)
  fit_fn <- function(data, n) mean(data)
  metrics_fn <- function(fit, n) c(error = abs(fit))
  study <- rate_study(sim_fn, fit_fn, metrics_fn, n = c(20, 40, 80), reps = 3, seed = 1)
  frame <- data.frame(dose = x[, 1], resp = y, g = factor(rep(c("a", "b"), 200)),
                      w = rep(1:2, 200), z = z)
  frame$resp[5] <- NA
  formula_fit <- fit_cmoe(resp ~ dose, frame, lap)
  test <- prompt_test(fit, B = 5)

  cases <- list(
    # cmoe_params()
    error_case(quote(cmoe_params(0, c(1, 0), 1)), "lambda"),
    error_case(quote(cmoe_params(1, c(1, 0), 1)), "lambda"),
    error_case(quote(cmoe_params(NA, c(1, 0), 1)), "lambda"),
    error_case(quote(cmoe_params("0.3", c(1, 0), 1)), "lambda"),
    error_case(quote(cmoe_params(c(0.2, 0.3), c(1, 0), 1)), "lambda"),
    error_case(quote(cmoe_params(0.3, 1, 1)), "eta"),
    error_case(quote(cmoe_params(0.3, c(1, NaN), 1)), "eta"),
    error_case(quote(cmoe_params(0.3, c(1, 0), 0)), "nu"),
    error_case(quote(cmoe_params(0.3, c(1, 0), Inf)), "nu"),
    error_case(quote(cmoe_params(0.3, c(1, 0), 1e-320)), "nu"),
    error_case(quote(cmoe_params(0.3, c(1, 0), 1, expert = "relu")), "expert"),
    valid_case(quote(cmoe_params(0.3, c(1e300, -1e300), 1e300))),
    # print methods, also of objects edited by hand
    valid_case(quote(capture.output(print(truth)))),
    error_case(quote(print(edit(truth, "lambda", 2))), "x"),
    error_case(quote(print(edit(truth, "eta", "a"))), "x"),
    valid_case(quote(capture.output(print(lap)))),
    error_case(quote(print(edit(lap, "family", NULL))), "x"),
    valid_case(quote(capture.output(print(ctl)))),
    error_case(quote(print(edit(ctl, "tol", -1))), "x"),
    valid_case(quote(capture.output(print(sc)))),
    error_case(quote(print(edit(sc, "truth", function(n) 1))), "x"),
    valid_case(quote(capture.output(print(verdict)))),
    error_case(quote(print(structure(c(TRUE, FALSE), class = "cmoe_distinguishability"))), "x"),
    # pretrained_model()
    error_case(quote(pretrained_model("cauchy", eta0 = c(1, 0), nu0 = 1)), "family"),
    error_case(quote(pretrained_model("laplace", expert = "relu", eta0 = c(1, 0), nu0 = 1)), "expert"),
    error_case(quote(pretrained_model("laplace", nu0 = 1)), "eta0"),
    error_case(quote(pretrained_model("laplace", eta0 = 1, nu0 = 1)), "eta0"),
    error_case(quote(pretrained_model("laplace", eta0 = c(1, NA), nu0 = 1)), "eta0"),
    error_case(quote(pretrained_model("laplace", eta0 = c(1, 0), nu0 = 0)), "nu0"),
    error_case(quote(pretrained_model("laplace", eta0 = c(1, 0), nu0 = 1e-320)), "nu0"),
    error_case(quote(pretrained_model("student", eta0 = c(1, 0), nu0 = 1)), "df"),
    error_case(quote(pretrained_model("laplace", eta0 = c(1, 0), nu0 = 1, df = 3)), "df"),
    error_case(quote(pretrained_model(logdensity = "dnorm")), "logdensity"),
    error_case(quote(pretrained_model("laplace", logdensity = normal_ld)), "logdensity"),
    error_case(quote(pretrained_model(logdensity = normal_ld, simulate = 1)), "simulate"),
    # objects edited by hand, where they enter
    error_case(quote(dcmoe(x, y, edit(truth, "lambda", 2), lap)), "params"),
    error_case(quote(dcmoe(x, y, edit(truth, "lamda", 0.5), lap)), "params"),
    error_case(quote(fit_cmoe(x, y, lap, init = edit(truth, "nu", -1))), "init"),
    error_case(quote(rcmoe(10, edit(truth, "expert", "relu"), lap)), "params"),
    error_case(quote(dcmoe(x, y, truth, edit(lap, "nu0", NA))), "pretrained"),
    error_case(quote(dcmoe(x, y, truth, edit(lap, "eta0", c(1, 2, 0)))), "pretrained"),
    error_case(quote(fit_cmoe(x, y, edit(lap, "nu", 2))), "pretrained"),
    error_case(quote(fit_cmoe(x, y, edit(own(normal_ld), "logdensity", 1))), "pretrained"),
    error_case(quote(fit_cmoe(x, y, lap, control = edit(ctl, "accelerate", "Squarem"))), "control"),
    error_case(quote(fit_cmoe(x, y, lap, control = edit(ctl, "maxiter", 10))), "control"),
    error_case(quote(fit_cmoe(x, y, lap, control = edit(ctl, "max_iter", 1e10))), "max_iter"),
    error_case(quote(coef(edit_fit("params", "nu", -1))), "object"),
    error_case(quote(predict(edit_fit("params", "lambda", 0.5), 0)), "object"),
    error_case(quote(logLik(edit(fit, "loglik", NaN))), "object"),
    error_case(quote(nobs(edit(fit, "x", x[1:10, , drop = FALSE]))), "object"),
    error_case(quote(fitted(edit_fit("pretrained", "nu0", 2))), "object"),
    error_case(quote(residuals(edit(fit, "y", y * 2))), "object"),
    error_case(quote(vcov(edit_fit("control", "accelerate", "Squarem"))), "object"),
    error_case(quote(summary(edit(fit, "posterior", NULL))), "object"),
    error_case(quote(simulate(edit(fit, "logf0", rep(NaN, 400)))), "object"),
    error_case(quote(print(edit(fit, "params", NULL))), "x"),
    error_case(quote(plot(edit_fit("params", "eta", c(1, 2, 3)))), "x"),
    error_case(quote(is_degenerate(edit(fit, "diagnostics", list()))), "fit"),
    error_case(quote(cmoe_loss(edit_fit("params", "lambda", 2), truth)), "estimate"),
    error_case(quote(cmoe_study(edit(sc, "truth", function(n) 1), n = 100, reps = 1)), "scenario"),
    error_case(quote(cmoe_study(edit(sc, "power", 0.2), n = 100, reps = 1)), "scenario"),
    error_case(quote(cmoe_study(edit(sc, "pretrained", lap), n = 100, reps = 1)), "scenario"),
    # fit_cmoe()
    error_case(quote(fit_cmoe(x, y[-1], lap)), "y"),
    error_case(quote(fit_cmoe(replace(x, 3, NA), y, lap)), "x"),
    error_case(quote(fit_cmoe(x, replace(y, 3, Inf), lap)), "y"),
    error_case(quote(fit_cmoe(letters[1:20], y[1:20], lap)), "x"),
    error_case(quote(fit_cmoe(x, as.character(y), lap)), "y"),
    error_case(quote(fit_cmoe(x, rep(2, 400), lap)), "y"),
    error_case(quote(fit_cmoe(x[1:3, , drop = FALSE], y[1:3], lap)), "x"),
    error_case(quote(fit_cmoe(cbind(x, z), y, lap)), "x"),
    error_case(quote(fit_cmoe(x, y, list(family = "laplace"))), "pretrained"),
    error_case(quote(fit_cmoe(x, y, lap, expert = "relu")), "expert"),
    error_case(quote(fit_cmoe(x, y, lap, init = list(lambda = 0.3))), "init"),
    error_case(quote(fit_cmoe(x, y, lap, expert = "tanh", init = truth)), "init"),
    error_case(quote(fit_cmoe(x, y, lap, n_starts = 0)), "n_starts"),
    error_case(quote(fit_cmoe(x, y, lap, n_starts = 1e10)), "n_starts"),
    error_case(quote(fit_cmoe(x, y, lap, control = list(max_iter = 10))), "control"),
    error_case(quote(fit_cmoe(x, y, lap, verbose = "yes")), "verbose"),
    valid_case(quote(fit_cmoe(data.frame(a = x[, 1]), y, lap, n_starts = 3))),
    error_case(quote(fit_cmoe(x, y)), "pretrained"),
    # case weights, and the formula interface's arguments on the default method
    error_case(quote(fit_cmoe(x, y, lap, weights = -rep(1, 400))), "weights"),
    error_case(quote(fit_cmoe(x, y, lap, weights = rep(0, 400))), "weights"),
    error_case(quote(fit_cmoe(x, y, lap, weights = c(1, 2))), "weights"),
    error_case(quote(fit_cmoe(x, y, lap, weights = rep(NA, 400))), "weights"),
    error_case(quote(fit_cmoe(x, y, lap, weights = rep(Inf, 400))), "weights"),
    error_case(quote(fit_cmoe(x, y, lap, weights = as.character(rep(1, 400)))), "weights"),
    error_case(quote(fit_cmoe(x, y, lap, weights = matrix(1, 400, 1))), "weights"),
    valid_case(quote(fit_cmoe(x, y, lap, weights = rep(c(0.5, 2), 200)))),
    error_case(quote(fit_cmoe(x, y, lap, subset = 1:10)), "subset"),
    error_case(quote(fit_cmoe(x, y, lap, na.action = na.omit)), "na.action"),
    error_case(quote(fit_cmoe(x, y, lap, 1, 2, 3, 4, 5, 6, 7)), "..."),
    # the formula interface
    valid_case(quote(coef(fit_cmoe(resp ~ dose, frame, lap)))),
    valid_case(quote(coef(fit_cmoe(resp ~ dose, frame, lap, subset = dose > -2, weights = w,
                                   na.action = na.exclude)))),
    error_case(quote(fit_cmoe(resp ~ g, frame, lap)), "x"),
    error_case(quote(fit_cmoe(resp ~ dose - 1, frame, lap)), "x"),
    error_case(quote(fit_cmoe(resp ~ dose + offset(z), frame, lap)), "x"),
    error_case(quote(fit_cmoe(~ dose, frame, lap)), "x"),
    error_case(quote(fit_cmoe(resp ~ 1, frame, lap)), "x"),
    error_case(quote(fit_cmoe(g ~ dose, frame, lap)), "x"),
    error_case(quote(fit_cmoe(resp ~ dose + z, frame, lap)), "x"),
    error_case(quote(fit_cmoe(resp ~ nowhere, frame, lap)), "data"),
    error_case(quote(fit_cmoe(resp ~ dose, frame, lap, subset = nowhere > 0)), "data"),
    error_case(quote(fit_cmoe(resp ~ dose, frame, lap, na.action = na.fail)), "na.action"),
    error_case(quote(fit_cmoe(resp ~ dose, frame, lap, weights = g)), "weights"),
    error_case(quote(fit_cmoe(resp ~ dose, frame, lap, weights = w - 1)), "weights"),
    error_case(quote(fit_cmoe(resp ~ dose, frame, lap, starts = 2)), "starts"),
    error_case(quote(fit_cmoe(resp ~ dose, frame)), "pretrained"),
    error_case(quote(predict(formula_fit, data.frame(amount = 1))), "newdata"),
    error_case(quote(predict(formula_fit, data.frame(dose = factor("a")))), "newdata"),
    error_case(quote(predict(formula_fit, data.frame(dose = NA_real_))), "newdata"),
    valid_case(quote(predict(formula_fit, data.frame(dose = 1:3, resp = 0), type = "posterior"))),
    valid_case(quote(fit_cmoe(x, y, lap, expert = "sigmoid"))),
    # a user's log-density, simulator and mean
    error_case(quote(fit_cmoe(x, y, own(function(x, y) stop("no model here")))), "logdensity"),
    error_case(quote(fit_cmoe(x, y, own(function(x, y) rep(NaN, length(y))))), "logdensity"),
    error_case(quote(fit_cmoe(x, y, own(function(x, y) 0))), "logdensity"),
    error_case(quote(fit_cmoe(x, y, own(function(x, y) rep("a", length(y))))), "logdensity"),
    error_case(quote(fit_cmoe(x, y, own(function(x, y) as.list(y)))), "logdensity"),
    error_case(quote(fit_cmoe(x, y, own(function(x, y) rep(Inf, length(y))))), "logdensity"),
    error_case(quote(dcmoe(x, y, truth, own(function(x, y) stop("no model here")))), "logdensity"),
    error_case(quote(rcmoe(10, truth, own(normal_ld))), "pretrained"),
    error_case(quote(rcmoe(10, truth, own(normal_ld, simulate = function(x) stop("none")))), "simulate"),
    error_case(quote(rcmoe(10, truth, own(normal_ld, simulate = function(x) 1))), "simulate"),
    error_case(quote(fitted(fit_cmoe(x, y, own(normal_ld, mean = function(x) stop("none"))))), "mean"),
    error_case(quote(predict(fit_cmoe(x, y, own(normal_ld, mean = function(x) NaN)), 0)), "mean"),
    valid_case(quote(fit_cmoe(x, y, own(function(x, y) ifelse(abs(y) > 3, -Inf, normal_ld(x, y)))))),
    # collinear, duplicated and constant covariates: slopes held at 0
    valid_case(quote(fit_cmoe(cbind(x, x), y, lap2)), warning = "not identified"),
    valid_case(quote(fit_cmoe(cbind(x, 2 * x), y, lap2)), warning = "not identified"),
    valid_case(quote(fit_cmoe(data.frame(a = x[, 1], b = x[, 1]), y, lap2)), warning = "not identified"),
    valid_case(quote(fit_cmoe(cbind(x, 5), y, lap2)), warning = "not identified"),
    valid_case(quote(vcov(aliased_fit)), check = finite_or_aliased),
    valid_case(quote(capture.output(summary(aliased_fit)))),
    valid_case(quote(predict(aliased_fit, cbind(1:3, 1:3)))),
    # extreme scales and predictions far outside the data
    error_case(quote(fit_cmoe(x, y * 1e300, lap)), "y"),
    error_case(quote(fit_cmoe(x, y * 1e-300, lap)), "y"),
    error_case(quote(fit_cmoe(x, y * 1e160, scaled_lap(sy = 1e150), expert = "tanh")), "y"),
    valid_case(quote(fit_cmoe(x * 1e300, y, scaled_lap(sx = 1e300)))),
    valid_case(quote(fit_cmoe(x * 1e-300, y, scaled_lap(sx = 1e-300)))),
    valid_case(quote(fit_cmoe(x, y * 1e150, scaled_lap(sy = 1e150)))),
    valid_case(quote(fit_cmoe(x, y * 1e-150, scaled_lap(sy = 1e-150)))),
    valid_case(quote(fit_cmoe(cbind(x * 1e8, z * 1e-8), y,
                              pretrained_model("laplace", eta0 = c(2e-8, 0, 0), nu0 = 1)))),
    valid_case(quote(summary(fit_cmoe(x, y * 1e100, scaled_lap(sy = 1e100)))$coefficients[c("estimate", "std_error", "upper")])),
    error_case(quote(vcov(fit_cmoe(x, y * 1e100, scaled_lap(sy = 1e100)))), "object"),
    valid_case(quote(dcmoe(c(0, 0, 1e300), c(1e300, -1e300, 0), truth, gau))),
    valid_case(quote(predict(fit, c(1e300, -1e300)))),
    valid_case(quote(predict(fit, c(1e300, -1e300), type = "posterior", y = c(0, 0)))),
    valid_case(quote(predict(fit_cmoe(x, y, gau), c(0, 0), type = "posterior",
                             y = c(1e300, -1e300)))),
    valid_case(quote(predict(fit, 1e300, type = "density", y = 1e300))),
    error_case(quote(predict(fit, 1.7e308)), "newdata"),
    valid_case(quote(rcmoe(10, truth, lap, x = rep(1e300, 10))$y)),
    error_case(quote(rcmoe(10, cmoe_params(0.99, c(1e308, 1), 1), lap, x = rep(10, 10))), "params"),
    # rcmoe() and dcmoe()
    error_case(quote(rcmoe(0, truth, lap)), "n"),
    error_case(quote(rcmoe(-1, truth, lap)), "n"),
    error_case(quote(rcmoe(1.5, truth, lap)), "n"),
    error_case(quote(rcmoe(NA, truth, lap)), "n"),
    error_case(quote(rcmoe(1e10, truth, lap)), "n"),
    error_case(quote(rcmoe(10, unclass(truth), lap)), "params"),
    error_case(quote(rcmoe(10, truth, unclass(lap))), "pretrained"),
    error_case(quote(rcmoe(10, truth, lap, x = 1:5)), "x"),
    error_case(quote(rcmoe(10, truth, lap2)), "pretrained"),
    error_case(quote(dcmoe(replace(x, 1, NA), y, truth, lap)), "x"),
    error_case(quote(dcmoe(x, y[1:3], truth, lap)), "y"),
    error_case(quote(dcmoe(x, y, truth, lap, log = NA)), "log"),
    valid_case(quote(dcmoe(x, y, truth, lap, log = TRUE))),
    # cmoe_control()
    error_case(quote(cmoe_control(max_iter = -1)), "max_iter"),
    error_case(quote(cmoe_control(max_iter = 1e10)), "max_iter"),
    error_case(quote(cmoe_control(tol = NA)), "tol"),
    error_case(quote(cmoe_control(tol = -1)), "tol"),
    error_case(quote(cmoe_control(accelerate = "fast")), "accelerate"),
    error_case(quote(cmoe_control(mstep_iter = 0)), "mstep_iter"),
    error_case(quote(cmoe_control(mstep_iter = 1e10)), "mstep_iter"),
    error_case(quote(cmoe_control(lambda_bound = 0.5)), "lambda_bound"),
    error_case(quote(cmoe_control(lambda_bound = 1e-20)), "lambda_bound"),
    error_case(quote(cmoe_control(var_floor = 1)), "var_floor"),
    # the S3 methods of a fit
    valid_case(quote(capture.output(print(fit)))),
    valid_case(quote(summary(fit)$coefficients[c("estimate", "std_error", "upper")])),
    valid_case(quote(summary(fit, test = test)$coefficients[c("estimate", "std_error", "lower", "upper")])),
    valid_case(quote(capture.output(print(summary(fit, test = test))))),
    error_case(quote(summary(fit, test = 0.05)), "test"),
    error_case(quote(summary(aliased_fit, test = test)), "test"),
    error_case(quote(summary(fit, correlation = TRUE)), "correlation"),
    valid_case(quote(confint(fit, test = test))),
    valid_case(quote(confint(fit, c("b", "nu")))),
    error_case(quote(confint(fit, "kappa")), "parm"),
    error_case(quote(confint(fit, level = 0)), "level"),
    error_case(quote(confint(fit, method = "boot")), "method"),
    # a method's arguments: any other is an error, never silently dropped
    error_case(quote(coef(fit, complete = TRUE)), "complete"),
    error_case(quote(vcov(fit, complete = TRUE)), "complete"),
    error_case(quote(logLik(fit, REML = TRUE)), "REML"),
    error_case(quote(nobs(fit, use.fallback = TRUE)), "use.fallback"),
    error_case(quote(fitted(fit, type = "mean")), "type"),
    valid_case(quote(residuals(fit, type = "pearson"))),
    error_case(quote(residuals(fit, type = "deviance")), "type"),
    error_case(quote(residuals(fit_cmoe(x, y, own(normal_ld, mean = function(x) 0 * x[, 1])),
                               type = "pearson")), "type"),
    error_case(quote(residuals(fit, "pearson", 1)), "..."),
    error_case(quote(simulate(fit, nsim = 1, seed = 1, newdata = x)), "newdata"),
    error_case(quote(predict(fit, c(0, 1), se.fit = TRUE)), "se.fit"),
    error_case(quote(predict(fit, c(0, 1), interval = "prediction")), "interval"),
    error_case(quote(predict(fit, c(0, 1), type = "prompt", y = c(1, 2))), "y"),
    error_case(quote(with_null_device(plot(fit, xlab = "dose"))), "xlab"),
    error_case(quote(with_null_device(plot(fit, which = "gates"))), "which"),
    error_case(quote(with_null_device(plot(fit, labels = c(dose = "d")))), "labels"),
    error_case(quote(with_null_device(plot(fit, "data", NULL, 3))), "..."),
    valid_case(quote(with_null_device(plot(fit, which = c("data", "fitted", "index", "trace"),
                                           labels = c(y = "response"), las = 1)))),
    valid_case(quote(with_null_device(plot(formula_fit)))),
    # prompt_test()
    valid_case(quote(prompt_test(fit, B = 3))),
    error_case(quote(prompt_test(fit, B = 0)), "B"),
    error_case(quote(prompt_test(fit, B = 1e10)), "B"),
    error_case(quote(prompt_test(fit, B = NA)), "B"),
    error_case(quote(prompt_test(fit, n_starts = 0)), "n_starts"),
    error_case(quote(prompt_test(fit, n_starts = "2")), "n_starts"),
    error_case(quote(prompt_test(list())), "fit"),
    error_case(quote(prompt_test(edit_fit("params", "nu", -1))), "fit"),
    error_case(quote(prompt_test(fit_cmoe(x, y, own(normal_ld)), B = 3)), "fit"),
    error_case(quote(prompt_test(fit_cmoe(x, y, own(normal_ld, simulate = function(x) stop("none"))),
                                 B = 3)), "simulate"),
    error_case(quote(summary(fit, level = 2)), "level"),
    error_case(quote(summary(fit, level = NA)), "level"),
    valid_case(quote(coef(fit))),
    valid_case(quote(vcov(fit))),
    valid_case(quote(logLik(fit))),
    valid_case(quote(c(AIC(fit), BIC(fit)))),
    valid_case(quote(nobs(fit))),
    valid_case(quote(fitted(fit))),
    valid_case(quote(residuals(fit))),
    valid_case(quote(simulate(fit, nsim = 2, seed = 1))),
    error_case(quote(simulate(fit, nsim = 0)), "nsim"),
    error_case(quote(simulate(fit, nsim = 1e10)), "nsim"),
    error_case(quote(simulate(fit, seed = "a")), "seed"),
    valid_case(quote(predict(fit, c(-1, 0, 1), type = "prompt"))),
    valid_case(quote(predict(fit, c(-1, 0, 1), type = "posterior", y = c(1, 0, -1)))),
    error_case(quote(predict(fit, c(-1, 0, 1), type = "weight")), "type"),
    error_case(quote(predict(fit, cbind(1:3, 1:3))), "newdata"),
    error_case(quote(predict(fit, c(-1, 0, 1), type = "density")), "y"),
    error_case(quote(predict(fit, c(-1, 0, 1), type = "density", y = c(0, NaN, 1))), "y"),
    valid_case(quote(with_null_device(plot(fit)))),
    error_case(quote(with_null_device(plot(fit, which = 3))), "which"),
    error_case(quote(with_null_device(plot(fit, which = c("data", "data")))), "which"),
    valid_case(quote(is_degenerate(fit))),
    error_case(quote(is_degenerate(list())), "fit"),
    # cmoe_loss() and distinguishable()
    valid_case(quote(cmoe_loss(fit, truth)[c("lambda", "eta", "nu", "prompt")])),
    error_case(quote(cmoe_loss(list(), truth)), "estimate"),
    error_case(quote(cmoe_loss(fit, unclass(truth))), "truth"),
    error_case(quote(cmoe_loss(fit, cmoe_params(0.3, c(1, 1, 0), 1))), "truth"),
    error_case(quote(cmoe_loss(truth, truth, pretrained = 1)), "pretrained"),
    valid_case(quote(cmoe_loss(cmoe_params(0.3, c(1e300, 1), 1), cmoe_params(0.3, c(-1e300, 1), 1))[1:5])),
    valid_case(quote(distinguishable(lap, "tanh"))),
    error_case(quote(distinguishable(list(family = "gaussian"))), "pretrained"),
    error_case(quote(distinguishable(gau, "relu")), "expert"),
    # cmoe_scenario() and cmoe_study()
    error_case(quote(cmoe_scenario("foo")), "scenario"),
    error_case(quote(cmoe_scenario(5)), "scenario"),
    error_case(quote(cmoe_scenario("merging", power = NA)), "power"),
    error_case(quote(cmoe_scenario("merging", power = 0.3)), "power"),
    error_case(quote(cmoe_scenario("distinguishable", power = 0.1)), "power"),
    error_case(quote(cmoe_study(list())), "scenario"),
    error_case(quote(cmoe_study("merging", start = "x")), "start"),
    error_case(quote(cmoe_study("merging", n_starts = 0)), "n_starts"),
    error_case(quote(cmoe_study("merging", n_starts = 1e10)), "n_starts"),
    error_case(quote(cmoe_study("merging", control = list())), "control"),
    error_case(quote(cmoe_study(sc, power = 0.1)), "power"),
    error_case(quote(cmoe_study("merging", n = -1, reps = 1)), "n"),
    error_case(quote(cmoe_study("merging", n = 100, reps = 0)), "reps"),
    error_case(quote(cmoe_study("merging", n = 100, reps = 1e10)), "reps"),
    error_case(quote(cmoe_study("merging", n = 100, reps = 1, seed = "a")), "seed"),
    valid_case(quote(cmoe_study("distinguishable", n = c(300, 600), reps = 2, seed = 1)),
               check = study_result),
    # the rate-study engine
    error_case(quote(rate_study(1, fit_fn, metrics_fn, n = c(10, 20), reps = 2)), "simulate"),
    error_case(quote(rate_study(sim_fn, "mean", metrics_fn, n = c(10, 20), reps = 2)), "fit"),
    error_case(quote(rate_study(sim_fn, fit_fn, NULL, n = c(10, 20), reps = 2)), "metrics"),
    error_case(quote(rate_study(sim_fn, fit_fn, metrics_fn, n = -1, reps = 2)), "n"),
    error_case(quote(rate_study(sim_fn, fit_fn, metrics_fn, n = 1.5, reps = 2)), "n"),
    error_case(quote(rate_study(sim_fn, fit_fn, metrics_fn, n = 1e10, reps = 2)), "n"),
    error_case(quote(rate_study(sim_fn, fit_fn, metrics_fn, n = NA, reps = 2)), "n"),
    error_case(quote(rate_study(sim_fn, fit_fn, metrics_fn, n = c(10, 20), reps = 0)), "reps"),
    error_case(quote(rate_study(sim_fn, fit_fn, metrics_fn, n = c(10, 20), reps = 1e10)), "reps"),
    error_case(quote(rate_study(sim_fn, fit_fn, metrics_fn, n = c(10, 20), reps = 2, seed = "a")), "seed"),
    valid_case(quote(rate_study(sim_fn, fit_fn, metrics_fn, n = c(10, 20), reps = 2, seed = 1)),
               check = study_result),
    error_case(quote(as_rate_study(data.frame(n = 1:3, value = 1:3))), "x"),
    valid_case(quote(as_rate_study(study$results)), check = study_result),
    error_case(quote(rate_slopes(study, metrics = "nope")), "metrics"),
    error_case(quote(rate_slopes(study, level = 2)), "level"),
    valid_case(quote(rate_slopes(study)[c("slope", "se")]))
  )
  expect_gte(length(cases), 60)
  env <- environment()
  for (case in cases) run_case(case, env)
})

test_that("the gate's and the intercept's arguments: clear errors naming the argument", {
  set.seed(21)
  lap <- pretrained_model("laplace", eta0 = c(2, 0), nu0 = 1)
  lap2 <- pretrained_model("laplace", eta0 = c(1, -1, 0), nu0 = 1)
  gated <- cmoe_params(eta = c(-1, 1), nu = 0.5, gate = "sigmoid", beta = 1, tau = 0)
  sim <- rcmoe(300, gated, lap)
  x <- sim$x
  y <- sim$y
  fit <- fit_cmoe(x, y, lap, gate = "sigmoid", init = gated)
  edit <- function(object, field, value) {
    object[field] <- list(value)
    object
  }
  cases <- list(
    error_case(quote(cmoe_params(eta = c(1, 0), nu = 1, gate = "softmax", beta = 1, tau = 0)), "gate"),
    error_case(quote(cmoe_params(eta = c(1, 0), nu = 1, gate = c("sigmoid", "constant"))), "gate"),
    error_case(quote(cmoe_params(eta = c(1, 0), nu = 1, gate = NA)), "gate"),
    error_case(quote(cmoe_params(eta = c(1, 0), nu = 1, gate = "sigmoid", tau = 0)), "beta"),
    error_case(quote(cmoe_params(eta = c(1, 0), nu = 1, gate = "sigmoid", beta = 1)), "tau"),
    error_case(quote(cmoe_params(eta = c(1, 0), nu = 1, gate = "sigmoid", beta = c(1, 2), tau = 0)), "beta"),
    error_case(quote(cmoe_params(eta = c(1, 0, 0), nu = 1, gate = "sigmoid", beta = 1, tau = 0)), "beta"),
    error_case(quote(cmoe_params(eta = c(1, 0), nu = 1, gate = "sigmoid", beta = NA, tau = 0)), "beta"),
    error_case(quote(cmoe_params(eta = c(1, 0), nu = 1, gate = "sigmoid", beta = 1, tau = c(0, 1))), "tau"),
    error_case(quote(cmoe_params(eta = c(1, 0), nu = 1, gate = "sigmoid", beta = 1, tau = Inf)), "tau"),
    error_case(quote(cmoe_params(eta = c(1, 0), nu = 1, gate = "sigmoid", beta = "1", tau = 0)), "beta"),
    error_case(quote(cmoe_params(0.3, eta = c(1, 0), nu = 1, gate = "sigmoid", beta = 1, tau = 0)), "lambda"),
    error_case(quote(cmoe_params(0.3, eta = c(1, 0), nu = 1, beta = 1)), "beta"),
    error_case(quote(cmoe_params(0.3, eta = c(1, 0), nu = 1, tau = 1)), "tau"),
    error_case(quote(cmoe_params(eta = c(1, 0), nu = 1)), "lambda"),
    error_case(quote(cmoe_params(0.3, eta = numeric(0), nu = 1, intercept = FALSE)), "eta"),
    error_case(quote(cmoe_params(0.3, eta = 1, nu = 1, intercept = NA)), "intercept"),
    error_case(quote(cmoe_params(0.3, eta = 1, nu = 1, intercept = "no")), "intercept"),
    error_case(quote(cmoe_params(0.3, nu = 1)), "eta"),
    error_case(quote(print(edit(gated, "beta", c(1, 2)))), "x"),
    error_case(quote(print(edit(gated, "gate", "softmax"))), "x"),
    error_case(quote(fit_cmoe(x, y, lap, gate = "softmax")), "gate"),
    error_case(quote(fit_cmoe(x, y, lap, gate = 1)), "gate"),
    error_case(quote(fit_cmoe(x, y, lap, intercept = NA)), "intercept"),
    error_case(quote(fit_cmoe(x, y, lap, init = gated)), "init"),
    error_case(quote(fit_cmoe(x, y, lap, gate = "sigmoid", intercept = FALSE, init = gated)), "init"),
    error_case(quote(fit_cmoe(cbind(x, x), y, lap2, gate = "sigmoid", init = gated)), "init"),
    error_case(quote(dcmoe(x, y, edit(gated, "tau", NA), lap)), "params"),
    error_case(quote(rcmoe(10, edit(gated, "beta", "a"), lap)), "params"),
    error_case(quote(prompt_test(fit, B = 5)), "fit"),
    error_case(quote(cmoe_loss(fit, cmoe_params(0.3, c(-1, 1), 0.5))), "truth"),
    error_case(quote(distinguishable(lap, "linear", gate = "softmax")), "gate"),
    error_case(quote(distinguishable(lap, "linear", intercept = 2)), "intercept"),
    error_case(quote(predict(fit, c(-1, 0), type = "weight")), "type"),
    error_case(quote(cmoe_control(gate_bound = 0)), "gate_bound"),
    error_case(quote(cmoe_control(gate_bound = -1)), "gate_bound"),
    error_case(quote(cmoe_control(gate_bound = NA)), "gate_bound"),
    error_case(quote(cmoe_control(gate_bound = c(1, 2))), "gate_bound"),
    valid_case(quote(fit_cmoe(x, y, lap, gate = "sigmoid", n_starts = 2))),
    valid_case(quote(fit_cmoe(x, y, lap, gate = "sigmoid", intercept = FALSE))),
    valid_case(quote(predict(fit, c(-1, 0), type = "gate"))),
    valid_case(quote(vcov(fit))),
    valid_case(quote(cmoe_loss(fit, gated)), check = function(v) all(is.finite(v[1:6])) && all(is.na(v[7:8])))
  )
  env <- environment()
  for (case in cases) run_case(case, env)
})
