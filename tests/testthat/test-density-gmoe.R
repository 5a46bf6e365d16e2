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
