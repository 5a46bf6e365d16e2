# The bad-input table of the Gaussian-gated MoE: every export and every S3
# method, with hand-edited objects of each class, collinear and duplicated
# covariates, data at scales 1e-300 and 1e300 and counts of 1e10. Each case
# names the outcome it must have: an error whose message names an argument
# (and shows nothing of the C++ or LAPACK layers), or a finite valid result.
# The table runs on both code paths.

# Words of the layers below the R interface that no message may show.
hidden_words <- c("internal", "Rcpp", "Eigen", "LAPACK", "Lapack", "chol", "solve",
                  "subscript", "get1index")

# An error naming `arg`; a result whose numbers are all finite.
fails <- function(expr, arg) list(call = substitute(expr), arg = arg)
works <- function(expr) list(call = substitute(expr), arg = NULL)

# Every double in a result is finite (integer NA marks "never", as in
# `collapsed_at`, and is allowed).
all_finite <- function(v) {
  if (is.environment(v) || is.function(v) || is.language(v)) return(TRUE)
  if (is.list(v)) return(all(vapply(v, all_finite, logical(1))))
  if (is.double(v)) return(all(is.finite(v)))
  TRUE
}

bad_input_cases <- function() {
  set.seed(1)
  p <- gmoe_paper_truth(1)
  p3 <- gmoe_paper_truth(3)
  s <- rgmoe(300, p)
  s3 <- rgmoe(300, p3)
  x <- s$x
  y <- s$y
  fit <- fit_gmoe(x, y, k = 2)
  fit3 <- fit_gmoe(s3$x, s3$y, k = 2)
  df <- data.frame(u = s3$x[, 1], v = s3$x[, 2], resp = s3$y)
  ffit <- fit_gmoe(resp ~ u + v, data = df, k = 2)
  ctl <- gmoe_control()
  start3 <- init_near_truth(p, k = 3, n = 300)
  joint <- gmoe_to_joint(p)
  tab <- coef(p)

  edit <- function(obj, f) f(obj)
  # hand-edited parameters
  q_nan_c <- edit(p, function(q) { q$c[1] <- NaN; q })
  q_pi_short <- edit(p, function(q) { q$pi <- c(0.5, 0.6); q })
  q_pi_sum <- edit(p, function(q) { q$pi <- c(0.5, 0.6, 0.1); q })
  q_pi_neg <- edit(p, function(q) { q$pi <- c(-0.2, 0.6, 0.6); q })
  q_gamma_neg <- edit(p, function(q) { q$Gamma[1, 1, 2] <- -1; q })
  q_gamma_asym <- edit(p3, function(q) { q$Gamma[1, 2, 1] <- 0.01; q })
  q_gamma_singular <- edit(p3, function(q) { q$Gamma[, , 1] <- matrix(0.04, 2, 2); q })
  q_nu_zero <- edit(p, function(q) { q$nu[2] <- 0; q })
  q_nu_subnormal <- edit(p, function(q) { q$nu[2] <- 1e-320; q })
  q_b_text <- edit(p, function(q) { q$b <- c("a", "b", "c"); q })
  q_a_missing <- edit(p, function(q) { q$a <- NULL; q })
  q_class_only <- structure(list(), class = "gmoe_params")
  # hand-edited controls
  c_squarem <- edit(ctl, function(z) { z$accelerate <- "Squarem"; z })
  c_iter <- edit(ctl, function(z) { z$max_iter <- 1e10; z })
  c_tol <- edit(ctl, function(z) { z$tol <- NA; z })
  c_unknown <- edit(ctl, function(z) { z$max_iters <- 5; z })
  c_missing <- edit(ctl, function(z) { z$threads <- NULL; z })
  c_old <- edit(ctl, function(z) { z$kernels <- NULL; z })
  c_kernels <- edit(ctl, function(z) { z$kernels <- "sse"; z })
  # hand-edited fits
  f_pi <- edit(fit, function(f) { f$params$pi <- c(0.5, 0.6); f })
  f_gamma <- edit(fit, function(f) { f$params$Gamma[1, 1, 1] <- -1; f })
  f_x <- edit(fit, function(f) { f$x <- f$x[-1, , drop = FALSE]; f })
  f_y <- edit(fit, function(f) { f$y[3] <- NA; f })
  f_resp <- edit(fit, function(f) { f$responsibilities <- f$responsibilities[, 1]; f })
  f_control <- edit(fit, function(f) { f$control$accelerate <- "Squarem"; f })
  f_kernels <- edit(fit, function(f) { f$diagnostics$kernels <- "sse"; f })
  f_old <- edit(fit, function(f) { f$diagnostics$kernels <- NULL; f$control$kernels <- NULL; f })
  f_loglik <- edit(fit, function(f) { f$loglik <- NaN; f })
  f_iter <- edit(fit, function(f) { f$iterations <- 1e10; f })
  f_diag <- edit(fit, function(f) { f$diagnostics$components <- NULL; f })
  not_fit <- structure(list(params = p), class = "gmoe_fit")

  cases <- list(
    # the cases of the issue
    fails(fit_gmoe(cbind(x, x), y, k = 2), "x"),
    fails(fit_gmoe(cbind(x, 2 * x), y, k = 2), "x"),
    fails(fit_gmoe(data.frame(a = x[, 1], b = x[, 1]), y, k = 2), "x"),
    fails(dgmoe(0.1, 0.2, q_nan_c), "params"),
    fails(rgmoe(1000, q_pi_short), "params"),
    fails(fit_gmoe(x, y, 3, init = q_pi_sum, control = gmoe_control(max_iter = 0)), "init"),
    fails(fit_gmoe(x, y, 2, control = c_squarem), "control"),
    fails(fit_gmoe(x, y * 1e300, k = 2), "y"),
    works(predict(fit_gmoe(x, y, k = 3), c(1e200, 0))),
    fails(fit_gmoe(x, y, k = 1e10), "k"),
    # collinear, duplicated and constant covariates
    fails(fit_gmoe(cbind(s3$x, s3$x[, 1] - s3$x[, 2]), s3$y, k = 2), "x"),
    fails(fit_gmoe(cbind(s3$x, s3$x[, 2]), s3$y, k = 2), "x"),
    fails(fit_gmoe(resp ~ u + v + I(u + v), data = df, k = 2), "x"),
    fails(fit_gmoe(cbind(x, 1), y, k = 2), "x"),
    fails(fit_gmoe(x, rep(2, 300), k = 2), "y"),
    works(fit_gmoe(cbind(x, x + rnorm(300, sd = 1e-3)), y, k = 2)),
    # scales
    fails(fit_gmoe(x * 1e300, y, k = 2), "x"),
    fails(fit_gmoe(x * 1e-300, y, k = 2), "x"),
    fails(fit_gmoe(x, y * 1e-300, k = 2), "y"),
    works(fit_gmoe(x * 1e150, y * 1e-150, k = 2)),
    works(fit_gmoe(x * 1e-150, y * 1e150, k = 2)),
    works(fit_gmoe(cbind(s3$x[, 1] * 1e100, s3$x[, 2] * 1e-100), s3$y, k = 2)),
    works(fit_gmoe(x + 1e6, y, k = 2)),
    works(dgmoe(x * 1e-150, y, gmoe_from_joint(joint$pro,
                                               joint$mean * c(1e-150, 1),
                                               joint$sigma * c(1e-300, 1e-150, 1e-150, 1)),
                log = TRUE)),
    works(dgmoe(c(1e10, -1e12), c(1e10, -1e12) * p$a[1, 1], p, log = TRUE, conditional = TRUE)),
    works(predict(fit, c(-1e300, 1e300, 1e-300), type = "gate")),
    works(predict(fit3, rbind(c(1e200, -1e200), c(0, 1e250)))),
    works(predict(fit, 1e200, type = "density", y = 4e199)),
    # counts beyond the integer range
    fails(fit_gmoe(x, y, k = 2, n_starts = 1e10), "n_starts"),
    fails(gmoe_control(max_iter = 1e10), "max_iter"),
    fails(gmoe_control(threads = 1e10), "threads"),
    fails(rgmoe(1e10, p), "n"),
    fails(simulate(fit, nsim = 1e10), "nsim"),
    fails(simulate(fit, seed = 1e10), "seed"),
    fails(init_near_truth(p, k = 1e10, n = 100), "k"),
    fails(gmoe_study(1, k = 1e10), "k"),
    # fit_gmoe(): other arguments
    fails(fit_gmoe(x, y, k = 2, init = "spectral"), "init"),
    fails(fit_gmoe(x, y, k = 2, init = p), "init"),
    fails(fit_gmoe(x, y, k = 3, init = q_gamma_neg), "init"),
    fails(fit_gmoe(x, y, k = 3, init = q_nu_subnormal), "init"),
    fails(fit_gmoe(x, y, k = 3, init = edit(p, function(q) { q$c[] <- 1e200; q })), "init"),
    fails(fit_gmoe(x, y, k = 2, control = list(max_iter = 3)), "control"),
    fails(fit_gmoe(x, y, k = 2, control = c_iter), "control"),
    fails(fit_gmoe(x, y, k = 2, control = c_tol), "control"),
    fails(fit_gmoe(x, y, k = 2, control = c_unknown), "control"),
    fails(fit_gmoe(x, y, k = 2, control = c_missing), "control"),
    fails(fit_gmoe(x, y, k = 2, control = c_kernels), "control"),
    fails(fit_gmoe(x, y, k = 2, verbose = NA), "verbose"),
    fails(fit_gmoe(resp ~ u + w, data = df, k = 2), "data"),
    fails(fit_gmoe(x, y[-1], k = 2), "y"),
    works(fit_gmoe(x, y, k = 3, init = start3, control = gmoe_control(max_iter = 1))),
    works(fit_gmoe(x, y, k = 2, control = c_old)),
    works(predict(f_old, 0.3)),
    works(fit_gmoe(resp ~ u + v, data = df, k = 2, init = "random", n_starts = 2)),
    # gmoe_control()
    fails(gmoe_control(accelerate = "Squarem"), "accelerate"),
    fails(gmoe_control(kernels = "avx512"), "kernels"),
    fails(gmoe_control(tol = Inf), "tol"),
    fails(print(c_squarem), "x"),
    works(capture.output(print(gmoe_control(kernels = "portable")))),
    # gmoe_params() and its methods
    fails(gmoe_params(c(0.5, 0.5), 1:2, c(1, 1), 1:2, 1:2, c(1, 1e-320)), "nu"),
    fails(gmoe_params(1, c(0, 0), array(c(1, 1, 1, 1), c(2, 2, 1)), c(1, 1), 0, 1), "Gamma"),
    fails(print(q_pi_sum), "x"),
    fails(print(q_class_only), "x"),
    fails(coef(q_gamma_asym), "object"),
    fails(coef(q_gamma_singular), "object"),
    fails(coef(q_b_text), "object"),
    works(coef(p3)),
    works(capture.output(print(p))),
    # gmoe_params_from_table(), gmoe_to_joint(), gmoe_from_joint(), gmoe_paper_truth()
    fails(gmoe_params_from_table(edit(tab, function(t) { t[1, "pi"] <- 0.9; t })), "table"),
    fails(gmoe_params_from_table(edit(tab, function(t) { t[2, "nu"] <- -1; t })), "table"),
    fails(gmoe_params_from_table(tab[, -1]), "table"),
    fails(gmoe_params_from_table("pi"), "table"),
    works(gmoe_params_from_table(tab)),
    fails(gmoe_to_joint(q_pi_neg), "params"),
    fails(gmoe_to_joint(q_a_missing), "params"),
    fails(gmoe_to_joint(edit(p, function(q) { q$nu[1] <- 1e308; q$nu[2] <- 1e308; q$a[] <- 1e200; q })),
          "params"),
    works(gmoe_to_joint(p3)),
    fails(gmoe_from_joint(joint$pro, joint$mean, joint$sigma * -1), "sigma"),
    fails(gmoe_from_joint(joint$pro, joint$mean,
                          edit(joint$sigma, function(S) { S[1, 2, 1] <- 5; S })), "sigma"),
    fails(gmoe_from_joint(c(0.5, 0.6, 0.1), joint$mean, joint$sigma), "pro"),
    fails(gmoe_from_joint(joint$pro, joint$mean[, 1:2], joint$sigma), "sigma"),
    fails(gmoe_from_joint(joint$pro, NA, joint$sigma), "mean"),
    works(gmoe_from_joint(joint$pro, joint$mean, joint$sigma)),
    fails(gmoe_paper_truth(1e10), "model"),
    works(gmoe_paper_truth(4)),
    # dgmoe() and rgmoe()
    fails(dgmoe(x, y, q_gamma_neg), "params"),
    fails(dgmoe(x, y, q_nu_zero), "params"),
    fails(dgmoe(x, y, unclass(p)), "params"),
    fails(dgmoe(x, y, p, conditional = "yes"), "conditional"),
    fails(rgmoe(10, q_pi_sum), "params"),
    fails(rgmoe(10, q_gamma_neg), "params"),
    works(rgmoe(10, p3)),
    # init_near_truth()
    fails(init_near_truth(q_pi_sum, k = 4, n = 100), "truth"),
    fails(init_near_truth(p, k = 4, n = Inf), "n"),
    works(init_near_truth(p3, k = 4, n = 1e10)),
    # voronoi_cells(), voronoi_loss() and their print methods
    fails(voronoi_loss(q_pi_sum, p), "estimate"),
    fails(voronoi_loss(f_pi, p), "estimate$params"),
    fails(voronoi_loss(fit, q_nan_c), "truth"),
    fails(voronoi_cells(p, q_gamma_neg), "truth"),
    fails(voronoi_cells(q_class_only, p), "estimate"),
    fails(voronoi_loss(fit, p, type = "IV"), "type"),
    fails(voronoi_loss(fit, p, detail = 1), "detail"),
    fails(print(structure(list(total = "a"), class = "voronoi_loss")), "x"),
    fails(print(structure(list(cell = 1), class = "voronoi_cells")), "x"),
    works(voronoi_loss(fit, p)),
    works(voronoi_loss(init_near_truth(p, 5, 100, split = c(2, 2, 1)), p, detail = TRUE)),
    works(voronoi_cells(fit, p)),
    works(capture.output(print(voronoi_loss(fit, p, detail = TRUE)))),
    works(capture.output(print(voronoi_cells(fit, p)))),
    fails(rbar(1e10 + 0.5), "m"),
    works(rtilde(1:3)),
    # is_degenerate()
    fails(is_degenerate(f_diag), "fit$diagnostics"),
    fails(is_degenerate(f_gamma), "fit$params"),
    fails(is_degenerate(list()), "fit"),
    works(is_degenerate(fit)),
    # the methods of gmoe_fit, each with a hand-edited fit
    fails(print(f_pi), "x$params"),
    works(capture.output(print(fit))),
    fails(summary(f_x), "object$y"),
    works(capture.output(print(summary(fit3)))),
    fails(print(structure(list(), class = "summary.gmoe_fit")), "x"),
    fails(coef(f_gamma), "object$params"),
    works(coef(fit)),
    fails(logLik(f_loglik), "object$loglik"),
    works(logLik(fit)),
    fails(nobs(f_y), "object$y"),
    works(nobs(fit)),
    fails(fitted(f_resp), "object$responsibilities"),
    works(fitted(fit3)),
    fails(residuals(f_control), "object$control"),
    works(residuals(fit)),
    fails(simulate(f_kernels), "object$diagnostics$kernels"),
    works(simulate(fit, nsim = 2, seed = 1)),
    fails(predict(f_iter), "object$iterations"),
    fails(predict(fit, type = "median"), "type"),
    fails(predict(fit, cbind(1, 2)), "newdata"),
    fails(predict(ffit, data.frame(u = 1)), "newdata"),
    fails(predict(fit, 0.1, type = "density"), "y"),
    works(predict(ffit, df[1:5, ], type = "density")),
    works(predict(fit3, s3$x[1:4, ], type = "component")),
    fails(plot(not_fit), "x$x"),
    fails(plot(fit, which = 4), "which"),
    fails(plot(fit, which = integer(0)), "which"),
    works(plot(fit))
  )
  list(cases = cases, env = environment())
}

for (kernels in c("auto", "portable")) {
  test_that(paste("every bad input gets a clear error naming its argument, kernels =", kernels), {
    op <- options(moerates.kernels = kernels)
    on.exit(options(op))
    grDevices::pdf(NULL)
    on.exit(grDevices::dev.off(), add = TRUE)
    table <- bad_input_cases()
    expect_gte(length(table$cases), 70)
    errors <- 0
    for (case in table$cases) {
      what <- paste(deparse(case$call, width.cutoff = 500), collapse = " ")
      if (is.null(case$arg)) {
        value <- suppressWarnings(eval(case$call, table$env))
        expect_true(all_finite(value), info = what)
        next
      }
      errors <- errors + 1
      err <- tryCatch(suppressWarnings(eval(case$call, table$env)), error = function(e) e)
      expect_true(inherits(err, "error"), info = what)
      if (!inherits(err, "error")) next
      msg <- conditionMessage(err)
      expect_true(grepl(paste0("`", case$arg, "`"), msg, fixed = TRUE), info = paste(what, "->", msg))
      for (word in hidden_words) {
        expect_false(grepl(word, msg, fixed = TRUE), info = paste(what, "->", msg))
      }
      expect_false(inherits(err, "Rcpp::exception"), info = what)
    }
    expect_gte(errors, 50)
  })
}

test_that("every GMoE export and method appears in the table", {
  calls <- vapply(bad_input_cases()$cases, function(case) {
    paste(deparse(case$call, width.cutoff = 500), collapse = " ")
  }, character(1))
  covered <- c("fit_gmoe(", "gmoe_control(", "gmoe_params(", "gmoe_params_from_table(",
               "gmoe_paper_truth(", "gmoe_to_joint(", "gmoe_from_joint(", "dgmoe(", "rgmoe(",
               "init_near_truth(", "voronoi_loss(", "voronoi_cells(", "rbar(", "rtilde(",
               "is_degenerate(", "gmoe_study(", "print(", "summary(", "coef(", "logLik(",
               "nobs(", "fitted(", "residuals(", "simulate(", "predict(", "plot(")
  for (f in covered) expect_true(any(grepl(f, calls, fixed = TRUE)), info = f)
})
