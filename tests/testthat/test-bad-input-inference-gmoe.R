# The bad-input table of vcov(), confint(), summary(), predict() and
# residuals() of GMoE fits, in the style of test-bad-input-gmoe.R: each case
# is an error whose message names an argument (and shows nothing of the
# layers below R), or a finite result; on both code paths.

inference_cases <- function() {
  set.seed(31)
  truth <- gmoe_params(pi = c(0.4, 0.6), c = c(-1, 1), Gamma = c(0.3, 0.3),
                       a = c(1, -1), b = c(0, 1), nu = c(0.1, 0.2))
  s <- rgmoe(400, truth)
  fit <- fit_gmoe(s$x, s$y, k = 2, init = truth)
  tiny <- fit_gmoe(s$x * 1e-150, s$y * 1e150, k = 2)
  huge <- fit_gmoe(s$x * 1e150, s$y * 1e-150, k = 2)
  s2 <- rgmoe(400, gmoe_paper_truth(3))
  df <- data.frame(u = s2$x[, 1], v = s2$x[, 2], resp = s2$y)
  ffit <- fit_gmoe(resp ~ u + v, data = df, k = 2)
  f_pi <- fit
  f_pi$params$pi <- c(0.5, 0.6)
  f_x <- fit
  f_x$x <- fit$x[-1, , drop = FALSE]
  f_control <- fit
  f_control$control$accelerate <- "Squarem"
  list(env = environment(), cases = list(
    fails(vcov(f_pi), "object$params"),
    fails(confint(f_x), "object$y"),
    fails(confint(f_control, method = "bootstrap", B = 3), "object$control"),
    fails(summary(f_pi), "object$params"),
    fails(predict(f_pi, 0, type = "quantile"), "object$params"),
    fails(residuals(f_x, type = "pearson"), "object$y"),
    fails(vcov(huge), "object"),
    fails(vcov(tiny), "object"),
    fails(confint(fit, "nu"), "parm"),
    fails(confint(fit, c(1, 99)), "parm"),
    fails(confint(fit, level = c(0.9, 0.95)), "level"),
    fails(confint(fit, level = NA), "level"),
    fails(confint(fit, method = c("wald", "bootstrap", "x")), "method"),
    fails(confint(fit, method = "bootstrap", B = 1e10), "B"),
    fails(confint(fit, method = "bootstrap", B = 2.5), "B"),
    fails(confint(fit, method = "bootstrap", B = 3, type = 1), "type"),
    fails(predict(fit, 0, type = "quantile", probs = "half"), "probs"),
    fails(predict(fit, 0, type = "quantile", probs = numeric(0)), "probs"),
    fails(predict(fit, 0, interval = "prediction", level = -1), "level"),
    fails(predict(fit, 0, interval = c("none", "prediction", "tolerance")), "interval"),
    fails(predict(fit, 0, type = "posterior", y = "a"), "y"),
    fails(predict(ffit, data.frame(u = 1, v = 2), type = "posterior"), "y"),
    fails(predict(ffit, data.frame(u = 1), type = "variance"), "newdata"),
    works(vcov(fit)),
    works(confint(tiny)),
    works(confint(huge)),
    works(summary(huge)$estimates[c("estimate", "std_error", "lower", "upper")]),
    works(predict(huge, c(-1e150, 0, 3e150), type = "quantile", probs = c(0.01, 0.99))),
    works(predict(tiny, c(-1e-150, 0, 1e-140), interval = "prediction")),
    works(predict(huge, c(1e300, -1e300), type = "variance")),
    works(predict(fit, c(1e200, -1e200), type = "posterior", y = c(-1e200, 1e200))),
    works(residuals(huge, type = "pearson")),
    works(predict(ffit, df[1:3, ], type = "posterior")),
    works(predict(ffit, df[1:3, ], interval = "prediction", level = 0.5))
  ))
}

fails <- function(expr, arg) list(call = substitute(expr), arg = arg)
works <- function(expr) list(call = substitute(expr), arg = NULL)

for (kernels in c("auto", "portable")) {
  test_that(paste("inference methods give clear errors or finite results, kernels =", kernels), {
    op <- options(moerates.kernels = kernels)
    on.exit(options(op))
    table <- inference_cases()
    hidden <- c("internal", "Rcpp", "Eigen", "LAPACK", "Lapack", "chol", "solve", "subscript")
    for (case in table$cases) {
      what <- paste(deparse(case$call, width.cutoff = 500), collapse = " ")
      if (is.null(case$arg)) {
        value <- eval(case$call, table$env)
        expect_true(all(is.finite(unlist(value))), info = what)
        next
      }
      err <- tryCatch(suppressWarnings(eval(case$call, table$env)), error = function(e) e)
      expect_true(inherits(err, "error"), info = what)
      if (!inherits(err, "error")) next
      msg <- conditionMessage(err)
      expect_true(grepl(paste0("`", case$arg, "`"), msg, fixed = TRUE), info = paste(what, "->", msg))
      for (word in hidden) expect_false(grepl(word, msg, fixed = TRUE), info = paste(what, "->", msg))
    }
  })
}
