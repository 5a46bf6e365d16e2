test_that("25 EM iterations equal mclust's VVV EM on cbind(x, y)", {
  skip_if_not_installed("mclust")
  configs <- list(c(d = 1, k = 2), c(d = 1, k = 4), c(d = 2, k = 3), c(d = 2, k = 5),
                  c(d = 3, k = 2), c(d = 3, k = 4))
  for (cfg in configs) {
    set.seed(200 + 10 * cfg[["d"]] + cfg[["k"]])
    truth <- random_gmoe(cfg[["k"]], cfg[["d"]])
    sim <- rgmoe(1000, truth)
    start <- truth
    start$Gamma <- 1.5 * truth$Gamma
    start$nu <- 1.5 * truth$nu
    start$a <- truth$a + matrix(rnorm(length(truth$a), sd = 0.2), nrow(truth$a))
    # start near the truth, as EM studies do, but not at it
    start$c <- truth$c + matrix(rnorm(length(truth$c), sd = 0.3), nrow(truth$c))
    start$b <- truth$b + rnorm(length(truth$b), sd = 0.3)
    fit <- fit_gmoe(sim$x, sim$y, k = cfg[["k"]], init = start,
                    control = gmoe_control(max_iter = 25, tol = 0, accelerate = "none"))
    ref <- mclust_em_gmoe(sim$x, sim$y, start, 25)
    expect_equal(fit$iterations, 25L)
    expect_lt(max_param_diff(fit$params, ref$params), 1e-8)
    expect_equal(fit$loglik, ref$loglik, tolerance = 1e-10)
  }
})

test_that("the published model from the near-truth start matches mclust", {
  skip_if_not_installed("mclust")
  for (model in 1:4) {
    set.seed(model)
    truth <- gmoe_paper_truth(model)
    sim <- rgmoe(1500, truth)
    start <- init_near_truth(truth, k = 5, n = 1500)
    fit <- fit_gmoe(sim$x, sim$y, k = 5, init = start,
                    control = gmoe_control(max_iter = 25, tol = 0, accelerate = "none"))
    expect_lt(max_param_diff(fit$params, mclust_em_gmoe(sim$x, sim$y, start, 25)$params), 1e-8)
  }
})

test_that("the log-likelihood never decreases", {
  for (d in 1:3) {
    set.seed(d)
    truth <- random_gmoe(3, d)
    sim <- rgmoe(800, truth)
    for (accelerate in c("none", "squarem")) {
      fit <- fit_gmoe(sim$x, sim$y, k = 4, init = "random",
                      control = gmoe_control(max_iter = 150, tol = 0, accelerate = accelerate))
      steps <- diff(fit$loglik_trace)
      expect_true(all(steps >= -1e-9 * abs(fit$loglik)))
      expect_equal(fit$diagnostics$decreases, 0L)
      expect_length(fit$loglik_trace, 151)
    }
  }
})

test_that("the reported log-likelihood is the one of the returned parameters", {
  set.seed(4)
  sim <- rgmoe(500, gmoe_paper_truth(3))
  fit <- fit_gmoe(sim$x, sim$y, k = 3)
  expect_equal(fit$loglik, sum(dgmoe(sim$x, sim$y, fit$params, log = TRUE)))
  expect_equal(as.numeric(logLik(fit)), fit$loglik)
})

test_that("max_iter = 1 is one EM step and tol = 0 runs max_iter iterations", {
  set.seed(5)
  truth <- gmoe_paper_truth(1)
  sim <- rgmoe(1000, truth)
  start <- init_near_truth(truth, 4, 1000)
  one <- fit_gmoe(sim$x, sim$y, k = 4, init = start, control = gmoe_control(max_iter = 1))
  expect_equal(one$iterations, 1L)
  expect_length(one$loglik_trace, 2)
  expect_false(one$converged)
  two <- fit_gmoe(sim$x, sim$y, k = 4, init = one$params, control = gmoe_control(max_iter = 1))
  both <- fit_gmoe(sim$x, sim$y, k = 4, init = start,
                   control = gmoe_control(max_iter = 2, tol = 0, accelerate = "none"))
  expect_equal(both$params, two$params, tolerance = 1e-12)
  zero <- fit_gmoe(sim$x, sim$y, k = 4, init = start, control = gmoe_control(max_iter = 0))
  expect_equal(zero$params, new_gmoe_params(start$pi, start$c, start$Gamma, start$a,
                                            start$b, start$nu))
  conv <- fit_gmoe(sim$x, sim$y, k = 4, init = start, control = gmoe_control(tol = 1e-6))
  expect_true(conv$converged)
  expect_lt(conv$iterations, 2000)
})

test_that("no general-purpose optimiser finds a higher likelihood than converged EM", {
  set.seed(6)
  truth <- gmoe_paper_truth(1)
  sim <- rgmoe(400, truth)
  fit <- fit_gmoe(sim$x, sim$y, k = 3, n_starts = 3,
                  control = gmoe_control(tol = 1e-12, max_iter = 5000))
  # unconstrained parametrisation: log-ratio weights, log variances
  unpack <- function(th) {
    w <- exp(c(0, th[1:2]))
    gmoe_params(w / sum(w), th[3:5], exp(th[6:8]), th[9:11], th[12:14], exp(th[15:17]))
  }
  p <- fit$params
  th0 <- c(log(p$pi[2:3] / p$pi[1]), p$c, log(p$Gamma), p$a, p$b, log(p$nu))
  negll <- function(th) -sum(dgmoe(sim$x, sim$y, unpack(th), log = TRUE))
  expect_equal(-negll(th0), fit$loglik, tolerance = 1e-10)
  best <- -Inf
  for (s in 1:5) {
    th <- th0 + if (s == 1) 0 else rnorm(length(th0), sd = 0.05)
    opt <- optim(th, negll, method = "BFGS", control = list(maxit = 2000, reltol = 1e-14))
    best <- max(best, -opt$value)
  }
  expect_lt(best - fit$loglik, 1e-6)
})

test_that("fits of simulated data recover the truth, better with more data", {
  truth <- gmoe_paper_truth(1)
  errs <- vapply(c(1000, 20000), function(n) {
    set.seed(7)
    sim <- rgmoe(n, truth)
    start <- init_near_truth(truth, 3, n)
    fit <- fit_gmoe(sim$x, sim$y, k = 3, init = start)
    voronoi_loss(fit, truth)
  }, numeric(1))
  expect_lt(errs[2], errs[1])
  expect_lt(errs[2], 0.05)
})

test_that("k-means and random starts, and n_starts keeps the best", {
  set.seed(8)
  sim <- rgmoe(800, gmoe_paper_truth(3))
  fit <- fit_gmoe(sim$x, sim$y, k = 3, n_starts = 4)
  expect_length(fit$starts, 4)
  expect_equal(fit$loglik, max(fit$starts))
  fr <- fit_gmoe(sim$x, sim$y, k = 3, init = "random", n_starts = 2)
  expect_s3_class(fr, "gmoe_fit")
  expect_true(all(is.finite(unlist(fr$params))))
  set.seed(1)
  a <- fit_gmoe(sim$x, sim$y, k = 3)
  set.seed(1)
  b <- fit_gmoe(sim$x, sim$y, k = 3)
  expect_identical(a$params, b$params)
  expect_message(fit_gmoe(sim$x, sim$y, k = 2, verbose = TRUE), "start 1")
})

test_that("the formula interface equals the matrix interface", {
  set.seed(9)
  sim <- rgmoe(500, gmoe_paper_truth(3))
  df <- data.frame(u = sim$x[, 1], v = sim$x[, 2], resp = sim$y)
  start <- init_near_truth(gmoe_paper_truth(3), 3, 500)
  f1 <- fit_gmoe(resp ~ u + v, data = df, k = 3, init = start)
  f2 <- fit_gmoe(sim$x, sim$y, k = 3, init = start)
  expect_equal(f1$params, f2$params)
  expect_equal(predict(f1, df[1:5, ]), predict(f2, sim$x[1:5, ]), ignore_attr = TRUE)
  expect_equal(predict(f1, df[1:5, ], type = "density"),
               predict(f2, sim$x[1:5, ], type = "density", y = sim$y[1:5]),
               ignore_attr = TRUE)
})

test_that("degenerate fits stay finite, keep every component and say so", {
  set.seed(10)
  # k = 5 on 12 points with ties: tiny clusters, singular covariances
  x <- c(rep(0, 4), rep(1, 4), rnorm(4))
  y <- c(rep(1, 4), rep(2, 4), rnorm(4))
  fit <- suppressWarnings(fit_gmoe(x, y, k = 5, init = "random",
                                   control = gmoe_control(max_iter = 200)))
  expect_length(fit$params$pi, 5)
  expect_true(all(is.finite(unlist(fit$params))))
  expect_true(is.finite(fit$loglik))
  expect_true(is_degenerate(fit))
  expect_gt(sum(fit$diagnostics$components$gamma_floored +
                  fit$diagnostics$components$nu_floored), 0)

  # a component far from every observation collapses and is kept
  sim <- rgmoe(300, gmoe_paper_truth(1))
  start <- init_near_truth(gmoe_paper_truth(1), 4, 300)
  start$c[4, ] <- 50
  expect_warning(far <- fit_gmoe(sim$x, sim$y, k = 4, init = start), "collapsed")
  expect_length(far$params$pi, 4)
  expect_equal(far$diagnostics$components$collapsed_at[4], 1L)
  expect_true(all(is.finite(unlist(far$params))))
  expect_equal(sum(far$params$pi), 1)
  expect_true(is_degenerate(far))
})

test_that("control settings are validated", {
  expect_error(gmoe_control(max_iter = -1), "`max_iter`")
  expect_error(gmoe_control(tol = -1), "`tol`")
  expect_error(gmoe_control(accelerate = "aitken"), "`accelerate`")
  expect_error(gmoe_control(bounds = list(nu_min = 1)), "`bounds` must be made by gmoe_bounds()",
               fixed = TRUE)
  expect_output(print(gmoe_control()), "max_iter")
  expect_output(print(gmoe_control()), "bounds +nu >= 1e-08 var\\(y\\)")
  # controls saved before 0.5.0 carry relative floors and a collapse threshold
  old <- unclass(gmoe_control())
  old$bounds <- NULL
  old$var_floor <- 1e-6
  old$min_weight <- 1e-9
  class(old) <- "gmoe_control"
  expect_equal(check_gmoe_control(old)$bounds, gmoe_bounds(var_floor = 1e-6, weight_min = 1e-9))
})

test_that("Newton and SQUAREM reach plain EM's maximum in far fewer passes", {
  configs <- list(c(model = 1, k = 3, n = 2000), c(model = 1, k = 4, n = 3000),
                  c(model = 2, k = 5, n = 3000))
  for (cfg in configs) {
    truth <- gmoe_paper_truth(cfg[["model"]])
    set.seed(cfg[["n"]] + cfg[["k"]])
    sim <- rgmoe(cfg[["n"]], truth)
    start <- init_near_truth(truth, cfg[["k"]], cfg[["n"]])
    plain <- fit_gmoe(sim$x, sim$y, cfg[["k"]], init = start,
                      control = gmoe_control(accelerate = "none", tol = 0, max_iter = 20000))
    squarem <- fit_gmoe(sim$x, sim$y, cfg[["k"]], init = start,
                        control = gmoe_control(accelerate = "squarem", max_iter = 5000))
    newton <- fit_gmoe(sim$x, sim$y, cfg[["k"]], init = start)
    expect_identical(newton$control$accelerate, "newton")
    for (fast in list(squarem, newton)) {
      expect_true(fast$converged)
      # at least as high as 20,000 plain EM steps, which crawl on over-fitted likelihoods
      expect_gte(fast$loglik, plain$loglik - 1e-6)
      expect_true(all(diff(fast$loglik_trace) >= -1e-10 * abs(fast$loglik)))
      expect_identical(fast$diagnostics$decreases, 0L)
      expect_true(all(apply(fast$params$Gamma, 3, function(g) min(eigen(g)$values)) > 0))
      expect_equal(sum(fast$params$pi), 1)
    }
    # passes over the data: one per plain EM step plus the start (tol = 0:
    # no test); a SQUAREM cycle makes 4 (up to 11 when its jumps fail), plus
    # the information passes of its stopping tests; Newton fewer still
    expect_equal(plain$diagnostics$passes, plain$iterations + 1)
    sq <- squarem$diagnostics
    expect_gte(sq$passes, 2 * squarem$iterations + 1)
    expect_lte(sq$passes, 11 * squarem$iterations + 1 + sq$information_passes)
    expect_gt(newton$diagnostics$newton_steps, 0)
    expect_lt(newton$diagnostics$passes, sq$passes)
    expect_lt(sq$passes, plain$diagnostics$passes)
  }
  # the published one-step mode is one plain EM step whatever the setting
  truth <- gmoe_paper_truth(1)
  set.seed(5)
  sim <- rgmoe(1000, truth)
  start <- init_near_truth(truth, 4, 1000)
  one <- fit_gmoe(sim$x, sim$y, 4, init = start, control = gmoe_control(max_iter = 1))
  for (accelerate in c("squarem", "none")) {
    other <- fit_gmoe(sim$x, sim$y, 4, init = start,
                      control = gmoe_control(max_iter = 1, accelerate = accelerate))
    expect_identical(one$params, other$params)
  }
  expect_identical(one$diagnostics$squarem_fallbacks, 0L)
  expect_equal(one$diagnostics$passes, 2)
  expect_false(one$converged)
  expect_null(one$diagnostics$remaining_gain)
})

# The Newton decrement g'(-H)^-1 g / 2 at a fit's parameters, from the
# score and Hessian of gmoe_information(), every parameter free.
decrement <- function(fit) {
  info <- gmoe_information(fit)
  drop(crossprod(info$score, solve(-info$hessian, info$score))) / 2
}

test_that("a converged fit stops where the Newton decrement is below tol, whatever the scheme", {
  truth <- gmoe_paper_truth(1)
  set.seed(31)
  sim <- rgmoe(4000, truth)
  start <- init_near_truth(truth, 4, 4000)
  for (accelerate in c("newton", "squarem", "none")) {
    tol <- if (accelerate == "none") 1e-4 else 1e-7
    fit <- fit_gmoe(sim$x, sim$y, 4, init = start,
                    control = gmoe_control(tol = tol, accelerate = accelerate, max_iter = 20000))
    expect_true(fit$converged, info = accelerate)
    expect_true(all(!unlist(fit$diagnostics$bounds[-1])))
    dec <- decrement(fit)
    expect_lt(dec, tol)
    expect_equal(fit$diagnostics$remaining_gain, dec, tolerance = 1e-4, info = accelerate)
    expect_gt(fit$diagnostics$information_passes, 0)
  }
  # plain EM and SQUAREM follow a path that does not depend on tol; their
  # tests run only where an EM step gains less than tol, at iterations
  # spaced geometrically, and a fit capped one iteration earlier has not
  # converged
  fit <- fit_gmoe(sim$x, sim$y, 4, init = start,
                  control = gmoe_control(tol = 1e-7, accelerate = "squarem"))
  capped <- fit_gmoe(sim$x, sim$y, 4, init = start,
                     control = gmoe_control(tol = 1e-7, accelerate = "squarem",
                                            max_iter = fit$iterations - 1))
  expect_false(capped$converged)
  expect_equal(capped$loglik_trace, fit$loglik_trace[seq_len(fit$iterations)], tolerance = 1e-12)
  expect_lt(capped$diagnostics$information_passes, fit$diagnostics$information_passes)
})

test_that("the AVX2 and portable kernels give the same fits up to rounding", {
  for (d in 1:4) {
    truth <- gmoe_params(pi = c(0.3, 0.7), c = matrix(c(-1, 1), 2, d),
                         Gamma = array(diag(d), c(d, d, 2)), a = matrix(0.5, 2, d),
                         b = c(0, 1), nu = c(0.1, 0.2))
    set.seed(30 + d)
    sim <- rgmoe(1000 + 37 * d, truth)  # a last, partial block of rows
    start <- init_near_truth(truth, 3, nrow(sim$x))
    run <- function(kernels, threads = 1) {
      fit_gmoe(sim$x, sim$y, 3, init = start,
               control = gmoe_control(max_iter = 30, tol = 0, accelerate = "none",
                                      threads = threads, kernels = kernels))
    }
    base <- run("portable")
    expect_identical(base$diagnostics$kernels, "portable")
    for (f in list(run("auto"), run("auto", threads = 2))) {
      expect_identical(f$diagnostics$kernels, kernel_path("auto"))
      expect_equal(f$loglik_trace, base$loglik_trace, tolerance = 1e-12)
      expect_equal(f$params, base$params, tolerance = 1e-9)
      expect_equal(f$responsibilities, base$responsibilities, tolerance = 1e-9)
    }
  }
  # the contaminated MoE shares the vectorised exp
  pre <- pretrained_model("laplace", expert = "linear", eta0 = c(1, 0), nu0 = 1)
  set.seed(40)
  cm <- rcmoe(2000, cmoe_params(0.3, c(-1, 2), 0.5, "linear"), pre)
  base <- fit_cmoe(cm$x, cm$y, pre, "linear", control = cmoe_control(kernels = "portable"))
  fast <- fit_cmoe(cm$x, cm$y, pre, "linear", control = cmoe_control(kernels = "auto"))
  expect_identical(base$diagnostics$kernels, "portable")
  expect_identical(fast$diagnostics$kernels, kernel_path("auto"))
  expect_equal(fast$loglik, base$loglik, tolerance = 1e-12)
  expect_equal(coef(fast), coef(base), tolerance = 1e-7)
})

test_that("threads give the single-threaded fit up to rounding", {
  truth <- gmoe_paper_truth(3)
  set.seed(12)
  sim <- rgmoe(3000, truth)
  start <- init_near_truth(truth, 4, 3000)
  fits <- lapply(1:3, function(th) {
    fit_gmoe(sim$x, sim$y, 4, init = start,
             control = gmoe_control(max_iter = 40, tol = 0, accelerate = "none", threads = th))
  })
  for (f in fits[-1]) {
    expect_equal(f$loglik_trace, fits[[1]]$loglik_trace, tolerance = 1e-12)
    expect_equal(f$params, fits[[1]]$params, tolerance = 1e-9)
  }
  # more threads than blocks of observations
  small <- fit_gmoe(sim$x[1:50, ], sim$y[1:50], 2, control = gmoe_control(threads = 4))
  expect_true(is.finite(small$loglik))
  expect_error(gmoe_control(threads = 0), "`threads`")
  expect_error(gmoe_control(threads = 1.5), "`threads`")
})

# The parameters of a GMoE on data whose covariates are taken in the order
# `perm` and multiplied by `sx`, and whose response is multiplied by `sy`.
in_units <- function(p, sx, sy, perm = seq_along(sx)) {
  k <- length(p$pi)
  G <- p$Gamma[perm, perm, , drop = FALSE]
  for (j in seq_len(k)) G[, , j] <- G[, , j] * outer(sx, sx)
  gmoe_params(p$pi, p$c[, perm, drop = FALSE] * rep(sx, each = k), G,
              p$a[, perm, drop = FALSE] * rep(sy / sx, each = k), p$b * sy, p$nu * sy^2)
}

max_rel_diff <- function(p, q) {
  a <- unlist(unclass(p))
  b <- unlist(unclass(q))
  max(abs(a - b) / abs(b))
}

test_that("fits are the same in any units and any order of the covariates", {
  # The iterates are the same whatever the units (EM runs on standardised
  # data), so fits with the same number of iterations agree to rounding.
  for (d in 2:3) {
    set.seed(50 + d)
    truth <- random_gmoe(3, d)
    sim <- rgmoe(600, truth)
    start <- init_near_truth(truth, 3, 600)
    perm <- rev(seq_len(d))
    units <- list(list(sx = rep(1e6, d), sy = 1e-6, perm = seq_len(d)),
                  list(sx = rep(1, d), sy = 1, perm = perm),
                  list(sx = 10^(6 * seq_len(d) - 9), sy = 1e3, perm = perm),
                  list(sx = rep(1e150, d), sy = 1e-150, perm = seq_len(d)),
                  list(sx = rep(1e-150, d), sy = 1e150, perm = perm))
    # SQUAREM's jumps use Cholesky factors, which depend on the order of the
    # covariates; plain EM's steps do not.
    for (accelerate in c("none", "squarem")) {
      ctl <- gmoe_control(tol = 0, max_iter = if (accelerate == "none") 200 else 30,
                          accelerate = accelerate)
      base <- fit_gmoe(sim$x, sim$y, 3, init = start, control = ctl)
      for (u in units) {
        if (accelerate == "squarem" && !identical(u$perm, seq_len(d))) next
        x <- sim$x[, u$perm, drop = FALSE] * rep(u$sx, each = 600)
        fit <- fit_gmoe(x, sim$y * u$sy, 3, init = in_units(start, u$sx, u$sy, u$perm),
                        control = ctl)
        back <- in_units(fit$params, 1 / u$sx[order(u$perm)], 1 / u$sy, order(u$perm))
        expect_lt(max_rel_diff(back, base$params), 1e-8)
        jacobian <- 600 * (sum(log(u$sx)) + log(u$sy))
        expect_equal(fit$loglik_trace + jacobian, base$loglik_trace, tolerance = 1e-12)
        expect_equal(fit$responsibilities, base$responsibilities, tolerance = 1e-8)
        expect_equal(predict(fit, x[1:20, ]) / u$sy, predict(base, sim$x[1:20, ]),
                     tolerance = 1e-8)
        expect_equal(dgmoe(x[1:20, ], sim$y[1:20] * u$sy, fit$params, log = TRUE) + jacobian / 600,
                     dgmoe(sim$x[1:20, ], sim$y[1:20], base$params, log = TRUE), tolerance = 1e-10)
      }
    }
    # converged fits reach the same maximum, up to the tolerance; the
    # stopping rule is mclust's, relative to the log-likelihood in the
    # data's units, so other units may stop at another iteration
    conv <- gmoe_control(tol = 1e-12)
    base <- fit_gmoe(sim$x, sim$y, 3, init = start, control = conv)
    u <- units[[3]]
    x <- sim$x[, u$perm, drop = FALSE] * rep(u$sx, each = 600)
    fit <- fit_gmoe(x, sim$y * u$sy, 3, init = in_units(start, u$sx, u$sy, u$perm), control = conv)
    jacobian <- 600 * (sum(log(u$sx)) + log(u$sy))
    expect_equal(fit$loglik + jacobian, base$loglik, tolerance = 1e-10)
    back <- in_units(fit$params, 1 / u$sx[order(u$perm)], 1 / u$sy, order(u$perm))
    expect_equal(back, base$params, tolerance = 1e-5)
  }
})

test_that("one EM step is the same in any units, so the one-step mode is too", {
  truth <- gmoe_paper_truth(3)
  set.seed(60)
  sim <- rgmoe(1000, truth)
  start <- init_near_truth(truth, 4, 1000)
  one <- function(sx, sy) {
    fit_gmoe(sim$x * sx, sim$y * sy, 4, init = in_units(start, c(sx, sx), sy),
             control = gmoe_control(max_iter = 1))
  }
  base <- one(1, 1)
  scaled <- one(1e-6, 1e6)
  expect_lt(max_rel_diff(in_units(scaled$params, c(1e6, 1e6), 1e-6), base$params), 1e-10)
})

test_that("data whose variance a double cannot hold get a clear error, and only constant data are constant", {
  set.seed(61)
  sim <- rgmoe(200, gmoe_paper_truth(1))
  expect_error(fit_gmoe(sim$x * 1e300, sim$y, 2), "`x` has standard deviation .* too large for a double")
  expect_error(fit_gmoe(sim$x * 1e-300, sim$y, 2), "`x` has standard deviation .* too small for a double")
  expect_error(fit_gmoe(sim$x, sim$y * 1e300, 2), "`y` has standard deviation .* too large")
  expect_error(fit_gmoe(sim$x, sim$y * 1e-300, 2), "`y` has standard deviation .* too small")
  expect_error(fit_gmoe(1e300 * (1 + 1e-3 * sim$x), sim$y, 2), "too large for a double")
  # near 1e150 with a spread a double can square: fitted like data near 1
  fit <- fit_gmoe(1e150 + 1e140 * sim$x, sim$y, 2, init = "random")
  expect_true(all(is.finite(unlist(fit$params))))
  expect_error(fit_gmoe(rep(1e-300, 200), sim$y, 2), "`x` has constant column")
  expect_error(fit_gmoe(sim$x, rep(-1e300, 200), 2), "`y` is constant")
  expect_error(fit_gmoe(1e300 + sim$x, sim$y, 2), "`x` has constant column")
  not_constant <- tryCatch(fit_gmoe(sim$x * 1e-300, sim$y, 2), error = conditionMessage)
  expect_false(grepl("constant", not_constant))
})

test_that("collinear, duplicated and aliased covariates are refused by name", {
  set.seed(62)
  sim <- rgmoe(300, gmoe_paper_truth(3))
  x <- sim$x
  expect_error(fit_gmoe(cbind(x, x[, 1]), sim$y, 2),
               "`x` has collinear columns: column 3 is a linear combination")
  expect_error(fit_gmoe(cbind(a = x[, 1], b = x[, 2], s = x[, 1] + 2 * x[, 2]), sim$y, 2),
               "column 3 \\(`s`\\)")
  expect_error(fit_gmoe(cbind(a = x[, 1], b = 3 * x[, 1], c = -x[, 1]), sim$y, 2),
               "columns 2 \\(`b`\\), 3 \\(`c`\\) are linear combinations")
  df <- data.frame(u = x[, 1], v = x[, 2], y = sim$y)
  expect_error(fit_gmoe(y ~ u + v + I(u - v), data = df, k = 2), "`x` has collinear columns")
  # as in lm(): nearly collinear but not aliased is fitted
  near <- fit_gmoe(cbind(x, x[, 1] + 1e-4 * rnorm(300)), sim$y, 2)
  expect_true(all(is.finite(unlist(near$params))))
  # more covariates than the data can span
  expect_error(fit_gmoe(x[1:2, ], sim$y[1:2], 1), "collinear")
  expect_error(fit_gmoe(cbind(x, 1e-300 * x[, 1]), sim$y, 1), "`x` has column 3 with standard deviation")
})

test_that("predictions far outside the data have finite gates and means", {
  set.seed(1)
  s <- rgmoe(300, gmoe_paper_truth(1))
  fit <- fit_gmoe(s$x, s$y, k = 3)
  newx <- c(1e200, 0, -1e200, 1e308, -1e308, 1e20)
  g <- predict(fit, newx, type = "gate")
  expect_true(all(is.finite(g)))
  expect_equal(rowSums(g), rep(1, 6))
  # far out, the component whose gate is widest in that direction takes it all
  widest <- which.max(fit$params$Gamma[1, 1, ])
  expect_equal(unname(g[c(1, 3:6), widest]), rep(1, 5))
  expect_equal(predict(fit, newx, type = "component")[c(1, 3:6)], rep(widest, 5))
  m <- predict(fit, newx)
  expect_true(all(is.finite(m)))
  expect_equal(m[1], fit$params$a[widest, 1] * 1e200 + fit$params$b[widest])
  expect_equal(m[2], predict(fit, 0))
  # nearer, the log-space gates agree with the direct formula
  x <- c(-0.5, 0.1, 2)
  direct <- sapply(1:3, function(j) {
    fit$params$pi[j] * dnorm(x, fit$params$c[j, 1], sqrt(fit$params$Gamma[1, 1, j]))
  })
  expect_equal(unname(predict(fit, x, type = "gate")), direct / rowSums(direct))
})
