# plot.gmoe_fit() (R/plot-gmoe.R) and the helpers it shares with
# plot.cmoe_fit() (R/plot-helpers.R): what each panel shows, checked against
# the fit's own predictions and, for several covariates, against numerical
# integration of the fitted joint density; and that every panel draws.

set.seed(51)
sim1 <- rgmoe(600, gmoe_paper_truth(1))
fit1 <- fit_gmoe(sim1$x, sim1$y, k = 3, init = init_near_truth(gmoe_paper_truth(1), 3, 600))
sim3 <- rgmoe(400, gmoe_paper_truth(3))
df3 <- data.frame(u = sim3$x[, 1], v = sim3$x[, 2], resp = sim3$y)
fit2 <- fit_gmoe(resp ~ u + v, df3, k = 3, init = init_near_truth(gmoe_paper_truth(3), 3, 400))
x3 <- matrix(rnorm(900), 300, 3, dimnames = list(NULL, c("dose", "age", "bmi")))
y3 <- ifelse(x3[, 1] > 0, 2 * x3[, 2], -x3[, 3]) + rnorm(300, sd = 0.3)
fit3 <- fit_gmoe(x3, y3, k = 2)

panels_of <- function(fit, which = NULL, labels = NULL) {
  panels <- moerates:::gmoe_plot_panels(fit, which, labels)
  list(labels = do.call(rbind, lapply(panels, function(p) c(xlab = p$xlab, ylab = p$ylab, main = p$main))),
       panels = panels)
}

# The text that a plot writes inside its panels: the legends' entries (axis
# and panel titles are drawn otherwise).
legend_text <- function(draw) {
  grDevices::pdf(NULL)
  on.exit(grDevices::dev.off())
  grDevices::dev.control("enable")
  draw()
  shown <- Filter(function(e) identical(e[[2]][[1]]$name, "C_text"), grDevices::recordPlot()[[1]])
  unique(unlist(lapply(shown, function(e) Filter(is.character, e[[2]][-1]))))
}

test_that("with one covariate the curves are the fit's gates, experts and conditional mean", {
  one <- panels_of(fit1)
  expect_equal(unname(one$labels[, "main"]), c("Data, experts and fitted mean", "Gates"))
  expect_equal(unname(one$labels[, "xlab"]), c("x1", "x1"))
  expect_equal(unname(one$labels[, "ylab"]), c("y", "gate probability"))
  data <- one$panels[[1]]
  grid <- data$curves[[1]]$x
  expect_equal(range(grid), range(sim1$x))
  mean_curve <- data$curves[[length(data$curves)]]
  expect_identical(mean_curve$label, "fitted mean")
  expect_equal(mean_curve$y, predict(fit1, grid), tolerance = 1e-10)
  gates <- one$panels[[2]]$curves
  expect_equal(sapply(gates, `[[`, "y"), unname(predict(fit1, grid, type = "gate")),
               tolerance = 1e-10)
  expect_identical(vapply(gates, `[[`, "", "label"), paste("gate", 1:3))
  # each expert: its line, thick where its gate is the largest
  top <- predict(fit1, grid, type = "component")
  p <- fit1$params
  for (i in 1:3) {
    thick <- data$curves[[2 * i]]
    expect_equal(thick$y[top == i], p$a[i, 1] * grid[top == i] + p$b[i])
    expect_true(all(is.na(thick$y[top != i])))
  }
  expect_identical(vapply(data$keys, `[[`, "", "label"), paste("expert", 1:3))
  expect_identical(data$x, sim1$x[, 1])
})

test_that("with several covariates the curves are the fit given one covariate alone", {
  two <- panels_of(fit2)
  expect_equal(unname(two$labels[, "main"]),
               c("Observed against fitted", "Against u", "Against v", "Gates given u alone",
                 "Gates given v alone"))
  expect_equal(unname(two$labels[, "xlab"]), c("fitted mean of resp", "u", "v", "u", "v"))
  expect_equal(unname(two$labels[, "ylab"]),
               c("resp", "resp", "resp", "P(component | u)", "P(component | v)"))
  expect_equal(two$panels[[1]]$x, fitted(fit2))
  expect_identical(two$panels[[2]]$legend_title, "given u alone")
  # oracle: integrate the fitted joint density of (x, y) over the other covariate
  p <- fit2$params
  joint_x <- function(x1, x2, i) {
    z <- rbind(x1 - p$c[i, 1], x2 - p$c[i, 2])
    G <- p$Gamma[, , i]
    p$pi[i] * exp(-0.5 * colSums(z * solve(G, z))) / (2 * pi * sqrt(det(G)))
  }
  at <- c(0, 0.12, 0.4)
  along <- moerates:::gmoe_given_covariate(p, 1, at)
  for (g in seq_along(at)) {
    mass <- vapply(1:3, function(i) {
      stats::integrate(function(x2) joint_x(at[g], x2, i), -Inf, Inf, rel.tol = 1e-10)$value
    }, numeric(1))
    first <- vapply(1:3, function(i) {
      stats::integrate(function(x2) joint_x(at[g], x2, i) * (p$a[i, 1] * at[g] + p$a[i, 2] * x2 + p$b[i]),
                       -Inf, Inf, rel.tol = 1e-10)$value
    }, numeric(1))
    expect_equal(along$gates[g, ], mass / sum(mass), tolerance = 1e-7)
    expect_equal(along$experts[g, ], first / mass, tolerance = 1e-7)
    expect_equal(along$mean[g], sum(first) / sum(mass), tolerance = 1e-7)
  }
  three <- panels_of(fit3)
  expect_length(three$panels, 7)
  expect_equal(unname(three$labels[2:4, "xlab"]), c("dose", "age", "bmi"))
})

test_that("labels rename variables on every panel that shows them; xlab and main are refused", {
  relabelled <- panels_of(fit2, c("data", "trace"), c(u = "dose (mg)", resp = "effect"))
  expect_equal(unname(relabelled$labels[, "xlab"]),
               c("dose (mg)", "v", "iteration (SQUAREM cycle or Newton step)"))
  expect_equal(unname(relabelled$labels[, "ylab"]), c("effect", "effect", "log-likelihood"))
  expect_equal(unname(relabelled$labels[, "main"]),
               c("Against dose (mg)", "Against v", "Log-likelihood trace"))
  expect_equal(relabelled$panels[[3]]$y, fit2$loglik_trace)
  pdf(NULL)
  on.exit(dev.off())
  expect_error(plot(fit1, xlab = "dose"),
               "^`xlab` is not a graphical parameter plot\\(\\) of a Gaussian-gated fit takes")
  expect_error(plot(fit1, ylab = "y"), "^`ylab` is not a graphical parameter")
  expect_error(plot(fit1, main = "my fit"), "^`main` is not a graphical parameter")
  expect_error(plot(fit1, mfrow = c(2, 2)), "^`mfrow`")
  expect_error(plot(fit1, "data", NULL, 1), "^`...` must hold named graphical parameters")
  expect_error(plot(fit2, labels = c(dose = "d")),
               "^`labels` must be a character vector named by variables of the fit \\(resp, u, v\\)")
  expect_error(plot(fit1, labels = "d"), "`labels`")
  for (bad in list(1, 4, "index", character(0), c("data", "data"), NA_character_)) {
    expect_error(plot(fit1, which = bad), "^`which` must name distinct panels among \"data\"")
  }
})

test_that("every panel draws, with its legend, for d = 1, 2 and 3", {
  shown <- legend_text(function() plot(fit1))
  expect_true(all(c(paste("expert", 1:3), "fitted mean", paste("gate", 1:3)) %in% shown))
  shown <- legend_text(function() plot(fit2))
  expect_true(all(c("given u alone", "given v alone", "observed = fitted",
                    paste("component", 1:3)) %in% shown))
  shown <- legend_text(function() plot(fit3, which = c("fitted", "data", "gates", "trace")))
  expect_true(all(c("given bmi alone", "expert 2", "gate 2") %in% shown))
  pdf(NULL)
  on.exit(dev.off())
  expect_invisible(plot(fit1, which = c("data", "gates", "fitted", "trace"), las = 1))
  expect_identical(plot(fit3), fit3)
  # a one-component fit, and one by plain EM
  expect_invisible(plot(fit_gmoe(sim1$x, sim1$y, k = 1)))
  plain <- fit_gmoe(sim1$x, sim1$y, k = 2, control = gmoe_control(accelerate = "none"))
  expect_equal(panels_of(plain, "trace")$labels[, "xlab"], c(xlab = "EM iteration"))
  # the plot leaves the device's settings as it found them
  before <- par(no.readonly = TRUE)
  plot(fit2, las = 1, cex.axis = 0.8)
  expect_identical(par(no.readonly = TRUE)[c("mfrow", "mar", "mgp", "las", "cex.axis")],
                   before[c("mfrow", "mar", "mgp", "las", "cex.axis")])
})

test_that("points are coloured by component and shrink and fade as n grows", {
  style <- moerates:::gmoe_point_style(fit1)
  component <- max.col(fit1$responsibilities, ties.method = "first")
  expect_identical(unique(style$col[component == 2]), style$col[which(component == 2)[1]])
  expect_length(unique(style$col), 3)
  sizes <- lapply(c(30, 1e3, 1e5), function(n) moerates:::point_size(n))
  expect_true(all(diff(vapply(sizes, `[[`, 0, "cex")) < 0))
  expect_true(all(diff(vapply(sizes, `[[`, 0, "alpha")) < 0))
  expect_gte(min(vapply(sizes, `[[`, 0, "cex")), 0.3)
})

test_that("the legend goes where it hides the fewest points", {
  pdf(NULL)
  on.exit(dev.off())
  plot(c(0, 1), c(0, 1), type = "n")
  corner <- function(x, y) {
    box <- moerates:::fit_panel_legend(list(list(label = "a", col = "red")), list(), x, y)
    c(box$rect$left < 0.5, box$rect$top > 0.5)
  }
  # points everywhere but the bottom right
  grid <- expand.grid(x = seq(0, 1, 0.05), y = seq(0, 1, 0.05))
  keep <- !(grid$x > 0.7 & grid$y < 0.3)
  expect_identical(corner(grid$x[keep], grid$y[keep]), c(FALSE, FALSE))
  keep <- !(grid$x < 0.3 & grid$y > 0.7)
  expect_identical(corner(grid$x[keep], grid$y[keep]), c(TRUE, TRUE))
})
