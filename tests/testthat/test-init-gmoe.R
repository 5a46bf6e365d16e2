test_that("init_near_truth follows the published recipe", {
  truth <- gmoe_paper_truth(3)
  set.seed(1)
  s <- init_near_truth(truth, k = 5, n = 1000)
  atom <- attr(s, "true_atom")
  expect_setequal(unique(atom), 1:3)
  expect_equal(sum(s$pi), 1)
  expect_equal(s$pi, truth$pi[atom] / tabulate(atom, 3)[atom])
  for (i in 1:5) {
    dG <- s$Gamma[, , i] - truth$Gamma[, , atom[i]]
    expect_true(all(diag(dG) >= 0))
    expect_equal(dG[1, 2], 0)
  }
  expect_true(all(s$nu >= truth$nu[atom]))
  fixed <- init_near_truth(truth, k = 5, n = 1000, split = c(1, 3, 1))
  expect_equal(attr(fixed, "true_atom"), c(1, 2, 2, 2, 3))
  # perturbations shrink with n
  set.seed(2)
  big <- replicate(50, max(abs(init_near_truth(truth, 3, 1e6, c(1, 1, 1))$c - truth$c)))
  set.seed(2)
  small <- replicate(50, max(abs(init_near_truth(truth, 3, 100, c(1, 1, 1))$c - truth$c)))
  expect_lt(mean(big), mean(small))
  expect_lt(mean(small), 0.02)
})

test_that("init_near_truth() checks the truth, and its start survives fit_gmoe()", {
  p <- gmoe_paper_truth(1)
  q <- p
  q$Gamma[1, 1, 1] <- 0
  expect_error(init_near_truth(q, 4, 100), "`truth` holds invalid contents: `Gamma`")
  expect_error(init_near_truth(p, 1e10, 100), "`k` must be at most")
  set.seed(9)
  start <- init_near_truth(p, 4, 300)
  sim <- rgmoe(300, p)
  fit <- fit_gmoe(sim$x, sim$y, 4, init = start, control = gmoe_control(max_iter = 1))
  expect_identical(attr(fit$start, "true_atom"), attr(start, "true_atom"))
})
