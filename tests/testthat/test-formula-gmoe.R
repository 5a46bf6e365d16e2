# The formula interface of fit_gmoe() (R/formula.R, R/fit-gmoe.R): each
# formula fit is checked against the fit of the covariate matrix and
# response built by hand, as lm() would build them, from the same start.

set.seed(41)
sim <- rgmoe(500, gmoe_paper_truth(3))
df <- data.frame(u = sim$x[, 1], v = sim$x[, 2], resp = sim$y,
                 group = factor(sample(c("a", "b"), 500, TRUE)),
                 label = sample(c("a", "b"), 500, TRUE), stringsAsFactors = FALSE)
start <- init_near_truth(gmoe_paper_truth(3), 3, 500)

test_that("subset is evaluated in data, then in the caller's environment", {
  by_subset <- fit_gmoe(resp ~ u + v, df, k = 3, init = start, subset = u > 0)
  kept <- df[df$u > 0, ]
  by_hand <- fit_gmoe(cbind(u = kept$u, v = kept$v), kept$resp, k = 3, init = start)
  expect_equal(nobs(by_subset), sum(df$u > 0))
  expect_equal(coef(by_subset), coef(by_hand))
  expect_equal(by_subset$loglik, by_hand$loglik)
  inner <- function(data) {
    low <- 0.2
    fit_gmoe(resp ~ u + v, data, k = 3, init = start, subset = v > low)
  }
  expect_equal(nobs(inner(df)), sum(df$v > 0.2))
  expect_error(fit_gmoe(resp ~ u, df, k = 2, subset = nowhere > 0),
               "^`data` and the formula do not give a model frame: object 'nowhere' not found")
})

test_that("rows with missing values are omitted by default and recorded as in lm()", {
  holes <- df
  holes$resp[c(4, 9)] <- NA
  holes$v[20] <- NA
  omitted <- fit_gmoe(resp ~ u + v, holes, k = 3, init = start)
  expect_equal(nobs(omitted), 497)
  expect_s3_class(na.action(omitted), "omit")
  expect_equal(unname(c(na.action(omitted))), c(4, 9, 20))
  complete <- holes[-c(4, 9, 20), ]
  expect_equal(coef(omitted), coef(fit_gmoe(resp ~ u + v, complete, k = 3, init = start)))
  expect_output(print(omitted), "3 observations deleted due to missingness")
  # lm() on the same formula and data leaves out the same rows
  expect_identical(na.action(omitted), na.action(lm(resp ~ u + v, holes)))
  expect_error(fit_gmoe(resp ~ u + v, holes, k = 3, na.action = na.fail),
               "^`na.action` refused the data: missing values in object")
  expect_null(na.action(fit_gmoe(resp ~ u + v, df, k = 3, init = start)))
})

test_that("factor, character and logical covariates are refused with the gates' reason", {
  expect_error(fit_gmoe(resp ~ u + group, df, k = 2),
               "`x` has categorical covariate(s) `group` (factor): the gates are Gaussian",
               fixed = TRUE)
  expect_error(fit_gmoe(resp ~ u + label, df, k = 2),
               "`x` has categorical covariate(s) `label` (character): the gates are Gaussian",
               fixed = TRUE)
  expect_error(fit_gmoe(resp ~ u + factor(v > 0), df, k = 2), "categorical covariates are not supported")
  expect_error(fit_gmoe(resp ~ u + I(v > 0), df, k = 2), "(logical)", fixed = TRUE)
  expect_error(fit_gmoe(resp ~ group, df, k = 2), "Fit each level separately")
})

test_that("weights are refused, in both methods, saying why", {
  expect_error(fit_gmoe(resp ~ u, df, k = 2, weights = rep(2, 500)),
               "^`weights` cannot be used: the EM of fit_gmoe\\(\\) .* has no observation weights")
  expect_error(fit_gmoe(df$u, df$resp, k = 2, weights = rep(2, 500)),
               "^`weights` cannot be used")
  # refused before it is evaluated
  expect_error(fit_gmoe(resp ~ u, df, k = 2, weights = nowhere), "^`weights` cannot be used")
  expect_error(fit_gmoe(df$u, df$resp, k = 2, subset = df$u > 0),
               "^`subset` belongs to the formula interface")
  expect_error(fit_gmoe(df$u, df$resp, k = 2, na.action = na.omit),
               "^`na.action` belongs to the formula interface")
  expect_error(fit_gmoe(resp ~ u, df, k = 2, colour = 1),
               "^`colour` is not an argument of fit_gmoe\\(\\)")
})

test_that("the covariates' names name the coefficients in coef(), print() and summary()", {
  fit <- fit_gmoe(resp ~ u + v, df, k = 3, init = start)
  named <- c("pi", "c_u", "c_v", "Gamma_u_u", "Gamma_u_v", "Gamma_v_u", "Gamma_v_v",
             "a_u", "a_v", "b", "nu")
  expect_identical(colnames(coef(fit)), named)
  # the values are the parameters' own, in the layout of coef.gmoe_params()
  expect_equal(unname(coef(fit)), unname(coef(fit$params)))
  expect_identical(colnames(coef(fit$params))[2:3], c("c1", "c2"))
  expect_output(print(fit), "c_u +c_v +Gamma_u_u")
  expect_output(print(summary(fit)), "\na_u +-?[0-9.]+ +[0-9.]+")
  expect_identical(unique(summary(fit)$estimates$parameter),
                   c("pi", "c_u", "c_v", "Gamma_u_u", "Gamma_u_v", "Gamma_v_v", "a_u", "a_v", "b", "nu"))
  expect_identical(colnames(summary(fit)$coefficients), named)
  # the columns of the model matrix, transformations included
  squared <- fit_gmoe(resp ~ u + I(u^2), df, k = 2)
  expect_identical(colnames(coef(squared))[2:3], c("c_u", "c_I(u^2)"))
  # a matrix with column names names them too; without names, numbers
  by_matrix <- fit_gmoe(cbind(u = df$u, v = df$v), df$resp, k = 3, init = start)
  expect_identical(colnames(coef(by_matrix)), named)
  expect_equal(coef(by_matrix), coef(fit))
  unnamed <- fit_gmoe(unname(as.matrix(df[c("u", "v")])), df$resp, k = 3, init = start)
  expect_identical(colnames(coef(unnamed)),
                   c("pi", "c1", "c2", "Gamma11", "Gamma12", "Gamma21", "Gamma22",
                     "a1", "a2", "b", "nu"))
  repeated <- fit_gmoe(cbind(u = df$u, u = df$v), df$resp, k = 3, init = start)
  expect_identical(colnames(coef(repeated))[2:3], c("c1", "c2"))
  expect_identical(fit$call[[1]], as.name("fit_gmoe"))
})

test_that("predict() reads new data through the formula's terms", {
  fit <- fit_gmoe(resp ~ u + v, df, k = 3, init = start, subset = u > -0.2)
  expect_equal(predict(fit, df[1:5, ]), predict(fit, as.matrix(df[1:5, c("u", "v")])),
               ignore_attr = TRUE)
  orthogonal <- fit_gmoe(resp ~ poly(u, 2), df, k = 2)
  expect_equal(predict(orthogonal, df[1:5, ]), fitted(orthogonal)[1:5], ignore_attr = TRUE)
})

test_that("a fit whose na.action was edited into nonsense is refused", {
  holes <- df
  holes$resp[3] <- NA
  fit <- fit_gmoe(resp ~ u, holes, k = 2)
  expect_silent(coef(fit))
  for (bad in list("3", structure(3, class = "wrong"), structure(c(3, 3), class = "omit"),
                   structure(-1, class = "omit"), structure(1.5, class = "exclude"))) {
    edited <- fit
    edited$na.action <- bad
    expect_error(coef(edited), "`object$na.action` must be NULL or the distinct row numbers",
                 fixed = TRUE)
  }
  expect_error(print(edited), "`x$na.action`", fixed = TRUE)
})

test_that("na.exclude pads fitted values and residuals as in lm()", {
  holes <- df
  holes$resp[c(4, 9)] <- NA
  omitted <- fit_gmoe(resp ~ u + v, holes, k = 3, init = start)
  excluded <- fit_gmoe(resp ~ u + v, holes, k = 3, init = start, na.action = na.exclude)
  expect_s3_class(na.action(excluded), "exclude")
  expect_equal(coef(excluded), coef(omitted))
  for (value in list(fitted(excluded), residuals(excluded))) {
    expect_length(value, 500)
    expect_identical(unname(which(is.na(value))), c(4L, 9L))
  }
  expect_equal(residuals(excluded)[-c(4, 9)], residuals(omitted), ignore_attr = TRUE)
  expect_length(fitted(omitted), 498)
})

test_that("predict() refuses new data that the formula cannot read", {
  fit <- fit_gmoe(resp ~ u + v, df, k = 3, init = start)
  expect_error(predict(fit, data.frame(u = 1)), "^`newdata` must hold every covariate of the formula")
  expect_error(predict(fit, data.frame(u = 1, v = NA_real_)), "^`newdata` must contain only finite values")
  expect_error(predict(fit, data.frame(u = 1, v = "a")), "`newdata` has categorical covariate\\(s\\) `v`")
  # the response is read from newdata for the density, transformed as fitted
  logged <- fit_gmoe(log(resp + 2) ~ u + v, df, k = 2)
  expect_equal(predict(logged, df[1:3, ], type = "density"),
               predict(logged, df[1:3, ], type = "density", y = log(df$resp[1:3] + 2)))
})
