# fit_cmoe() against an independent R implementation of the contaminated MoE
# log-likelihood, maximised by optim().

# ---- reference implementation (written from the model, not from the package) ----

ref_slope <- function(expert, z) {
  switch(expert, linear = rep(1, length(z)),
         sigmoid = exp(-z) / (1 + exp(-z))^2, tanh = 1 / cosh(z)^2)
}

# theta = (logit lambda, a, b, log nu).
ref_parts <- function(theta, expert, logf0, x, y) {
  d <- ncol(x)
  lambda <- 1 / (1 + exp(-theta[1]))
  eta <- theta[2:(d + 2)]
  nu <- exp(theta[d + 3])
  z <- as.vector(x %*% eta[1:d]) + eta[d + 1]
  h <- ref_expert(expert, z)
  la <- log(1 - lambda) + logf0
  lb <- log(lambda) - 0.5 * log(2 * pi * nu) - (y - h)^2 / (2 * nu)
  m <- pmax(la, lb)
  ll <- m + log(exp(la - m) + exp(lb - m))
  list(ll = ll, w = exp(lb - ll), lambda = lambda, nu = nu, z = z, h = h)
}

# The log-likelihood on the set the fit searches: nu >= var_floor * var(y)
# (the likelihood is unbounded as the prompt collapses onto one point, so
# without the floor optim() would find spikes no fit is meant to find) and
# lambda in [lambda_bound, 1 - lambda_bound]; -Inf outside.
ref_loglik <- function(theta, expert, logf0, x, y) {
  d <- ncol(x)
  if (exp(theta[d + 3]) < 1e-8 * var(y) || abs(theta[1]) > qlogis(1 - 1e-8)) return(-Inf)
  value <- sum(ref_parts(theta, expert, logf0, x, y)$ll)
  if (is.nan(value)) -Inf else value
}

ref_grad <- function(theta, expert, logf0, x, y) {
  p <- ref_parts(theta, expert, logf0, x, y)
  r <- y - p$h
  g_eta <- colSums(cbind(x, 1) * (p$w * r / p$nu * ref_slope(expert, p$z)))
  c(sum(p$w - p$lambda), g_eta, sum(p$w * (r^2 / (2 * p$nu) - 0.5)))
}

to_theta <- function(p) c(qlogis(p$lambda), p$eta, log(p$nu))

# The best log-likelihood optim() finds from the truth and from random starts:
# BFGS (analytic gradient) then Nelder-Mead from where it stopped, and
# Nelder-Mead from the start itself.
optim_best <- function(truth, logf0, x, y, n_random = 5) {
  d <- ncol(x)
  starts <- c(list(to_theta(truth)),
              lapply(seq_len(n_random), function(i) {
                c(rnorm(1), rnorm(d + 1, sd = 1.5), log(var(y)) + rnorm(1))
              }))
  ctrl <- list(fnscale = -1, reltol = 1e-14, maxit = 2000)
  values <- vapply(starts, function(s) {
    bfgs <- optim(s, ref_loglik, ref_grad, expert = truth$expert, logf0 = logf0, x = x, y = y,
                  method = "BFGS", control = ctrl)
    polish <- optim(bfgs$par, ref_loglik, expert = truth$expert, logf0 = logf0, x = x, y = y,
                    method = "Nelder-Mead", control = ctrl)
    nm <- optim(s, ref_loglik, expert = truth$expert, logf0 = logf0, x = x, y = y,
                method = "Nelder-Mead", control = list(fnscale = -1, reltol = 1e-12, maxit = 3000))
    max(bfgs$value, polish$value, nm$value)
  }, numeric(1))
  max(values)
}

# A user's model: a logistic location-scale f0.
user_spec <- function(d) {
  a <- c(1.5, -0.5)[seq_len(d)]
  list(family = "user",
       logdensity = function(x, y) dlogis(y, as.vector(x %*% a) - 0.5, 0.6, log = TRUE),
       simulate = function(x) rlogis(nrow(x), as.vector(x %*% a) - 0.5, 0.6))
}

# A random configuration where the prompt is clearly different from f0: a
# linear prompt with its own slopes and an intercept of +-2, or a bounded
# (sigmoid, tanh) prompt with a small variance and f0's location shifted away
# from the prompt's band. lambda in [0.2, 0.6].
random_config <- function(family, expert, d) {
  b0 <- if (expert == "linear") rnorm(1, sd = 0.5) else sample(c(-1, 1), 1) * runif(1, 2, 3)
  spec <- if (family == "user") user_spec(d) else
    list(family = family, expert = sample(c("linear", "sigmoid", "tanh"), 1),
         eta0 = c(runif(d, 0.5, 1.5) * sample(c(-1, 1), d, TRUE), b0), nu0 = runif(1, 0.3, 1),
         df = if (family == "student") runif(1, 3, 8))
  if (family != "user" && spec$expert != "linear") spec$eta0[d + 1] <- spec$eta0[d + 1] / 2
  lambda <- runif(1, 0.2, 0.6)
  eta <- switch(expert,
                linear = c(runif(d, 1, 2.5) * sample(c(-1, 1), d, TRUE), sample(c(-2, 2), 1)),
                c(runif(d, 1.5, 3) * sample(c(-1, 1), d, TRUE), rnorm(1, sd = 0.5)))
  nu <- if (expert == "linear") runif(1, 0.05, 0.2) else runif(1, 0.005, 0.03)
  list(spec = spec, truth = cmoe_params(lambda, eta, nu, expert), n = sample(c(300, 500, 800), 1))
}

# ---- a. the optimiser oracle, b. the reported log-likelihood ----

test_that("fit_cmoe reaches the maximum optim() finds, for every family, expert and d = 1, 2", {
  set.seed(1)
  for (family in c("gaussian", "laplace", "student", "user")) {
    for (expert in c("linear", "sigmoid", "tanh")) {
      for (d in 1:2) {
        cfg <- random_config(family, expert, d)
        pre <- make_pre(cfg$spec)
        sim <- rcmoe(cfg$n, cfg$truth, pre)
        fit <- fit_cmoe(sim$x, sim$y, pre, expert = expert, n_starts = 5)
        label <- sprintf("%s f0, %s prompt, d = %d, n = %d", family, expert, d, cfg$n)
        logf0 <- ref_logf0(cfg$spec, sim$x, sim$y)
        expect_equal(fit$logf0, logf0, tolerance = 1e-12, label = label)
        # b. the reported log-likelihood is the one of the returned parameters
        expect_equal(fit$loglik, ref_loglik(to_theta(fit$params), expert, logf0, sim$x, sim$y),
                     tolerance = 1e-10, label = label)
        expect_equal(fit$loglik, sum(dcmoe(sim$x, sim$y, fit$params, pre, log = TRUE)),
                     tolerance = 1e-10, label = label)
        best <- optim_best(cfg$truth, logf0, sim$x, sim$y)
        expect_lte(best - fit$loglik, 1e-6, label = paste("optim's gain over the fit,", label))
      }
    }
  }
})

test_that("a sigmoid prompt far from f0 is found by the data-driven starts", {
  # Reported bug: here every data-driven start of fit_cmoe() (5 of 5, and 45 of
  # 50 with n_starts = 50) runs into a local maximum where the sigmoid becomes
  # a step function (slopes ~ -2.5e4), 135 log-likelihood units below the
  # maximum that EM reaches from the truth or from any plain start such as
  # cmoe_params(0.5, c(0, 0), var(y), "sigmoid").
  pre <- pretrained_model("gaussian", eta0 = c(-1.5, -2), nu0 = 0.9)
  truth <- cmoe_params(0.28, c(-2.65, -0.13), 0.0095, "sigmoid")
  set.seed(16)
  sim <- rcmoe(500, truth, pre)
  fit <- fit_cmoe(sim$x, sim$y, pre, expert = "sigmoid", n_starts = 5)
  from_truth <- fit_cmoe(sim$x, sim$y, pre, expert = "sigmoid", init = truth)
  spec <- list(family = "gaussian", expert = "linear", eta0 = c(-1.5, -2), nu0 = 0.9)
  best <- optim_best(truth, ref_logf0(spec, sim$x, sim$y), sim$x, sim$y)
  expect_lte(from_truth$loglik - fit$loglik, 1e-6)
  expect_lte(best - fit$loglik, 1e-6)
})

test_that("the posterior, the trace and the stored data are those of the fit", {
  set.seed(21)
  spec <- list(family = "student", expert = "tanh", eta0 = c(1, -1, 0.5), nu0 = 0.5, df = 4)
  pre <- make_pre(spec)
  truth <- cmoe_params(0.4, c(2, 1, -0.3), 0.05, "tanh")
  sim <- rcmoe(400, truth, pre)
  fit <- fit_cmoe(sim$x, sim$y, pre, expert = "tanh", n_starts = 3)
  expect_s3_class(fit, "cmoe_fit")
  expect_s3_class(fit$params, "cmoe_params")
  expect_identical(fit$params$expert, "tanh")
  expect_named(fit$params$eta, c("a1", "a2", "b"))
  parts <- ref_parts(to_theta(fit$params), "tanh", ref_logf0(spec, sim$x, sim$y), sim$x, sim$y)
  expect_equal(fit$posterior, parts$w, tolerance = 1e-10)
  expect_true(all(fit$posterior >= 0 & fit$posterior <= 1))
  expect_identical(fit$loglik, fit$loglik_trace[length(fit$loglik_trace)])
  expect_length(fit$loglik_trace, fit$iterations + 1)
  expect_true(fit$converged)
  expect_length(fit$starts, 3)
  expect_equal(max(fit$starts), fit$loglik)
  expect_s3_class(fit$start, "cmoe_params")
  expect_equal(unname(fit$x), unname(sim$x))
  expect_identical(fit$y, sim$y)
  expect_identical(fit$pretrained, pre)
  expect_s3_class(fit$control, "cmoe_control")
  expect_false(is_degenerate(fit))
  expect_identical(fit$diagnostics$decreases, 0L)
  # the fitted lambda is the mean posterior (the M-step's fixed point)
  expect_equal(fit$params$lambda, mean(fit$posterior), tolerance = 1e-5)
})

# ---- c. the log-likelihood never decreases ----

test_that("the log-likelihood never decreases, for every expert", {
  set.seed(3)
  for (family in c("gaussian", "laplace", "student", "user")) {
    for (expert in c("linear", "sigmoid", "tanh")) {
      d <- if (family %in% c("gaussian", "student")) 2 else 1
      cfg <- random_config(family, expert, d)
      pre <- make_pre(cfg$spec)
      sim <- rcmoe(600, cfg$truth, pre)
      label <- sprintf("%s f0, %s prompt", family, expert)
      # a poor start, so that EM has a long way to climb
      start <- cmoe_params(0.5, c(rep(0.1, d), 0), var(sim$y), expert)
      for (init in list(NULL, start)) {
        fit <- fit_cmoe(sim$x, sim$y, pre, expert = expert, init = init,
                        control = cmoe_control(tol = 0, max_iter = 200))
        steps <- diff(fit$loglik_trace)
        expect_true(all(steps >= -1e-9 * abs(fit$loglik_trace[-1])), label = label)
        expect_identical(fit$diagnostics$decreases, 0L, label = label)
        expect_identical(fit$iterations, 200L, label = label)
        expect_length(fit$loglik_trace, 201)
        expect_false(fit$converged)
      }
    }
  }
})

test_that("max_iter = 0 evaluates the start and later steps continue from it", {
  set.seed(4)
  pre <- pretrained_model("laplace", eta0 = c(2, 0), nu0 = 1)
  truth <- cmoe_params(0.3, c(-1, 1), 0.5)
  sim <- rcmoe(500, truth, pre)
  zero <- fit_cmoe(sim$x, sim$y, pre, init = truth, control = cmoe_control(max_iter = 0))
  expect_identical(zero$params, truth)
  expect_identical(zero$iterations, 0L)
  expect_equal(zero$loglik, sum(dcmoe(sim$x, sim$y, truth, pre, log = TRUE)), tolerance = 1e-12)
  one <- fit_cmoe(sim$x, sim$y, pre, init = truth, control = cmoe_control(max_iter = 1))
  two <- fit_cmoe(sim$x, sim$y, pre, init = one$params, control = cmoe_control(max_iter = 1))
  both <- fit_cmoe(sim$x, sim$y, pre, init = truth, control = cmoe_control(max_iter = 2, tol = 0))
  expect_equal(both$params, two$params, tolerance = 1e-12)
  expect_equal(both$loglik_trace, c(one$loglik_trace, two$loglik), tolerance = 1e-12)
  # the EM fixed point: one more step changes nothing
  full <- fit_cmoe(sim$x, sim$y, pre)
  again <- fit_cmoe(sim$x, sim$y, pre, init = full$params, control = cmoe_control(max_iter = 1))
  expect_equal(again$params, full$params, tolerance = 1e-5)
})

test_that("x may be a vector, a matrix or a data frame, and verbose reports each start", {
  set.seed(5)
  pre <- pretrained_model("gaussian", eta0 = c(1, 0), nu0 = 1)
  truth <- cmoe_params(0.4, c(-1, 2), 0.2)
  sim <- rcmoe(300, truth, pre)
  a <- fit_cmoe(sim$x, sim$y, pre)
  b <- fit_cmoe(sim$x[, 1], sim$y, pre)
  c <- fit_cmoe(data.frame(u = sim$x[, 1]), sim$y, pre)
  expect_equal(a$params, b$params)
  expect_equal(a$params, c$params)
  msgs <- capture_messages(fit_cmoe(sim$x, sim$y, pre, n_starts = 2, verbose = TRUE))
  expect_length(msgs, 2)
  expect_match(msgs, "^start [12]: log-likelihood -?[0-9.]+ after [0-9]+ iteration")
  expect_silent(fit_cmoe(sim$x, sim$y, pre, n_starts = 2))
})

# ---- d. recovery ----

recovery_configs <- list(
  laplace_linear = list(pre = pretrained_model("laplace", eta0 = c(2, 0), nu0 = 1),
                        truth = cmoe_params(0.3, c(-1, 1), 0.5)),
  student_tanh = list(pre = pretrained_model("student", expert = "tanh", eta0 = c(1, -1, 0.5),
                                             nu0 = 0.5, df = 4),
                      truth = cmoe_params(0.4, c(2, 1, -0.3), 0.05, "tanh")),
  gaussian_sigmoid = list(pre = pretrained_model("gaussian", eta0 = c(1, 2), nu0 = 0.5),
                          truth = cmoe_params(0.35, c(-3, 0.5), 0.02, "sigmoid")),
  user_linear = list(pre = pretrained_model(
    logdensity = function(x, y) dlogis(y, x[, 1] - x[, 2], 0.5, log = TRUE),
    simulate = function(x) rlogis(nrow(x), x[, 1] - x[, 2], 0.5)),
    truth = cmoe_params(0.5, c(-1, 2, 3), 0.3))
)

# |estimate - truth| for lambda and eta; relative error for nu.
cmoe_errors <- function(fit, truth) {
  c(lambda = abs(fit$params$lambda - truth$lambda),
    abs(fit$params$eta - truth$eta),
    nu = abs(fit$params$nu / truth$nu - 1))
}

test_that("estimates with n = 20000 are close to the truth", {
  # Root-mean-square errors observed over 10 replicates per configuration:
  # lambda <= 0.0055; slopes and intercepts <= 0.026 (the sigmoid slope,
  # a1 = -3, 0.033); relative nu error <= 0.037 (the laplace case, where the
  # prompt overlaps f0 most). The tolerances are 5 to 6 times these.
  tol <- list(lambda = 0.03, eta = 0.15, sigmoid_slope = 0.2, nu = 0.2)
  set.seed(6)
  for (name in names(recovery_configs)) {
    cfg <- recovery_configs[[name]]
    sim <- rcmoe(20000, cfg$truth, cfg$pre)
    fit <- fit_cmoe(sim$x, sim$y, cfg$pre, expert = cfg$truth$expert, n_starts = 2)
    err <- cmoe_errors(fit, cfg$truth)
    d <- length(cfg$truth$eta) - 1
    eta_tol <- rep(tol$eta, d + 1)
    if (cfg$truth$expert == "sigmoid") eta_tol[seq_len(d)] <- tol$sigmoid_slope
    expect_lt(err[["lambda"]], tol$lambda, label = paste(name, "lambda error"))
    expect_true(all(err[2:(d + 2)] < eta_tol), label = paste(name, "eta errors"))
    expect_lt(err[["nu"]], tol$nu, label = paste(name, "relative nu error"))
    expect_false(is_degenerate(fit))
  }
})

test_that("errors shrink from n = 1000 to n = 50000", {
  set.seed(7)
  reps <- 3
  for (name in names(recovery_configs)) {
    cfg <- recovery_configs[[name]]
    mean_error <- vapply(c(1000, 50000), function(n) {
      mean(replicate(reps, {
        sim <- rcmoe(n, cfg$truth, cfg$pre)
        cmoe_errors(fit_cmoe(sim$x, sim$y, cfg$pre, expert = cfg$truth$expert), cfg$truth)
      }))
    }, numeric(1))
    # n^(-1/2) predicts a ratio of 0.14; allow up to 0.5
    expect_lt(mean_error[2], 0.5 * mean_error[1], label = paste(name, "error at n = 50000"))
  }
})

# ---- e. boundaries ----

test_that("data without a prompt give a finite fit with a small lambda", {
  for (family in c("gaussian", "laplace", "student")) {
    for (expert in c("linear", "sigmoid", "tanh")) {
      set.seed(1)
      pre <- pretrained_model(family, eta0 = c(1, -0.5), nu0 = 0.5,
                              df = if (family == "student") 4)
      x <- matrix(rnorm(1000))
      y <- moerates:::pretrained_draw(pre, x)
      label <- sprintf("%s f0, %s prompt", family, expert)
      warnings <- character(0)
      fit <- withCallingHandlers(
        fit_cmoe(x, y, pre, expert = expert, n_starts = 3),
        warning = function(w) {
          warnings <<- c(warnings, conditionMessage(w))
          invokeRestart("muffleWarning")
        })
      p <- fit$params
      expect_true(all(is.finite(c(p$lambda, p$eta, p$nu, fit$loglik))), label = label)
      expect_true(p$lambda > 0 && p$lambda < 1, label = label)
      # the fit is hardly better than f0 itself; a bounded prompt cannot
      # mimic f0, so it gets little weight (a linear prompt can coincide with
      # a gaussian f0, and then lambda is not identified)
      expect_lt(fit$loglik - sum(moerates:::pretrained_logdensity(pre, x, y)), 15,
                label = label)
      if (expert != "linear") expect_lt(p$lambda, 0.15, label = paste(label, "lambda"))
      if (fit$diagnostics$lambda_at_bound) {
        expect_true(any(grepl("bound", warnings)), label = label)
        expect_true(is_degenerate(fit), label = label)
        expect_equal(p$lambda, fit$control$lambda_bound)
      } else {
        expect_false(any(grepl("bound", warnings)), label = label)
      }
    }
  }
})

test_that("lambda held at a bound warns and is degenerate, and stays in (0, 1)", {
  set.seed(8)
  pre <- pretrained_model("gaussian", eta0 = c(1, 0), nu0 = 1)
  x <- rnorm(300)
  y <- x + rnorm(300)
  # a prompt far away from all data gets no weight at all
  far <- cmoe_params(0.5, c(0, 1000), 1)
  expect_warning(fit <- fit_cmoe(x, y, pre, init = far), "bound.*no prompt")
  expect_true(is_degenerate(fit))
  expect_true(fit$diagnostics$lambda_at_bound)
  expect_gt(fit$diagnostics$lambda_bound_hits, 0)
  expect_gt(fit$diagnostics$prompt_empty, 0)
  expect_equal(fit$params$lambda, 1e-8)
  expect_true(fit$params$lambda > 0)
  expect_true(all(is.finite(unlist(fit$params[c("eta", "nu")]))))
  # a custom bound
  expect_warning(fit2 <- fit_cmoe(x, y, pre, init = far, control = cmoe_control(lambda_bound = 1e-4)),
                 "bound")
  expect_equal(fit2$params$lambda, 1e-4)

  # all data from the prompt, f0 far away: lambda goes to its upper bound
  pre_far <- pretrained_model("gaussian", eta0 = c(0, 1000), nu0 = 1)
  y2 <- -x + rnorm(300, sd = 0.3)
  expect_warning(fit3 <- fit_cmoe(x, y2, pre_far), "bound.*no pre-trained model")
  expect_true(is_degenerate(fit3))
  expect_equal(fit3$params$lambda, 1 - 1e-8)
  expect_true(fit3$params$lambda < 1)
  expect_equal(unname(fit3$params$eta), unname(coef(lm(y2 ~ x))[2:1]), tolerance = 1e-6)
})

test_that("a prompt collapsing onto a few points is held at the variance floor", {
  # 3 points exactly on a line far from the rest, which f0 explains: the
  # likelihood grows without bound as nu -> 0, so nu must stop at its floor
  set.seed(9)
  pre <- pretrained_model("gaussian", eta0 = c(0, 0), nu0 = 1)
  x <- c(10, 11, 12, rnorm(97))
  y <- c(50, 50, 50, rnorm(97))
  fit <- fit_cmoe(x, y, pre, init = cmoe_params(0.03, c(0, 50), 1))
  expect_true(is.finite(fit$loglik))
  expect_equal(fit$params$nu, 1e-8 * var(y))
  expect_gt(fit$diagnostics$nu_floor_hits, 0)
  expect_true(is_degenerate(fit))
  expect_equal(fit$params$lambda, 0.03, tolerance = 1e-6)
  # a larger floor is respected too
  fit2 <- fit_cmoe(x, y, pre, init = cmoe_params(0.03, c(0, 50), 1),
                   control = cmoe_control(var_floor = 1e-3))
  expect_equal(fit2$params$nu, 1e-3 * var(y))
})

# ---- f. bad input ----

# `call` (quoted) must fail with an R error from stop(call. = FALSE) whose
# message matches `regexp`, and not with an exception from the C++ layer.
expect_r_error <- function(call, regexp, env = parent.frame()) {
  label <- deparse(call, width.cutoff = 500L)[1]
  err <- tryCatch({
    eval(call, env)
    NULL
  }, error = function(e) e)
  expect(inherits(err, "error"), sprintf("%s did not throw an error.", label))
  if (!inherits(err, "error")) return(invisible())
  message <- conditionMessage(err)
  from_cpp <- grepl("internal:|c\\+\\+ exception", message, ignore.case = TRUE) ||
    inherits(err, "C++Error") || inherits(err, "std::exception")
  expect(!from_cpp, sprintf("%s: a C++ exception reached the user: %s", label, message))
  if (from_cpp) return(invisible(err))
  expect(grepl(regexp, message), sprintf("%s: error message\n  %s\ndoes not match %s",
                                         label, message, regexp))
  expect(is.null(conditionCall(err)), sprintf("%s: the error carries a call", label))
  invisible(err)
}

test_that("bad input is an R error naming the argument, never a C++ exception", {
  set.seed(10)
  pre <- pretrained_model("gaussian", eta0 = c(1, 0), nu0 = 1)
  pre2 <- pretrained_model("laplace", eta0 = c(1, -1, 0), nu0 = 1)
  truth <- cmoe_params(0.3, c(-1, 2), 0.2)
  sim <- rcmoe(100, truth, pre)
  x <- sim$x
  y <- sim$y
  x_na <- x
  x_na[5] <- NA
  y_inf <- y
  y_inf[7] <- Inf
  ld <- function(value) pretrained_model(logdensity = function(x, y) value(y))
  cases <- list(
    list(quote(fit_cmoe(x, y, pre, init = cmoe_params(0, c(1, 0), 1))), "^`lambda`"),
    list(quote(fit_cmoe(x, y, pre, init = cmoe_params(1, c(1, 0), 1))), "^`lambda`"),
    list(quote(fit_cmoe(x, y, pre, init = cmoe_params(-0.1, c(1, 0), 1))), "^`lambda`"),
    list(quote(fit_cmoe(x, y, pre, init = cmoe_params(NA, c(1, 0), 1))), "^`lambda`"),
    list(quote(fit_cmoe(x, y, pre, init = cmoe_params(0.3, c(1, 0), 0))), "^`nu`"),
    list(quote(fit_cmoe(x, y, pre, init = cmoe_params(0.3, c(1, 0), -1))), "^`nu`"),
    list(quote(fit_cmoe(x, y, pretrained_model("cauchy", eta0 = c(1, 0), nu0 = 1))), "^`family`"),
    list(quote(fit_cmoe(x, y, pre, expert = "relu")), "^`expert`"),
    list(quote(fit_cmoe(x, y, pre, expert = c("linear", "tanh"))), "^`expert`"),
    list(quote(fit_cmoe(x, y, pretrained_model(expert = "relu", eta0 = c(1, 0), nu0 = 1))), "^`expert`"),
    list(quote(fit_cmoe(x, y, pre, init = cmoe_params(0.3, c(1, 1, 0), 1))), "^`init`.*d = 1"),
    list(quote(fit_cmoe(cbind(x, x), y, pre)), "^`x` must have 1 column"),
    list(quote(fit_cmoe(x, y, pre2)), "^`x` must have 2 column"),
    list(quote(rcmoe(10, cmoe_params(0.3, c(1, 1, 0), 1), pre)), "^`params` has d = 2"),
    list(quote(dcmoe(x, y, cmoe_params(0.3, c(1, 1, 0), 1), pre)), "^`params` has d = 2"),
    list(quote(fit_cmoe(x, y[-1], pre)), "^`y` must have one value per row"),
    list(quote(fit_cmoe(x[-1, , drop = FALSE], y, pre)), "^`y` must have one value per row"),
    list(quote(fit_cmoe(x_na, y, pre)), "^`x`.*finite"),
    list(quote(fit_cmoe(x, y_inf, pre)), "^`y`.*finite"),
    list(quote(fit_cmoe(x, replace(y, 3, NA), pre)), "^`y`.*finite"),
    list(quote(fit_cmoe(as.character(x), y, pre)), "^`x` must be numeric"),
    list(quote(fit_cmoe(data.frame(x = as.character(x)), y, pre)), "^`x` must have numeric columns"),
    list(quote(fit_cmoe(x, as.character(y), pre)), "^`y` must be numeric"),
    list(quote(fit_cmoe(x[1:3, , drop = FALSE], y[1:3], pre)), "^`x` has 3 row"),
    list(quote(fit_cmoe(x, rep(2, 100), pre)), "^`y` is constant"),
    list(quote(fit_cmoe(x, y, ld(function(y) rep(NaN, length(y))))), "^`logdensity` returned NA"),
    list(quote(fit_cmoe(x, y, ld(function(y) c(0, 0)))), "^`logdensity` must return one number"),
    list(quote(fit_cmoe(x, y, ld(function(y) rep("a", length(y))))), "^`logdensity` must return one number"),
    list(quote(fit_cmoe(x, y, ld(function(y) rep(Inf, length(y))))), "^`logdensity` returned"),
    list(quote(fit_cmoe(x, y, pre, control = cmoe_control(max_iter = -1))), "^`max_iter`"),
    list(quote(fit_cmoe(x, y, pre, control = cmoe_control(max_iter = 2.5))), "^`max_iter`"),
    list(quote(fit_cmoe(x, y, pre, control = cmoe_control(tol = -1))), "^`tol`"),
    list(quote(fit_cmoe(x, y, pre, control = cmoe_control(tol = NA))), "^`tol`"),
    list(quote(fit_cmoe(x, y, pre, control = cmoe_control(mstep_iter = 0))), "^`mstep_iter`"),
    list(quote(fit_cmoe(x, y, pre, control = cmoe_control(lambda_bound = 0))), "^`lambda_bound`"),
    list(quote(fit_cmoe(x, y, pre, control = cmoe_control(lambda_bound = 0.5))), "^`lambda_bound`"),
    list(quote(fit_cmoe(x, y, pre, control = cmoe_control(var_floor = 1))), "^`var_floor`"),
    list(quote(fit_cmoe(x, y, pre, control = list(max_iter = 10))), "^`control`"),
    list(quote(fit_cmoe(x, y, pre, expert = "tanh", init = truth)), "^`init` must have the prompt's expert"),
    list(quote(fit_cmoe(x, y, pre, init = unclass(truth))), "^`init`"),
    list(quote(fit_cmoe(x, y, pre, n_starts = 0)), "^`n_starts`"),
    list(quote(fit_cmoe(x, y, pre, verbose = NA)), "^`verbose`"),
    list(quote(fit_cmoe(x, y, list(family = "gaussian"))), "^`pretrained`")
  )
  expect_gte(length(cases), 14)
  for (case in cases) {
    expect_r_error(case[[1]], case[[2]])
  }
})

test_that("parameters and controls edited by hand are checked in R, not in C++", {
  # Reported bug: fit_cmoe() and dcmoe() check only the class of a
  # cmoe_params / cmoe_control object, so an edited object reaches the C++
  # layer, whose "internal:" errors (or an R indexing error) surface.
  set.seed(11)
  pre <- pretrained_model("gaussian", eta0 = c(1, 0), nu0 = 1)
  truth <- cmoe_params(0.3, c(-1, 2), 0.2)
  sim <- rcmoe(100, truth, pre)
  edit <- function(field, value) {
    p <- truth
    p[[field]] <- value
    p
  }
  ctl <- function(field, value) {
    control <- cmoe_control()
    control[[field]] <- value
    control
  }
  cases <- list(
    list(quote(fit_cmoe(sim$x, sim$y, pre, init = edit("lambda", 0))), "lambda"),
    list(quote(fit_cmoe(sim$x, sim$y, pre, init = edit("lambda", NA_real_))), "lambda"),
    list(quote(fit_cmoe(sim$x, sim$y, pre, init = edit("nu", -1))), "nu"),
    list(quote(fit_cmoe(sim$x, sim$y, pre, init = edit("eta", c(a1 = 1, b = NA)))), "eta"),
    list(quote(dcmoe(sim$x, sim$y, edit("lambda", 1), pre)), "lambda"),
    list(quote(dcmoe(sim$x, sim$y, edit("nu", 0), pre)), "nu"),
    list(quote(dcmoe(sim$x, sim$y, edit("expert", "relu"), pre)), "expert"),
    list(quote(rcmoe(10, edit("expert", "relu"), pre)), "expert"),
    list(quote(fit_cmoe(sim$x, sim$y, pre, expert = "tanh", control = ctl("mstep_iter", 0L))), "mstep_iter"),
    list(quote(fit_cmoe(sim$x, sim$y, pre, control = ctl("lambda_bound", 0.7))), "lambda_bound")
  )
  for (case in cases) {
    expect_r_error(case[[1]], paste0("^`(", case[[2]], "|params|init|control)`"))
  }
})

# ---- g. init and n_starts ----

test_that("a cmoe_params start is used as it is and n_starts is then ignored", {
  set.seed(12)
  pre <- pretrained_model("laplace", eta0 = c(2, 0), nu0 = 1)
  truth <- cmoe_params(0.3, c(-1, 1), 0.5)
  sim <- rcmoe(400, truth, pre)
  expect_warning(fit <- fit_cmoe(sim$x, sim$y, pre, init = truth, n_starts = 2),
                 "`n_starts` is ignored")
  expect_identical(fit$start, truth)
  expect_length(fit$starts, 1)
  expect_no_warning(one <- fit_cmoe(sim$x, sim$y, pre, init = truth))
  expect_equal(one$params, fit$params)
  expect_equal(one$loglik, fit$loglik)
})

test_that("SQUAREM reaches plain EM's maximum in fewer iterations, never going down", {
  sc <- cmoe_scenario("merging", power = 0.2)
  set.seed(31)
  sim <- rcmoe(5000, sc$truth(5000), sc$pretrained)
  plain <- fit_cmoe(sim$x, sim$y, sc$pretrained, init = sc$truth(5000),
                    control = cmoe_control(accelerate = "none", max_iter = 20000))
  fast <- fit_cmoe(sim$x, sim$y, sc$pretrained, init = sc$truth(5000))
  expect_identical(fast$control$accelerate, "squarem")
  expect_true(plain$converged && fast$converged)
  expect_gte(fast$loglik, plain$loglik - 1e-6)
  expect_equal(coef(fast), coef(plain), tolerance = 1e-3)
  expect_lt(fast$iterations * 3, plain$iterations)
  expect_true(all(diff(fast$loglik_trace) >= -1e-10 * abs(fast$loglik)))
  expect_identical(fast$diagnostics$decreases, 0L)
  # every cycle ends at least as high as it started
  few <- fit_cmoe(sim$x, sim$y, sc$pretrained, init = sc$truth(5000),
                  control = cmoe_control(max_iter = 5, tol = 0))
  expect_length(few$loglik_trace, 6)
  expect_true(all(diff(few$loglik_trace) >= 0))
  expect_error(cmoe_control(accelerate = "aitken"), "`accelerate` must be")
})

# ---- h. units, extreme scales and aliased covariates ----

# The fit in units x * sx (per column) and y * sy, mapped back to the
# original units: slopes * sx / sy, intercept / sy, nu / sy^2.
units_back <- function(fit, sx, sy) {
  th <- coef(fit)
  d <- length(sx)
  c(th[1], th[1 + seq_len(d)] * sx / sy, th[d + 2] / sy, th[d + 3] / sy^2)
}

laplace_in_units <- function(eta0, nu0, sx, sy) {
  d <- length(sx)
  pretrained_model("laplace", eta0 = c(eta0[seq_len(d)] * sy / sx, eta0[d + 1] * sy),
                   nu0 = nu0 * sy^2)
}

test_that("the fit is the same in other units of x and y, mapped back", {
  set.seed(41)
  eta0 <- c(2, -1, 0.5)
  f0 <- pretrained_model("laplace", eta0 = eta0, nu0 = 1)
  sim <- rcmoe(2000, cmoe_params(0.3, c(-1, 1, 1), 0.5), f0)
  base <- fit_cmoe(sim$x, sim$y, f0)
  units <- list(c(1e6, 1e6, 1), c(1e-6, 1e-6, 1), c(1, 1, 1e-6), c(1, 1, 1e6),
                c(1e8, 1e-8, 1), c(3.7, 0.2, 17), c(1e300, 1e300, 1), c(1e-300, 1e-300, 1),
                c(1, 1, 1e150), c(1, 1, 1e-150))
  for (u in units) {
    sx <- u[1:2]
    sy <- u[3]
    label <- paste("units", paste(format(u), collapse = " "))
    fit <- fit_cmoe(sweep(sim$x, 2, sx, "*"), sim$y * sy, laplace_in_units(eta0, 1, sx, sy))
    expect_equal(units_back(fit, sx, sy), coef(base), tolerance = 1e-8, label = label)
    expect_equal(fit$loglik + 2000 * log(sy), base$loglik, tolerance = 1e-10, label = label)
    expect_equal(fit$posterior, base$posterior, tolerance = 1e-8, label = label)
    expect_identical(fit$iterations, base$iterations, label = label)
    # and so are the standard errors
    expect_equal(summary(fit)$coefficients$std_error,
                 unname(c(1, sy / sx, sy, sy^2)) * summary(base)$coefficients$std_error,
                 tolerance = 1e-6, label = label)
  }
  # columns permuted, with the pre-trained model's slopes permuted alike
  swapped <- fit_cmoe(sim$x[, 2:1], sim$y, pretrained_model("laplace", eta0 = eta0[c(2, 1, 3)], nu0 = 1))
  expect_equal(coef(swapped)[c(1, 3, 2, 4, 5)], coef(base), tolerance = 1e-8,
               ignore_attr = TRUE)
  # a shift of y moves the intercepts only
  shifted <- fit_cmoe(sim$x, sim$y + 1e3, pretrained_model("laplace", eta0 = eta0 + c(0, 0, 1e3), nu0 = 1))
  expect_equal(coef(shifted) - c(0, 0, 0, 1e3, 0), coef(base), tolerance = 1e-8)
})

test_that("a nonlinear prompt is the same in other units of x", {
  set.seed(42)
  f0 <- pretrained_model("laplace", eta0 = c(2, -1, 0.5), nu0 = 1)
  sim <- rcmoe(1500, cmoe_params(0.4, c(2, -1, 0.5), 0.1, expert = "tanh"), f0)
  sx <- c(1e-5, 1e7)
  in_units <- laplace_in_units(c(2, -1, 0.5), 1, sx, 1)
  for (control in list(cmoe_control(max_iter = 100, tol = 0), cmoe_control())) {
    set.seed(1)
    base <- fit_cmoe(sim$x, sim$y, f0, expert = "tanh", n_starts = 3, control = control)
    set.seed(1)
    fit <- fit_cmoe(sweep(sim$x, 2, sx, "*"), sim$y, in_units, expert = "tanh", n_starts = 3,
                    control = control)
    expect_equal(units_back(fit, sx, 1), coef(base),
                 tolerance = if (control$tol == 0) 1e-10 else 1e-6)
  }
})

test_that("where a double cannot hold the fit, the error says so; else the fit is finite", {
  set.seed(43)
  f0 <- pretrained_model("laplace", eta0 = c(2, 0), nu0 = 1)
  sim <- rcmoe(400, cmoe_params(0.3, c(-1, 1), 0.5), f0)
  expect_r_error(quote(fit_cmoe(sim$x, sim$y * 1e300, f0)), "^`y` varies too much")
  expect_r_error(quote(fit_cmoe(sim$x, sim$y * 1e-300, f0)), "^`y` varies too little")
  # a prompt variance near 1e-306 is still a double
  small <- fit_cmoe(sim$x, sim$y * 1e-153, laplace_in_units(c(2, 0), 1, 1, 1e-153))
  expect_equal(units_back(small, 1, 1e-153), coef(fit_cmoe(sim$x, sim$y, f0)), tolerance = 1e-8)
  # but not its floor, on which a sigmoid prompt's EM would work
  expect_r_error(quote(fit_cmoe(sim$x, sim$y * 1e-153, f0, expert = "sigmoid")),
                 "^`y` varies too little for a sigmoid prompt")
  expect_r_error(quote(fit_cmoe(sim$x, sim$y * 1e153, f0, expert = "sigmoid")),
                 "^`y` holds values up to .* sigmoid prompt")
  # "is constant" is said only of constant data
  expect_r_error(quote(fit_cmoe(sim$x, rep(1e-300, 400), f0)), "^`y` is constant")
  tiny <- fit_cmoe(sim$x * 1e-300, sim$y, laplace_in_units(c(2, 0), 1, 1e-300, 1))
  expect_true(all(is.finite(coef(tiny))))
  expect_equal(units_back(tiny, 1e-300, 1), coef(fit_cmoe(sim$x, sim$y, f0)), tolerance = 1e-8)
  expect_true(all(is.finite(predict(tiny, c(-1e-300, 1e-300)))))
  # the slope would be 2e310: beyond a double
  expect_r_error(quote(fit_cmoe(sim$x * 5e-311, sim$y, pretrained_model("laplace", eta0 = c(0, 0), nu0 = 1))),
                 "^`x` has column\\(s\\) x1 on a scale")
  # lambda_bound below the machine epsilon would allow lambda = 1
  expect_error(cmoe_control(lambda_bound = 1e-17), "^`lambda_bound` must be in \\[2.22e-16")
})

test_that("aliased covariates: their slopes are held at 0, with a warning, and the rest is the fit without them", {
  set.seed(44)
  f0 <- pretrained_model("laplace", eta0 = c(2, 0), nu0 = 1)
  sim <- rcmoe(1000, cmoe_params(0.3, c(-1, 1), 0.5), f0)
  x <- sim$x[, 1]
  z <- rnorm(1000)
  single <- fit_cmoe(x, sim$y, f0)
  f0_on <- function(d) pretrained_model("laplace", eta0 = c(2, rep(0, d - 1), 0), nu0 = 1)
  designs <- list(duplicated = cbind(x, x), doubled = cbind(x, 2 * x),
                  shifted = cbind(x, x + 1), constant = cbind(x, 5),
                  frame = data.frame(a = x, b = x))
  for (name in names(designs)) {
    expect_warning(fit <- fit_cmoe(designs[[name]], sim$y, f0_on(2)),
                   "slopes on them are not identified and are held at 0", label = name)
    expect_equal(unname(fit$aliased), 2L, label = name)
    # the slopes are named after the columns where they have distinct names
    expect_equal(unname(coef(fit)[c(1, 2, 4, 5)]), unname(coef(single)),
                 tolerance = 1e-8, label = name)
    expect_identical(coef(fit)[[3]], 0)
    expect_equal(fit$loglik, single$loglik, tolerance = 1e-10, label = name)
    se <- summary(fit)$coefficients$std_error
    expect_true(is.na(se[3]))
    expect_equal(se[-3], summary(single)$coefficients$std_error, tolerance = 1e-6, label = name)
    v <- vcov(fit)
    expect_true(all(is.na(v[3, ])) && all(is.na(v[, 3])))
    expect_output(print(fit), "slope\\(s\\) on (column 2|b) held at 0")
    expect_identical(attr(logLik(fit), "df"), 4L)
  }
  # the later of the aliased columns is set aside, and a name says which
  expect_warning(fit_cmoe(data.frame(a = x, b = x), sim$y, f0_on(2)), "column\\(s\\) b that")
  # a combination of two others among three
  expect_warning(three <- fit_cmoe(cbind(x, z, x - 2 * z), sim$y, f0_on(3)), "not identified")
  expect_equal(unname(three$aliased), 3L)
  # a start with slopes on an aliased column is the same linear predictor
  split <- cmoe_params(0.3, c(-0.5, -0.25, 1), 0.5)
  at_start <- suppressWarnings(fit_cmoe(cbind(x, 2 * x), sim$y, f0_on(2), init = split,
                                        control = cmoe_control(max_iter = 0)))
  expect_equal(at_start$loglik, sum(dcmoe(cbind(x, 2 * x), sim$y, split, f0_on(2), log = TRUE)),
               tolerance = 1e-10)
  later <- suppressWarnings(fit_cmoe(cbind(x, 2 * x), sim$y, f0_on(2), init = split))
  expect_equal(coef(later)[c(1, 2, 4, 5)], coef(single), tolerance = 1e-6, ignore_attr = TRUE)
  # all covariates constant: an intercept-only prompt
  expect_warning(flat <- fit_cmoe(rep(1, 1000), sim$y, f0), "not identified")
  expect_identical(coef(flat)[["a1"]], 0)
  expect_true(all(is.finite(vcov(flat)[-2, -2])))
})

test_that("a start at which the data have zero likelihood is refused", {
  set.seed(45)
  truncated <- pretrained_model(logdensity = function(x, y) ifelse(abs(y) > 2, -Inf, -log(4)))
  x <- rnorm(200)
  y <- c(runif(190, -2, 2), rnorm(10, 50, 0.1))
  far <- cmoe_params(0.5, c(0, -50), 1e-307)
  expect_r_error(quote(fit_cmoe(x, y, truncated, init = far)), "^`init` gives the data a log-likelihood of -Inf")
  fit <- fit_cmoe(x, y, truncated)
  expect_true(is.finite(fit$loglik))
  expect_equal(fit$params$lambda, 0.05, tolerance = 1e-6)
})

test_that("controls edited by hand are rebuilt, refused or completed with defaults", {
  ctl <- cmoe_control(max_iter = 50)
  typo <- ctl
  typo$maxiter <- 10
  expect_error(print(typo), "^`x` has unknown field\\(s\\) `maxiter`")
  bad <- ctl
  bad$tol <- -1
  expect_error(print(bad), "^`x` holds invalid contents: `tol` must be >= 0")
  # a field left out (as in an object saved before it existed) takes its default
  old <- ctl
  old$var_floor <- NULL
  set.seed(3)
  sim <- rcmoe(300, cmoe_params(0.3, c(-1, 1), 0.5), pretrained_model("laplace", eta0 = c(2, 0), nu0 = 1))
  fit <- fit_cmoe(sim$x, sim$y, pretrained_model("laplace", eta0 = c(2, 0), nu0 = 1), control = old)
  expect_identical(fit$control, cmoe_control(max_iter = 50))
  expect_output(print(ctl), "max_iter +50")
})

test_that("case weights: the weighted log-likelihood, maximised; whole numbers are repeated rows", {
  set.seed(46)
  f0 <- pretrained_model("laplace", "tanh", eta0 = c(1.5, 0), nu0 = 0.5)
  for (expert in c("linear", "tanh")) {
    truth <- cmoe_params(0.35, c(-2, 0.5), 0.2, expert = expert)
    sim <- rcmoe(700, truth, f0)
    w <- sample(1:3, 700, replace = TRUE)
    tight <- cmoe_control(tol = 1e-14)
    weighted <- fit_cmoe(sim$x, sim$y, f0, expert = expert, init = truth, weights = w,
                         control = tight)
    rows <- rep(seq_len(700), w)
    repeated <- fit_cmoe(sim$x[rows, , drop = FALSE], sim$y[rows], f0, expert = expert,
                         init = truth, control = tight)
    expect_equal(coef(weighted), coef(repeated), tolerance = 1e-6, label = expert)
    expect_equal(weighted$loglik, repeated$loglik, tolerance = 1e-10)
    expect_equal(vcov(weighted), vcov(repeated), tolerance = 1e-4)
    expect_equal(nobs(weighted), sum(w))
    expect_equal(attr(logLik(weighted), "nobs"), sum(w))
    expect_equal(BIC(weighted), BIC(repeated), tolerance = 1e-10)
    # the reported value is sum w log p at the estimate, and never went down
    expect_equal(weighted$loglik,
                 sum(w * dcmoe(sim$x, sim$y, weighted$params, f0, log = TRUE)), tolerance = 1e-10)
    expect_true(all(diff(weighted$loglik_trace) >= -1e-8 * abs(weighted$loglik)))
    expect_identical(weighted$diagnostics$decreases, 0L)
    # the weighted scores vanish at the maximum
    g <- colSums(w * moerates:::cmoe_scores(weighted$x, weighted$y, weighted$logf0, weighted$params,
                                            coef(weighted)))
    expect_lt(max(abs(g)), 1e-3)
    expect_equal(weights(weighted), as.double(w))
  }
  # a constant weight scales the log-likelihood, not the estimates
  sim <- rcmoe(500, cmoe_params(0.3, c(-1, 1), 0.5), f0)
  one <- fit_cmoe(sim$x, sim$y, f0)
  three <- fit_cmoe(sim$x, sim$y, f0, weights = rep(3, 500))
  expect_equal(coef(three), coef(one), tolerance = 1e-7)
  expect_equal(three$loglik, 3 * one$loglik, tolerance = 1e-10)
  expect_equal(sqrt(diag(vcov(three))), sqrt(diag(vcov(one))) / sqrt(3), tolerance = 1e-4)
  expect_output(print(three), "log-likelihood .* \\(weighted\\)")
  # data-driven starts with weights, and weights that are not whole numbers
  expect_true(is.finite(fit_cmoe(sim$x, sim$y, f0, n_starts = 4, weights = runif(500, 0.5, 2))$loglik))
})
