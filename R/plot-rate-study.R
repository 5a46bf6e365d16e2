#' Plot a rate study on log-log axes
#'
#' One panel per metric, drawn as in the papers: the mean over replications
#' at each sample size on log-log axes, with an interval computed on the log
#' scale (\eqn{\exp(\log \bar m \pm z \sqrt{v})}{exp(log mean +- z sqrt(v))},
#' \eqn{v} the delta-method variance of the log mean, see [rate_slopes()]),
#' the least-squares line labelled with its slope and confidence interval,
#' and the slope the theory predicts as a dashed reference line through the
#' centre of the fitted one. The replications themselves are drawn as faint
#' grey points and their median as an open diamond, so that a replication
#' that dominates a mean shows; a mean dominated by one replication (more
#' than half the sum of three or more, see [rate_slopes()]) is ringed.
#'
#' With `summary = "median"` (or `"trimmed"`) the panels show that summary
#' instead: its points, bootstrap intervals and fitted line (see
#' [rate_slopes()], whose other settings are left at their defaults), with
#' the mean as the open diamond, ringed where it is dominated.
#'
#' The y axis of each panel names its metric by the study's labels (see the
#' `labels` argument of [rate_study()]; studies of [gmoe_study()] and
#' [cmoe_study()] have them), the x axis shows the sample size in plain
#' numbers. The panels are laid out as a grid that fits the shape of the
#' device, with one key below the grid that says what the markers are. Each
#' panel's slopes are given in a legend placed in a corner that holds no
#' points or lines; when no corner is free the y axis is extended to make
#' room.
#'
#' @param x A [rate_study()] object.
#' @param metrics Metrics to plot; `NULL` for all.
#' @param min_n,level Passed to [rate_slopes()]; `level` also sets the
#'   intervals around the means.
#' @param layout If `TRUE`, lay the panels out as a grid (rows and columns
#'   chosen from the device's aspect ratio, `par()` restored on exit) with a
#'   key below it; `FALSE` draws the panels into the current layout, each
#'   with the key in its own legend.
#' @param reference Optional named numbers: further slopes to quote in each
#'   panel's legend (for example the published one), such as
#'   `c(published = -0.5055)`; `NA` entries are skipped.
#' @param main Panel titles: `NULL` for none (the y axis names the metric),
#'   or one string per panel.
#' @param replications If `TRUE`, draw every replication as a faint point.
#' @param summary What the points and the fitted line summarise over the
#'   replications: `"mean"` (as published), `"median"` or `"trimmed"` (see
#'   [rate_slopes()]).
#' @param ... Graphical parameters set by [par()] while drawing, for example
#'   `cex = 0.9`.
#' @return Invisibly, the [rate_slopes()] table of the plotted metrics (with
#'   its attributes), and three attributes that describe the figure:
#'   `layout`, the rows and columns
#'   of the grid (`NULL` when `layout = FALSE`), and `panels`, a data frame
#'   with one row per panel: `metric`, `main`, `ylab`, `xlab`, `x_ticks`
#'   (the tick labels of the x axis, separated by `"; "`), `legend` (the
#'   corner of the slope legend), `legend_left`, `legend_right`,
#'   `legend_bottom`, `legend_top` (its box, on the scale of the data),
#'   `ymin`, `ymax` (the y range drawn), `ringed` (the sample sizes whose
#'   mean is ringed as dominated, separated by `"; "`); and `key`, the
#'   texts of the key.
#' @seealso [rate_slopes()], [plot_rate_studies()] to compare several
#'   studies, [autoplot.rate_study()]
#' @examples
#' study <- rate_study(
#'   simulate = function(n) rnorm(n, mean = 1),
#'   fit = function(data, n) c(mean(data), var(data)),
#'   metrics = function(fit, n) c(mean = abs(fit[1] - 1), var = abs(fit[2] - 1)),
#'   n = round(10^seq(2, 4, length.out = 6)), reps = 20, seed = 1,
#'   theory = c(mean = -0.5, var = -0.5),
#'   labels = c(mean = "|mean - 1|", var = "|variance - 1|"))
#' plot(study)
#' @export
plot.rate_study <- function(x, metrics = NULL, min_n = NULL, level = 0.95,
                            layout = TRUE, reference = NULL, main = NULL,
                            replications = TRUE, summary = c("mean", "median", "trimmed"), ...) {
  check_flag(layout, "layout")
  check_flag(replications, "replications")
  check_reference(reference, "reference")
  panels <- rate_panels(x, metrics, min_n, level, reference, robust = plot_summary(summary))
  if (!is.null(main) && (!is.character(main) || length(main) != length(panels))) {
    stop_arg("main", "must be NULL or one title per panel (", length(panels), ").")
  }
  for (i in seq_along(panels)) panels[[i]]$main <- if (is.null(main)) "" else main[i]
  drawn <- draw_rate_figure(panels, level, share_y = FALSE, layout = layout,
                            replications = replications, by_study = FALSE, ...)
  slopes <- attr(panels, "slopes")
  attributes(slopes)[c("layout", "panels", "key")] <- list(drawn$layout, drawn$panels, drawn$key)
  invisible(slopes)
}

#' Plot several rate studies side by side
#'
#' The panels of [plot.rate_study()] for several studies in one figure, for
#' example the same design fitted two ways: one row per study and one
#' column per metric (or, for a single metric, a grid that fits the
#' device), with one key below. Panels of the same metric share one y
#' scale, so that the studies compare by eye.
#'
#' @param studies A list of [rate_study()] objects, named by what each is
#'   (the names are the panel titles unless `main` is given).
#' @param metrics Metrics to plot; every study must have them. `NULL` for
#'   those of the first study.
#' @param reference `NULL`, named numbers for every panel (as in
#'   [plot.rate_study()]), or a list with one such vector (or `NULL`) per
#'   study.
#' @param main Panel titles: `NULL` for the study names, or one string per
#'   panel (studies in order, metrics within each study).
#' @param share_y If `TRUE`, panels of the same metric share one y scale.
#' @inheritParams plot.rate_study
#' @return Invisibly, a data frame of the slopes ([rate_slopes()] columns)
#'   with a first column `study`, the attributes `layout`, `panels` and
#'   `key` of [plot.rate_study()], and `summary`.
#' @seealso [plot.rate_study()], [reproduce_gmoe()]
#' @examples
#' toy <- function(sd) rate_study(
#'   simulate = function(n) rnorm(n, sd = sd),
#'   fit = function(data, n) mean(data),
#'   metrics = function(fit, n) c(error = abs(fit)),
#'   n = round(10^seq(2, 4, length.out = 5)), reps = 10, seed = 1,
#'   theory = c(error = -0.5), labels = c(error = "|mean|"))
#' plot_rate_studies(list("sd 1" = toy(1), "sd 3" = toy(3)))
#' @export
plot_rate_studies <- function(studies, metrics = NULL, min_n = NULL, level = 0.95,
                              reference = NULL, main = NULL, replications = TRUE,
                              share_y = TRUE, summary = c("mean", "median", "trimmed"), ...) {
  if (!is.list(studies) || inherits(studies, "rate_study") || length(studies) == 0 ||
      !all(vapply(studies, inherits, logical(1), "rate_study"))) {
    stop_arg("studies", "must be a non-empty list of rate_study objects.")
  }
  check_flag(replications, "replications")
  check_flag(share_y, "share_y")
  robust <- plot_summary(summary)
  if (is.list(reference)) {
    if (length(reference) != length(studies)) {
      stop_arg("reference", "must have one entry per study (", length(studies), ").")
    }
    for (r in reference) check_reference(r, "reference")
  } else {
    check_reference(reference, "reference")
    reference <- rep(list(reference), length(studies))
  }
  if (is.null(metrics)) metrics <- studies[[1]]$design$metrics
  names_of <- names(studies)
  if (is.null(names_of)) names_of <- rep("", length(studies))
  panels <- list()
  for (i in seq_along(studies)) {
    these <- rate_panels(studies[[i]], metrics, min_n, level, reference[[i]], "studies",
                         robust)
    for (j in seq_along(these)) {
      these[[j]]$study <- names_of[i]
      these[[j]]$main <- names_of[i]
    }
    panels <- c(panels, these)
  }
  if (!is.null(main)) {
    if (!is.character(main) || length(main) != length(panels)) {
      stop_arg("main", "must be NULL or one title per panel (", length(panels), ").")
    }
    for (i in seq_along(panels)) panels[[i]]$main <- main[i]
  }
  drawn <- draw_rate_figure(panels, level, share_y = share_y, layout = TRUE,
                            replications = replications,
                            by_study = length(studies) > 1 && length(metrics) > 1, ...)
  slopes <- do.call(rbind, lapply(panels, function(p) {
    data.frame(study = p$study, unclass(p$slope), stringsAsFactors = FALSE)
  }))
  attributes(slopes)[c("level", "summary", "layout", "panels", "key")] <-
    list(level, robust, drawn$layout, drawn$panels, drawn$key)
  invisible(slopes)
}

check_reference <- function(reference, arg) {
  if (!is.null(reference) && (!is.numeric(reference) || is.null(names(reference)))) {
    stop_arg(arg, "must be NULL or a named numeric vector of slopes.")
  }
  invisible(reference)
}

# The summary a figure shows, with the other settings of rate_slopes() at
# their defaults.
plot_summary <- function(summary) {
  defaults <- formals(rate_slopes)
  check_summary(summary, defaults$trim, defaults$bootstrap, defaults$seed)
}

# Everything one panel shows, for each metric of a study: the summaries
# with their interval (`value`, `lower`, `upper`), the other marker
# (`second`: the median, or the mean when the median or the trimmed mean is
# shown), the dominated means, the replications, the slope row, the
# summary and the metric's label. The slopes of all panels are attribute
# `slopes`.
rate_panels <- function(study, metrics, min_n, level, reference, arg = "x", robust) {
  slopes <- rate_slopes(study, metrics = metrics, min_n = min_n, level = level,
                        summary = robust$summary, trim = robust$trim,
                        bootstrap = robust$bootstrap, seed = robust$seed)
  if (nrow(slopes) == 0) stop_arg(arg, "has no results to plot (every run failed?).")
  labels <- metric_labels(study)
  points <- rate_points(study, slopes$metric, min_n, level, robust)
  points$second <- if (robust$summary == "mean") points$median else points$mean
  res <- study$results
  res <- res[is.finite(res$value) & res$value > 0, ]
  reference <- reference[!is.na(reference)]
  panels <- lapply(seq_len(nrow(slopes)), function(i) {
    m <- slopes$metric[i]
    pts <- points[points$metric == m, ]
    reps <- res[res$metric == m & res$n_index %in% pts$n_index, c("n_index", "n", "value")]
    slope <- slopes[i, ]
    attributes(slope)[c("level", "summary", "dominated")] <- NULL
    list(metric = m, label = labels[[m]], pts = pts, reps = reps, slope = slope,
         reference = reference, study = "", main = "", robust = robust)
  })
  attr(panels, "slopes") <- slopes
  panels
}

# The summaries of each metric with their log-scale interval, on the points
# that rate_slopes() uses.
rate_points <- function(study, metrics, min_n, level, robust) {
  pts <- slope_points(study, metrics, min_n, robust)
  half <- stats::qnorm((1 + level) / 2) * sqrt(pts$var_log)
  half[!is.finite(half)] <- 0
  pts$lower <- pts$value * exp(-half)
  pts$upper <- pts$value * exp(half)
  pts
}

# The readable name of every metric of a study. Studies of the presets made
# before labels were stored get the preset's labels of that time; other
# metrics without a label are named by themselves.
metric_labels <- function(study) {
  metrics <- study$design$metrics
  labels <- study$design$labels
  if (is.null(labels)) {
    design <- study$design
    labels <- if (inherits(design$truth, "gmoe_params") && !is.null(design$type)) {
      gmoe_legacy_labels(length(design$truth$pi), ncol(design$truth$c), design$type)
    } else if (inherits(design$scenario, "cmoe_scenario")) {
      cmoe_metric_labels(design$scenario)
    }
  }
  full_labels(labels, metrics)
}

# Rows and columns of a grid of `count` panels on a device whose width is
# `aspect` times its height: the grid whose panels are closest to `target`
# (width over height, on the log scale), with a small cost for empty cells.
panel_grid <- function(count, aspect, target = 1.3) {
  rows <- seq_len(count)
  cols <- ceiling(count / rows)
  keep <- (rows - 1) * cols < count
  rows <- rows[keep]
  cols <- cols[keep]
  cost <- abs(log(aspect * rows / cols / target)) + 0.15 * (rows * cols - count)
  best <- which.min(cost)
  c(rows[best], cols[best])
}

# Tick positions on a log axis from lo to hi: the powers of ten when the
# range holds at least three (thinned to at most seven), else the 1-2-5
# multiples, else all whole multiples, else a linear scale.
log_ticks <- function(lo, hi) {
  inside <- function(t) sort(t[t >= lo * (1 - 1e-9) & t <= hi * (1 + 1e-9)])
  decades <- 10^(floor(log10(lo)):ceiling(log10(hi)))
  powers <- inside(decades)
  if (length(powers) >= 3) {
    step <- ceiling(length(powers) / 7)
    return(powers[seq(1, length(powers), by = step)])
  }
  for (mult in list(c(1, 2, 5), 1:9)) {
    t <- inside(signif(as.vector(outer(mult, decades)), 6))
    if (length(t) >= 3 || (length(t) >= 2 && identical(mult, 1:9))) return(t)
  }
  inside(pretty(c(lo, hi)))
}

# Draws a log axis on `side` over `lim` (data scale) with light grid lines:
# the ticks of log_ticks() labelled where their labels fit side by side,
# else the powers of ten among them or every second one, the others left
# as short unlabelled ticks. Returns the labelled ticks.
log_axis <- function(side, lim) {
  ticks <- log_ticks(lim[1], lim[2])
  length_in <- graphics::par("pin")[if (side %in% c(1, 3)) 1 else 2]
  fits <- function(t) {
    if (length(t) < 2) return(TRUE)
    at <- (log10(t) - log10(lim[1])) / diff(log10(lim)) * length_in
    w <- graphics::strwidth(tick_labels(t), units = "inches", cex = graphics::par("cex.axis"))
    gap <- 0.6 * graphics::strwidth("m", units = "inches", cex = graphics::par("cex.axis"))
    all(diff(at) >= (w[-1] + w[-length(w)]) / 2 + gap)
  }
  labelled <- ticks
  while (!fits(labelled)) {
    powers <- labelled[abs(log10(labelled) - round(log10(labelled))) < 1e-9]
    labelled <- if (length(powers) >= 2 && length(powers) < length(labelled)) {
      powers
    } else {
      labelled[seq(1, length(labelled), by = 2)]
    }
  }
  graphics::abline(v = if (side == 1) labelled, h = if (side == 2) labelled,
                   col = "grey92", lwd = 0.8)
  minor <- setdiff(ticks, labelled)
  if (length(minor)) graphics::axis(side, at = minor, labels = FALSE, tcl = -0.15)
  graphics::axis(side, at = labelled, labels = tick_labels(labelled), gap.axis = 0.25)
  labelled
}

# Tick labels as plain numbers with a space between thousands (1 000,
# 100 000); powers of ten below 1e-4 as 10^k.
tick_labels <- function(v) {
  v <- signif(v, 6)
  if (any(v < 1e-4) && all(abs(log10(v) - round(log10(v))) < 1e-9)) {
    return(as.expression(lapply(round(log10(v)), function(k) bquote(10^.(k)))))
  }
  trimws(formatC(v, format = "fg", digits = 6, big.mark = " "))
}

# The first corner (in order of preference) whose legend box, of width w
# and height h as fractions of the plotting region, holds none of the
# points (fx, fy), also given as fractions; NA when none is free.
free_corner <- function(fx, fy, w, h, inset = c(0.02, 0.03), pad = 0.01,
                        corners = c("topright", "bottomleft", "topleft", "bottomright")) {
  for (corner in corners) {
    right <- grepl("right", corner)
    top <- grepl("top", corner)
    x0 <- if (right) 1 - inset[1] - w else inset[1]
    y0 <- if (top) 1 - inset[2] - h else inset[2]
    inside <- fx >= x0 - pad & fx <= x0 + w + pad & fy >= y0 - pad & fy <= y0 + h + pad
    if (!any(inside)) return(corner)
  }
  NA_character_
}

# The key: what the markers of every panel are.
key_entries <- function(panels, replications, level) {
  counts <- unlist(lapply(panels, function(p) p$pts$reps))
  r <- if (length(counts)) max(counts) else 0
  varies <- length(counts) && min(counts) != r
  robust <- panels[[1]]$robust
  main_text <- if (r > 1) {
    sprintf("%s of %s%d replications, %g%% %sinterval", summary_name(robust),
            if (varies) "up to " else "", r, 100 * level,
            if (robust$summary == "mean") "" else "bootstrap ")
  } else {
    "one replication per sample size"
  }
  entries <- data.frame(text = main_text, pch = 19, col = "black", pt_cex = 0.9,
                        stringsAsFactors = FALSE)
  if (r > 1) {
    entries <- rbind(entries, data.frame(text = if (robust$summary == "mean") "median" else "mean",
                                         pch = 5, col = median_colour, pt_cex = 1,
                                         stringsAsFactors = FALSE))
  }
  if (any(unlist(lapply(panels, function(p) p$pts$dominated)))) {
    entries <- rbind(entries, data.frame(text = "mean carried by one replication",
                                         pch = 1, col = dominated_colour, pt_cex = 1.5,
                                         stringsAsFactors = FALSE))
  }
  if (replications && r > 1) {
    entries <- rbind(data.frame(text = "replications", pch = 16, col = replication_colour,
                                pt_cex = 0.9, stringsAsFactors = FALSE), entries)
  }
  entries
}

median_colour <- "#1f5fa8"
dominated_colour <- "#e07b00"
replication_colour <- grDevices::adjustcolor("grey35", alpha.f = 0.35)
fit_colour <- "firebrick"
theory_colour <- "grey25"

# The slope legend of one panel: the fitted slope with its interval, the
# theory and the reference slopes (the fitted one to `digits` decimals),
# and with `key` the markers too.
panel_legend <- function(p, key = NULL, digits = 3) {
  s <- p$slope
  text <- character(0)
  lty <- integer(0)
  col <- character(0)
  if (is.finite(s$slope)) {
    text <- sprintf("slope %.*f [%.*f, %.*f]", digits, s$slope, digits, s$lower,
                    digits, s$upper)
    lty <- 1L
    col <- fit_colour
    if (is.finite(s$theory)) {
      text <- c(text, sprintf("theory %.3g", s$theory))
      lty <- c(lty, 2L)
      col <- c(col, theory_colour)
    }
  }
  if (length(p$reference)) {
    text <- c(text, sprintf("%s %.4g", names(p$reference), p$reference))
    lty <- c(lty, rep(0L, length(p$reference)))
    col <- c(col, rep("black", length(p$reference)))
  }
  pch <- rep(NA_real_, length(text))
  pt_cex <- rep(1, length(text))
  if (!is.null(key)) {
    text <- c(key$text, text)
    lty <- c(rep(0L, nrow(key)), lty)
    col <- c(key$col, col)
    pch <- c(key$pch, pch)
    pt_cex <- c(key$pt_cex, pt_cex)
  }
  list(text = text, lty = lty, col = col, pch = pch, pt_cex = pt_cex, cex = 0.9)
}

draw_legend <- function(leg, corner, inset, plot = TRUE) {
  graphics::legend(corner, legend = leg$text, lty = leg$lty, col = leg$col, pch = leg$pch,
                   pt.cex = leg$pt_cex, lwd = ifelse(leg$lty == 2L, 1.5, 2),
                   seg.len = 1.6, x.intersp = 0.8, bty = "n", cex = leg$cex, inset = inset, plot = plot,
                   y.intersp = 1.1)
}

legend_inset <- c(0.02, 0.03)

# The ends and, on the log scale, the fitted and theory lines of a panel.
panel_lines <- function(p) {
  s <- p$slope
  out <- list()
  if (nrow(p$pts) && is.finite(s$slope)) {
    ends <- range(p$pts$n)
    out$fit <- data.frame(n = ends, value = exp(s$intercept + s$slope * log(ends)))
    if (is.finite(s$theory)) {
      at <- theory_intercept(s, mean(log(p$pts$n)))
      out$theory <- data.frame(n = ends, value = exp(at + s$theory * log(ends)))
    }
  }
  out
}

# What a panel draws, as (x, y) points on the data scale: what its legend
# must not cover and what its y range must hold.
panel_obstacles <- function(p, replications) {
  pts <- p$pts
  along <- seq(0, 1, length.out = 9)
  bars <- if (nrow(pts)) {
    data.frame(n = rep(pts$n, each = length(along)),
               value = exp(log(rep(pts$lower, each = length(along))) +
                             along * log(rep(pts$upper / pts$lower, each = length(along)))))
  }
  lines <- lapply(panel_lines(p), function(l) {
    t <- seq(0, 1, length.out = 40)
    data.frame(n = exp(log(l$n[1]) + t * diff(log(l$n))),
               value = exp(log(l$value[1]) + t * diff(log(l$value))))
  })
  second <- pts[is.finite(pts$second) & pts$second > 0, ]
  out <- rbind(data.frame(n = pts$n, value = pts$value), bars,
               data.frame(n = second$n, value = second$second),
               if (replications) data.frame(n = p$reps$n, value = p$reps$value),
               do.call(rbind, lines))
  out[is.finite(out$value) & out$value > 0, ]
}

# Axis limits on the log10 scale: the range of the values with a margin of
# 5% on each side (or half a decade around a single value).
log_limits <- function(values) {
  r <- log10(range(values))
  if (diff(r) == 0) return(r + c(-0.5, 0.5))
  r + c(-0.05, 0.05) * diff(r)
}

# Fractions of the plotting region of data points, for limits on the log10
# scale.
as_fraction <- function(v, lim) (log10(v) - lim[1]) / diff(lim)

# Where the legends of panels that share one y range `lim` (log10) go: each
# in a corner that covers nothing of its panel. When a panel has no free
# corner, the range is stretched at the top or the bottom, on the side that
# needs the least, by as much as the panel that needs most: then every
# panel has a free corner on that side. Returns the limits and the corners.
place_legends <- function(obstacles, xlims, lim, sizes) {
  corners <- function(lim) {
    vapply(seq_along(obstacles), function(i) {
      free_corner(as_fraction(obstacles[[i]]$n, xlims[[i]]),
                  as_fraction(obstacles[[i]]$value, lim), sizes[[i]][1], sizes[[i]][2],
                  legend_inset)
    }, character(1))
  }
  found <- corners(lim)
  if (!anyNA(found)) return(list(ylim = lim, corners = found))
  stretch <- vapply(seq_along(obstacles), function(i) {
    legend_stretch(as_fraction(obstacles[[i]]$n, xlims[[i]]),
                   as_fraction(obstacles[[i]]$value, lim), sizes[[i]])
  }, numeric(2))
  worst <- apply(stretch, 1, max)
  side <- which.min(worst)
  extra <- unname(worst[side] + 0.01) * diff(lim)
  lim <- if (side == 1) lim + c(0, extra) else lim - c(extra, 0)
  list(ylim = lim, corners = corners(lim))
}

# How much a y range must grow (as a fraction of it) at the top and at the
# bottom for a legend of `size` to find a free corner on that side, given
# the marks (fx, fy) as fractions of the range.
legend_stretch <- function(fx, fy, size) {
  band <- min(size[2] + legend_inset[2] + 0.02, 0.9)
  need <- function(top, right) {
    x0 <- if (right) 1 - legend_inset[1] - size[1] else legend_inset[1]
    under <- fx >= x0 - 0.01 & fx <= x0 + size[1] + 0.01
    if (!any(under)) return(0)
    grow <- if (top) max(fy[under]) / (1 - band) - 1 else (band - min(fy[under])) / (1 - band)
    max(grow, 0)
  }
  c(top = min(need(TRUE, TRUE), need(TRUE, FALSE)),
    bottom = min(need(FALSE, TRUE), need(FALSE, FALSE)))
}

# The size of a legend as fractions of the current plotting region.
legend_fraction <- function(leg) {
  if (!length(leg$text)) return(c(0, 0))
  usr <- graphics::par("usr")
  r <- draw_legend(leg, "topright", legend_inset, plot = FALSE)$rect
  c(r$w / diff(usr[1:2]), r$h / diff(usr[3:4]))
}

# Lays out and draws the panels: a grid that fits the device (or the
# caller's layout), y ranges that hold every mark and leave room for the
# legends (shared by the panels of a metric with `share_y`), and the key
# below the grid.
draw_rate_figure <- function(panels, level, share_y, layout, replications, by_study, ...) {
  key <- key_entries(panels, replications, level)
  titled <- any(nzchar(vapply(panels, `[[`, character(1), "main")))
  op <- graphics::par(no.readonly = TRUE)
  on.exit(graphics::par(op))
  grid <- NULL
  if (layout) {
    # below the grid, in inches: the x axis title shared by the panels, then the key
    size <- grDevices::dev.size("in")
    key_cex <- 0.9
    key_lines <- key_rows(key, size[1], key_cex)
    below <- 0.3 + 0.2 * key_lines + 0.08
    grid <- if (by_study) {
      c(length(unique(vapply(panels, `[[`, character(1), "study"))),
        length(unique(vapply(panels, `[[`, character(1), "metric"))))
    } else {
      panel_grid(length(panels), size[1] / max(size[2] - below, 0.5))
    }
    graphics::par(mfrow = grid, omi = c(below, 0, 0, 0))
    panel_size <- c(size[1] / grid[2], (size[2] - below) / grid[1])
    graphics::par(cex = min(1, max(0.8, min(panel_size[1] / 3.6, panel_size[2] / 2.7))))
  }
  # the right margin holds half the widest x tick label
  graphics::par(mar = c(if (layout) 2.1 else 3.2, 3.6, if (titled) 1.9 else 0.8, 1.2),
                mgp = c(2, 0.55, 0), tcl = -0.3)
  if (...length()) graphics::par(...)

  legends <- lapply(panels, panel_legend, key = if (layout) NULL else key)
  obstacles <- lapply(panels, panel_obstacles, replications = replications)
  xlims <- lapply(panels, function(p) log_limits(if (nrow(p$pts)) p$pts$n else 1))
  ylims <- lapply(obstacles, function(o) log_limits(if (nrow(o)) o$value else 1))
  # legend sizes: every panel of a grid has the same plotting region
  graphics::plot.new()
  graphics::plot.window(c(1, 10), c(1, 10), log = "xy", xaxs = "i", yaxs = "i")
  sizes <- lapply(legends, legend_fraction)
  # a legend too wide for its panel gives the slopes to two decimals, and is
  # set smaller if that is not enough
  for (i in which(vapply(sizes, `[`, numeric(1), 1) > 0.94 / 0.9)) {
    legends[[i]] <- panel_legend(panels[[i]], key = if (layout) NULL else key, digits = 2)
    sizes[[i]] <- legend_fraction(legends[[i]])
    legends[[i]]$cex <- legends[[i]]$cex * max(0.8, min(1, 0.94 / sizes[[i]][1]))
    sizes[[i]] <- legend_fraction(legends[[i]])
  }
  groups <- if (share_y) {
    vapply(panels, `[[`, character(1), "metric")
  } else {
    as.character(seq_along(panels))
  }
  rooms <- vector("list", length(panels))
  for (g in unique(groups)) {
    members <- which(groups == g)
    placed <- place_legends(obstacles[members], xlims[members],
                            range(unlist(ylims[members])), sizes[members])
    rooms[members] <- lapply(placed$corners, function(corner) {
      list(ylim = placed$ylim, corner = corner)
    })
  }
  drawn <- lapply(seq_along(panels), function(i) {
    if (i > 1) graphics::plot.new()
    draw_rate_panel(panels[[i]], xlims[[i]], rooms[[i]], legends[[i]], replications,
                    xlab_here = !layout)
  })
  if (layout) {
    graphics::mtext(x_title, side = 1, outer = TRUE, line = 0.2, cex = graphics::par("cex"))
    draw_key(key, key_lines, key_cex)
  }
  list(layout = grid, panels = do.call(rbind, drawn), key = key$text)
}

# Rows the key needs to fit the width of the device.
key_rows <- function(key, width, cex) {
  symbol <- graphics::strwidth("MMM", units = "inches", cex = cex)
  widths <- graphics::strwidth(key$text, units = "inches", cex = cex) + symbol
  if (sum(widths) < 0.95 * width) return(1L)
  two <- matrix(c(widths, if (length(widths) %% 2) 0), 2)
  if (sum(apply(two, 2, max)) < 0.95 * width) 2L else nrow(key)
}

draw_key <- function(key, rows, cex) {
  graphics::par(fig = c(0, 1, 0, 1), oma = c(0, 0, 0, 0), mar = c(0, 0, 0, 0), cex = 1,
                new = TRUE)
  graphics::plot.new()
  graphics::legend("bottom", legend = key$text, pch = key$pch, col = key$col,
                   pt.cex = key$pt_cex, ncol = ceiling(nrow(key) / rows), bty = "n",
                   cex = cex, inset = 0.01, xpd = NA, x.intersp = 0.8, text.width = NA)
}

x_title <- "sample size n"

# The y axis title. A label longer than the panel is tall (it may use the
# plotting region and the top margin twice over) is broken into two lines
# before its last " in " (else at the space nearest its middle), and set
# smaller if it still does not fit.
y_title <- function(label) {
  room <- graphics::par("pin")[2] + 2 * graphics::par("mai")[3]
  width <- function(text) {
    max(graphics::strwidth(strsplit(text, "\n")[[1]], units = "inches",
                           cex = graphics::par("cex.lab")))
  }
  line <- graphics::par("mgp")[1]
  spaces <- gregexpr(" ", label)[[1]]
  if (width(label) > 0.98 * room && spaces[1] > 0) {
    before_in <- gregexpr(" in ", label)[[1]]
    cut <- if (before_in[1] > 0) {
      max(before_in)
    } else {
      spaces[which.min(abs(spaces - nchar(label) / 2))]
    }
    label <- paste0(substr(label, 1, cut - 1), "\n", substr(label, cut + 1, nchar(label)))
    line <- line - 0.3
  }
  shrink <- max(0.6, min(1, 0.98 * room / width(label)))
  graphics::title(ylab = label, line = line, cex.lab = graphics::par("cex.lab") * shrink)
}

# One panel; with `xlab_here` it carries its own x axis title, else the
# figure has one below the grid.
draw_rate_panel <- function(p, xlim, room, leg, replications, xlab_here) {
  xlab <- x_title
  pts <- p$pts
  if (nrow(pts) == 0) {
    graphics::plot.window(c(0, 1), c(0, 1))
    graphics::box()
    graphics::title(main = p$main, xlab = if (xlab_here) xlab, font.main = 1, cex.main = 1)
    y_title(p$label)
    graphics::text(0.5, 0.5, "no positive values\nto show on a log scale")
    return(data.frame(metric = p$metric, main = p$main, ylab = p$label, xlab = xlab,
                      x_ticks = "", legend = NA_character_, legend_left = NA_real_,
                      legend_right = NA_real_, legend_bottom = NA_real_,
                      legend_top = NA_real_, ymin = NA_real_, ymax = NA_real_, ringed = "",
                      stringsAsFactors = FALSE))
  }
  ylim <- 10^room$ylim
  graphics::plot.window(10^xlim, ylim, log = "xy", xaxs = "i", yaxs = "i")
  xt <- log_axis(1, 10^xlim)
  yt <- log_axis(2, ylim)
  graphics::box()
  graphics::title(main = p$main, xlab = if (xlab_here) xlab, font.main = 1, cex.main = 1)
  y_title(p$label)
  if (replications && nrow(p$reps)) {
    graphics::points(p$reps$n, p$reps$value, pch = 16, cex = 0.55, col = replication_colour)
  }
  graphics::segments(pts$n, pts$lower, pts$n, pts$upper, col = "grey15", lwd = 1.2)
  lines <- panel_lines(p)
  if (!is.null(lines$theory)) {
    graphics::lines(lines$theory$n, lines$theory$value, col = theory_colour, lty = 2, lwd = 1.5)
  }
  if (!is.null(lines$fit)) {
    graphics::lines(lines$fit$n, lines$fit$value, col = fit_colour, lwd = 2)
  }
  # markers shrink on a dense grid of sample sizes; the means, which the
  # slope is fitted to, are drawn last
  size <- if (nrow(pts) > 30) 0.7 else 1
  if (any(pts$reps > 1)) {
    second <- pts[pts$second > 0, ]
    graphics::points(second$n, second$second, pch = 5, cex = 0.8 * size, col = median_colour)
  }
  graphics::points(pts$n, pts$value, pch = 19, cex = 0.75 * size)
  ringed <- pts[pts$dominated, ]
  graphics::points(ringed$n, ringed$mean, pch = 1, cex = 1.5 * size, lwd = 1.5,
                   col = dominated_colour)
  box <- rep(NA_real_, 4)
  corner <- NA_character_
  if (length(leg$text)) {
    corner <- if (is.na(room$corner)) "topright" else room$corner
    r <- draw_legend(leg, corner, legend_inset)$rect
    box <- 10^c(r$left, r$left + r$w, r$top - r$h, r$top)
  }
  data.frame(metric = p$metric, main = p$main, ylab = p$label, xlab = xlab,
             x_ticks = paste(tick_labels(xt), collapse = "; "), legend = corner,
             legend_left = box[1], legend_right = box[2], legend_bottom = box[3],
             legend_top = box[4], ymin = ylim[1], ymax = ylim[2],
             ringed = paste(ringed$n, collapse = "; "), stringsAsFactors = FALSE)
}

#' ggplot2 version of the rate-study plot
#'
#' The same content as [plot.rate_study()], one facet per metric, for users
#' of ggplot2 (which must be installed): each facet is titled by the
#' metric's label and its fitted slope, the x axis shows the sample size in
#' plain numbers, the replications are faint points, the median (or, when
#' the median or the trimmed mean is shown, the mean) an open diamond, means
#' dominated by one replication are ringed, and the caption says what the
#' points and bars are.
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
#'   theory = c(error = -0.5), labels = c(error = "|mean - 1|"))
#' ggplot2::autoplot(study)
#' ggplot2::autoplot(study, summary = "median")
#' @exportS3Method ggplot2::autoplot
autoplot.rate_study <- function(object, metrics = NULL, min_n = NULL, level = 0.95,
                                replications = TRUE, summary = c("mean", "median", "trimmed"),
                                ...) {
  if (!requireNamespace("ggplot2", quietly = TRUE)) {
    stop("autoplot() of a rate study needs the ggplot2 package.", call. = FALSE)
  }
  check_flag(replications, "replications")
  robust <- plot_summary(summary)
  panels <- rate_panels(object, metrics, min_n, level, NULL, robust = robust)
  titles <- vapply(panels, function(p) {
    s <- p$slope
    if (!is.finite(s$slope)) return(p$label)
    sprintf("%s\nslope %.3f [%.3f, %.3f]%s", p$label, s$slope, s$lower, s$upper,
            if (is.finite(s$theory)) sprintf("\ntheory %.3g", s$theory) else "")
  }, character(1))
  facet <- function(i, df) {
    if (is.null(df) || !nrow(df)) return(NULL)
    df$panel <- factor(titles[i], levels = titles)
    df
  }
  gather <- function(part) do.call(rbind, lapply(seq_along(panels), function(i) {
    facet(i, part(panels[[i]]))
  }))
  pts <- gather(function(p) {
    p$pts[c("n", "value", "lower", "upper", "second", "mean", "dominated", "reps")]
  })
  reps <- gather(function(p) p$reps[c("n", "value")])
  fit <- gather(function(p) panel_lines(p)$fit)
  theory <- gather(function(p) panel_lines(p)$theory)
  ringed <- pts[pts$dominated, ]
  key <- key_entries(panels, replications, level)
  several <- any(pts$reps > 1)
  marks <- stats::setNames(key$text, c(
    if (replications && several) "replication", "summary", if (several) "second",
    if (nrow(ringed)) "dominated"))
  shapes <- c(replication = 16, summary = 19, second = 5, dominated = 1)[names(marks)]
  colours <- c(replication = "grey35", summary = "black", second = median_colour,
               dominated = dominated_colour)[names(marks)]
  sizes <- c(replication = 1.3, summary = 1.8, second = 2, dominated = 3.5)[names(marks)]
  ggplot2::ggplot(pts, ggplot2::aes(x = .data$n)) +
    (if ("replication" %in% names(marks)) {
      ggplot2::geom_point(data = reps, ggplot2::aes(y = .data$value, shape = "replication",
                                                    colour = "replication"),
                          alpha = 0.35, size = 1.3)
    }) +
    ggplot2::geom_linerange(ggplot2::aes(ymin = .data$lower, ymax = .data$upper),
                            colour = "grey15") +
    (if (!is.null(theory)) {
      ggplot2::geom_line(data = theory, ggplot2::aes(y = .data$value, linetype = "theory"),
                         colour = theory_colour)
    }) +
    (if (!is.null(fit)) {
      ggplot2::geom_line(data = fit, ggplot2::aes(y = .data$value, linetype = "fit"),
                         colour = fit_colour, linewidth = 0.9)
    }) +
    ggplot2::geom_point(ggplot2::aes(y = .data$value, shape = "summary", colour = "summary"),
                        size = 1.8) +
    (if ("second" %in% names(marks)) {
      ggplot2::geom_point(ggplot2::aes(y = .data$second, shape = "second", colour = "second"),
                          size = 2)
    }) +
    (if ("dominated" %in% names(marks)) {
      ggplot2::geom_point(data = ringed, ggplot2::aes(y = .data$mean, shape = "dominated",
                                                      colour = "dominated"),
                          size = 3.5, stroke = 0.9)
    }) +
    ggplot2::scale_shape_manual(NULL, values = shapes, breaks = names(marks), labels = marks) +
    ggplot2::scale_colour_manual(NULL, values = colours, breaks = names(marks), labels = marks) +
    ggplot2::scale_linetype_manual(
      NULL, values = c(fit = "solid", theory = "dashed"),
      labels = c(fit = "least-squares line", theory = "slope of the theory"),
      guide = ggplot2::guide_legend(override.aes = list(
        colour = c(fit = fit_colour, theory = theory_colour)[intersect(c("fit", "theory"),
          c(if (!is.null(fit)) "fit", if (!is.null(theory)) "theory"))]))) +
    ggplot2::scale_x_log10(breaks = function(l) log_ticks(l[1], l[2]), labels = tick_labels) +
    ggplot2::scale_y_log10(breaks = function(l) log_ticks(l[1], l[2]), labels = tick_labels) +
    ggplot2::facet_wrap(~panel, scales = "free_y") +
    ggplot2::guides(shape = ggplot2::guide_legend(override.aes = list(
      alpha = ifelse(names(marks) == "replication", 0.35, 1), size = unname(sizes)))) +
    ggplot2::labs(x = "sample size n", y = NULL, caption = if (several) sprintf(
      "Bars: %g%% interval of each %s (%s on the log scale).", 100 * level, summary_name(robust),
      if (robust$summary == "mean") "delta method" else "bootstrap over replications")) +
    ggplot2::theme_bw() +
    ggplot2::theme(legend.position = "bottom", legend.box = "vertical",
                   legend.margin = ggplot2::margin(0, 0, 0, 0),
                   strip.background = ggplot2::element_blank(),
                   strip.text = ggplot2::element_text(hjust = 0),
                   panel.grid.minor = ggplot2::element_blank())
}
