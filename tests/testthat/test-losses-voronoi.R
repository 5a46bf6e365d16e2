# Hand-computed cases use distances that are exact in a few decimals, so the
# expected losses below can be checked with pencil and paper.

truth_d1 <- function() {
  gmoe_params(pi = c(0.4, 0.6), c = c(1, -1), Gamma = c(1, 2), a = c(0.5, -0.5),
              b = c(0, 1), nu = c(1, 1))
}

test_that("rbar() and rtilde() give 1, 4, 6 for cells of 1, 2, 3 atoms", {
  expect_identical(rbar(1:3), c(1, 4, 6))
  expect_identical(rtilde(c(3, 1, 2, 2)), c(6, 1, 4, 4))
  expect_identical(rbar(numeric(0)), numeric(0))
})

test_that("rbar() and rtilde() return NA with a warning for 4 or more atoms", {
  expect_warning(r <- rbar(c(2, 4, 7)),
                 "rbar\\(m\\) is unknown for cells of 4 or more atoms \\(m = 4, 7\\).*>= 7")
  expect_identical(r, c(4, NA, NA))
  expect_warning(r <- rtilde(5), "rtilde\\(m\\) is unknown")
  expect_identical(r, NA_real_)
})

test_that("rbar() and rtilde() reject sizes that are not whole numbers >= 1", {
  expect_error(rbar(0), "`m` must hold cell sizes")
  expect_error(rtilde(1.5), "`m` must hold cell sizes")
  expect_error(rbar("2"), "`m` must be numeric")
  expect_error(rbar(NA), "`m` must")
})

test_that("an exactly fitted estimate gives pi-weighted distances plus weight errors", {
  est <- gmoe_params(pi = c(0.5, 0.5), c = c(1.1, -1), Gamma = c(1, 2.2),
                     a = c(0.5, -0.3), b = c(0.1, 1), nu = c(1.3, 1))
  vc <- voronoi_cells(est, truth_d1())
  expect_s3_class(vc, "voronoi_cells")
  expect_identical(vc$cell, 1:2)
  expect_identical(vc$size, c(1L, 1L))
  expect_equal(unname(vc$distance),
               rbind(c(0.5, 2.1 + 1 + 1 + 0.9 + 0.3),
                     c(2 + 1.2 + 0.8 + 1 + 0, 0.4)), tolerance = 1e-14)
  # 0.5 * 0.5 + 0.5 * 0.4 + |0.5 - 0.4| + |0.5 - 0.6|
  expect_equal(voronoi_loss(est, truth_d1()), 0.65, tolerance = 1e-14)
  expect_identical(voronoi_loss(truth_d1(), truth_d1()), 0)
})

test_that("an over-fitted cell of two atoms uses powers 4, 2, 2, 4, 2", {
  est <- gmoe_params(pi = c(0.2, 0.25, 0.55), c = c(1.1, 0.8, -1),
                     Gamma = c(1.04, 1, 2), a = c(0.6, 0.5, -0.5),
                     b = c(0.2, 0, 1), nu = c(1.09, 0.96, 1))
  vc <- voronoi_cells(est, truth_d1())
  expect_identical(vc$cell, c(1L, 1L, 2L))
  expect_identical(vc$size, c(2L, 1L))
  expected <- 0.2 * (0.1^4 + 0.04^2 + 0.1^2 + 0.2^4 + 0.09^2) +
    0.25 * (0.2^4 + 0.04^2) + 0.1
  expect_equal(expected, 0.10508, tolerance = 1e-14)
  expect_equal(voronoi_loss(est, truth_d1()), 0.10508, tolerance = 1e-14)
  det <- voronoi_loss(est, truth_d1(), detail = TRUE)
  expect_identical(det$type, "I")
  expect_identical(unlist(det$atoms[1, c("pow_c", "pow_Gamma", "pow_a", "pow_b", "pow_nu")],
                          use.names = FALSE), c(4, 2, 2, 4, 2))
  expect_identical(unlist(det$atoms[3, c("pow_c", "pow_Gamma", "pow_a", "pow_b", "pow_nu")],
                          use.names = FALSE), c(1, 1, 1, 1, 1))
})

test_that("an over-fitted cell of three atoms uses powers 6, 3, 2, 6, 3", {
  est <- gmoe_params(pi = c(0.4, 0.2, 0.2, 0.2), c = c(1, -1.1, -1, -1),
                     Gamma = c(1, 2, 2.25, 2), a = c(0.5, -0.5, -0.3, -0.5),
                     b = c(0, 1, 1, 0.9), nu = c(1, 1, 1, 1.16))
  expect_identical(voronoi_cells(est, truth_d1())$size, c(1L, 3L))
  expect_equal(voronoi_loss(est, truth_d1()),
               0.2 * 0.1^6 + 0.2 * (0.25^3 + 0.2^2) + 0.2 * (0.1^6 + 0.16^3),
               tolerance = 1e-14)
  expect_equal(voronoi_loss(est, truth_d1()), 0.0119446, tolerance = 1e-13)
})

test_that("an empty cell counts its whole true weight", {
  truth <- gmoe_params(pi = c(0.3, 0.3, 0.4), c = c(-1, 1, 3),
                       Gamma = c(1, 1, 1), a = c(0, 0, 0), b = c(0, 0, 0),
                       nu = c(1, 1, 1))
  est <- gmoe_params(pi = c(0.3, 0.3, 0.4), c = c(-1.2, -0.9, 3),
                     Gamma = c(1, 1, 1), a = c(0, 0, 0), b = c(0, 0, 0),
                     nu = c(1, 1, 1))
  vc <- voronoi_cells(est, truth)
  expect_identical(vc$cell, c(1L, 1L, 3L))
  expect_identical(vc$size, c(2L, 0L, 1L))
  det <- voronoi_loss(est, truth, detail = TRUE)
  expect_equal(det$cells$weight, c(0.6, 0, 0.4), tolerance = 1e-15)
  expect_equal(det$cells$weight_error, c(0.3, 0.3, 0), tolerance = 1e-14)
  expect_equal(det$total, 0.3 * 0.2^4 + 0.3 * 0.1^4 + 0.6, tolerance = 1e-14)
  # an empty cell's term is its whole true weight
  expect_equal(det$cells$contribution, c(0.3 * 0.2^4 + 0.3 * 0.1^4, 0, 0), tolerance = 1e-14)
  expect_equal(det$cells$term, c(0.3 * 0.2^4 + 0.3 * 0.1^4 + 0.3, 0.3, 0), tolerance = 1e-14)
})

test_that("ties go to the lowest true atom", {
  truth <- gmoe_params(pi = c(0.5, 0.5), c = c(-1, 1), Gamma = c(1, 1),
                       a = c(0, 0), b = c(0, 0), nu = c(1, 1))
  est <- gmoe_params(pi = c(0.5, 0.5), c = c(0, 1), Gamma = c(1, 1),
                     a = c(0, 0), b = c(0, 0), nu = c(1, 1))
  vc <- voronoi_cells(est, truth)
  expect_identical(vc$distance[1, 1], vc$distance[1, 2])
  expect_identical(vc$cell, 1:2)
  expect_identical(voronoi_loss(est, truth), 0.5)

  both_tied <- gmoe_params(pi = c(0.5, 0.5), c = c(0, 0), Gamma = c(1, 1),
                           a = c(0, 0), b = c(0, 0), nu = c(1, 1))
  expect_identical(voronoi_cells(both_tied, truth)$size, c(2L, 0L))
  # cell 1 over-fitted: 0.5 * 1^4 twice, then |1 - 0.5| + |0 - 0.5|
  expect_identical(voronoi_loss(both_tied, truth), 2)
})

test_that("Type II raises da to r/2 in over-fitted cells with c* = 0 (d = 1)", {
  truth <- gmoe_params(pi = c(0.5, 0.5), c = c(0, 1), Gamma = c(1, 1),
                       a = c(1, -1), b = c(0, 0), nu = c(1, 1))
  est <- gmoe_params(pi = c(0.2, 0.2, 0.1, 0.5), c = c(0.1, -0.1, 0, 1),
                     Gamma = c(1, 1.09, 1, 1), a = c(1.2, 0.9, 1, -1),
                     b = c(0, 0, 0.5, 0), nu = c(1, 1, 1, 1))
  expect_identical(voronoi_cells(est, truth)$size, c(3L, 1L))
  type2 <- 0.2 * (0.1^6 + 0.2^3) + 0.2 * (0.1^6 + 0.09^3 + 0.1^3) +
    0.1 * 0.5^6
  type1 <- 0.2 * (0.1^6 + 0.2^2) + 0.2 * (0.1^6 + 0.09^3 + 0.1^2) +
    0.1 * 0.5^6
  expect_equal(voronoi_loss(est, truth), type2, tolerance = 1e-14)
  expect_equal(voronoi_loss(est, truth, type = "II"), 0.0035087, tolerance = 1e-13)
  expect_equal(voronoi_loss(est, truth, type = "I"), 0.0117087, tolerance = 1e-13)
  expect_equal(voronoi_loss(est, truth, type = "I"), type1, tolerance = 1e-14)
  det <- voronoi_loss(est, truth, detail = TRUE)
  expect_identical(det$type, "II")
  expect_identical(det$atoms$pow_a, c(3, 3, 3, 1))
  expect_identical(det$atoms$pow_c, c(6, 6, 6, 1))
  expect_identical(det$atoms$pow_Gamma, c(3, 3, 3, 1))
})

test_that("Type II only changes cells whose c* is the zero vector (d = 2)", {
  truth <- gmoe_params(pi = c(0.5, 0.5), c = rbind(c(0, 0), c(0, 1)),
                       Gamma = array(diag(2), c(2, 2, 2)),
                       a = rbind(c(1, 0), c(0, 1)), b = c(0, 0), nu = c(1, 1))
  Gamma <- array(diag(2), c(2, 2, 5))
  Gamma[, , 2] <- diag(c(1.03, 1.04))
  Gamma[, , 5] <- matrix(c(1, 0.1, 0.1, 1), 2)
  est <- gmoe_params(
    pi = c(0.2, 0.2, 0.1, 0.25, 0.25),
    c = rbind(c(0.3, 0.4), c(0, 0), c(0, 0), c(0, 1.2), c(0, 1)),
    Gamma = Gamma,
    a = rbind(c(1, 0), c(1.06, 0.08), c(1, 0), c(0.3, 1.4), c(0, 1)),
    b = c(0, 0, 0.2, 0, 0), nu = c(1, 1, 1.3, 1, 1.1))
  vc <- voronoi_cells(est, truth)
  expect_identical(vc$cell, c(1L, 1L, 1L, 2L, 2L))
  expect_equal(vc$distance[, 1][1:3], c(fit1 = 0.5, fit2 = 0.15, fit3 = 0.5),
               tolerance = 1e-14)
  cell2 <- 0.25 * (0.2^4 + 0.5^2) + 0.25 * (sqrt(0.02)^2 + 0.1^2)
  type2 <- 0.2 * 0.5^6 + 0.2 * (0.05^3 + 0.1^3) + 0.1 * (0.2^6 + 0.3^3) + cell2
  type1 <- 0.2 * 0.5^6 + 0.2 * (0.05^3 + 0.1^2) + 0.1 * (0.2^6 + 0.3^3) + cell2
  expect_equal(voronoi_loss(est, truth), type2, tolerance = 1e-13)
  expect_equal(type2, 0.0764564, tolerance = 1e-13)
  expect_equal(voronoi_loss(est, truth, type = "I"), type1, tolerance = 1e-13)
  det <- voronoi_loss(est, truth, detail = TRUE)
  expect_identical(det$atoms$pow_a, c(3, 3, 3, 2, 2))

  # A zero coordinate is not a zero location: auto gives Type I.
  truth$c[1, ] <- c(0, 0.5)
  expect_identical(voronoi_loss(truth, truth, detail = TRUE)$type, "I")
})

test_that("type = 'auto' follows the published models", {
  for (model in 1:4) {
    truth <- gmoe_paper_truth(model)
    det <- voronoi_loss(truth, truth, detail = TRUE)
    expect_identical(det$type, if (model %in% c(2, 4)) "II" else "I")
    expect_identical(det$total, 0)
  }
})

test_that("a cell of four or more atoms gives NA with a warning", {
  truth <- gmoe_params(pi = c(0.5, 0.5), c = c(1, 100), Gamma = c(1, 1),
                       a = c(0, 0), b = c(0, 0), nu = c(1, 1))
  # The last atom of the big cell is at distance exactly 1 in every term,
  # where 1^NA would be 1.
  est <- gmoe_params(pi = c(0.1, 0.1, 0.1, 0.2, 0.5), c = c(1.1, 0.9, 1, 2, 100),
                     Gamma = c(1, 1, 1.1, 2, 1), a = c(0, 0, 0, 1, 0),
                     b = c(0, 0, 0, 1, 0), nu = c(1, 1, 1, 2, 1))
  expect_identical(voronoi_cells(est, truth)$size, c(4L, 1L))
  expect_warning(loss <- voronoi_loss(est, truth), "rbar\\(m\\) is unknown")
  expect_identical(loss, NA_real_)
  expect_warning(det <- voronoi_loss(est, truth, detail = TRUE), "unknown")
  expect_identical(det$atoms$contribution[1:4], rep(NA_real_, 4))
  expect_identical(det$atoms$contribution[5], 0)
  expect_identical(det$total, NA_real_)
  expect_identical(det$cells$term[1], NA_real_)
  expect_equal(det$cells$term[2], 0)

  truth$c[1, ] <- 0
  est$c[1:4, ] <- est$c[1:4, ] - 1
  expect_warning(voronoi_loss(est, truth), "rtilde\\(m\\) is unknown")
})

test_that("detail = TRUE breaks the total down consistently", {
  truth <- gmoe_paper_truth(4)
  est <- truth
  est$pi <- c(0.1, 0.2, 0.4, 0.3)
  est$c <- rbind(c(0.01, -0.02), truth$c)
  est$Gamma <- array(c(truth$Gamma[, , 1] * 1.1, truth$Gamma), c(2, 2, 4))
  est$a <- rbind(truth$a[1, ] + 0.05, truth$a)
  est$b <- c(truth$b[1] - 0.01, truth$b)
  est$nu <- c(truth$nu[1] * 1.2, truth$nu)
  est$c[3, ] <- est$c[3, ] + 0.003
  det <- voronoi_loss(est, truth, detail = TRUE)
  expect_s3_class(det, "voronoi_loss")
  expect_named(det, c("total", "type", "atoms", "cells"))
  expect_named(det$atoms, c("atom", "cell", "cell_size", "pi", "dc", "dGamma",
                            "da", "db", "dnu", "pow_c", "pow_Gamma", "pow_a",
                            "pow_b", "pow_nu", "contribution"))
  expect_named(det$cells, c("cell", "size", "weight", "pi_true", "weight_error",
                            "contribution", "term"))
  expect_identical(det$total, voronoi_loss(est, truth))
  expect_equal(det$total, sum(det$atoms$contribution) + sum(det$cells$weight_error),
               tolerance = 1e-15)
  # the cells' terms split the loss: the weighted form of each cell's atoms
  # plus its weight error
  expect_equal(sum(det$cells$term), det$total, tolerance = 1e-15)
  over <- det$atoms[det$atoms$cell == 1, ]
  expect_equal(det$cells$contribution[1],
               sum(over$pi * (over$dc^4 + over$dGamma^2 + over$da^2 + over$db^4 + over$dnu^2)),
               tolerance = 1e-15)
  expect_equal(det$cells$term, det$cells$contribution + det$cells$weight_error)
  expect_identical(det$atoms$cell, voronoi_cells(est, truth)$cell)
  expect_identical(det$cells$size, c(2L, 1L, 1L))
  expect_equal(det$atoms$contribution,
               det$atoms$pi * (det$atoms$dc^det$atoms$pow_c +
                                 det$atoms$dGamma^det$atoms$pow_Gamma +
                                 det$atoms$da^det$atoms$pow_a +
                                 det$atoms$db^det$atoms$pow_b +
                                 det$atoms$dnu^det$atoms$pow_nu),
               tolerance = 1e-15)
  expect_equal(det$atoms$dc[3], sqrt(2) * 0.003, tolerance = 1e-12)
  expect_equal(det$cells$weight, c(0.3, 0.4, 0.3), tolerance = 1e-15)
})

test_that("a gmoe_fit is accepted through its params", {
  truth <- gmoe_paper_truth(1)
  est <- truth
  est$c[, 1] <- est$c[, 1] + c(0.01, -0.02, 0.005)
  fit <- structure(list(params = est), class = "gmoe_fit")
  expect_identical(voronoi_loss(fit, truth), voronoi_loss(est, truth))
  expect_identical(voronoi_cells(fit, truth), voronoi_cells(est, truth))
})

test_that("bad inputs are rejected with the argument named", {
  truth <- gmoe_paper_truth(1)
  expect_error(voronoi_loss(list(), truth),
               "`estimate` must be a `gmoe_params` or `gmoe_fit` object, not list")
  bad_fit <- structure(list(params = 1), class = "gmoe_fit")
  expect_error(voronoi_cells(bad_fit, truth),
               "`estimate$params` must be a `gmoe_params` object", fixed = TRUE)
  expect_error(voronoi_loss(truth, coef(truth)),
               "`truth` must be a `gmoe_params` object (see ?gmoe_params), not matrix", fixed = TRUE)
  expect_error(voronoi_cells(gmoe_paper_truth(3), truth),
               "`truth` must have as many covariates as `estimate` \\(d = 2\\), not d = 1")
  expect_error(voronoi_loss(truth, truth, type = "III"),
               "`type` must be one of \"auto\", \"I\", \"II\"")
  expect_error(voronoi_loss(truth, truth, type = c("I", "II")), "`type` must be one of")
  expect_error(voronoi_loss(truth, truth, detail = NA), "`detail` must be TRUE or FALSE")
  expect_identical(voronoi_loss(truth, truth, type = "I"), 0)
})

test_that("print methods show the cells and the breakdown", {
  truth <- gmoe_paper_truth(2)
  est <- truth
  est$b <- est$b + 0.01
  vc <- voronoi_cells(est, truth)
  expect_output(out <- print(vc), "Voronoi cells: 3 fitted atoms, 3 true atoms")
  expect_identical(out, vc)
  expect_output(print(vc), "cell sizes: +1 1 1")
  det <- voronoi_loss(est, truth, detail = TRUE)
  expect_output(out <- print(det), "Voronoi loss \\(Type II\\): 0.01")
  expect_identical(out, det)
  expect_output(print(det), "By true atom")
})

test_that("the published losses are reproduced from the published estimates", {
  fx <- read.csv(test_path("fixtures", "crpe-gmoe-subset.csv"))
  fits <- split(fx, paste(fx$model, fx$K, fx$n_index, fx$rep))
  expect_setequal(unique(paste(fx$model, fx$K)),
                  paste(rep(1:4, each = 2), 4:5))
  patterns <- list(`4` = c("1-1-2", "1-2-1", "2-1-1"),
                   `5` = c("1-1-3", "1-2-2", "1-3-1", "2-1-2", "2-2-1", "3-1-1"))
  for (config in split(fx, paste(fx$model, fx$K))) {
    expect_setequal(unique(config$cell_sizes), patterns[[as.character(config$K[1])]])
  }
  for (e in fits) {
    model <- e$model[1]
    truth <- gmoe_paper_truth(model)
    est <- gmoe_params_from_table(e[order(e$component), ])
    expect_identical(nrow(e), e$K[1])
    expect_identical(paste(voronoi_cells(est, truth)$size, collapse = "-"),
                     e$cell_sizes[1])
    loss <- voronoi_loss(est, truth)
    expect_lt(abs(loss - e$loss[1]) / e$loss[1], 1e-10)
    # In three-atom cells at c* = 0, Type I and II differ (da^2 vs da^3):
    # the published Type II losses tell the two apart.
    if (model %in% c(2, 4) && e$cell_sizes[1] == "3-1-1") {
      loss1 <- voronoi_loss(est, truth, type = "I")
      expect_gt(abs(loss1 - e$loss[1]) / e$loss[1], 1e-6)
    }
  }
})

test_that("edited parameters are refused and large ones do not overflow", {
  truth <- gmoe_paper_truth(1)
  bad <- truth
  bad$nu[2] <- NaN
  expect_error(voronoi_loss(bad, truth), "`estimate` holds invalid contents: `nu`")
  expect_error(voronoi_cells(truth, bad), "`truth` holds invalid contents: `nu`")
  # d = 2: squared location differences of 1e199 would overflow
  big <- gmoe_paper_truth(3)
  big$c <- big$c * 1e200
  cells <- voronoi_cells(big, big)
  expect_true(all(is.finite(cells$distance)))
  expect_equal(cells$distance[1, 2], sqrt(2) * 0.2e200, tolerance = 1e-12)
  expect_equal(unname(diag(cells$distance)), rep(0, 3))
  expect_error(print(structure(list(cell = 1), class = "voronoi_cells")),
               "`x` must be made by voronoi_cells()", fixed = TRUE)
})
