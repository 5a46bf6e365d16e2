# A well-separated two-expert GMoE (the setting of the issue's Monte Carlo
# check; inst/bench/bench-inference-gmoe.R runs it on 200 data sets).
separated_truth <- function() {
  gmoe_params(pi = c(0.4, 0.6), c = c(-1, 1), Gamma = c(0.3, 0.3),
              a = c(1, -1), b = c(0, 1), nu = c(0.1, 0.2))
}

test_that("the delta-method Jacobian equals central differences of the parameter map", {
  set.seed(3)
  for (cfg in list(c(k = 2, d = 1), c(k = 3, d = 2), c(k = 2, d = 3))) {
    p <- random_gmoe(cfg[["k"]], cfg[["d"]])
    theta <- .gmoe_pack_cpp(p)
    natural <- function(th) gmoe_natural_values(.gmoe_unpack_cpp(th, p))
    expect_equal(natural(theta), gmoe_natural_values(p))
    expect_lt(max(abs(gmoe_natural_jacobian(p) - central_diff(natural, theta, 1e-6))), 1e-7)
  }
})

test_that("vcov is the delta-method image of the inverse observed information, named after coef()", {
  set.seed(4)
  sim <- rgmoe(800, separated_truth())
  fit <- fit_gmoe(sim$x, sim$y, k = 2, init = separated_truth())
  v <- vcov(fit)
  tab <- coef(fit)
  expected_names <- c(paste0(rownames(tab)[1], ":", colnames(tab)),
                      paste0(rownames(tab)[2], ":", colnames(tab)))
  expect_identical(rownames(v), expected_names)
  expect_identical(colnames(v), expected_names)
  info <- gmoe_information(fit)
  jac <- gmoe_natural_jacobian(fit$params)
  expect_equal(unname(v), jac %*% solve(-info$hessian) %*% t(jac), tolerance = 1e-8)
  expect_equal(v, t(v))
  # the weights sum to one: their block is singular, with equal variances
  expect_equal(v["comp1:pi", "comp1:pi"], -v["comp1:pi", "comp2:pi"])
  expect_equal(v["comp1:pi", "comp1:pi"], v["comp2:pi", "comp2:pi"])
  # the estimates behind the names are those of coef()
  expect_equal(gmoe_natural_values(fit$params),
               c(tab[1, ], tab[2, ]), ignore_attr = TRUE)
})

test_that("a one-component fit has the closed-form standard errors of a Gaussian and a regression", {
  # k = 1: x ~ N(c, Gamma) and y | x a linear regression, whose MLEs have
  # the textbook asymptotic covariances (evaluated at the MLE)
  set.seed(5)
  n <- 500
  x <- cbind(rnorm(n, 1, 2), rnorm(n, -1, 0.5))
  x[, 2] <- x[, 2] + 0.3 * x[, 1]
  y <- drop(x %*% c(0.5, -1)) + 2 + rnorm(n, sd = 0.7)
  fit <- fit_gmoe(x, y, k = 1, control = gmoe_control(tol = 1e-12))
  p <- fit$params
  se <- sqrt(diag(vcov(fit)))
  G <- p$Gamma[, , 1]
  expect_equal(unname(se[c("comp1:c1", "comp1:c2")]), sqrt(diag(G) / n), tolerance = 1e-6)
  wishart <- c(G[1, 1]^2 * 2, G[1, 1] * G[2, 2] + G[1, 2]^2, G[2, 2]^2 * 2) / n
  expect_equal(unname(se[c("comp1:Gamma11", "comp1:Gamma12", "comp1:Gamma22")]), sqrt(wishart),
               tolerance = 1e-6)
  design <- cbind(x, 1)
  ols <- p$nu * solve(crossprod(design))
  expect_equal(unname(se[c("comp1:a1", "comp1:a2", "comp1:b")]), sqrt(diag(ols)),
               tolerance = 1e-6)
  expect_equal(unname(se["comp1:nu"]), p$nu * sqrt(2 / n), tolerance = 1e-6)
  expect_identical(unname(se["comp1:pi"]), 0)
  ci <- confint(fit)
  expect_identical(unname(ci["comp1:pi", ]), c(1, 1))
})

test_that("Wald intervals respect the parameter space and use the documented scales", {
  set.seed(6)
  sim <- rgmoe(300, separated_truth())
  fit <- fit_gmoe(sim$x, sim$y, k = 2, init = separated_truth())
  se <- sqrt(diag(vcov(fit)))
  est <- gmoe_natural_values(fit$params)
  ci <- confint(fit, level = 0.9)
  z <- qnorm(0.95)
  expect_identical(colnames(ci), c("5 %", "95 %"))
  for (nm in c("comp1:c_x1", "comp2:a_x1", "comp2:b")) {
    expect_equal(unname(ci[nm, ]), unname(est[rownames(ci) == nm] + c(-z, z) * se[nm]))
  }
  for (nm in c("comp1:nu", "comp2:Gamma_x1_x1")) {
    e <- est[rownames(ci) == nm]
    expect_equal(unname(ci[nm, ]), e * exp(c(-z, z) * unname(se[nm]) / e))
  }
  e <- est[1]
  expect_equal(unname(ci["comp1:pi", ]),
               plogis(qlogis(e) + c(-z, z) * unname(se[1]) / (e * (1 - e))))
  expect_true(all(ci[grepl(":pi$", rownames(ci)), ] > 0 & ci[grepl(":pi$", rownames(ci)), ] < 1))
  expect_identical(confint(fit, c("comp2:nu", "comp1:a_x1"), level = 0.9),
                   ci[c("comp2:nu", "comp1:a_x1"), ])
  expect_identical(confint(fit, 3:4, level = 0.9), ci[3:4, ])
  s <- summary(fit, level = 0.9)
  expect_equal(s$estimates$std_error, unname(se))
  expect_equal(as.matrix(s$estimates[c("lower", "upper")]), ci, ignore_attr = TRUE)
  expect_identical(s$estimates$parameter[1:6], colnames(coef(fit)))
  out <- capture.output(print(s))
  expect_true(any(grepl("std. error", out, fixed = TRUE)))
  expect_true(any(grepl("Wald, logit scale", out, fixed = TRUE)))
})

test_that("standard errors match the Monte Carlo spread and intervals cover (small check)", {
  # 100 data sets here, with tolerances of about three Monte Carlo standard
  # errors (the sd of 100 estimates is within about 7% of its value); the
  # bench runs 200
  truth <- separated_truth()
  set.seed(7)
  runs <- lapply(seq_len(100), function(r) {
    sim <- rgmoe(2000, truth)
    fit <- fit_gmoe(sim$x, sim$y, k = 2, init = truth)
    list(est = gmoe_natural_values(fit$params), se = sqrt(diag(vcov(fit))), ci = confint(fit))
  })
  est <- sapply(runs, `[[`, "est")
  se <- sapply(runs, `[[`, "se")
  ratio <- rowMeans(se) / apply(est, 1, sd)
  # pi_1 and pi_2 share their spread; every other ratio is its own
  expect_true(all(ratio > 0.8 & ratio < 1.25), info = paste(round(ratio, 2), collapse = " "))
  target <- gmoe_natural_values(truth)
  cover <- sapply(runs, function(r) r$ci[, 1] <= target & target <= r$ci[, 2])
  expect_gt(mean(cover), 0.92)
  expect_lt(mean(cover), 0.975)
  expect_true(all(rowMeans(cover) > 0.85))
})

test_that("a singular information or a degenerate fit gives NA with a warning, never NaN", {
  # two identical atoms: the split of weight between them is not identified
  twin <- gmoe_params(pi = c(0.3, 0.3, 0.4), c = c(-1, -1, 1), Gamma = c(0.3, 0.3, 0.3),
                      a = c(1, 1, -1), b = c(0, 0, 1), nu = c(0.1, 0.1, 0.2))
  set.seed(8)
  sim <- rgmoe(500, separated_truth())
  fit <- fit_gmoe(sim$x, sim$y, k = 3, init = twin, control = gmoe_control(max_iter = 0))
  expect_warning(v <- vcov(fit), "nearly singular|not positive definite")
  expect_true(all(is.na(v)))
  expect_false(any(is.nan(v)))
  expect_warning(ci <- confint(fit), "standard errors are NA")
  expect_true(all(is.na(ci[!grepl(":pi$", rownames(ci)), ])))
  expect_warning(s <- summary(fit), "standard errors are NA")
  expect_true(all(is.na(s$estimates$std_error)))
  expect_false(any(is.nan(s$estimates$lower)))
  expect_output(print(s), "NA")
  # a variance floor active at the end
  start <- separated_truth()
  start$nu <- c(0.2, 0.2)
  floored <- fit_gmoe(sim$x, sim$y, k = 2, init = start,
                      control = gmoe_control(bounds = gmoe_bounds(nu_min = 0.15)))
  expect_true(is_degenerate(floored))
  expect_warning(v <- vcov(floored), "degenerate.*nu")
  expect_true(all(is.na(v)))
  # a fit stopped before convergence: numbers, and a warning
  early <- fit_gmoe(sim$x, sim$y, k = 2, init = separated_truth(),
                    control = gmoe_control(max_iter = 1))
  expect_warning(v <- vcov(early), "did not converge")
  expect_true(all(is.finite(v)))
})

test_that("vcov and confint refuse arguments they do not take", {
  set.seed(9)
  sim <- rgmoe(300, separated_truth())
  fit <- fit_gmoe(sim$x, sim$y, k = 2, init = separated_truth())
  expect_error(vcov(fit, type = "natural"), "`type` is not an argument of vcov.gmoe_fit()")
  expect_error(confint(fit, "comp3:pi"), "`parm`")
  expect_error(confint(fit, 0), "`parm`")
  expect_error(confint(fit, level = 95), "`level`")
  expect_error(confint(fit, method = "profile"), "`method`")
  expect_error(confint(fit, B = 10), "`B` is only used by method = \"bootstrap\"")
  expect_error(confint(fit, type = "nonparametric"), "`type` is only used")
  expect_error(confint(fit, method = "bootstrap", B = 1), "`B`")
  expect_error(confint(fit, method = "bootstrap", B = 5, type = "wild"), "`type`")
  expect_error(confint(fit, se = TRUE), "`se` is not an argument")
  expect_error(summary(fit, level = 2), "`level`")
  expect_error(summary(fit, digits = 3), "`digits` is not an argument")
})

test_that("standard errors are the same in any units, and reported where a variance overflows", {
  set.seed(10)
  sim <- rgmoe(600, separated_truth())
  fit <- fit_gmoe(sim$x, sim$y, k = 2, init = separated_truth())
  base <- summary(fit)$estimates$std_error
  # x' = s x + t, y' = u y: each standard error scales as its parameter
  s <- 1e150
  u <- 1e-150
  scaled <- fit_gmoe(sim$x * s + 3 * s, sim$y * u, k = 2,
                     init = in_units_shift(fit$params, s, 3 * s, u, 0))
  kind <- gmoe_natural_kinds(fit)
  factor <- c(pi = 1, c = s, Gamma_diag = s^2, Gamma_off = s^2, a = u / s, b = u, nu = u^2)[kind]
  se <- summary(scaled)$estimates$std_error
  expect_true(all(is.finite(se)))
  # b moves with a and the shift of x, so compare b through its own map
  other <- kind != "b"
  expect_true(scaled$converged)
  expect_equal(unname(se[other] / factor[other]), base[other], tolerance = 1e-5)
  ci <- confint(scaled)
  expect_true(all(is.finite(ci)))
  expect_true(all(ci[kind %in% c("nu", "Gamma_diag"), ] > 0))
  expect_error(vcov(scaled), "`object` has a variance of `comp1:Gamma_x1_x1`")
})
