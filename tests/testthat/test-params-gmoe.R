test_that("gmoe_params accepts the mclust layout and d = 1 vectors", {
  p <- gmoe_params(c(0.4, 0.6), c(-1, 1), c(0.5, 0.25), c(1, -1), c(0, 1), c(0.1, 0.2))
  expect_s3_class(p, "gmoe_params")
  expect_equal(dim(p$c), c(2, 1))
  expect_equal(dim(p$Gamma), c(1, 1, 2))
  expect_equal(p$Gamma[1, 1, 2], 0.25)
  q <- gmoe_params(1, c(0, 1), diag(2), c(1, 2), 0, 1)
  expect_equal(dim(q$c), c(1, 2))
  expect_equal(dim(q$Gamma), c(2, 2, 1))
  expect_output(print(p), "k = 2 components, d = 1 covariate")
  tab <- coef(gmoe_paper_truth(3))
  expect_equal(colnames(tab), c("pi", "c1", "c2", "Gamma11", "Gamma12", "Gamma21",
                                "Gamma22", "a1", "a2", "b", "nu"))
})

test_that("the published truths use the exact expressions", {
  p1 <- gmoe_paper_truth(1)
  expect_equal(p1$pi, c(0.3, 0.4, 0.3))
  expect_equal(drop(p1$c), c(-0.1, 0.1, 0.5))
  expect_identical(drop(p1$a)[1], 0.017324 / 0.042824)
  expect_identical(p1$b[1], 0.3 + 0.017324 / 0.042824 * 0.1)
  expect_identical(p1$nu[1], 0.0081759 + 0.017324 / 0.042824 * 0.1 * 0.017324)
  p2 <- gmoe_paper_truth(2)
  expect_identical(p2$b[1], 0.3)
  expect_identical(p2$nu[1], 0.0081759 - 0.017324 / 0.042824 * 0.017324)
  p4 <- gmoe_paper_truth(4)
  expect_equal(p4$c[1, ], c(0, 0))
  expect_equal(p4$Gamma[, , 3], diag(0.01, 2))
  expect_equal(p4$a[2, ], rep(-0.0125 / 0.0175, 2))
  expect_identical(p4$nu, p2$nu)
})

test_that("joint Gaussian conversion is a bijection", {
  for (model in 1:4) {
    p <- gmoe_paper_truth(model)
    j <- gmoe_to_joint(p)
    expect_equal(gmoe_from_joint(j$pro, j$mean, j$sigma), p)
  }
  j <- gmoe_to_joint(gmoe_paper_truth(1))
  expect_equal(j$sigma[, , 1], rbind(c(0.042824, 0.017324), c(0.017324,
    gmoe_paper_truth(1)$nu[1] + 0.017324^2 / 0.042824)))
  expect_error(gmoe_from_joint(1, matrix(0, 1, 1), array(1, c(1, 1, 1))), "`mean`")
})

test_that("gmoe_params_from_table inverts coef()", {
  for (model in 1:4) {
    p <- gmoe_paper_truth(model)
    expect_equal(gmoe_params_from_table(coef(p)), p)
  }
  tab <- as.data.frame(coef(gmoe_paper_truth(1)))
  tab$c2 <- NA
  tab$extra <- "ignored"
  expect_equal(gmoe_params_from_table(tab), gmoe_paper_truth(1))
  expect_error(gmoe_params_from_table(tab[, c("pi", "c1")]), "`table`")
  expect_error(gmoe_params_from_table(1:3), "`table`")
})

test_that("the checks of gmoe_params() do not depend on the units of x", {
  G <- array(c(1, 0.3, 0.3, 1), c(2, 2, 1))
  for (s in c(1e-150, 1, 1e150)) {
    sx <- c(s, 1 / s)
    Gs <- G
    Gs[, , 1] <- G[, , 1] * outer(sx, sx)
    p <- gmoe_params(1, sx, Gs, c(1, 1) / sx, 0, 1)
    expect_equal(p$Gamma, Gs)
  }
  # symmetry is judged relative to the entries, also at 1e-300
  asym <- array(c(1, 0, 1, 1), c(2, 2, 1)) * 1e-300
  expect_error(gmoe_params(1, c(0, 0), asym, c(0, 0), 0, 1), "`Gamma` must hold symmetric")
  # singular to working precision, whatever the scale of each covariate
  sing <- array(c(4, 2e-8, 2e-8, 1e-16), c(2, 2, 1))
  expect_error(gmoe_params(1, c(0, 0), sing, c(0, 0), 0, 1), "component 1 is numerically singular")
  expect_error(gmoe_params(1, c(0, 0), array(0.04, c(2, 2, 1)), c(0, 0), 0, 1),
               "numerically singular")
  expect_error(gmoe_params(c(0.5, 0.5), 1:2, c(1, 1), 1:2, 1:2, c(1, 1e-320)),
               "`nu` must be at least .Machine\\$double.xmin")
})

test_that("gmoe_from_joint(), gmoe_to_joint() and gmoe_params_from_table() name their arguments", {
  p <- gmoe_paper_truth(3)
  j <- gmoe_to_joint(p)
  # covariates on very different scales: no condition-number test in the way
  sx <- c(1e8, 1e-8)
  q <- gmoe_params(p$pi, p$c * rep(sx, each = 3),
                   array(apply(p$Gamma, 3, function(G) G * outer(sx, sx)), c(2, 2, 3)),
                   p$a / rep(sx, each = 3), p$b, p$nu)
  jq <- gmoe_to_joint(q)
  expect_equal(gmoe_from_joint(jq$pro, jq$mean, jq$sigma), q, tolerance = 1e-10)
  expect_error(gmoe_from_joint(j$pro * 2, j$mean, j$sigma), "`pro` must sum to 1")
  expect_error(gmoe_from_joint(j$pro, j$mean, -j$sigma), "`sigma` must hold symmetric positive definite")
  expect_error(gmoe_from_joint(j$pro, j$mean, j$sigma[, , 1:2]), "`sigma` must be a numeric 3 x 3 x 3")
  expect_error(gmoe_from_joint(j$pro, "a", j$sigma), "`mean` must be a numeric")
  big <- gmoe_paper_truth(1)
  big$a[] <- 1e160
  expect_error(gmoe_to_joint(big), "`params` has a joint mean or covariance")
  tab <- coef(p)
  tab[2, "Gamma12"] <- 10
  expect_error(gmoe_params_from_table(tab), "`table` holds invalid contents: `Gamma`")
  tab <- as.data.frame(coef(p))
  tab$nu <- as.character(tab$nu)
  expect_error(gmoe_params_from_table(tab), "`table` must have numeric parameter columns; nu")
})
