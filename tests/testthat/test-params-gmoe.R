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
