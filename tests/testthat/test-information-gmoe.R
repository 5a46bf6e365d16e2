# A fit on data in other units and with covariates away from 0, one EM
# step from a start near the truth: not at a maximum, so the score is not
# zero.
info_fit <- function(d, k, seed) {
  set.seed(seed)
  truth <- random_gmoe(k, d)
  truth$c <- truth$c / 4  # components that overlap: EM is not done in one step
  sim <- rgmoe(400, truth)
  x <- sim$x * rep(c(3, 0.5, 2)[seq_len(d)], each = 400) + 1
  y <- 2 * sim$y - 0.5
  start <- truth
  start$c <- start$c + 0.5
  fit_gmoe(x, y, k, init = in_units_shift(start, c(3, 0.5, 2)[seq_len(d)], 1, 2, -0.5),
           control = gmoe_control(max_iter = 1, accelerate = "none"))
}

test_that("the score and the Hessian equal central differences of the log-likelihood", {
  for (cfg in list(c(d = 1, k = 3), c(d = 2, k = 2), c(d = 3, k = 3))) {
    fit <- info_fit(cfg[["d"]], cfg[["k"]], 70 + cfg[["d"]])
    info <- gmoe_information(fit)
    theta <- info$theta
    expect_equal(info$loglik, fit$loglik, tolerance = 1e-12)
    loglik <- function(th) sum(dgmoe(fit$x, fit$y, .gmoe_unpack_cpp(th, fit$params), log = TRUE))
    expect_equal(loglik(theta), fit$loglik, tolerance = 1e-12)
    # the parametrisation has the documented size and names
    d <- cfg[["d"]]
    k <- cfg[["k"]]
    expect_length(theta, k - 1 + k * (2 * d + d * (d + 1) / 2 + 2))
    expect_identical(names(theta)[seq_len(k)], c(sprintf("alpha[%d]", seq_len(k - 1)), "c[1,1]"))
    expect_identical(names(theta)[length(theta)], sprintf("log_nu[%d]", k))
    if (d > 1) expect_true(all(c("logR[1,2,2]", "R[1,2,1]") %in% names(theta)))
    numeric_score <- central_diff(loglik, theta)
    expect_lt(max(abs(numeric_score - info$score)), 1e-5 * max(1, abs(info$score)))
    expect_gt(max(abs(info$score)), 1e-2)
    score <- function(th) {
      f <- fit
      f$params <- .gmoe_unpack_cpp(th, fit$params)
      gmoe_information(f)$score
    }
    numeric_hessian <- central_diff(score, theta)
    expect_lt(max(abs(numeric_hessian - info$hessian)), 1e-6 * max(abs(info$hessian)))
    expect_equal(info$hessian, t(info$hessian))
    expect_identical(dimnames(info$hessian), list(names(theta), names(theta)))
  }
})

test_that("the score from the E-step statistics equals the score of the information pass", {
  for (d in 1:3) {
    fit <- info_fit(d, 3, 80 + d)
    units <- standard_units(fit$x, fit$y)
    for (kernels in c(TRUE, FALSE)) {
      out <- .gmoe_information_cpp(units$x, units$y, params_to_units(fit$params, units), 1L, kernels)
      expect_equal(out$score_em, out$score, tolerance = 1e-9)
    }
    # and the information is the same on both kernel paths and with threads
    a <- .gmoe_information_cpp(units$x, units$y, params_to_units(fit$params, units), 1L, FALSE)
    b <- .gmoe_information_cpp(units$x, units$y, params_to_units(fit$params, units), 2L, TRUE)
    expect_equal(b$hessian, a$hessian, tolerance = 1e-10)
  }
})

test_that("at a converged fit the score vanishes and the information is positive definite", {
  truth <- gmoe_paper_truth(1)
  set.seed(91)
  sim <- rgmoe(3000, truth)
  fit <- fit_gmoe(sim$x, sim$y, 3, init = init_near_truth(truth, 3, 3000),
                  control = gmoe_control(tol = 1e-10))
  info <- gmoe_information(fit)
  expect_true(fit$converged)
  expect_gt(min(eigen(-info$hessian, symmetric = TRUE, only.values = TRUE)$values), 0)
  dec <- drop(crossprod(info$score, solve(-info$hessian, info$score))) / 2
  expect_lt(dec, 1e-10)
  # the information is invariant: in other units it is the same up to the
  # affine map of theta, so the decrement is the same number
  scaled <- fit_gmoe(sim$x * 10, sim$y * 0.1, 3,
                     init = in_units_shift(fit$params, 10, 0, 0.1, 0),
                     control = gmoe_control(max_iter = 0))
  other <- gmoe_information(scaled)
  expect_equal(drop(crossprod(other$score, solve(-other$hessian, other$score))) / 2, dec,
               tolerance = 1e-3)
})
