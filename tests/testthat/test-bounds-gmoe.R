test_that("gmoe_bounds() checks its arguments and prints the space", {
  expect_s3_class(gmoe_bounds(), "gmoe_bounds")
  expect_null(gmoe_bounds(a_max = Inf, b_max = Inf)$a_max)
  expect_null(gmoe_bounds(b_max = Inf)$b_max)
  expect_equal(gmoe_bounds(a_max = c(1, Inf))$a_max, c(1, Inf))
  expect_error(gmoe_bounds(nu_min = 0), "`nu_min`")
  expect_error(gmoe_bounds(nu_min = c(1, 2)), "`nu_min`")
  expect_error(gmoe_bounds(gamma_min = -1), "`gamma_min`")
  expect_error(gmoe_bounds(a_max = 0), "`a_max`")
  expect_error(gmoe_bounds(b_max = NA), "`b_max`")
  expect_error(gmoe_bounds(weight_min = 1), "`weight_min`")
  expect_error(gmoe_bounds(var_floor = 0), "`var_floor`")
  expect_output(print(gmoe_bounds(nu_min = 0.01, a_max = 5)),
                "nu >= 0.01; eigen\\(Gamma\\) >= 1e-08 var\\(x\\); \\|a\\| <= 5; \\|b\\| <= Inf")
  bad <- gmoe_bounds()
  bad$nu_min <- -1
  expect_error(gmoe_control(bounds = bad), "`bounds` holds invalid contents: `nu_min`")
  set.seed(1)
  sim <- rgmoe(100, gmoe_paper_truth(1))
  expect_error(fit_gmoe(sim$x, sim$y, k = 3, control = gmoe_control(bounds = gmoe_bounds(weight_min = 0.4))),
               "`control\\$bounds` has `weight_min` = 0.4, too large for k = 3")
  expect_error(fit_gmoe(sim$x, sim$y, k = 2, control = gmoe_control(bounds = gmoe_bounds(a_max = 1:2))),
               "`control\\$bounds` has `a_max` of length 2")
  start <- init_near_truth(gmoe_paper_truth(1), 3, 100)
  expect_error(fit_gmoe(sim$x, sim$y, k = 3, init = start,
                        control = gmoe_control(bounds = gmoe_bounds(nu_min = 0.1))),
               "`init` lies outside the parameter space of `control\\$bounds`: its expert variance nu\\[1\\]")
})

test_that("bounds from the truth follow the documented rule and scale with the units", {
  truth <- gmoe_paper_truth(1)
  b <- gmoe_bounds_from_truth(truth)
  expect_equal(b$nu_min, 0.1 * min(truth$nu))
  expect_equal(b$gamma_min, 0.1 * min(truth$Gamma))
  # the truth's standard deviations, by simulation
  set.seed(2)
  big <- rgmoe(4e5, truth)
  sd_ratio <- sd(big$y) / sd(big$x[, 1])
  expect_equal(b$a_max, 10 * max(max(abs(truth$a)), sd_ratio), tolerance = 0.01)
  expect_equal(b$b_max, 10 * max(max(abs(truth$b)), sd(big$y)), tolerance = 0.01)
  expect_equal(b$weight_min, 1e-10)
  # a truth whose slopes and intercepts are all 0 still gets bounds
  flat <- truth
  flat$a[] <- 0
  flat$b[] <- 0
  fb <- gmoe_bounds_from_truth(flat, variance_fraction = 0.5, range_multiple = 3)
  expect_gt(fb$a_max, 0)
  expect_gt(fb$b_max, 0)
  expect_equal(fb$nu_min, 0.5 * min(truth$nu))
  # equivariance: x in other units, y in other units
  p3 <- gmoe_paper_truth(3)
  b3 <- gmoe_bounds_from_truth(p3)
  scaled <- p3
  scaled$c <- p3$c * rep(c(10, 0.1), each = 3)
  for (j in 1:3) scaled$Gamma[, , j] <- p3$Gamma[, , j] * outer(c(10, 0.1), c(10, 0.1))
  scaled$a <- p3$a * 2 * rep(1 / c(10, 0.1), each = 3)
  scaled$b <- 2 * p3$b
  scaled$nu <- 4 * p3$nu
  bs <- gmoe_bounds_from_truth(scaled)
  expect_equal(bs$a_max, b3$a_max * 2 / c(10, 0.1))
  expect_equal(bs$b_max, 2 * b3$b_max)
  expect_equal(bs$nu_min, 4 * b3$nu_min)
  expect_error(gmoe_bounds_from_truth(truth, variance_fraction = 1), "`variance_fraction`")
  expect_error(gmoe_bounds_from_truth(truth, range_multiple = 0.5), "`range_multiple`")
  expect_error(gmoe_bounds_from_truth(list()), "`truth`")
})

# The EM Q-function of a GMoE at p given responsibilities r (n x k).
q_function <- function(x, y, r, p) {
  k <- length(p$pi)
  sum(vapply(seq_len(k), function(j) {
    G <- matrix(p$Gamma[, , j], ncol(x))
    L <- chol(G)
    z <- backsolve(L, t(x) - p$c[j, ], transpose = TRUE)
    log_gate <- -0.5 * colSums(z^2) - sum(log(diag(L))) - ncol(x) / 2 * log(2 * pi)
    e <- y - drop(x %*% p$a[j, ]) - p$b[j]
    log_expert <- stats::dnorm(e, sd = sqrt(p$nu[j]), log = TRUE)
    sum(r[, j] * (log(p$pi[j]) + log_gate + log_expert))
  }, numeric(1)))
}

test_that("the M-step is the exact maximiser of the Q-function within the bounds", {
  for (d in 1:3) {
    set.seed(100 + d)
    n <- 60
    x <- matrix(rnorm(n * d), n, d)
    y <- drop(x %*% rep(2, d)) + rnorm(n)
    k <- 3
    r <- matrix(rexp(n * k), n, k)
    r[, 3] <- r[, 3] * 1e-3  # a component with little weight: its weight on the floor
    r <- r / rowSums(r)
    current <- new_gmoe_params(rep(1 / 3, 3), matrix(0, 3, d), array(diag(d), c(d, d, 3)),
                               matrix(0.5, 3, d), rep(0.2, 3), rep(1, 3))
    # bounds that bind: slopes below the least-squares ones, an intercept
    # bound on b - shift'a, variance floors above the weighted ones
    bounds <- list(gamma = seq(0.9, 1.3, length.out = d), nu = 1.5, weight = 0.05,
                   a_max = rep(1.2, d), b_shift = seq(0.5, -0.5, length.out = d),
                   b_lo = -0.3, b_hi = 0.1)
    p <- .gmoe_mstep_cpp(x, y, r, current, bounds, FALSE)
    expect_equal(.gmoe_mstep_cpp(x, y, r, current, bounds, TRUE), p, tolerance = 1e-12)
    # within the bounds
    expect_true(all(p$pi >= bounds$weight * (1 - 1e-12)))
    expect_equal(sum(p$pi), 1)
    expect_true(all(p$nu >= bounds$nu * (1 - 1e-12)))
    expect_true(all(abs(p$a) <= 1.2 * (1 + 1e-12)))
    beta <- p$b - drop(p$a %*% bounds$b_shift)
    expect_true(all(beta >= -0.3 - 1e-12 & beta <= 0.1 + 1e-12))
    for (j in 1:3) {
      G <- matrix(p$Gamma[, , j], d) / sqrt(outer(bounds$gamma, bounds$gamma))
      expect_gte(min(eigen(G, symmetric = TRUE)$values), 1 - 1e-10)
    }
    # and no feasible point nearby has a higher Q: random feasible
    # perturbations of every block
    q0 <- q_function(x, y, r, p)
    for (trial in 1:200) {
      s <- 0.05
      q <- p
      w <- pmax(p$pi * exp(rnorm(3, sd = s)), bounds$weight)
      q$pi <- w / sum(w)
      if (any(q$pi < bounds$weight)) next
      q$c <- p$c + rnorm(3 * d, sd = s)
      for (j in 1:3) {
        A <- diag(d) + matrix(rnorm(d * d, sd = s), d)
        G <- A %*% matrix(p$Gamma[, , j], d) %*% t(A)
        scaled <- G / sqrt(outer(bounds$gamma, bounds$gamma))
        if (min(eigen(scaled, symmetric = TRUE)$values) < 1) next
        q$Gamma[, , j] <- G
      }
      q$a <- pmin(pmax(p$a + rnorm(3 * d, sd = s), -1.2), 1.2)
      q$b <- p$b + rnorm(3, sd = s)
      beta <- q$b - drop(q$a %*% bounds$b_shift)
      q$b <- pmin(pmax(beta, -0.3), 0.1) + drop(q$a %*% bounds$b_shift)
      q$nu <- pmax(p$nu * exp(rnorm(3, sd = s)), bounds$nu)
      expect_lte(q_function(x, y, r, q), q0 + 1e-9)
    }
    # block by block against a general optimiser: the expert of component 1
    # by L-BFGS-B on (a, beta)
    wls <- function(t) {
      a <- t[seq_len(d)]
      b <- t[d + 1] + sum(a * bounds$b_shift)
      sum(r[, 1] * (y - drop(x %*% a) - b)^2)
    }
    opt <- stats::optim(rep(0, d + 1), wls, method = "L-BFGS-B", lower = c(rep(-1.2, d), -0.3),
                        upper = c(rep(1.2, d), 0.1), control = list(factr = 1e2, pgtol = 0))
    ours <- c(p$a[1, ], p$b[1] - sum(p$a[1, ] * bounds$b_shift))
    expect_lte(wls(ours), opt$value + 1e-9)
    # the weights: water-filling against the closed form of the KKT conditions
    nk <- colSums(r)
    expect_equal(p$pi[3], bounds$weight)
    expect_equal(p$pi[1:2], nk[1:2] / sum(nk[1:2]) * (1 - bounds$weight))
  }
})

test_that("with active bounds EM never lowers the log-likelihood and every fit respects every bound", {
  truth <- gmoe_paper_truth(1)
  set.seed(3)
  sim <- rgmoe(800, truth)
  start <- init_near_truth(truth, 4, 800)
  start$a[] <- pmin(pmax(start$a, -0.5), 0.5)
  start$b <- pmin(pmax(start$b, -0.33), 0.33)
  start$Gamma[] <- pmax(start$Gamma, 0.011)
  start$nu <- pmax(start$nu, 0.012)
  # bounds that bind on the slopes, the intercepts and one variance
  bounds <- gmoe_bounds(nu_min = 0.012, gamma_min = 0.011, a_max = 0.5, b_max = 0.33)
  for (accelerate in c("none", "squarem", "newton")) {
    fit <- fit_gmoe(sim$x, sim$y, 4, init = start,
                    control = gmoe_control(accelerate = accelerate, bounds = bounds,
                                           max_iter = if (accelerate == "none") 300 else 2000,
                                           tol = if (accelerate == "none") 0 else 1e-6))
    expect_true(all(diff(fit$loglik_trace) >= -1e-9 * abs(fit$loglik)), info = accelerate)
    expect_identical(fit$diagnostics$decreases, 0L)
    p <- fit$params
    slack <- 1e-9
    expect_true(all(p$nu >= 0.012 * (1 - slack)))
    expect_true(all(apply(p$Gamma, 3, min) >= 0.011 * (1 - slack)))
    expect_true(all(abs(p$a) <= 0.5 * (1 + slack)))
    expect_true(all(abs(p$b) <= 0.33 * (1 + slack)))
    act <- fit$diagnostics$bounds
    expect_equal(act$nu, abs(p$nu / 0.012 - 1) < 1e-7)
    expect_equal(act$a, abs(abs(p$a[, 1]) / 0.5 - 1) < 1e-7)
    expect_equal(act$b, abs(abs(p$b) / 0.33 - 1) < 1e-7)
    expect_true(any(act$a) && any(act$b) && any(act$nu), info = accelerate)
    expect_true(is_degenerate(fit))
    if (accelerate != "none") expect_true(fit$converged, info = accelerate)
  }
  # print() and summary() say which bounds are active
  expect_output(print(fit), "Bounds active at the end: component")
  # (with no standard errors: the Wald theory does not hold on the boundary)
  expect_warning(s <- summary(fit), "standard errors are NA: the fit is degenerate")
  expect_output(print(s), "Parameter space: nu >= 0.012")
  expect_output(print(s), "Bounds active at the end")
  free <- fit_gmoe(sim$x, sim$y, 3, init = init_near_truth(truth, 3, 800))
  expect_output(print(summary(free)), "No bound is active at the end")
  expect_false(is_degenerate(free))
})

test_that("bounds in the data's units give the same fit in any units", {
  truth <- gmoe_paper_truth(3)
  set.seed(4)
  sim <- rgmoe(600, truth)
  start <- init_near_truth(truth, 4, 600)
  start$a[] <- pmin(pmax(start$a, -0.6), 0.6)
  start$b <- pmin(pmax(start$b, -0.35), 0.35)
  for (j in 1:4) start$Gamma[, , j] <- start$Gamma[, , j] + diag(0.003, 2)
  start$nu <- pmax(start$nu, 0.015)
  bounds <- function(sx, sy) {
    gmoe_bounds(nu_min = 0.015 * sy^2, gamma_min = 0.012 * sx^2, a_max = 0.6 * sy / sx,
                b_max = 0.35 * sy)
  }
  ctl <- function(sx, sy) gmoe_control(bounds = bounds(sx, sy), tol = 1e-9)
  base <- fit_gmoe(sim$x, sim$y, 4, init = start, control = ctl(1, 1))
  expect_true(any(unlist(base$diagnostics$bounds[-1])))
  for (u in list(c(1e3, 1e-2), c(1e-4, 1e5))) {
    sx <- u[1]
    sy <- u[2]
    s_start <- start
    s_start$c <- start$c * sx
    s_start$Gamma <- start$Gamma * sx^2
    s_start$a <- start$a * sy / sx
    s_start$b <- start$b * sy
    s_start$nu <- start$nu * sy^2
    fit <- fit_gmoe(sim$x * sx, sim$y * sy, 4, init = s_start, control = ctl(sx, sy))
    expect_equal(fit$loglik + 600 * (2 * log(sx) + log(sy)), base$loglik, tolerance = 1e-10)
    expect_equal(fit$params$nu / sy^2, base$params$nu, tolerance = 1e-6)
    expect_equal(fit$params$a * sx / sy, base$params$a, tolerance = 1e-6)
    expect_equal(fit$diagnostics$bounds, base$diagnostics$bounds)
  }
})

test_that("where today's floors let a variance collapse onto a few points, the bounded fit does not", {
  truth <- gmoe_paper_truth(1)
  set.seed(1)
  sim <- rgmoe(100, truth)
  set.seed(1)
  loose <- suppressWarnings(fit_gmoe(sim$x, sim$y, 5, init = "random", n_starts = 3))
  set.seed(1)
  bounds <- gmoe_bounds_from_truth(truth)
  bounded <- fit_gmoe(sim$x, sim$y, 5, init = "random", n_starts = 3,
                      control = gmoe_control(bounds = bounds))
  # the loose fit: one expert variance on its relative floor (1e-8 var(y)),
  # on a component of about two observations
  j <- which.min(loose$params$nu)
  expect_equal(loose$params$nu[j], 1e-8 * var(sim$y), tolerance = 1e-6)
  expect_true(loose$diagnostics$bounds$nu[j])
  expect_lt(loose$diagnostics$components$size[j], 3)
  expect_true(is_degenerate(loose))
  # bounded: every variance at or above a tenth of the smallest true one
  expect_true(all(bounded$params$nu >= bounds$nu_min * (1 - 1e-9)))
  expect_lt(bounded$loglik, loose$loglik)
  expect_true(bounded$converged)
})

test_that("a weight on its floor is held while Newton fits its atom, and the fit converges", {
  truth <- gmoe_paper_truth(1)
  set.seed(5)
  sim <- rgmoe(3000, truth)
  start <- init_near_truth(truth, 5, 3000, split = c(3, 1, 1))
  for (w in c(0.02, 0.05)) {
    ctl <- gmoe_control(bounds = gmoe_bounds(weight_min = w))
    fit <- fit_gmoe(sim$x, sim$y, 5, init = start, control = ctl)
    expect_true(fit$converged)
    expect_true(all(fit$params$pi >= w * (1 - 1e-9)))
    expect_equal(fit$diagnostics$bounds$weight, abs(fit$params$pi / w - 1) < 1e-7)
    expect_true(any(fit$diagnostics$bounds$weight))
    expect_gt(fit$diagnostics$newton_steps, 0)
    # 2000 more SQUAREM cycles within the same bounds gain less than tol
    more <- fit_gmoe(sim$x, sim$y, 5, init = fit$params,
                     control = gmoe_control(accelerate = "squarem", tol = 0, max_iter = 2000,
                                            bounds = gmoe_bounds(weight_min = w)))
    expect_lt(more$loglik - fit$loglik, 1e-6)
    expect_gte(more$loglik - fit$loglik, -1e-9)
  }
})
