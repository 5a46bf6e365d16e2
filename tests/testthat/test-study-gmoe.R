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
  atoms <- paste0(c("c", "Gamma", "a", "b", "nu"), "_", rep(1:3, each = 5))
  expect_equal(s$design$metrics, c("loss", paste0("weight_", 1:3), atoms, "iterations"))
  iters <- s$results$value[s$results$metric == "iterations"]
  expect_equal(iters, rep(1, 4))
  expect_equal(s$design$k, 4L)
  expect_equal(s$design$type, "I")

  # each run's metrics are those of the fit it made: redo run (n = 2000, rep 2)
  truth <- gmoe_paper_truth(1)
  old_kind <- RNGkind()[1]
  assign(".Random.seed", moerates:::run_seed(1, n = 2000, rep = 2), envir = globalenv())
  sim <- rgmoe(2000, truth)
  start <- init_near_truth(truth, 4, 2000, split = c(2, 1, 1))
  RNGkind(old_kind)
  fit <- fit_gmoe(sim$x, sim$y, k = 4, init = start, control = gmoe_control(max_iter = 1))
  got <- s$results[s$results$n_index == 2 & s$results$rep == 2, ]
  expect_equal(got$value[got$metric == "loss"], voronoi_loss(fit, truth))
  detail <- voronoi_loss(fit, truth, detail = TRUE)
  expect_equal(got$value[got$metric == "c_1"], max(detail$atoms$dc[detail$atoms$cell == 1]))
  expect_equal(got$value[got$metric == "weight_2"], detail$cells$weight_error[2])
})

test_that("the theory attached to each metric follows the cell sizes", {
  th <- gmoe_study(1, k = 4, n = c(100, 200), reps = 1, one_step = TRUE,
                   split = c(2, 1, 1), seed = 1)$design$theory
  expect_equal(unname(th[c("loss", "weight_1", "c_2", "nu_3")]), rep(-0.5, 4))
  expect_equal(unname(th[c("c_1", "Gamma_1", "a_1", "b_1", "nu_1")]),
               c(-1 / 8, -1 / 4, -1 / 4, -1 / 8, -1 / 4))
  expect_true(is.na(th["iterations"]))
  # Type II, three atoms at c* = 0: a at n^(-1/rtilde(3))
  th2 <- gmoe_study(2, k = 5, n = c(100, 200), reps = 1, one_step = TRUE,
                    split = c(3, 1, 1), seed = 1)$design$theory
  expect_equal(unname(th2[c("c_1", "Gamma_1", "a_1")]), c(-1 / 12, -1 / 6, -1 / 6))
  # no split: cell sizes unknown, so per-atom theory is unknown
  th3 <- gmoe_study(1, k = 4, n = c(100, 200), reps = 1, one_step = TRUE,
                    seed = 1)$design$theory
  expect_true(all(is.na(th3[grep("^(c|Gamma|a|b|nu)_", names(th3))])))
  expect_equal(unname(th3["loss"]), -0.5)
})

test_that("one-step and converged modes see the same data and starts", {
  one <- gmoe_study(3, k = 4, n = c(300, 600), reps = 2, one_step = TRUE, seed = 4)
  conv <- gmoe_study(3, k = 4, n = c(300, 600), reps = 2, seed = 4,
                     control = gmoe_control(max_iter = 3, tol = 0))
  iters <- conv$results$value[conv$results$metric == "iterations"]
  expect_equal(iters, rep(3, 4))
  two <- gmoe_study(3, k = 4, n = c(300, 600), reps = 2, seed = 4,
                    control = gmoe_control(max_iter = 1, tol = 0))
  expect_identical(one$results, two$results)
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

test_that("the shipped paper-scale results: full design, one-step slopes within 0.03 of the published ones", {
  rates <- readRDS(system.file("extdata", "gmoe-rates.rds", package = "moerates"))
  published <- gmoe_published_slopes()
  expect_named(rates$converged, names(rates$one_step))
  for (i in seq_len(nrow(published))) {
    key <- sprintf("model%d_k%d", published$model[i], published$k[i])
    for (study in list(rates$one_step[[key]], rates$converged[[key]])) {
      expect_identical(study$design$n, gmoe_paper_n())
      expect_equal(study$design$reps, 20L)
      expect_true(all(study$runs$status == "ok"))
    }
    expect_lt(abs(rate_slopes(rates$one_step[[key]], metrics = "loss")$slope -
                    published$slope[i]), 0.03)
    # converged with the default control (SQUAREM): more than one cycle
    conv <- rates$converged[[key]]$results
    expect_gt(stats::median(conv$value[conv$metric == "iterations"]), 1)
  }
  expect_length(rates$split, 8)
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
