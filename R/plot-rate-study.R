#' Plot a rate study on log-log axes
#'
#' One panel per metric, drawn as in the papers: the mean over replications
#' at each sample size on log-log axes, with an interval computed on the log
#' scale (\eqn{\exp(\log \bar m \pm z \sqrt{v})}{exp(log mean +- z sqrt(v))},
#' \eqn{v} the delta-method variance of the log mean, see [rate_slopes()]),
#' the least-squares line labelled with its slope and confidence interval,
#' and the slope the theory predicts as a dashed reference line through the
#' centre of the fitted one.
#'
#' @param x A [rate_study()] object.
#' @param metrics Metrics to plot; `NULL` for all (at most 16 panels are
#'   laid out automatically).
#' @param min_n,level Passed to [rate_slopes()]; `level` also sets the
#'   intervals around the means.
#' @param layout If `TRUE`, set `par(mfrow)` to hold one panel per metric
#'   (restored on exit); `FALSE` draws into the current layout.
#' @param reference Optional named numbers: further slopes to quote in each
#'   panel's legend (for example the published one), such as
#'   `c(published = -0.5055)`; `NA` entries are skipped.
#' @param main Panel titles: `NULL` for the metric names, or one string per
#'   panel.
#' @param ... Further graphical parameters passed to [plot.default()].
#' @return Invisibly, the [rate_slopes()] table of the plotted metrics.
#' @seealso [rate_slopes()], [autoplot.rate_study()]
#' @examples
#' study <- rate_study(
#'   simulate = function(n) rnorm(n, mean = 1),
#'   fit = function(data, n) c(mean(data), var(data)),
#'   metrics = function(fit, n) c(mean = abs(fit[1] - 1), var = abs(fit[2] - 1)),
#'   n = round(10^seq(2, 4, length.out = 6)), reps = 20, seed = 1,
#'   theory = c(mean = -0.5, var = -0.5))
#' plot(study)
#' @export
plot.rate_study <- function(x, metrics = NULL, min_n = NULL, level = 0.95,
                            layout = TRUE, reference = NULL, main = NULL, ...) {
  slopes <- rate_slopes(x, metrics = metrics, min_n = min_n, level = level)
  check_flag(layout, "layout")
  if (!is.null(reference) && (!is.numeric(reference) || is.null(names(reference)))) {
    stop_arg("reference", "must be NULL or a named numeric vector of slopes.")
  }
  if (nrow(slopes) == 0) stop_arg("x", "has no results to plot (every run failed?).")
  if (!is.null(main) && length(main) != nrow(slopes)) {
    stop_arg("main", "must have one title per panel (", nrow(slopes), ").")
  }
  if (layout && nrow(slopes) > 1) {
    op <- graphics::par(mfrow = grDevices::n2mfrow(min(nrow(slopes), 16)))
    on.exit(graphics::par(op))
  }
  points <- rate_points(x, slopes$metric, min_n, level)
  for (i in seq_len(nrow(slopes))) {
    draw_rate_panel(points[points$metric == slopes$metric[i], ], slopes[i, ],
                    reference, if (is.null(main)) slopes$metric[i] else main[i], ...)
  }
  invisible(slopes)
}

# The means of each metric with their log-scale interval, on the points
# that rate_slopes() uses.
rate_points <- function(study, metrics, min_n, level) {
  pts <- slope_points(study, metrics, min_n)
  half <- stats::qnorm((1 + level) / 2) * sqrt(pts$var_log)
  half[!is.finite(half)] <- 0
  pts$lower <- pts$mean * exp(-half)
  pts$upper <- pts$mean * exp(half)
  pts
}

draw_rate_panel <- function(pts, s, reference, main, ...) {
  if (nrow(pts) == 0) {
    graphics::plot.new()
    graphics::title(main = main)
    graphics::text(0.5, 0.5, "no positive values")
    return(invisible())
  }
  graphics::plot(pts$n, pts$mean, log = "xy", ylim = range(pts$lower, pts$upper),
                 xlab = "n", ylab = "mean over replications", main = main,
                 pch = 19, cex = 0.6, ...)
  graphics::segments(pts$n, pts$lower, pts$n, pts$upper, col = "grey55")
  graphics::points(pts$n, pts$mean, pch = 19, cex = 0.6)
  legend_text <- character(0)
  legend_lty <- integer(0)
  legend_col <- character(0)
  if (is.finite(s$slope)) {
    ends <- range(pts$n)
    graphics::lines(ends, exp(s$intercept + s$slope * log(ends)), col = "firebrick", lwd = 2)
    legend_text <- sprintf("slope %.3f [%.3f, %.3f]", s$slope, s$lower, s$upper)
    legend_lty <- 1L
    legend_col <- "firebrick"
    if (is.finite(s$theory)) {
      at <- theory_intercept(s, mean(log(pts$n)))
      graphics::lines(ends, exp(at + s$theory * log(ends)),
                      col = "grey30", lty = 2, lwd = 1.5)
      legend_text <- c(legend_text, sprintf("theory %.3g", s$theory))
      legend_lty <- c(legend_lty, 2L)
      legend_col <- c(legend_col, "grey30")
    }
  }
  reference <- reference[!is.na(reference)]
  if (length(reference)) {
    legend_text <- c(legend_text, sprintf("%s %.4g", names(reference), reference))
    legend_lty <- c(legend_lty, rep(0L, length(reference)))
    legend_col <- c(legend_col, rep("black", length(reference)))
  }
  if (length(legend_text)) {
    graphics::legend("bottomleft", legend = legend_text, lty = legend_lty,
                     col = legend_col, lwd = 1.5, bty = "n", cex = 0.8)
  }
  invisible()
}

#' ggplot2 version of the rate-study plot
#'
#' The same content as [plot.rate_study()], one facet per metric, for users
#' of ggplot2 (which must be installed).
#'
#' @param object A [rate_study()] object.
#' @inheritParams plot.rate_study
#' @param ... Unused.
#' @return A ggplot object.
#' @examplesIf requireNamespace("ggplot2", quietly = TRUE)
#' study <- rate_study(
#'   simulate = function(n) rnorm(n, mean = 1),
#'   fit = function(data, n) mean(data),
#'   metrics = function(fit, n) c(error = abs(fit - 1)),
#'   n = round(10^seq(2, 4, length.out = 6)), reps = 20, seed = 1,
#'   theory = c(error = -0.5))
#' ggplot2::autoplot(study)
#' @exportS3Method ggplot2::autoplot
autoplot.rate_study <- function(object, metrics = NULL, min_n = NULL, level = 0.95, ...) {
  if (!requireNamespace("ggplot2", quietly = TRUE)) {
    stop("autoplot() of a rate study needs the ggplot2 package.", call. = FALSE)
  }
  slopes <- rate_slopes(object, metrics = metrics, min_n = min_n, level = level)
  pts <- rate_points(object, slopes$metric, min_n, level)
  label <- sprintf("%s: slope %.3f%s", slopes$metric, slopes$slope,
                   ifelse(is.finite(slopes$theory),
                          sprintf(" (theory %.3g)", slopes$theory), ""))
  pts$panel <- factor(label[match(pts$metric, slopes$metric)], levels = label)
  centre <- vapply(slopes$metric, function(m) mean(log(pts$n[pts$metric == m])), numeric(1))
  lines <- data.frame(
    panel = factor(label, levels = label),
    fit_intercept = slopes$intercept / log(10), fit_slope = slopes$slope,
    theory_slope = slopes$theory,
    theory_intercept = theory_intercept(slopes, centre) / log(10))
  theory_lines <- lines[is.finite(lines$theory_slope), ]
  fit_lines <- lines[is.finite(lines$fit_slope), ]
  ggplot2::ggplot(pts, ggplot2::aes(x = .data$n, y = .data$mean)) +
    ggplot2::geom_pointrange(ggplot2::aes(ymin = .data$lower, ymax = .data$upper),
                             size = 0.2, colour = "grey25") +
    ggplot2::geom_abline(data = fit_lines,
                         ggplot2::aes(intercept = .data$fit_intercept, slope = .data$fit_slope),
                         colour = "firebrick", linewidth = 0.9) +
    ggplot2::geom_abline(data = theory_lines,
                         ggplot2::aes(intercept = .data$theory_intercept,
                                      slope = .data$theory_slope),
                         colour = "grey30", linetype = 2) +
    ggplot2::scale_x_log10() + ggplot2::scale_y_log10() +
    ggplot2::facet_wrap(~panel, scales = "free_y") +
    ggplot2::labs(x = "n", y = "mean over replications")
}
