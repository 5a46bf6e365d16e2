test_that("dgmoe matches a direct computation", {
  p <- gmoe_paper_truth(3)
  x <- rbind(c(0, 0.1), c(0.4, 0.5), c(-0.2, 0.3))
  y <- c(0.2, -0.1, 0.5)
  direct <- vapply(1:3, function(i) {
    sum(vapply(1:3, function(j) {
      S <- p$Gamma[, , j]
      dx <- x[i, ] - p$c[j, ]
      p$pi[j] * exp(-0.5 * sum(dx * solve(S, dx))) / (2 * pi * sqrt(det(S))) *
        dnorm(y[i], sum(p$a[j, ] * x[i, ]) + p$b[j], sqrt(p$nu[j]))
    }, numeric(1)))
  }, numeric(1))
  expect_equal(dgmoe(x, y, p), direct, tolerance = 1e-12)
  expect_equal(dgmoe(x, y, p, log = TRUE), log(direct), tolerance = 1e-12)
  gate <- vapply(1:3, function(i) {
    sum(vapply(1:3, function(j) {
      S <- p$Gamma[, , j]
      dx <- x[i, ] - p$c[j, ]
      p$pi[j] * exp(-0.5 * sum(dx * solve(S, dx))) / (2 * pi * sqrt(det(S)))
    }, numeric(1)))
  }, numeric(1))
  expect_equal(dgmoe(x, y, p, conditional = TRUE), direct / gate, tolerance = 1e-12)
})

test_that("densities integrate to one", {
  p <- gmoe_paper_truth(1)
  for (x0 in c(-0.5, 0, 0.3, 1)) {
    val <- integrate(function(y) dgmoe(rep(x0, length(y)), y, p, conditional = TRUE),
                     -Inf, Inf, rel.tol = 1e-10)$value
    expect_equal(val, 1, tolerance = 1e-8)
  }
  joint <- integrate(function(xs) vapply(xs, function(x0) {
    integrate(function(y) dgmoe(rep(x0, length(y)), y, p), -Inf, Inf,
              rel.tol = 1e-10)$value
  }, numeric(1)), -Inf, Inf, rel.tol = 1e-8)$value
  expect_equal(joint, 1, tolerance = 1e-6)
})

test_that("log densities stay finite far in the tails", {
  p <- gmoe_paper_truth(1)
  ld <- dgmoe(c(30, -30), c(100, -100), p, log = TRUE)
  expect_true(all(is.finite(ld)))
  expect_true(all(dgmoe(c(30, -30), c(100, -100), p) == 0))
})

test_that("responsibilities match a direct computation over many orders of magnitude", {
  p <- gmoe_paper_truth(1)
  x <- seq(-3, 3, length.out = 401)
  y <- seq(-2, 2, length.out = 401)
  terms <- vapply(1:3, function(j) {
    log(p$pi[j]) + dnorm(x, p$c[j], sqrt(p$Gamma[1, 1, j]), log = TRUE) +
      dnorm(y, p$a[j] * x + p$b[j], sqrt(p$nu[j]), log = TRUE)
  }, numeric(401))
  top <- apply(terms, 1, max)
  direct <- exp(terms - top) / rowSums(exp(terms - top))
  fit <- fit_gmoe(x, y, k = 3, init = p, control = gmoe_control(max_iter = 0))
  expect_gt(diff(range(log(direct[direct > 0]))), 300)
  expect_equal(fit$responsibilities, direct, tolerance = 1e-13, ignore_attr = TRUE)
  # element by element, down to 1e-250: the log terms themselves differ by
  # rounding of order 1e-13 at magnitudes of several hundred
  ok <- direct > 1e-300
  expect_lt(max(abs(fit$responsibilities[ok] - direct[ok]) / direct[ok]), 1e-12)
  expect_equal(dgmoe(x, y, p, log = TRUE), top + log(rowSums(exp(terms - top))),
               tolerance = 1e-14)
})

test_that("densities are finite at any scale a double can hold, and far from the data", {
  p <- gmoe_paper_truth(3)
  set.seed(5)
  sim <- rgmoe(50, p)
  for (s in c(1e-150, 1e150)) {
    sx <- c(s, s)
    sy <- 1 / s
    q <- gmoe_params(p$pi, p$c * s, p$Gamma * s^2, p$a * sy / s, p$b * sy, p$nu * sy^2)
    joint <- dgmoe(sim$x * s, sim$y * sy, q, log = TRUE)
    expect_true(all(is.finite(joint)))
    expect_equal(joint, dgmoe(sim$x, sim$y, p, log = TRUE) - 2 * log(s) - log(sy))
    cond <- dgmoe(sim$x * s, sim$y * sy, q, log = TRUE, conditional = TRUE)
    expect_equal(cond, dgmoe(sim$x, sim$y, p, log = TRUE, conditional = TRUE) - log(sy))
  }
  # far from every component: the joint density underflows to -Inf (not
  # NaN); the conditional density stays finite where y is near the mean
  p1 <- gmoe_paper_truth(1)
  far <- c(1e160, -1e10, 1e6)
  expect_identical(dgmoe(far[1], 0, p1, log = TRUE), -Inf)
  y <- far * p1$a[1, 1] + p1$b[1]
  cond <- dgmoe(far[2:3], y[2:3], p1, log = TRUE, conditional = TRUE)
  expect_equal(cond, dnorm(y[2:3], far[2:3] * p1$a[1, 1] + p1$b[1], sqrt(p1$nu[1]), log = TRUE))
  expect_identical(dgmoe(far, rep(0, 3), p1, conditional = TRUE) >= 0, rep(TRUE, 3))
})
