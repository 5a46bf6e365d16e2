# Methods of cmoe_fit objects, checked against computations written out here
# from the model's definition
#   p(y | x) = (1 - lambda) f0(y | x) + lambda dnorm(y, h(a'x + b), sqrt(nu)).

f0_density <- function(pretrained, x, y) exp(ref_logf0(pretrained, x, y))

f0_location <- function(pretrained, x) ref_location(pretrained$expert, pretrained$eta0, x)

prompt_location <- function(theta, expert, x) {
  d <- ncol(x)
  ref_expert(expert, drop(x %*% theta[1 + seq_len(d)]) + theta[[d + 2]])
}

set.seed(21)
lap <- pretrained_model("laplace", eta0 = c(2, 0), nu0 = 1)
truth1 <- cmoe_params(0.3, c(-1, 1), 0.5)
sim1 <- rcmoe(1500, truth1, lap)
fit1 <- fit_cmoe(sim1$x, sim1$y, lap)

stu <- pretrained_model("student", expert = "sigmoid", eta0 = c(1, -1, 0.5), nu0 = 0.3, df = 5)
truth2 <- cmoe_params(0.4, c(1.5, 0.5, -0.3), 0.2, expert = "tanh")
sim2 <- rcmoe(1500, truth2, stu)
fit2 <- fit_cmoe(sim2$x, sim2$y, stu, expert = "tanh", init = truth2)

test_that("print and summary describe the fit", {
  expect_output(print(fit1), "Contaminated mixture of experts fitted by EM")
  expect_output(print(fit1), "pre-trained: laplace with linear expert; prompt expert: linear; n = 1500, d = 1")
  expect_output(print(fit1), "lambda +a_x1 +b +nu")
  expect_output(print(fit1), "log-likelihood .* after [0-9]+ SQUAREM cycle\\(s\\) of 3 EM steps, converged")
  plain <- fit_cmoe(fit1$x, fit1$y, fit1$pretrained, control = cmoe_control(accelerate = "none"))
  expect_output(print(plain), "after [0-9]+ EM iteration\\(s\\), converged")
  expect_output(print(summary(plain)), "[0-9]+ EM iteration\\(s\\), converged")
  expect_output(print(fit2), "student with sigmoid expert; prompt expert: tanh; n = 1500, d = 2")
  expect_output(expect_invisible(print(fit1)), "fitted by EM")

  s <- summary(fit1)
  expect_s3_class(s, "summary.cmoe_fit")
  tab <- s$coefficients
  expect_named(tab, c("estimate", "std_error", "lower", "upper", "interval"))
  expect_identical(rownames(tab), c("lambda", "a_x1", "b", "nu"))
  expect_identical(tab$interval, c("profile", "Wald", "Wald", "Wald, log scale"))
  expect_equal(tab$estimate, unname(coef(fit1)))
  expect_equal(tab$std_error, unname(sqrt(diag(vcov(fit1)))))
  z <- qnorm(0.975)
  expect_equal(tab$lower[2:3], tab$estimate[2:3] - z * tab$std_error[2:3])
  expect_equal(tab$upper[2:3], tab$estimate[2:3] + z * tab$std_error[2:3])
  # nu: Wald on log nu, with the delta-method standard error se / nu
  expect_equal(tab$lower[4], exp(log(tab$estimate[4]) - z * tab$std_error[4] / tab$estimate[4]))
  expect_equal(tab$upper[4], exp(log(tab$estimate[4]) + z * tab$std_error[4] / tab$estimate[4]))
  # lambda: the lower end waits for the test of lambda = 0 (test-lrt-cmoe.R)
  expect_true(is.na(tab$lower[1]))
  expect_gt(tab$upper[1], tab$estimate[1])
  s90 <- summary(fit1, level = 0.9)
  expect_equal(s90$coefficients$upper[2:3], tab$estimate[2:3] + qnorm(0.95) * tab$std_error[2:3])
  expect_lt(s90$coefficients$upper[1], tab$upper[1])
  expect_output(print(s), "Call: fit_cmoe\\(")
  expect_output(print(s), "Pre-trained: laplace with linear expert; prompt expert: linear")
  expect_output(print(s), "95% lower")
  expect_output(print(s90), "90% upper")
  expect_output(print(s), "\\(df = 4\\), AIC .*, BIC .*, n = 1500")
  expect_output(print(s), "SQUAREM cycle\\(s\\) of 3 EM steps, converged")
  expect_output(print(s), "Test of no prompt \\(lambda = 0\\) not computed: give summary\\(fit, test = prompt_test\\(fit\\)\\)")
  expect_error(summary(fit1, level = 1), "`level`")
  expect_error(summary(fit1, level = "a"), "`level`")
})

test_that("coef is (lambda, a, b, nu), the slopes named after the covariates", {
  expect_named(coef(fit1), c("lambda", "a_x1", "b", "nu"))
  expect_named(coef(fit2), c("lambda", "a_x1", "a_x2", "b", "nu"))
  unnamed <- fit_cmoe(unname(sim2$x), sim2$y, stu, expert = "tanh", init = truth2)
  expect_named(coef(unnamed), c("lambda", "a1", "a2", "b", "nu"))
  expect_identical(unname(coef(unnamed)), unname(coef(fit2)))
  frame <- fit_cmoe(data.frame(dose = sim1$x[, 1]), sim1$y, lap)
  expect_named(coef(frame), c("lambda", "a_dose", "b", "nu"))
  p <- fit2$params
  expect_equal(unname(coef(fit2)), unname(c(p$lambda, p$eta, p$nu)))
  expect_true(coef(fit1)[["lambda"]] > 0 && coef(fit1)[["lambda"]] < 1)
  expect_true(coef(fit1)[["nu"]] > 0)
})

test_that("logLik has df = d + 3 and nobs, and AIC and BIC follow", {
  for (f in list(fit1, fit2)) {
    d <- ncol(f$x)
    ll <- logLik(f)
    expect_s3_class(ll, "logLik")
    expect_equal(attr(ll, "df"), d + 3)
    expect_equal(attr(ll, "nobs"), 1500)
    expect_equal(nobs(f), 1500)
    expect_equal(as.numeric(ll), f$loglik)
    expect_equal(AIC(f), -2 * f$loglik + 2 * (d + 3))
    expect_equal(BIC(f), -2 * f$loglik + log(1500) * (d + 3))
  }
  # the log-likelihood is that of the fitted parameters
  expect_equal(fit1$loglik, sum(dcmoe(sim1$x, sim1$y, fit1$params, lap, log = TRUE)))
  th <- coef(fit1)
  by_hand <- sum(log((1 - th[["lambda"]]) * f0_density(lap, sim1$x, sim1$y) +
                       th[["lambda"]] * dnorm(sim1$y, prompt_location(th, "linear", sim1$x),
                                              sqrt(th[["nu"]]))))
  expect_equal(fit1$loglik, by_hand)
})

test_that("fitted and residuals are the conditional mean and y minus it", {
  th <- coef(fit1)
  x <- sim1$x[, 1]
  expect_equal(fitted(fit1),
               (1 - th[["lambda"]]) * 2 * x + th[["lambda"]] * (th[["a_x1"]] * x + th[["b"]]))
  expect_equal(residuals(fit1), sim1$y - fitted(fit1))
  th2 <- coef(fit2)
  expect_equal(fitted(fit2),
               (1 - th2[["lambda"]]) * f0_location(stu, sim2$x) +
                 th2[["lambda"]] * prompt_location(th2, "tanh", sim2$x))
  expect_equal(residuals(fit2), sim2$y - fitted(fit2))
  expect_equal(predict(fit2), fitted(fit2))
})

test_that("predict gives every type on new data", {
  for (case in list(list(fit = fit1, f0 = lap, expert = "linear"),
                    list(fit = fit2, f0 = stu, expert = "tanh"))) {
    fit <- case$fit
    d <- ncol(fit$x)
    newx <- matrix(c(-1.5, 0, 0.7, 2)[seq_len(4 * d) %% 4 + 1] + 0.1 * seq_len(4 * d), 4, d)
    newy <- c(-1, 0.5, 2, 0)
    th <- coef(fit)
    lam <- th[["lambda"]]
    prompt <- prompt_location(th, case$expert, newx)
    base <- f0_location(case$f0, newx)
    expect_equal(predict(fit, newx, type = "prompt"), prompt)
    expect_equal(predict(fit, newx, type = "pretrained"), base)
    expect_equal(predict(fit, newx, type = "mean"), (1 - lam) * base + lam * prompt)
    expect_equal(predict(fit, newx), (1 - lam) * base + lam * prompt)
    g <- lam * dnorm(newy, prompt, sqrt(th[["nu"]]))
    f <- (1 - lam) * f0_density(case$f0, newx, newy)
    expect_equal(predict(fit, newx, type = "density", y = newy), f + g)
    expect_equal(predict(fit, newx, type = "posterior", y = newy), g / (f + g))
    expect_equal(predict(fit, newx, type = "density", y = newy),
                 dcmoe(newx, newy, fit$params, case$f0))
    expect_length(predict(fit, newx), 4)
  }
  # a data frame and, for d = 1, a vector serve as newdata
  expect_equal(predict(fit1, c(-1, 0, 1)), predict(fit1, matrix(c(-1, 0, 1))))
  expect_equal(predict(fit2, data.frame(u = c(0, 1), v = c(1, -1))),
               predict(fit2, cbind(c(0, 1), c(1, -1))))
})

test_that("predict at the training data reproduces the fit", {
  expect_equal(predict(fit1, type = "posterior"), fit1$posterior)
  expect_equal(predict(fit2, type = "posterior"), fit2$posterior)
  expect_equal(predict(fit1, type = "density"), dcmoe(sim1$x, sim1$y, fit1$params, lap))
  expect_equal(sum(log(predict(fit2, type = "density"))), fit2$loglik)
  # the posterior is the E-step of the final parameters
  th <- coef(fit1)
  g <- th[["lambda"]] * dnorm(sim1$y, prompt_location(th, "linear", sim1$x), sqrt(th[["nu"]]))
  f <- (1 - th[["lambda"]]) * f0_density(lap, sim1$x, sim1$y)
  expect_equal(fit1$posterior, g / (f + g))
})

test_that("predict refuses bad newdata and a missing y", {
  expect_error(predict(fit1, cbind(1:3, 1:3)), "`newdata`")
  expect_error(predict(fit2, c(0.1, 0.2, 0.3)), "`newdata` must have 2 column")
  expect_error(predict(fit1, c(0, NA)), "`newdata`")
  expect_error(predict(fit1, c(-1, 0, 1), type = "posterior"), "`y`")
  expect_error(predict(fit1, c(-1, 0, 1), type = "density"), "`y`")
  expect_error(predict(fit1, c(-1, 0, 1), type = "density", y = 1:2), "`y`")
  expect_error(predict(fit1, c(-1, 0, 1), type = "weight"), "^`type` must be one of")
})

test_that("simulate is reproducible and leaves the generator as it was", {
  s1 <- simulate(fit1, nsim = 3, seed = 42)
  s2 <- simulate(fit1, nsim = 3, seed = 42)
  expect_identical(s1, s2)
  expect_s3_class(s1, "data.frame")
  expect_equal(dim(s1), c(1500, 3))
  expect_named(s1, paste0("sim_", 1:3))
  expect_false(identical(s1$sim_1, s1$sim_2))
  expect_equal(attr(s1, "seed")[[1]], 42)
  # the first draw is rcmoe() at the observed covariates
  set.seed(42)
  expect_equal(s1$sim_1, rcmoe(1500, fit1$params, lap, x = fit1$x)$y)

  set.seed(7)
  before <- .Random.seed
  simulate(fit1, nsim = 2, seed = 1)
  expect_identical(.Random.seed, before)
  # without a seed the state before the draw is recorded and reproduces it
  s3 <- simulate(fit1, nsim = 2)
  expect_identical(attr(s3, "seed"), before)
  assign(".Random.seed", attr(s3, "seed"), envir = globalenv())
  expect_identical(simulate(fit1, nsim = 2), s3)
  expect_error(simulate(fit1, nsim = 0), "`nsim`")
})

test_that("simulated responses have the model's conditional mean and variance", {
  # six covariate values, each repeated: 20000 draws at each
  points <- c(-1.2, 0, 0.5, 1.5, 2, -0.4)
  copies <- 500
  nsim <- 40
  xs <- cbind(rep(points, copies))
  at <- rep(seq_along(points), copies)
  for (case in list(
    list(f0 = lap, params = cmoe_params(0.3, c(-1, 1), 0.5), f0_var = 2),
    list(f0 = pretrained_model("student", eta0 = c(1, 0.5), nu0 = 0.5, df = 5),
         params = cmoe_params(0.6, c(2, -1), 0.3, expert = "sigmoid"), f0_var = 0.5 * 5 / 3),
    list(f0 = pretrained_model("gaussian", "tanh", eta0 = c(2, 0), nu0 = 0.4),
         params = cmoe_params(0.2, c(0.5, 1), 1.5, expert = "tanh"), f0_var = 0.4))) {
    p <- case$params
    # a fit whose parameters are exactly the start
    fit <- fit_cmoe(xs, rep(c(1, 2, 0, 3, 1, -1), copies), case$f0, expert = p$expert,
                    init = p, control = cmoe_control(max_iter = 0))
    expect_equal(fit$params, p)
    sims <- as.matrix(simulate(fit, nsim = nsim, seed = 3))
    draws <- split(sims, at)
    x1 <- cbind(points)
    mu0 <- f0_location(case$f0, x1)
    h <- ref_expert(p$expert, drop(x1 %*% p$eta[1]) + p$eta[2])
    m <- (1 - p$lambda) * mu0 + p$lambda * h
    v <- (1 - p$lambda) * (case$f0_var + mu0^2) + p$lambda * (p$nu + h^2) - m^2
    expect_equal(fitted(fit), m[at])
    z <- (vapply(draws, mean, numeric(1)) - m) / sqrt(v / (copies * nsim))
    expect_lt(max(abs(z)), 4.5)
    expect_equal(unname(vapply(draws, var, numeric(1))), v, tolerance = 0.08)
  }
})

test_that("vcov is symmetric with positive variances", {
  for (f in list(fit1, fit2)) {
    v <- vcov(f)
    nm <- names(coef(f))
    expect_equal(dimnames(v), list(nm, nm))
    expect_equal(v, t(v))
    expect_true(all(diag(v) > 0))
    expect_true(all(eigen(v, symmetric = TRUE, only.values = TRUE)$values > 0))
  }
})

test_that("vcov's standard errors match the spread of the estimates", {
  set.seed(5)
  res <- t(replicate(200, {
    sim <- rcmoe(1000, truth1, lap)
    fit <- fit_cmoe(sim$x, sim$y, lap, init = truth1)
    c(coef(fit), sqrt(diag(vcov(fit))))
  }))
  empirical <- apply(res[, 1:4], 2, sd)
  se <- colMeans(res[, 5:8])
  expect_true(all(is.finite(se)))
  expect_true(all(abs(se / empirical - 1) < 0.25))
  # and the estimates are centred on the truth
  bias <- colMeans(res[, 1:4]) - c(0.3, -1, 1, 0.5)
  expect_lt(max(abs(bias) / (empirical / sqrt(200))), 4.5)
})

test_that("vcov and the standard errors are NA when lambda is at its bound", {
  set.seed(8)
  g0 <- pretrained_model("gaussian", eta0 = c(2, 0), nu0 = 1)
  x <- rnorm(400)
  y <- 2 * x + rnorm(400)
  expect_warning(fb <- fit_cmoe(x, y, g0, init = cmoe_params(0.5, c(0, 50), 0.01)),
                 "lambda ended at its bound")
  expect_true(fb$diagnostics$lambda_at_bound)
  v <- vcov(fb)
  expect_equal(dim(v), c(4, 4))
  expect_true(all(is.na(v)))
  expect_equal(dimnames(v), list(names(coef(fb)), names(coef(fb))))
  s <- summary(fb)
  expect_true(all(is.na(s$coefficients$std_error)))
  expect_true(s$degenerate)
  expect_output(print(fb), "degenerate fit")
  expect_output(print(s), "Degenerate fit")
})

test_that("the analytic scores are the derivatives of the log-density", {
  set.seed(13)
  for (expert in c("linear", "sigmoid", "tanh")) {
    f0 <- pretrained_model("laplace", "tanh", eta0 = c(1, -0.5, 0.2), nu0 = 0.6)
    p <- cmoe_params(0.35, c(0.8, 1.2, -0.4), 0.3, expert = expert)
    sim <- rcmoe(60, p, f0)
    fit <- fit_cmoe(sim$x, sim$y, f0, expert = expert, init = p,
                    control = cmoe_control(max_iter = 0))
    for (theta in list(c(0.35, 0.8, 1.2, -0.4, 0.3), c(0.6, -0.5, 0.3, 0.7, 1.1))) {
      logdens <- function(th) {
        dcmoe(sim$x, sim$y, cmoe_params(th[1], th[2:4], th[5], expert), f0, log = TRUE)
      }
      numeric_scores <- vapply(seq_along(theta), function(j) {
        e <- replace(numeric(5), j, 1e-6)
        (logdens(theta + e) - logdens(theta - e)) / 2e-6
      }, numeric(60))
      analytic <- moerates:::cmoe_scores(sim$x, sim$y, fit$logf0, fit$params, theta)
      expect_equal(dim(analytic), c(60, 5))
      expect_equal(unname(analytic), numeric_scores, tolerance = 1e-6,
                   label = paste(expert, "scores"))
    }
  }
})

test_that("the scores vanish at the maximum", {
  # EM run far past the default tolerance, so the iterate is at the maximum
  long <- fit_cmoe(sim1$x, sim1$y, lap, control = cmoe_control(max_iter = 2000, tol = 0))
  g <- colSums(moerates:::cmoe_scores(long$x, long$y, long$logf0, long$params, coef(long)))
  expect_lt(max(abs(g)), 1e-3)
  # and at the default tolerance they are small next to n
  expect_lt(max(abs(colSums(moerates:::cmoe_scores(fit1$x, fit1$y, fit1$logf0, fit1$params, coef(fit1))))), 1500 * 1e-4)
})

# What each panel shows (labels, title, legend entries), as plot() draws it.
panels_of <- function(fit, which = NULL, labels = NULL) {
  panels <- moerates:::cmoe_plot_panels(fit, which, labels)
  list(labels = do.call(rbind, lapply(panels, function(p) c(xlab = p$xlab, ylab = p$ylab, main = p$main))),
       legends = lapply(panels, function(p) vapply(p$curves, `[[`, character(1), "label")),
       panels = panels)
}

test_that("plot labels every panel from the variable names, with a legend for the curves", {
  df <- data.frame(dose = sim1$x[, 1], response = sim1$y)
  ffit <- fit_cmoe(response ~ dose, df, lap)
  pdf(NULL)
  on.exit(dev.off())
  expect_invisible(plot(ffit))
  one <- panels_of(ffit)
  expect_equal(unname(one$labels[1, ]), c("dose", "response", "Data and fitted means"))
  expect_identical(one$legends[[1]], c("pre-trained mean", "prompt mean", "mixture mean"))
  # the curves are the means of the fit along the covariate
  curves <- one$panels[[1]]$curves
  th <- coef(ffit)
  expect_equal(curves[[1]]$y, 2 * curves[[1]]$x)
  expect_equal(curves[[2]]$y, th[["a_dose"]] * curves[[2]]$x + th[["b"]])
  expect_equal(curves[[3]]$y, (1 - th[["lambda"]]) * curves[[1]]$y + th[["lambda"]] * curves[[2]]$y)
  expect_equal(range(curves[[1]]$x), range(df$dose))
  relabelled <- panels_of(ffit, c("data", "trace"), c(dose = "dose (mg)", response = "effect"))
  expect_equal(unname(relabelled$labels[, "xlab"]), c("dose (mg)", "SQUAREM cycle (3 EM steps)"))
  expect_equal(unname(relabelled$labels[, "ylab"]), c("effect", "log-likelihood"))
  expect_invisible(plot(ffit, which = c("data", "trace"), labels = c(dose = "dose (mg)"), las = 1))
  # several covariates: fitted, the prompt's view, one panel per covariate
  two <- panels_of(fit2)
  expect_equal(unname(two$labels[, "main"]),
               c("Observed against fitted", "The prompt's view", "Against x1", "Against x2"))
  expect_equal(unname(two$labels[, "xlab"]),
               c("fitted mean of y", "prompt index a'x + b", "x1", "x2"))
  expect_identical(two$legends[[1]], "observed = fitted")
  expect_identical(two$legends[[2]], "prompt mean")
  expect_identical(two$panels[[3]]$legend_title, "other covariates at their means")
  expect_equal(two$panels[[1]]$x, fitted(fit2))
  # the other covariate is held at its mean along each panel's curves
  th2 <- coef(fit2)
  grid <- two$panels[[4]]$curves[[2]]$x
  expect_equal(two$panels[[4]]$curves[[2]]$y,
               tanh(th2[["a_x1"]] * mean(sim2$x[, 1]) + th2[["a_x2"]] * grid + th2[["b"]]))
  unnamed <- fit_cmoe(unname(sim2$x), sim2$y, stu, expert = "tanh", init = truth2)
  expect_equal(unname(panels_of(unnamed, "data")$labels[, "xlab"]), c("x1", "x2"))
  # the plot leaves the device's settings as it found them
  before <- par(no.readonly = TRUE)
  plot(fit2, las = 1, cex.axis = 0.8)
  expect_identical(par(no.readonly = TRUE)[c("mfrow", "mar", "mgp", "las", "cex.axis")],
                   before[c("mfrow", "mar", "mgp", "las", "cex.axis")])
})

test_that("plot refuses what it does not take, and points shrink as n grows", {
  pdf(NULL)
  on.exit(dev.off())
  expect_identical(plot(fit1, which = "index"), fit1)
  expect_error(plot(fit1, which = 3), "^`which` must name distinct panels")
  expect_error(plot(fit1, which = character(0)), "`which`")
  expect_error(plot(fit1, which = c("data", "data")), "`which`")
  expect_error(plot(fit1, xlab = "dose"), "^`xlab` is not a graphical parameter")
  expect_error(plot(fit1, main = "my fit"), "^`main` is not a graphical parameter")
  expect_error(plot(fit1, mfrow = c(2, 2)), "^`mfrow`")
  expect_error(plot(fit1, "data", NULL, 1), "^`...` must hold named graphical parameters")
  expect_error(plot(fit1, labels = c(dose = "d")), "^`labels` must be a character vector named by")
  expect_error(plot(fit1, labels = "d"), "`labels`")
  styles <- lapply(c(100, 1e4, 1e6), function(n) {
    moerates:::cmoe_point_style(list(x = matrix(0, n, 1), posterior = rep(0.5, n)))
  })
  sizes <- vapply(styles, `[[`, numeric(1), "cex")
  expect_true(all(diff(sizes) < 0) && min(sizes) >= 0.3)
  alpha <- vapply(styles, function(s) col2rgb(s$col[1], alpha = TRUE)[4], numeric(1))
  expect_true(all(diff(alpha) < 0))
})

test_that("a user log-density needs `mean` for fitted means, and says so", {
  set.seed(17)
  sim <- rcmoe(800, truth1, lap)
  own <- pretrained_model(logdensity = function(x, y) -log(2) - abs(y - 2 * x[, 1]))
  fit <- fit_cmoe(sim$x, sim$y, own, init = truth1)
  expect_equal(coef(fit), coef(fit_cmoe(sim$x, sim$y, lap, init = truth1)))
  expect_error(fitted(fit), "pretrained_model\\(logdensity = , mean = function\\(x\\)")
  expect_error(residuals(fit), "without `mean`")
  expect_error(predict(fit, c(0, 1), type = "pretrained"), "`mean`")
  # what does not need the mean still works
  expect_length(predict(fit, c(0, 1), type = "prompt"), 2)
  expect_equal(predict(fit, type = "posterior"), fit$posterior)
  expect_output(print(fit), "user log-density")
  pdf(NULL)
  on.exit(dev.off())
  expect_invisible(plot(fit))

  with_mean <- pretrained_model(logdensity = function(x, y) -log(2) - abs(y - 2 * x[, 1]),
                                mean = function(x) 2 * x[, 1])
  fit_m <- fit_cmoe(sim$x, sim$y, with_mean, init = truth1)
  th <- coef(fit_m)
  expect_equal(fitted(fit_m), (1 - th[["lambda"]]) * 2 * sim$x[, 1] +
                 th[["lambda"]] * (th[["a_x1"]] * sim$x[, 1] + th[["b"]]))
  expect_equal(predict(fit_m, c(-1, 1), type = "pretrained"), c(-2, 2))
})

test_that("every method refuses a fit edited by hand, naming its argument", {
  edited <- function(part, field, value) {
    f <- fit1
    if (is.null(field)) f[part] <- list(value) else f[[part]][field] <- list(value)
    f
  }
  bad_nu <- edited("params", "nu", -1)
  for (method in list(coef, vcov, logLik, nobs, fitted, residuals, summary, simulate,
                      function(object) predict(object, 0))) {
    expect_error(method(bad_nu),
                 "^`object` is not a fit_cmoe\\(\\) result as it stands: `params` holds invalid contents: `nu`")
  }
  expect_error(print(bad_nu), "^`x` is not a fit_cmoe\\(\\) result")
  expect_error(plot(bad_nu), "^`x` is not a fit_cmoe\\(\\) result")
  expect_error(is_degenerate(bad_nu), "^`fit` is not a fit_cmoe\\(\\) result")
  # valid parts that no longer belong together
  for (f in list(edited("params", "lambda", 0.5), edited("loglik", NULL, 0),
                 edited("posterior", NULL, rev(fit1$posterior)))) {
    expect_error(coef(f), "^`object` holds parameters, data or a log-likelihood that are not those of one fit")
  }
  for (f in list(edited("pretrained", "nu0", 2), edited("y", NULL, fit1$y + 1))) {
    expect_error(predict(f, 0), "^`object` holds a log f0 that is not its pre-trained model's")
  }
  expect_error(coef(edited("control", "accelerate", "Squarem")),
               "^`object` is not a fit_cmoe\\(\\) result as it stands: `control` holds invalid contents: `accelerate`")
  expect_error(nobs(edited("x", NULL, fit1$x[1:10, , drop = FALSE])),
               "^`object` is not a fit_cmoe\\(\\) result as it stands: `y` must have one value per row")
  expect_error(logLik(edited("diagnostics", "nonfinite", NA)),
               "`diagnostics\\$nonfinite` must be TRUE or FALSE")
  no_params <- fit1
  no_params$params <- NULL
  expect_error(coef(no_params), "^`object` lacks the field\\(s\\) `params`")
  # a fit with an extra field of the user's is still a fit
  noted <- fit1
  noted$note <- "first try"
  expect_identical(coef(noted), coef(fit1))
})

test_that("predictions far outside the data are finite, or an error naming newdata", {
  far <- c(-1e300, -1e200, 1e200, 1e300)
  for (type in c("mean", "prompt", "pretrained")) {
    expect_true(all(is.finite(predict(fit1, far, type = type))), label = type)
  }
  for (type in c("posterior", "density")) {
    value <- predict(fit1, far, type = type, y = c(0, 1e300, -1e300, 0))
    expect_true(all(is.finite(value) & value >= 0), label = type)
  }
  expect_error(predict(fit1, c(0, 1.7e308)), "^`newdata` has row\\(s\\) 2 at which the mean overflows")
})

test_that("vcov is the same in any units, and refuses variances a double cannot hold", {
  scaled <- pretrained_model("laplace", eta0 = c(2e6, 0), nu0 = 1e12)
  in_micro <- fit_cmoe(sim1$x, sim1$y * 1e6, scaled)
  jac <- diag(c(1, 1e6, 1e6, 1e12))
  expect_equal(vcov(in_micro), jac %*% vcov(fit1) %*% jac, tolerance = 1e-6, ignore_attr = TRUE)
  huge <- fit_cmoe(sim1$x, sim1$y * 1e100, pretrained_model("laplace", eta0 = c(2e100, 0), nu0 = 1e200))
  expect_error(vcov(huge), "^`object` has a variance of `nu` beyond the range of a double")
  se <- summary(huge)$coefficients$std_error
  expect_true(all(is.finite(se)))
  expect_equal(se, c(1, 1e100, 1e100, 1e200) * summary(fit1)$coefficients$std_error, tolerance = 1e-6)
})

test_that("simulate checks nsim and seed", {
  expect_error(simulate(fit1, nsim = 0), "^`nsim`")
  expect_error(simulate(fit1, seed = "a"), "^`seed` must be NULL or a single whole number")
  expect_error(simulate(fit1, seed = 1.5), "^`seed`")
  expect_error(simulate(fit1, seed = c(1, 2)), "^`seed`")
})
