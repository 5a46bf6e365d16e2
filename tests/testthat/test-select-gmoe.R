# Choosing k: fit_gmoe(k = 1:6) and the gmoe_selection class.

set.seed(3)
sim_sel <- rgmoe(1000, gmoe_paper_truth(1))
sel <- fit_gmoe(sim_sel$x, sim_sel$y, k = 1:4)

test_that("the table holds each k's fit, with BIC as stats::BIC() and the ICL", {
  tab <- sel$table
  expect_s3_class(sel, "gmoe_selection")
  expect_equal(tab$k, 1:4)
  expect_named(sel$fits, as.character(1:4))
  for (i in seq_along(tab$k)) {
    fit <- sel$fits[[i]]
    expect_s3_class(fit, "gmoe_fit")
    expect_length(fit$params$pi, tab$k[i])
    expect_equal(tab$logLik[i], fit$loglik)
    expect_equal(tab$df[i], attr(logLik(fit), "df"))
    expect_equal(tab$BIC[i], BIC(fit))
    expect_equal(tab$BIC[i], -2 * fit$loglik + log(1000) * tab$df[i])
    z <- fit$responsibilities
    expect_equal(tab$ICL[i], BIC(fit) - 2 * sum(log(apply(z, 1, max))))
    expect_equal(tab$degenerate[i], nzchar(tab$reason[i]))
  }
  ok <- !tab$degenerate
  expect_equal(sel$k, tab$k[ok][which.min(tab$BIC[ok])])
  expect_equal(sel$k, 3L)
  # k = 1 has one maximum: the joint Gaussian of (x, y)
  z <- cbind(sim_sel$x, sim_sel$y)
  S <- cov(z) * (999 / 1000)
  expect_equal(tab$logLik[1], sum(-0.5 * log(det(2 * pi * S)) -
                                    0.5 * mahalanobis(z, colMeans(z), S)), tolerance = 1e-8)
})

test_that("the selection is reproducible with set.seed() and takes unsorted k", {
  set.seed(5)
  a <- fit_gmoe(sim_sel$x, sim_sel$y, k = c(4, 1, 3, 2))
  set.seed(5)
  b <- fit_gmoe(sim_sel$x, sim_sel$y, k = 1:4)
  expect_equal(a$table, b$table)
  expect_equal(a$table$k, 1:4)
})

test_that("the selection is the same in any units", {
  set.seed(6)
  a <- suppressWarnings(fit_gmoe(sim_sel$x, sim_sel$y, k = 1:3))
  set.seed(6)
  b <- suppressWarnings(fit_gmoe(sim_sel$x * 1e150, sim_sel$y * 1e-150, k = 1:3))
  # the Jacobians of x * 1e150 and y * 1e-150 cancel in the joint likelihood
  expect_equal(b$table$logLik, a$table$logLik, tolerance = 1e-6)
  expect_equal(b$table$ICL, a$table$ICL, tolerance = 1e-6)
  expect_equal(b$k, a$k)
})

test_that("k = 3 is chosen on 3-expert data in at least 9 of 10 seeds (d = 1 and 2)", {
  for (model in c(1, 3)) {
    chosen <- vapply(1:10, function(seed) {
      set.seed(seed)
      sim <- rgmoe(2000, gmoe_paper_truth(model))
      suppressMessages(fit_gmoe(sim$x, sim$y, k = 1:6))$k
    }, integer(1))
    expect_gte(sum(chosen == 3), 9, label = paste("model", model, "choices", toString(chosen)))
  }
})

test_that("degenerate fits are marked, never chosen, and named in one message", {
  set.seed(1)
  expect_message(cars <- fit_gmoe(mpg ~ wt + hp, data = mtcars, k = 1:5),
                 "Set aside as degenerate.*k = 5")
  tab <- cars$table
  expect_true(tab$degenerate[tab$k == 5])
  expect_match(tab$reason[tab$k == 5], "observations, fewer than the 9 parameters")
  expect_false(is.na(cars$k))
  expect_false(tab$degenerate[tab$k == cars$k])
  fit <- selected_fit(cars)
  expect_false(is_degenerate(fit))
  expect_true(all(fit$diagnostics$components$size >= 9))
  # the smallest BIC of all is a degenerate fit's: it is the one set aside
  expect_true(min(tab$BIC[tab$degenerate]) < tab$BIC[tab$k == cars$k])
  expect_output(print(cars), "Set aside as degenerate:\n  k = 3")
  # a fit on a bound of the parameter space is degenerate, with the bound named
  bound <- sel$fits[["2"]]
  bound$diagnostics$bounds$nu[1] <- TRUE
  expect_match(moerates:::degeneracy_reason(bound), "at a bound \\(component 1: nu\\)")
})

test_that("without a fit that is not degenerate nothing is chosen, with a warning", {
  set.seed(1)
  # 32 cars in 4 or 5 components: some component has at most 8 cars
  expect_warning(none <- fit_gmoe(mpg ~ wt + hp, data = mtcars, k = 4:5),
                 "Every fit is degenerate")
  expect_true(is.na(none$k))
  expect_true(all(none$table$degenerate))
  expect_error(selected_fit(none), "`x` has no chosen fit")
  expect_s3_class(selected_fit(none, k = 4), "gmoe_fit")
  expect_output(print(none), "No k chosen")
  expect_null(summary(none)$fit)
})

test_that("a choice at the largest k tried is warned about", {
  set.seed(1)
  expect_warning(fit_gmoe(sim_sel$x, sim_sel$y, k = 1:2), "largest tried")
})

test_that("per-k log-likelihoods on faithful reach mclust's VVV ones", {
  skip_if_not_installed("mclust")
  set.seed(1)
  sel_f <- fit_gmoe(waiting ~ eruptions, data = faithful, k = 1:6)
  z <- cbind(faithful$eruptions, faithful$waiting)
  for (g in 1:6) {
    # Mclust() evaluates calls to mclust's own functions in its caller's frame
    m <- eval(quote(Mclust(z, G = g, modelNames = "VVV", verbose = FALSE)),
              list(z = z, g = g), asNamespace("mclust"))
    expect_gte(sel_f$table$logLik[g], m$loglik - 1e-6, label = paste("k =", g))
  }
  expect_false(any(sel_f$table$degenerate))
  expect_equal(sel_f$k, 2L)
})

test_that("the chosen fit is returned by selected_fit() and the methods forward to it", {
  fit <- selected_fit(sel)
  expect_s3_class(fit, "gmoe_fit")
  expect_length(fit$params$pi, 3)
  expect_equal(fit$call$k, 3L)
  expect_equal(coef(sel), coef(fit))
  expect_equal(logLik(sel), logLik(fit))
  expect_equal(logLik(sel, type = "conditional"), logLik(fit, type = "conditional"))
  expect_equal(BIC(sel), BIC(fit))
  expect_equal(nobs(sel), 1000)
  expect_equal(fitted(sel), fitted(fit))
  expect_equal(residuals(sel), residuals(fit))
  expect_equal(predict(sel, c(0, 0.3), type = "gate"), predict(fit, c(0, 0.3), type = "gate"))
  expect_equal(vcov(sel), vcov(fit))
  expect_equal(confint(sel), confint(fit))
  expect_length(selected_fit(sel, k = 2)$params$pi, 2)
  expect_error(selected_fit(sel, k = 7), "`k` must be one of the numbers of components fitted")
  expect_error(selected_fit(fit), "`x` must be a `gmoe_selection`")
})

test_that("the formula interface passes k on; the fits predict on new data", {
  set.seed(1)
  sel_f <- fit_gmoe(waiting ~ eruptions, data = faithful, k = 1:3)
  expect_s3_class(sel_f, "gmoe_selection")
  fit <- selected_fit(sel_f)
  expect_equal(fit$call$k, sel_f$k)
  expect_length(predict(fit, data.frame(eruptions = c(2, 4.5))), 2)
  expect_length(predict(sel_f, data.frame(eruptions = c(2, 4.5))), 2)
})

test_that("print, summary and verbose say what was done", {
  expect_output(print(sel), "as stats::BIC\\(\\): smaller is better")
  expect_output(print(sel), "3 .*<- chosen")
  expect_output(print(sel), "selected_fit\\(x\\) returns it")
  s <- summary(sel)
  expect_s3_class(s, "summary.gmoe_selection")
  expect_output(print(s), "The chosen fit:")
  expect_output(print(s), "Components:")
  set.seed(1)
  said <- capture_messages(fit_gmoe(sim_sel$x, sim_sel$y, k = 1:4, verbose = TRUE))
  expect_length(said, 4)
  expect_match(said[2], "k = 2: log-likelihood .*, BIC .*, best of 2 start")
})

test_that("plot draws the criteria and the log-likelihood against k", {
  grDevices::pdf(NULL)
  on.exit(grDevices::dev.off())
  expect_identical(plot(sel), sel)
  expect_silent(plot(sel, which = 2, main = "one panel, one label"))
  expect_error(plot(sel, main = "both"), "`main` would label both panels")
  expect_error(plot(sel, which = 3), "`which`")
})

test_that("the warm starts split each component of the k - 1 fit within the bounds", {
  fit2 <- sel$fits[["2"]]
  starts <- moerates:::split_starts(fit2, sim_sel$x, sim_sel$y, gmoe_control())
  expect_length(starts, 2)
  for (j in 1:2) {
    s <- starts[[j]]
    expect_length(s$pi, 3)
    expect_equal(sum(s$pi), 1)
    # the kept components are those of the fit; the split one's weight halved
    expect_equal(s$pi[1], fit2$params$pi[-j])
    expect_equal(s$pi[2:3], rep(fit2$params$pi[j] / 2, 2))
    # the two halves have the split component's mean of (x, y) as their mean
    joint <- gmoe_to_joint(s)
    expect_equal(rowMeans(joint$mean[, 2:3]), gmoe_to_joint(fit2$params)$mean[, j])
  }
})

# Bad input for the forms of `k` that choose among several, as in
# test-bad-input-gmoe.R: an error naming the argument, nothing of the layers
# below the R interface.
test_that("bad k vectors and arguments of a selection get errors naming them", {
  x <- sim_sel$x[1:50, ]
  y <- sim_sel$y[1:50]
  cases <- list(
    list(quote(fit_gmoe(x, y, k = 0:3)), "k"),
    list(quote(fit_gmoe(x, y, k = c(1, 2, 2))), "k"),
    list(quote(fit_gmoe(x, y, k = c(1, 2.5))), "k"),
    list(quote(fit_gmoe(x, y, k = c(1, NA))), "k"),
    list(quote(fit_gmoe(x, y, k = c(-1, 2))), "k"),
    list(quote(fit_gmoe(x, y, k = c("1", "2"))), "k"),
    list(quote(fit_gmoe(x, y, k = c(1, Inf))), "k"),
    list(quote(fit_gmoe(x, y, k = 1:50)), "k"),
    list(quote(fit_gmoe(x, y, k = c(2, 60))), "k"),
    list(quote(fit_gmoe(x, y, k = c(1, 1e10))), "k"),
    list(quote(fit_gmoe(x, y, k = 1:3, init = gmoe_paper_truth(1))), "init"),
    list(quote(fit_gmoe(x, y, k = 1:3, init = "spectral")), "init"),
    list(quote(fit_gmoe(x, y, k = 1:3, n_starts = 0)), "n_starts"),
    list(quote(fit_gmoe(x, y, k = 1:3, verbose = NA)), "verbose"),
    list(quote(fit_gmoe(x, y, k = 1:3, control = list())), "control"),
    list(quote(fit_gmoe(x, y[-1], k = 1:3)), "y"),
    list(quote(fit_gmoe(cbind(x, x), y, k = 1:2)), "x"),
    list(quote(fit_gmoe(y ~ x, data = data.frame(x = x, y = y), k = c(1, 1))), "k"),
    list(quote(plot(sel, which = 0)), "which"),
    list(quote(selected_fit(sel, k = "3")), "k"),
    list(quote(print(structure(list(), class = "gmoe_selection"))), "x"))
  hidden <- c("internal", "Rcpp", "Eigen", "LAPACK", "chol", "solve", "subscript")
  for (case in cases) {
    what <- deparse(case[[1]])
    err <- tryCatch(suppressWarnings(eval(case[[1]])), error = function(e) e)
    expect_s3_class(err, "error")
    msg <- conditionMessage(err)
    expect_true(grepl(paste0("`", case[[2]], "`"), msg, fixed = TRUE),
                info = paste(what, "->", msg))
    for (word in hidden) expect_false(grepl(word, msg, fixed = TRUE), info = paste(what, "->", msg))
  }
  expect_match(tryCatch(fit_gmoe(x, y, k = c(1, 2, 2)), error = conditionMessage),
               "value\\(s\\) 2 more than once")
  expect_match(tryCatch(fit_gmoe(x, y, k = 1:50), error = conditionMessage),
               "at most 49 distinct numbers")
})
