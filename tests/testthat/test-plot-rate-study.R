# A study of known power laws with log-normal noise, built from a table so
# that the figures are tested without running the engine.
table_study <- function(metrics = c(loss = -0.5), n = round(10^seq(2, 5, length.out = 7)),
                        reps = 10, labels = NULL, seed = 1) {
  set.seed(seed)
  x <- do.call(rbind, lapply(names(metrics), function(m) {
    d <- expand.grid(rep = seq_len(reps), n = n)
    d$metric <- m
    d$value <- d$n^metrics[[m]] * exp(stats::rnorm(nrow(d), sd = 0.3))
    d
  }))
  as_rate_study(x, theory = metrics, labels = labels)
}

six <- c(loss = -0.5, c_1 = -0.125, Gamma_1 = -0.25, a_1 = -0.25, weight_1 = -0.5, c_2 = -0.5)
six_labels <- c(loss = "Voronoi loss (Type II)", c_1 = "max |c - c*| in cell 1",
                Gamma_1 = "max |Gamma - Gamma*| in cell 1", a_1 = "max |a - a*| in cell 1",
                weight_1 = "weight error of cell 1", c_2 = "max |c - c*| in cell 2")

on_png <- function(width, height, code) {
  file <- tempfile(fileext = ".png")
  grDevices::png(file, width = width, height = height)
  on.exit({
    grDevices::dev.off()
    unlink(file)
  })
  code
}

# Every mark a panel draws, on the scale of the data: means, interval ends,
# medians and replications, computed here from the results.
drawn_marks <- function(study, metric) {
  r <- study$results[study$results$metric == metric, ]
  means <- tapply(r$value, r$n, mean)
  sds <- tapply(r$value, r$n, stats::sd)
  counts <- tapply(r$value, r$n, length)
  half <- stats::qnorm(0.975) * sds / (sqrt(counts) * means)
  n <- as.numeric(names(means))
  data.frame(n = c(n, n, n, n, r$n),
             value = c(means, means * exp(-half), means * exp(half),
                       tapply(r$value, r$n, stats::median), r$value))
}

covered <- function(marks, panel) {
  marks$n >= panel$legend_left & marks$n <= panel$legend_right &
    marks$value >= panel$legend_bottom & marks$value <= panel$legend_top
}

test_that("six metrics fill a grid that fits the device, and par() is restored", {
  s <- table_study(six, labels = six_labels)
  wide <- on_png(1000, 600, {
    before <- graphics::par(c("mfrow", "mar", "oma", "cex"))
    out <- plot(s)
    list(out = out, before = before, after = graphics::par(c("mfrow", "mar", "oma", "cex")))
  })
  expect_equal(attr(wide$out, "layout"), c(2, 3))
  expect_equal(wide$after, wide$before)
  tall <- on_png(600, 1000, plot(s))
  expect_equal(attr(tall, "layout"), c(3, 2))
  expect_s3_class(wide$out, "rate_slopes")
  expect_equal(wide$out$metric, names(six))
  expect_equal(attr(wide$out, "level"), 0.95)
})

test_that("the axes name the metric and show the sample size in plain numbers", {
  s <- table_study(six, labels = six_labels[1:4])
  panels <- attr(on_png(1000, 600, plot(s)), "panels")
  expect_equal(panels$ylab, unname(c(six_labels[1:4], "weight_1", "c_2")))
  expect_true(all(panels$xlab == "sample size n"))
  expect_true(all(panels$x_ticks == "100; 1 000; 10 000; 100 000"))
  expect_equal(tick_labels(c(100, 1000, 1e4, 1e5, 2e6)),
               c("100", "1 000", "10 000", "100 000", "2 000 000"))
  expect_equal(tick_labels(c(0.002, 0.05, 0.1)), c("0.002", "0.05", "0.1"))
  expect_type(tick_labels(c(1e-6, 1e-5, 1e-4)), "expression")
  expect_equal(log_ticks(100, 1e5), 10^(2:5))
  expect_equal(log_ticks(200, 3200), c(200, 500, 1000, 2000))
  expect_equal(log_ticks(0.11, 0.19), c(0.12, 0.14, 0.16, 0.18))
  expect_equal(log_ticks(0.15, 0.45), c(0.2, 0.3, 0.4))
  expect_equal(log_ticks(1e-8, 1), 10^seq(-8, 0, by = 2))
})

test_that("the grid fits the aspect ratio", {
  expect_equal(panel_grid(6, 1000 / 600), c(2, 3))
  expect_equal(panel_grid(6, 600 / 1000), c(3, 2))
  expect_equal(panel_grid(1, 2), c(1, 1))
  expect_equal(panel_grid(2, 7 / 4), c(1, 2))
  expect_equal(panel_grid(8, 7 / 4), c(2, 4))
  expect_equal(panel_grid(3, 7 / 3), c(1, 3))
})

test_that("the legend goes to a corner free of points", {
  diagonal <- seq(0.05, 0.95, length.out = 20)
  expect_equal(free_corner(diagonal, rev(diagonal), 0.3, 0.2), "topright")
  expect_equal(free_corner(c(diagonal, 0.9), c(rev(diagonal), 0.9), 0.3, 0.2), "bottomleft")
  expect_equal(free_corner(diagonal, diagonal, 0.3, 0.2), "topleft")
  expect_equal(free_corner(c(diagonal, 0.1), c(diagonal, 0.9), 0.3, 0.2), "bottomright")
  everywhere <- expand.grid(x = seq(0, 1, 0.1), y = seq(0, 1, 0.1))
  expect_true(is.na(free_corner(everywhere$x, everywhere$y, 0.3, 0.2)))
})

test_that("no legend covers a mark, also with a dominating replication", {
  s <- table_study(six, labels = six_labels)
  big <- s$results$metric == "loss" & s$results$n == s$design$n[4] & s$results$rep == 3
  s$results$value[big] <- s$results$value[big] * 100
  panels <- attr(on_png(1000, 600, plot(s)), "panels")
  for (i in seq_len(nrow(panels))) {
    marks <- drawn_marks(s, panels$metric[i])
    expect_false(any(covered(marks, panels[i, ])), label = panels$metric[i])
    expect_true(all(marks$value >= panels$ymin[i] & marks$value <= panels$ymax[i]))
  }
  # the dominating replication is drawn inside the panel
  expect_gte(panels$ymax[1], s$results$value[big])
})

test_that("when every corner is taken the y axis makes room", {
  set.seed(2)
  x <- expand.grid(rep = 1:40, n = c(100, 300, 1000, 3000, 10000))
  x$metric <- "spread"
  x$value <- exp(stats::runif(nrow(x), -3, 3))
  s <- as_rate_study(x)
  panels <- attr(on_png(600, 500, plot(s, metrics = "spread")), "panels")
  marks <- drawn_marks(s, "spread")
  expect_false(any(covered(marks, panels)))
  data_range <- 10^log_limits(marks$value)
  stretched_top <- panels$ymax > 1.01 * data_range[2]
  stretched_bottom <- panels$ymin < data_range[1] / 1.01
  expect_true(xor(stretched_top, stretched_bottom))
  expect_match(panels$legend, if (stretched_top) "^top" else "^bottom")
})

test_that("panels sharing a scale stretch it once, on the side that needs least", {
  # marks across the whole width: the first panel needs less room at the
  # bottom, the second at the top, and stretching one side serves both
  n <- 10^seq(2, 4, length.out = 21)
  lim <- c(-3, 0)
  first <- data.frame(n = c(n, n), value = 10^(lim[1] + 3 * rep(c(0.2, 0.97), each = 21)))
  second <- data.frame(n = c(n, n), value = 10^(lim[1] + 3 * rep(c(0.05, 0.8), each = 21)))
  placed <- place_legends(list(first, second), list(c(2, 4), c(2, 4)), lim,
                          list(c(0.5, 0.2), c(0.5, 0.2)))
  expect_equal(placed$corners, c("bottomleft", "bottomleft"))
  expect_equal(placed$ylim[2], lim[2])
  # the stretch the second panel needs at the bottom, and a little more
  expect_equal(placed$ylim[1], lim[1] - (0.25 - 0.05) / 0.75 * 3 - 0.03)
})

test_that("the key explains the bars, the median and the replications", {
  s <- table_study(six[1:2], reps = 20)
  key <- attr(on_png(700, 500, plot(s)), "key")
  expect_equal(key, c("replications", "mean of 20 replications, 95% interval", "median"))
  key <- attr(on_png(700, 500, plot(s, level = 0.9, replications = FALSE)), "key")
  expect_equal(key, c("mean of 20 replications, 90% interval", "median"))
  s$results <- s$results[!(s$results$n == s$design$n[2] & s$results$rep > 15), ]
  key <- attr(on_png(700, 500, plot(s)), "key")
  expect_equal(key[2], "mean of up to 20 replications, 95% interval")
  single <- table_study(six[1], reps = 1)
  key <- attr(on_png(700, 500, plot(single)), "key")
  expect_equal(key, "one replication per sample size")
})

test_that("plot.rate_study draws into the caller's layout and checks its arguments", {
  s <- table_study(six[1:2])
  grDevices::pdf(NULL)
  on.exit(grDevices::dev.off())
  graphics::par(mfrow = c(1, 2))
  out <- plot(s, layout = FALSE, main = c("first", "second"), reference = c(published = -0.51))
  expect_null(attr(out, "layout"))
  expect_equal(attr(out, "panels")$main, c("first", "second"))
  expect_equal(graphics::par("mfrow"), c(1, 2))
  expect_silent(plot(s, metrics = "loss", reference = c(published = NA_real_)))
  expect_error(plot(s, reference = -0.5), "`reference`")
  expect_error(plot(s, main = c("a", "b", "c")), "`main`")
  expect_error(plot(s, metrics = "nope"), "`metrics`")
  expect_error(plot(s, replications = NA), "`replications`")
})

test_that("several studies share one y scale per metric", {
  a <- table_study(six[1:2], seed = 1)
  b <- table_study(six[1:2], seed = 2)
  b$results$value <- b$results$value * 10
  out <- on_png(900, 700, plot_rate_studies(list(first = a, second = b),
                                            reference = list(c(published = -0.5), NULL)))
  panels <- attr(out, "panels")
  expect_equal(attr(out, "layout"), c(2, 2))
  expect_equal(out$study, c("first", "first", "second", "second"))
  expect_equal(panels$main, out$study)
  for (m in names(six)[1:2]) {
    expect_equal(panels$ymin[panels$metric == m][1], panels$ymin[panels$metric == m][2])
    expect_equal(panels$ymax[panels$metric == m][1], panels$ymax[panels$metric == m][2])
  }
  for (i in 1:4) {
    marks <- drawn_marks(list(a, a, b, b)[[i]], panels$metric[i])
    expect_false(any(covered(marks, panels[i, ])))
  }
  expect_error(plot_rate_studies(a), "`studies`")
  expect_error(plot_rate_studies(list(a, b), reference = list(NULL)), "`reference`")
})

test_that("the GMoE figure puts both modes on one scale, published slope on one step", {
  one <- table_study(c(loss = -0.5), seed = 1)
  conv <- table_study(c(loss = -0.5), seed = 2)
  conv$results$value <- conv$results$value / 3
  out <- on_png(900, 420, plot_gmoe_config(list(one, conv), c("one_step", "converged"),
                                           2, 4, -0.5045))
  panels <- attr(out, "panels")
  expect_equal(panels$main, c("Model 2, k = 4: one EM step", "Model 2, k = 4: converged EM"))
  expect_equal(panels$ymin[1], panels$ymin[2])
  expect_equal(panels$ymax[1], panels$ymax[2])
  expect_equal(attr(out, "layout"), c(1, 2))
})

test_that("the presets label their metrics", {
  g <- gmoe_study(2, k = 4, n = c(200, 400), reps = 1, one_step = TRUE,
                  split = c(2, 1, 1), seed = 1)
  labels <- g$design$labels
  expect_equal(unname(labels[c("loss", "weight_2", "loss_1", "c_1", "Gamma_3", "a_1",
                               "nu_2", "max_c_1", "size_2", "iterations", "bound_active")]),
               c("Voronoi loss (Type II)", "weight error of cell 2", "loss term of cell 1",
                 "weight-adjusted |c - c*| in cell 1", "weight-adjusted |Gamma - Gamma*| in cell 3",
                 "weight-adjusted |a - a*| in cell 1", "weight-adjusted |nu - nu*| in cell 2",
                 "max |c - c*| in cell 1, vanishing atoms included", "size of cell 2",
                 "EM iterations", "bound active (1 = yes)"))
  expect_equal(names(labels), g$design$metrics)
  expect_equal(gmoe_metric_labels(3, 2, "I")[c("loss", "c_1", "b_1", "max_a_2")],
               c(loss = "Voronoi loss (Type I)", c_1 = "weight-adjusted ||c - c*|| in cell 1",
                 b_1 = "weight-adjusted |b - b*| in cell 1",
                 max_a_2 = "max ||a - a*|| in cell 2, vanishing atoms included"))
  # a study saved before labels were stored (its c_j were the largest
  # errors) gets the preset's labels of that time
  g$design$labels <- NULL
  g$design$metrics <- c("loss", paste0("weight_", 1:3),
                        paste0(c("c", "Gamma", "a", "b", "nu"), "_", rep(1:3, each = 5)),
                        "iterations")
  old <- metric_labels(g)
  expect_equal(names(old), g$design$metrics)
  expect_equal(unname(old[c("loss", "weight_2", "c_1", "Gamma_3", "a_1", "nu_2", "iterations")]),
               c("Voronoi loss (Type II)", "weight error of cell 2", "max |c - c*| in cell 1",
                 "max |Gamma - Gamma*| in cell 3", "max |a - a*| in cell 1",
                 "max |nu - nu*| in cell 2", "EM iterations"))
  cm <- cmoe_study("merging", n = c(300, 600), reps = 1, seed = 1)
  expect_equal(names(cm$design$labels), cm$design$metrics)
  expect_equal(unname(cm$design$labels[c("lambda", "prompt", "loss")]),
               c("|lambda - lambda*|", "||(eta, nu) - (eta*, nu*)||", "merging loss"))
  expect_equal(cmoe_metric_labels(cmoe_scenario("vanishing"))[["loss"]], "distinguishable loss")
  # metrics of a user's study without labels are named by themselves
  expect_equal(metric_labels(table_study(six[1:2])), c(loss = "loss", c_1 = "c_1"))
})

test_that("autoplot has the labels, plain-number axis, marks and caption", {
  skip_if_not_installed("ggplot2")
  s <- table_study(six[1:2], labels = six_labels[1:2])
  p <- ggplot2::autoplot(s)
  expect_s3_class(p, "ggplot")
  built <- ggplot2::ggplot_build(p)
  expect_equal(length(unique(built$data[[1]]$PANEL)), 2)
  expect_match(levels(built$layout$layout$panel)[1],
               "^Voronoi loss \\(Type II\\)\nslope -0\\.[0-9]{3} \\[.*\\]\ntheory -0\\.5$")
  expect_equal(p$labels$x, "sample size n")
  expect_match(p$labels$caption, "95% interval of each mean")
  x_labels <- built$layout$panel_params[[1]]$x$get_labels()
  expect_equal(x_labels[!is.na(x_labels)], c("100", "1 000", "10 000", "100 000"))
  # replications, interval bars, theory line, fitted line, means, medians
  expect_length(p$layers, 6)
  expect_equal(nrow(built$data[[1]]), nrow(s$results))
  expect_length(ggplot2::autoplot(s, replications = FALSE)$layers, 5)
})

test_that("figures show the median or the trimmed mean, and ring dominated means", {
  s <- table_study(six[1:2], reps = 10)
  top <- max(s$design$n)
  big <- s$results$metric == "loss" & s$results$n == top & s$results$rep == 4
  s$results$value[big] <- s$results$value[big] * 200
  out <- on_png(900, 450, plot(s))
  expect_equal(attr(out, "panels")$ringed, c(as.character(top), ""))
  expect_equal(attr(out, "key"), c("replications", "mean of 10 replications, 95% interval",
                                   "median", "mean carried by one replication"))
  med <- on_png(900, 450, plot(s, summary = "median"))
  expect_equal(unclass(med)$slope, rate_slopes(s, summary = "median")$slope)
  expect_equal(attr(med, "summary")$summary, "median")
  expect_equal(attr(med, "panels")$ringed, c(as.character(top), ""))
  expect_equal(attr(med, "key"), c("replications",
                                   "median of 10 replications, 95% bootstrap interval",
                                   "mean", "mean carried by one replication"))
  # no legend covers the medians, their bootstrap bars, the means or the
  # replications
  points <- moerates:::rate_means(s, summary = "median")
  for (i in 1:2) {
    p <- attr(med, "panels")[i, ]
    pts <- points[points$metric == p$metric, ]
    half <- stats::qnorm(0.975) * sqrt(pts$var_log)
    r <- s$results[s$results$metric == p$metric, ]
    marks <- data.frame(n = c(pts$n, pts$n, pts$n, pts$n, r$n),
                        value = c(pts$median, pts$median * exp(-half), pts$median * exp(half),
                                  pts$mean, r$value))
    expect_false(any(covered(marks, p)), label = p$metric)
    expect_true(all(marks$value >= p$ymin & marks$value <= p$ymax))
  }
  trimmed <- on_png(900, 450, plot_rate_studies(list(a = s, b = s), metrics = "loss",
                                                summary = "trimmed"))
  expect_equal(trimmed$slope, rep(rate_slopes(s, "loss", summary = "trimmed")$slope, 2))
  expect_match(attr(trimmed, "key")[2], "^10% trimmed mean of 10 replications")
  expect_error(plot(s, summary = "mode"), "`summary`")
})

test_that("autoplot shows either summary and rings dominated means", {
  skip_if_not_installed("ggplot2")
  s <- table_study(six[1:2], reps = 10, labels = six_labels[1:2])
  top <- max(s$design$n)
  big <- s$results$metric == "loss" & s$results$n == top & s$results$rep == 4
  s$results$value[big] <- s$results$value[big] * 200
  p <- ggplot2::autoplot(s, summary = "median")
  built <- ggplot2::ggplot_build(p)
  slope <- rate_slopes(s, summary = "median")
  expect_match(levels(built$layout$layout$panel)[1],
               sprintf("slope %.3f \\[%.3f, %.3f\\]", slope$slope[1], slope$lower[1],
                       slope$upper[1]))
  expect_match(p$labels$caption, "interval of each median \\(bootstrap over replications")
  # replications, bars, theory, fit, medians, means, the ring
  expect_length(p$layers, 7)
  ring <- built$data[[7]]
  expect_equal(nrow(ring), 1)
  expect_equal(10^ring$x, top)
})
