# The formula interface shared by the fits (R/formula.R), through
# fit_cmoe(): each formula fit is checked against the fit of the covariate
# matrix and response built by hand, as lm() would build them.

set.seed(31)
lap <- pretrained_model("laplace", eta0 = c(2, 0), nu0 = 1)
sim <- rcmoe(600, cmoe_params(0.3, c(-1, 1), 0.5), lap)
df <- data.frame(dose = sim$x[, 1], response = sim$y, z = rnorm(600),
                 group = factor(sample(c("a", "b"), 600, TRUE)), w = rep(1:3, 200))

test_that("a formula fit is the fit of its model matrix, its slopes named after the covariates", {
  by_formula <- fit_cmoe(response ~ dose, df, lap)
  by_matrix <- fit_cmoe(df$dose, df$response, lap)
  expect_equal(unname(coef(by_formula)), unname(coef(by_matrix)))
  expect_equal(by_formula$loglik, by_matrix$loglik)
  expect_named(coef(by_formula), c("lambda", "a_dose", "b", "nu"))
  expect_equal(dimnames(vcov(by_formula)), rep(list(names(coef(by_formula))), 2))
  expect_identical(rownames(summary(by_formula)$coefficients), names(coef(by_formula)))
  expect_identical(rownames(confint(by_formula)), names(coef(by_formula)))
  expect_output(print(by_formula), "lambda +a_dose +b +nu")
  expect_output(print(summary(by_formula)), "a_dose")
  expect_identical(by_formula$call[[1]], as.name("fit_cmoe"))
  expect_s3_class(by_formula$terms, "terms")
  expect_identical(formula(by_formula), response ~ dose, ignore_attr = TRUE)
  # the same with the data found in the formula's environment
  dose <- df$dose
  response <- df$response
  expect_equal(coef(fit_cmoe(response ~ dose, pretrained = lap)), coef(by_formula))

  # transformations: the columns of the model matrix, in order
  f2 <- pretrained_model("laplace", eta0 = c(2, 0, 0), nu0 = 1)
  squared <- fit_cmoe(response ~ dose + I(dose^2), df, f2)
  expect_named(coef(squared), c("lambda", "a_dose", "a_I(dose^2)", "b", "nu"))
  expect_equal(unname(coef(squared)),
               unname(coef(fit_cmoe(cbind(df$dose, df$dose^2), df$response, f2))))
  # a data-dependent basis is evaluated at new data as fitted
  orthogonal <- fit_cmoe(response ~ poly(dose, 2), df, f2)
  expect_equal(predict(orthogonal, df[1:5, ]), fitted(orthogonal)[1:5], ignore_attr = TRUE)
})

test_that("subset is evaluated in data, then in the caller's environment", {
  full <- subset(df, dose > -1)
  expect_equal(coef(fit_cmoe(response ~ dose, df, lap, subset = dose > -1)),
               coef(fit_cmoe(response ~ dose, full, lap)))
  keep <- seq_len(600) %% 2 == 0
  expect_equal(coef(fit_cmoe(response ~ dose, df, lap, subset = keep)),
               coef(fit_cmoe(response ~ dose, df[keep, ], lap)))
  # inside a function, the function's own variables
  inner <- function(data) {
    low <- -0.5
    fit_cmoe(response ~ dose, data, lap, subset = dose > low)
  }
  expect_equal(nobs(inner(df)), sum(df$dose > -0.5))
  expect_error(fit_cmoe(response ~ dose, df, lap, subset = nowhere > 0),
               "^`data` and the formula do not give a model frame: object 'nowhere' not found")
})

test_that("rows with missing values: omitted by default, padded with na.exclude, refused by na.fail", {
  holes <- df
  holes$response[c(4, 9)] <- NA
  holes$dose[20] <- NA
  omitted <- fit_cmoe(response ~ dose, holes, lap)
  expect_equal(nobs(omitted), 597)
  expect_equal(unname(c(na.action(omitted))), c(4, 9, 20))
  expect_s3_class(na.action(omitted), "omit")
  expect_equal(coef(omitted), coef(fit_cmoe(response ~ dose, holes[-c(4, 9, 20), ], lap)))
  expect_length(residuals(omitted), 597)
  expect_output(print(omitted), "3 observations deleted due to missingness")

  excluded <- fit_cmoe(response ~ dose, holes, lap, na.action = na.exclude)
  expect_equal(coef(excluded), coef(omitted))
  expect_s3_class(na.action(excluded), "exclude")
  for (value in list(residuals(excluded), residuals(excluded, type = "pearson"),
                     fitted(excluded), predict(excluded, type = "prompt"),
                     predict(excluded, type = "posterior"))) {
    expect_length(value, 600)
    expect_identical(unname(which(is.na(value))), c(4L, 9L, 20L))
  }
  expect_equal(residuals(excluded)[-c(4, 9, 20)], residuals(omitted), ignore_attr = TRUE)
  sims <- simulate(excluded, nsim = 2, seed = 1)
  expect_equal(dim(sims), c(600, 2))
  expect_true(all(is.na(sims[c(4, 9, 20), ])) && !anyNA(sims[-c(4, 9, 20), ]))
  # predictions at new data are never padded
  expect_length(predict(excluded, data.frame(dose = c(0, 1))), 2)

  expect_error(fit_cmoe(response ~ dose, holes, lap, na.action = na.fail),
               "^`na.action` refused the data: missing values")
  old <- options(na.action = "na.fail")
  on.exit(options(old))
  expect_error(fit_cmoe(response ~ dose, holes, lap), "^`na.action`")
})

test_that("categorical covariates are refused, naming them and saying why", {
  why <- "functions of numeric\\s+covariates"
  expect_error(fit_cmoe(response ~ dose + group, df,
                        pretrained_model("laplace", eta0 = c(2, 0, 0), nu0 = 1)),
               "^`x` has categorical covariate\\(s\\) `group` \\(factor\\)")
  expect_error(fit_cmoe(response ~ group, df, lap), why)
  chars <- transform(df, label = as.character(group), flag = dose > 0)
  expect_error(fit_cmoe(response ~ label, chars, lap), "`label` \\(character\\)")
  expect_error(fit_cmoe(response ~ flag, chars, lap), "`flag` \\(logical\\)")
  # coded as numbers by the user, with eta0 written for them, they are used
  expect_named(coef(fit_cmoe(response ~ as.numeric(group == "b"), df, lap)),
               c("lambda", "a_as.numeric(group == \"b\")", "b", "nu"))
})

test_that("formulas the model cannot take are refused, naming what is wrong", {
  expect_error(fit_cmoe(response ~ dose - 1, df, lap), "^`x` removes the intercept")
  expect_error(fit_cmoe(response ~ 0 + dose, df, lap), "^`x` removes the intercept")
  expect_error(fit_cmoe(response ~ dose + offset(z), df, lap), "^`x` has an offset\\(\\)")
  expect_error(fit_cmoe(~ dose, df, lap), "^`x` must be a formula with a response")
  expect_error(fit_cmoe(response ~ 1, df, lap), "^`x` must name at least one covariate")
  expect_error(fit_cmoe(group ~ dose, df, lap), "^`x` has the response `group`, which must be one numeric")
  expect_error(fit_cmoe(cbind(response, z) ~ dose, df, lap), "^`x` has the response")
  expect_error(fit_cmoe(response ~ dose, df), "^`pretrained` is missing")
  expect_error(fit_cmoe(response ~ dose + z, df, lap), "^`x` must have 1 column")
})

test_that("weights are evaluated in data: whole-number weights are repeated rows", {
  weighted <- fit_cmoe(response ~ dose, df, lap, weights = w)
  repeated <- fit_cmoe(response ~ dose, df[rep(seq_len(600), df$w), ], lap)
  # the same maximum, reached along other EM paths (the data are scaled by
  # their unweighted moments)
  expect_equal(coef(weighted), coef(repeated), tolerance = 1e-6)
  expect_equal(logLik(weighted), logLik(repeated), tolerance = 1e-10)
  expect_equal(nobs(weighted), 1200)
  expect_equal(weights(weighted), df$w)
  expect_error(fit_cmoe(response ~ dose, df, lap, weights = group), "^`weights` must be")
  expect_error(fit_cmoe(response ~ dose, df, lap, weights = w - 1), "^`weights` must be positive")
})

test_that("predict takes a data frame of the formula's variables", {
  ffit <- fit_cmoe(response ~ dose, df, lap)
  new <- data.frame(dose = c(-1, 0, 2), response = c(3, 0, 1))
  expect_equal(predict(ffit, new), predict(ffit, c(-1, 0, 2)))
  expect_equal(predict(ffit, new, type = "posterior"),
               predict(ffit, c(-1, 0, 2), type = "posterior", y = c(3, 0, 1)))
  expect_equal(predict(ffit, new, type = "density", y = c(1, 1, 1)),
               predict(ffit, c(-1, 0, 2), type = "density", y = c(1, 1, 1)))
  expect_error(predict(ffit, data.frame(dose = c(-1, 0, 2)), type = "posterior"), "^`y` is needed")
  expect_error(predict(ffit, data.frame(amount = 1)), "^`newdata` must hold every covariate")
  expect_error(predict(ffit, data.frame(dose = c(1, NA))), "^`newdata` must contain only finite")
  expect_error(predict(ffit, data.frame(dose = factor("a"))), "^`newdata` has categorical")
})

test_that("coefficient names come from distinct column names, else from positions", {
  cn <- moerates:::coefficient_names
  expect_identical(cn("a", matrix(0, 2, 2, dimnames = list(NULL, c("u", "v")))), c("a_u", "a_v"))
  expect_identical(cn("c", matrix(0, 2, 2)), c("c1", "c2"))
  expect_identical(cn("a", matrix(0, 2, 2, dimnames = list(NULL, c("u", "u")))), c("a1", "a2"))
  expect_identical(cn("a", matrix(0, 2, 2, dimnames = list(NULL, c("u", "")))), c("a1", "a2"))
})
