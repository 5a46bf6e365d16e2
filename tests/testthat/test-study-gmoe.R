# Prints on one line what print() would wrap at the console's width.
print_wide <- function(x) {
  old <- options(width = 250)
  on.exit(options(old))
  print(x)
}

test_that("gmoe_paper_n() is the published grid", {
  means <- utils::read.csv(test_path("fixtures", "crpe-gmoe-mean-losses.csv"))
  for (m in 1:4) for (k in 4:5) {
    expect_identical(gmoe_paper_n(), means$n[means$model == m & means$K == k])
  }
  expect_length(gmoe_paper_n(), 100)
  expect_equal(sum(gmoe_paper_n() == 500), 2)
  expect_equal(nrow(gmoe_published_slopes()), 8)
})

test_that("a GMoE study measures the loss, the cells and every parameter", {
  s <- gmoe_study(1, k = 4, n = c(200, 2000), reps = 2, one_step = TRUE,
                  split = c(2, 1, 1), seed = 1)
  expect_s3_class(s, c("gmoe_study", "rate_study"))
  per_parameter <- paste0(c("c", "Gamma", "a", "b", "nu"), "_", rep(1:3, each = 5))
  expect_equal(s$design$metrics,
               c("loss", paste0("weight_", 1:3), paste0("loss_", 1:3), per_parameter,
                 paste0("max_", per_parameter), paste0("size_", 1:3), "iterations",
                 "bound_active"))
  iters <- s$results$value[s$results$metric == "iterations"]
  expect_equal(iters, rep(1, 4))
  expect_equal(s$design$k, 4L)
  expect_equal(s$design$type, "I")
  expect_equal(s$design$extra_starts, c(kmeans = 0L, random = 0L, perturbed = 0L))

  # each run's metrics are those of the fit it made: redo run (n = 2000, rep 2)
  truth <- gmoe_paper_truth(1)
  old_kind <- RNGkind()[1]
  assign(".Random.seed", moerates:::run_seed(1, n = 2000, rep = 2), envir = globalenv())
  sim <- rgmoe(2000, truth)
  start <- init_near_truth(truth, 4, 2000, split = c(2, 1, 1))
  RNGkind(old_kind)
  fit <- fit_gmoe(sim$x, sim$y, k = 4, init = start, control = gmoe_control(max_iter = 1))
  got <- s$results[s$results$n_index == 2 & s$results$rep == 2, ]
  value <- stats::setNames(got$value, got$metric)
  expect_equal(value[["loss"]], voronoi_loss(fit, truth))
  detail <- voronoi_loss(fit, truth, detail = TRUE)
  expect_equal(value[["max_c_1"]], max(detail$atoms$dc[detail$atoms$cell == 1]))
  expect_equal(value[["weight_2"]], detail$cells$weight_error[2])
  expect_equal(value[paste0("size_", 1:3)], stats::setNames(c(2, 1, 1), paste0("size_", 1:3)))
  expect_equal(value[["bound_active"]], as.numeric(is_degenerate(fit)))
  # the cells' terms add up to the loss
  expect_equal(sum(value[paste0("loss_", 1:3)]), value[["loss"]])
})

test_that("the weight-adjusted errors and cell terms equal a hand computation", {
  # model 2 (Type II, c*_1 = 0), k = 5: three atoms near the first true atom,
  # one of them with a small weight and far off
  truth <- gmoe_paper_truth(2)
  est <- gmoe_params(pi = c(0.2, 0.09, 0.01, 0.4, 0.3),
                     c = c(0.02, -0.03, 0.06, 0.11, 0.49),
                     Gamma = c(0.045, 0.04, 0.03, 0.018, 0.0102),
                     a = truth$a[c(1, 1, 1, 2, 3), ] + c(0.05, -0.08, 0.9, 0.01, -0.02),
                     b = truth$b[c(1, 1, 1, 2, 3)] + c(0.01, -0.02, 0.3, 0.004, 0.003),
                     nu = truth$nu[c(1, 1, 1, 2, 3)] * c(1.1, 0.9, 1.5, 1.02, 0.98))
  set.seed(3)
  sim <- rgmoe(500, truth)
  # max_iter = 0: the fit is the start, mapped to standard units and back
  fit <- fit_gmoe(sim$x, sim$y, k = 5, init = est, control = gmoe_control(max_iter = 0))
  p <- fit$params
  m <- moerates:::gmoe_fit_metrics(fit, truth, "II")
  cell <- list(1:3, 4, 5)
  d <- list(c = abs(p$c[, 1] - truth$c[c(1, 1, 1, 2, 3), 1]),
            Gamma = abs(p$Gamma[1, 1, ] - truth$Gamma[1, 1, c(1, 1, 1, 2, 3)]),
            a = abs(p$a[, 1] - truth$a[c(1, 1, 1, 2, 3), 1]),
            b = abs(p$b - truth$b[c(1, 1, 1, 2, 3)]),
            nu = abs(p$nu - truth$nu[c(1, 1, 1, 2, 3)]))
  power_mean <- function(i, dist, pw) (sum(p$pi[i] * dist[i]^pw) / sum(p$pi[i]))^(1 / pw)
  # over-fitted Type II cell at c* = 0, r = rtilde(3) = 6: c and b ^6, the rest ^3
  expect_equal(m[["c_1"]], power_mean(1:3, d$c, 6))
  expect_equal(m[["Gamma_1"]], power_mean(1:3, d$Gamma, 3))
  expect_equal(m[["a_1"]], power_mean(1:3, d$a, 3))
  expect_equal(m[["b_1"]], power_mean(1:3, d$b, 6))
  expect_equal(m[["nu_1"]], power_mean(1:3, d$nu, 3))
  # exactly fitted cells: the atom's own error (p = 1)
  for (j in 2:3) {
    for (par in names(d)) {
      expect_equal(m[[paste0(par, "_", j)]], d[[par]][cell[[j]]])
      expect_equal(m[[paste0("max_", par, "_", j)]], d[[par]][cell[[j]]])
    }
  }
  # the largest errors include the vanishing third atom, the weighted ones
  # barely feel it
  expect_equal(m[["max_a_1"]], max(d$a[1:3]))
  expect_equal(m[["max_a_1"]], d$a[3])
  expect_lt(m[["a_1"]], 0.5 * m[["max_a_1"]])
  # cell terms: the weighted form plus the weight error, summing to the loss
  over <- sum(p$pi[1:3] * (d$c[1:3]^6 + d$Gamma[1:3]^3 + d$a[1:3]^3 + d$b[1:3]^6 +
                             d$nu[1:3]^3))
  expect_equal(m[["loss_1"]], over + abs(sum(p$pi[1:3]) - truth$pi[1]))
  exact <- vapply(2:3, function(j) {
    i <- cell[[j]]
    p$pi[i] * (d$c[i] + d$Gamma[i] + d$a[i] + d$b[i] + d$nu[i]) + abs(p$pi[i] - truth$pi[j])
  }, numeric(1))
  expect_equal(unname(m[c("loss_2", "loss_3")]), exact)
  expect_equal(sum(m[paste0("loss_", 1:3)]), m[["loss"]])
  expect_equal(m[["loss"]], voronoi_loss(fit, truth))
  expect_equal(unname(m[paste0("size_", 1:3)]), c(3, 1, 1))
  expect_equal(m[["iterations"]], 0)
})

test_that("the exponents follow each fit's own cells", {
  truth <- gmoe_paper_truth(1)
  set.seed(4)
  sim <- rgmoe(400, truth)
  # a fit whose over-fitted cell is the third, not the first
  est <- gmoe_params(pi = c(0.3, 0.4, 0.2, 0.1), c = c(-0.1, 0.1, 0.52, 0.47),
                     Gamma = truth$Gamma[1, 1, c(1, 2, 3, 3)], a = truth$a[c(1, 2, 3, 3), ],
                     b = truth$b[c(1, 2, 3, 3)] + c(0, 0, 0.02, -0.05),
                     nu = truth$nu[c(1, 2, 3, 3)])
  fit <- fit_gmoe(sim$x, sim$y, k = 4, init = est, control = gmoe_control(max_iter = 0))
  m <- moerates:::gmoe_fit_metrics(fit, truth, "I")
  p <- fit$params
  dc <- abs(p$c[, 1] - truth$c[c(1, 2, 3, 3), 1])
  db <- abs(p$b - truth$b[c(1, 2, 3, 3)])
  expect_equal(unname(m[paste0("size_", 1:3)]), c(1, 1, 2))
  expect_equal(m[["c_1"]], dc[1])
  expect_equal(m[["c_3"]], (sum(p$pi[3:4] * dc[3:4]^4) / sum(p$pi[3:4]))^(1 / 4))
  expect_equal(m[["b_3"]], (sum(p$pi[3:4] * db[3:4]^4) / sum(p$pi[3:4]))^(1 / 4))

  # without `split`, the theory is that of the cells most runs have
  s <- gmoe_study(1, k = 4, n = c(150, 300), reps = 3, one_step = TRUE, seed = 8)
  sizes <- sapply(1:3, function(j) s$results$value[s$results$metric == paste0("size_", j)])
  configs <- table(apply(sizes, 1, paste, collapse = " "))
  common <- as.integer(strsplit(names(configs)[which.max(configs)], " ")[[1]])
  expect_equal(s$design$cells, common)
  over <- which(common == 2)
  expect_equal(unname(s$design$theory[paste0(c("c", "Gamma", "a", "b", "nu"), "_", over)]),
               c(-1 / 8, -1 / 4, -1 / 4, -1 / 8, -1 / 4))
  expect_equal(unname(s$design$theory[paste0("c_", which(common == 1))]), c(-0.5, -0.5))
  differ <- sum(apply(sizes, 1, function(x) any(x != common)))
  expect_output(print_wide(s),
                sprintf("%d of 6 runs have \\(%s\\), the cells most runs have.*; %d differ",
                        6 - differ, paste(common, collapse = ", "), differ))
})

test_that("the theory attached to each metric follows the cell sizes", {
  th <- gmoe_study(1, k = 4, n = c(100, 200), reps = 1, one_step = TRUE,
                   split = c(2, 1, 1), seed = 1)$design$theory
  expect_equal(unname(th[c("loss", "weight_1", "loss_1", "loss_3", "c_2", "nu_3")]),
               rep(-0.5, 6))
  expect_equal(unname(th[c("c_1", "Gamma_1", "a_1", "b_1", "nu_1")]),
               c(-1 / 8, -1 / 4, -1 / 4, -1 / 8, -1 / 4))
  expect_true(all(is.na(th[c("iterations", "bound_active", "max_c_1", "max_a_2", "size_1")])))
  # Type II, three atoms at c* = 0: a at n^(-1/rtilde(3))
  th2 <- gmoe_study(2, k = 5, n = c(100, 200), reps = 1, one_step = TRUE,
                    split = c(3, 1, 1), seed = 1)$design$theory
  expect_equal(unname(th2[c("c_1", "Gamma_1", "a_1")]), c(-1 / 12, -1 / 6, -1 / 6))
  # an empty cell has no per-parameter theory; in a cell of four atoms only
  # that of a is known (its power, 2, does not depend on r)
  th3 <- moerates:::gmoe_theory(gmoe_paper_truth(1), "I", c(4, 0, 1))
  expect_true(all(is.na(th3[paste0(c("c", "Gamma", "b", "nu"), "_1")])))
  expect_equal(th3[["a_1"]], -1 / 4)
  expect_true(all(is.na(th3[paste0(c("c", "Gamma", "a", "b", "nu"), "_2")])))
  expect_equal(unname(th3[c("c_3", "loss_2", "weight_2")]), rep(-0.5, 3))
})

test_that("one-step and converged modes see the same data and starts", {
  one <- gmoe_study(3, k = 4, n = c(300, 600), reps = 2, one_step = TRUE, seed = 4)
  conv <- gmoe_study(3, k = 4, n = c(300, 600), reps = 2, seed = 4,
                     control = gmoe_control(max_iter = 3, tol = 0), extra_starts = 0)
  iters <- conv$results$value[conv$results$metric == "iterations"]
  expect_equal(iters, rep(3, 4))
  two <- gmoe_study(3, k = 4, n = c(300, 600), reps = 2, seed = 4,
                    control = gmoe_control(max_iter = 1, tol = 0), extra_starts = 0)
  expect_identical(one$results, two$results)
  # the extra starts draw after the data and the near-truth start: the fit
  # from that start is the same with and without them
  multi <- gmoe_study(3, k = 4, n = c(300, 600), reps = 2, seed = 4,
                      control = gmoe_control(max_iter = 3, tol = 0),
                      extra_starts = c(random = 1, perturbed = 1))
  expect_identical(multi$results$value[multi$results$metric == "loss_start"],
                   conv$results$value[conv$results$metric == "loss"])
})

test_that("multi-start: the estimate is the highest fit, and the records match refits", {
  control <- gmoe_control(max_iter = 300)
  extra <- c(kmeans = 1, random = 1, perturbed = 2)
  s <- gmoe_study(1, k = 4, n = c(400, 1500), reps = 3, split = c(2, 1, 1), seed = 5,
                  control = control, extra_starts = extra)
  starts <- c("start", "kmeans_1", "random_1", "perturbed_1", "perturbed_2")
  expect_equal(tail(s$design$metrics, 8),
               c(paste0("loglik_", starts), "best_start", "gap", "loss_start"))
  wide <- stats::reshape(s$results[c("n_index", "rep", "metric", "value")],
                         idvar = c("n_index", "rep"), timevar = "metric", direction = "wide")
  loglik <- as.matrix(wide[paste0("value.loglik_", starts)])
  # never below the fit from the near-truth start
  expect_true(all(wide$value.gap >= 0))
  expect_equal(wide$value.gap, unname(apply(loglik, 1, max) - loglik[, 1]))
  expect_equal(wide$value.best_start, unname(apply(loglik, 1, which.max)))
  # a sample of data sets where another start won
  expect_gt(sum(wide$value.best_start > 1), 0)

  truth <- gmoe_paper_truth(1)
  for (run in list(c(n = 400, rep = 2), c(n = 1500, rep = 3))) {
    old_kind <- RNGkind()[1]
    assign(".Random.seed", moerates:::run_seed(5, n = run[["n"]], rep = run[["rep"]]),
           envir = globalenv())
    sim <- rgmoe(run[["n"]], truth)
    refit <- function(init) suppressWarnings(fit_gmoe(sim$x, sim$y, k = 4, init = init,
                                                      control = control))
    fits <- list(refit(init_near_truth(truth, 4, run[["n"]], split = c(2, 1, 1))),
                 refit("kmeans"), refit("random"),
                 refit(moerates:::init_perturbed_truth(truth, 4)),
                 refit(moerates:::init_perturbed_truth(truth, 4)))
    RNGkind(old_kind)
    got <- s$results[s$results$n == run[["n"]] & s$results$rep == run[["rep"]], ]
    value <- stats::setNames(got$value, got$metric)
    ll <- vapply(fits, `[[`, numeric(1), "loglik")
    expect_equal(unname(value[paste0("loglik_", starts)]), ll)
    best <- which.max(ll)
    expect_equal(value[["best_start"]], best)
    expect_equal(value[["gap"]], ll[best] - ll[1])
    expect_equal(value[["loss"]], voronoi_loss(fits[[best]], truth))
    expect_equal(value[["loss_start"]], voronoi_loss(fits[[1]], truth))
    expect_equal(value[["iterations"]], fits[[best]]$iterations)
  }
  expect_output(print_wide(s), "another start ended higher in [0-9]+ of 6 runs")
  expect_equal(unname(s$design$theory[c("loss_start", "gap", "best_start", "loglik_start")]),
               c(-0.5, NA, NA, NA))
  expect_output(print_wide(s), "cells of `split`, whose theory is attached")
  expect_equal(unname(s$design$labels[c("gap", "loss_start", "loglik_perturbed_2")]),
               c("log-likelihood gain over the near-truth fit",
                 "Voronoi loss of the near-truth fit",
                 "log-likelihood from perturbed-truth start 2"))
})

test_that("a failing extra start is recorded, named, and the others go on", {
  truth <- gmoe_paper_truth(1)
  set.seed(2)
  sim <- rgmoe(300, truth)
  # four distinct points, each twice: k-means cannot find five clusters
  tiny <- list(x = sim$x[1:8, , drop = FALSE], y = sim$y[1:8])
  tiny$x[5:8, ] <- tiny$x[1:4, ]
  tiny$y[5:8] <- tiny$y[1:4]
  expect_warning(
    out <- moerates:::gmoe_fit_starts(tiny, init_near_truth(truth, 5, 8), truth, 5,
                                      c("start", "kmeans_1"), gmoe_control(max_iter = 5)),
    "start kmeans_1 failed")
  expect_true(is.na(out$loglik[2]))
  expect_equal(out$best, 1L)
})

test_that("a k-means study and a user's truth work", {
  truth <- gmoe_params(pi = c(0.5, 0.5), c = c(-1, 1), Gamma = c(0.2, 0.2),
                       a = c(1, -1), b = c(0, 0.5), nu = c(0.1, 0.1))
  s <- gmoe_study(truth, k = 2, n = c(400, 1600), reps = 2, start = "kmeans", seed = 2)
  expect_true(all(is.finite(s$results$value)))
  expect_equal(unname(s$design$theory["c_1"]), -0.5)
  expect_true(is.na(s$design$model))
})

test_that("bad GMoE study arguments are refused", {
  expect_error(gmoe_study(5, k = 4), "`model` must be one of 1, 2, 3, 4")
  expect_error(gmoe_study(1, k = 2), "`k` must be at least the number of true atoms \\(3\\)")
  expect_error(gmoe_study(1, k = 4, split = c(2, 2, 1)), "`split` must be 3 whole numbers")
  expect_error(gmoe_study(1, k = 4, split = c(2, 1, 1), start = "kmeans"),
               "`split` is only used")
  expect_error(gmoe_study(1, k = 4, start = "random"), "`start`")
  expect_error(gmoe_study(1, k = 4, one_step = NA), "`one_step`")
  expect_error(gmoe_study(1, k = 4, control = list()), "`control`")
  expect_error(gmoe_study(1, k = 4, one_step = TRUE, extra_starts = c(random = 1)),
               "`extra_starts` must be 0 with one_step = TRUE")
  expect_error(gmoe_study(1, k = 4, extra_starts = c(other = 1)), "`extra_starts` must be 0 or")
  expect_error(gmoe_study(1, k = 4, extra_starts = c(random = -1)), "`extra_starts`")
  expect_error(gmoe_study(1, k = 4, extra_starts = 2), "`extra_starts`")
  expect_equal(moerates:::check_extra_starts(NULL, FALSE),
               c(kmeans = 1L, random = 2L, perturbed = 2L))
  expect_equal(moerates:::check_extra_starts(c(perturbed = 3), FALSE),
               c(kmeans = 0L, random = 0L, perturbed = 3L))
})

test_that("reproduce_gmoe() writes a figure per configuration and the slope table", {
  out_dir <- tempfile("repro-")
  out <- reproduce_gmoe("quick", mode = "one_step", out_dir = out_dir, verbose = FALSE)
  expect_equal(nrow(out$slopes), 8)
  expect_equal(out$slopes$published, gmoe_published_slopes()$slope)
  expect_true(all(out$slopes$mode == "one_step"))
  expect_true(all(out$slopes$slope < -0.3 & out$slopes$slope > -0.7))
  expect_true(all(file.exists(out$files)))
  expect_length(out$files, 17)
  csv <- utils::read.csv(file.path(out_dir, "gmoe-slopes.csv"))
  expect_equal(csv$slope, out$slopes$slope)
  expect_error(reproduce_gmoe("huge", out_dir = out_dir), "`scale`")
  expect_error(reproduce_gmoe(mode = "two", out_dir = out_dir), "`mode`")
})

test_that("the shipped results: the published one-step design and slopes, the MLE by six starts over the compact space", {
  rates <- readRDS(system.file("extdata", "gmoe-rates.rds", package = "moerates"))
  published <- gmoe_published_slopes()
  expect_named(rates$converged, names(rates$one_step))
  for (i in seq_len(nrow(published))) {
    key <- sprintf("model%d_k%d", published$model[i], published$k[i])
    one <- rates$one_step[[key]]
    expect_identical(one$design$n, gmoe_paper_n())
    expect_equal(one$design$reps, 20L)
    expect_true(all(one$runs$status == "ok"))
    expect_lt(abs(rate_slopes(one, metrics = "loss")$slope - published$slope[i]), 0.03)

    conv <- rates$converged[[key]]
    expect_identical(conv$design$n, rates$info$converged_n)
    expect_equal(conv$design$reps, 20L)
    expect_true(all(conv$runs$status == "ok"))
    expect_false(conv$design$one_step)
    expect_equal(conv$design$extra_starts, c(kmeans = 1L, random = 2L, perturbed = 2L))
    res <- conv$results
    gap <- res$value[res$metric == "gap"]
    expect_length(gap, nrow(conv$runs))
    expect_true(all(gap >= 0))
    expect_true(all(res$value[res$metric == "best_start"] %in% 1:6))
  }
  expect_equal(max(rates$info$converged_n), 1e5)
  expect_length(rates$split, 8)
  for (study in rates$split) {
    expect_identical(study$design$n, rates$info$split_n)
    expect_equal(study$design$reps, 20L)
    expect_true(all(study$runs$status == "ok"))
  }
  expect_equal(max(rates$info$split_n), 1e5)
  expect_gt(rates$info$converged_core_minutes, 0)
})

test_that("a GMoE checkpoint resumes its own study and refuses another model's", {
  cp <- tempfile("gmoe-cp-")
  first <- gmoe_study(1, k = 4, n = c(200, 400), reps = 2, one_step = TRUE, seed = 3,
                      checkpoint = cp)
  expect_message(
    expect_message(again <- gmoe_study(1, k = 4, n = c(200, 400), reps = 2, one_step = TRUE,
                                       seed = 3, checkpoint = cp, verbose = TRUE),
                   "4 runs done, 0 failed"),
    "4 of 4 runs already done")
  expect_identical(again$results, first$results)
  expect_error(gmoe_study(2, k = 4, n = c(200, 400), reps = 2, one_step = TRUE, seed = 3,
                          checkpoint = cp),
               "holds a different study \\(the value of global `truth`")
  expect_error(gmoe_study(1, k = 4, n = c(200, 400), reps = 2, seed = 3, checkpoint = cp),
               "holds a different study \\(the value of global `control`")
})
