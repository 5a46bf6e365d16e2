test_that("rgmoe returns the documented shapes and is reproducible", {
  set.seed(1)
  a <- rgmoe(200, gmoe_paper_truth(3))
  set.seed(1)
  b <- rgmoe(200, gmoe_paper_truth(3))
  expect_identical(a, b)
  expect_equal(dim(a$x), c(200, 2))
  expect_length(a$y, 200)
  expect_true(all(a$component %in% 1:3))
})

test_that("simulated data have the moments of the truth", {
  set.seed(2)
  p <- gmoe_paper_truth(1)
  sim <- rgmoe(2e5, p)
  expect_equal(tabulate(sim$component) / 2e5, p$pi, tolerance = 0.01)
  for (j in 1:3) {
    idx <- sim$component == j
    expect_lt(abs(mean(sim$x[idx]) - p$c[j]), 0.005)
    expect_equal(var(sim$x[idx]), p$Gamma[1, 1, j], tolerance = 0.03)
    fit <- lm(sim$y[idx] ~ sim$x[idx])
    expect_lt(max(abs(coef(fit) - c(p$b[j], p$a[j]))), 0.02)
    expect_equal(mean(residuals(fit)^2), p$nu[j], tolerance = 0.03)
  }
})

test_that("rgmoe() checks its parameters and its count", {
  p <- gmoe_paper_truth(1)
  q <- p
  q$pi <- c(0.5, 0.6)
  expect_error(rgmoe(100, q), "`params` holds invalid contents")
  q <- p
  q$pi <- c(0.5, 0.6, -0.1)
  expect_error(rgmoe(100, q), "`params` holds invalid contents: `pi` must be strictly positive")
  expect_error(rgmoe(1e10, p), "`n` must be at most 2147483647")
})
