boot_truth <- function() {
  gmoe_params(pi = c(0.4, 0.6), c = c(-1, 1), Gamma = c(0.3, 0.3),
              a = c(1, -1), b = c(0, 1), nu = c(0.1, 0.2))
}

test_that("components are matched to the fit's by the best of all k! assignments", {
  perms <- all_permutations(4)
  expect_identical(dim(perms), c(24L, 4L))
  expect_identical(nrow(unique(perms)), 24L)
  expect_true(all(apply(perms, 1, function(r) setequal(r, 1:4))))
  expect_identical(all_permutations(1), matrix(1L, 1, 1))
  truth <- gmoe_paper_truth(3)
  for (order in list(c(2, 3, 1), c(3, 2, 1), 1:3)) {
    shuffled <- permute_components(truth, order)
    # noise far smaller than the distances between atoms
    shuffled$b <- shuffled$b + c(0.01, -0.01, 0.005)
    back <- match_components(shuffled, truth, all_permutations(3))
    expect_equal(permute_components(shuffled, back)$c, truth$c)
    expect_identical(back, match(1:3, order))
  }
})

test_that("the bootstrap is reproducible with set.seed, under any future plan", {
  set.seed(11)
  sim <- rgmoe(400, boot_truth())
  fit <- fit_gmoe(sim$x, sim$y, k = 2, init = boot_truth())
  set.seed(1)
  a <- confint(fit, method = "bootstrap", B = 6)
  after <- runif(1)
  set.seed(1)
  b <- confint(fit, method = "bootstrap", B = 6)
  expect_identical(a, b)
  # the caller's generator moves on by the one draw of the bootstrap's seed
  set.seed(1)
  invisible(sample.int(.Machine$integer.max, 1))
  expect_identical(runif(1), after)
  old <- future::plan(future::multisession, workers = 2)
  on.exit(future::plan(old))
  set.seed(1)
  c <- confint(fit, method = "bootstrap", B = 6)
  future::plan(old)
  expect_identical(unclass(c), unclass(a))
  # a larger B keeps the first refits
  set.seed(1)
  d <- confint(fit, method = "bootstrap", B = 9)
  expect_identical(attr(d, "bootstrap")$estimates[1:6, ], attr(a, "bootstrap")$estimates)
  expect_output(print(a), "Percentile intervals from 6 parametric bootstrap refits")
  expect_identical(rownames(a), rownames(vcov(fit)))
})

test_that("bootstrap standard errors agree with the observed information's", {
  set.seed(12)
  sim <- rgmoe(2000, boot_truth())
  fit <- fit_gmoe(sim$x, sim$y, k = 2, init = boot_truth())
  wald <- sqrt(diag(vcov(fit)))
  for (type in c("parametric", "nonparametric")) {
    set.seed(2)
    ci <- confint(fit, method = "bootstrap", B = 60, type = type)
    boot <- attr(ci, "bootstrap")
    expect_identical(boot$type, type)
    expect_identical(boot$failed, 0L)
    expect_identical(dim(boot$estimates), c(60L, length(wald)))
    # a standard deviation from 60 draws is within about 9% of its value
    ratio <- boot$se / wald
    expect_true(all(ratio > 0.7 & ratio < 1.35), info = paste(type, round(ratio, 2), collapse = " "))
    # the matched components stay apart: no refit's gate mean jumped to the
    # other component
    expect_true(all(boot$estimates[, paste0("comp1:", colnames(coef(fit))[2])] < 0))
    expect_true(all(boot$estimates[, paste0("comp2:", colnames(coef(fit))[2])] > 0))
    expect_true(all(ci[, 1] <= gmoe_natural_values(fit$params) + 1e-12))
    expect_true(all(ci[, 2] >= gmoe_natural_values(fit$params) - 1e-12))
  }
})

test_that("the bootstrap refuses what it cannot do", {
  set.seed(14)
  sim <- rgmoe(300, boot_truth())
  fit <- fit_gmoe(sim$x, sim$y, k = 8, control = gmoe_control(max_iter = 0))
  expect_error(confint(fit, method = "bootstrap", B = 5), "k <= 7")
})

test_that("refits that fail are left out, with a warning that counts them", {
  # three observations: about one resample in nine repeats a single one,
  # whose constant covariate no fit accepts
  fit <- fit_gmoe(c(-1, 0, 1), c(0.5, -0.3, 1.2), k = 1)
  set.seed(4)
  expect_warning(ci <- confint(fit, method = "bootstrap", B = 100, type = "nonparametric"),
                 "of 100 bootstrap refits failed and are left out")
  boot <- attr(ci, "bootstrap")
  expect_gt(boot$failed, 0)
  expect_identical(nrow(boot$estimates), 100L - boot$failed)
  expect_output(print(ci), sprintf("\\(%d failed, left out\\)", boot$failed))
})
