# The figures of the fitted models, shared by plot.gmoe_fit() and
# plot.cmoe_fit() so that every fit looks the same: points that shrink and
# fade as n grows, axes named after the variables, a title and a legend per
# panel (in the corner where it hides the fewest points), panels in a grid
# that fits the device, par() settings through `...` and nothing else.
#
# A panel is a list:
#   x, y      the points (NULL for a panel of curves only, which then needs
#             xlim and ylim);
#   xlab, ylab, main;
#   curves    each a list of x, y, style = list(col, lty, lwd, and halo =
#             TRUE for a white edge that keeps a line visible on points of
#             its own colour) and a legend `label` (NULL: drawn but not in
#             the legend);
#   keys      legend entries of the points (else the points' style's): each
#             a list of label, col and, where a line belongs to it, lty, lwd;
#   legend_title, xlim, ylim, rug (values marked along the x axis);
#   line      TRUE for a trace drawn as a line, without legend.
# A point style is a list of col (one per point), cex, order (drawing
# order) and keys.

# Draws `panels` with `settings` (par() settings from the method's `...`)
# and restores the device as it found it. `what` names the fit in errors.
draw_fit_panels <- function(panels, style, settings, what) {
  check_graphical_settings(settings, what)
  original <- graphics::par(c("mar", "mgp"))
  old <- graphics::par(settings)
  on.exit(graphics::par(c(old, original)), add = TRUE)
  margins <- graphics::par(c("mar", "mgp"))
  count <- length(panels)
  if (count > 1) {
    aspect <- graphics::par("din")
    cols <- max(1, min(count, round(sqrt(count * aspect[1] / aspect[2]))))
    layout <- graphics::par(mfrow = c(ceiling(count / cols), cols))
    on.exit(graphics::par(layout), add = TRUE)
  }
  for (panel in panels) draw_fit_panel(panel, style, margins)
  invisible()
}

draw_fit_panel <- function(panel, style, margins) {
  if (isTRUE(panel$line)) {
    panel_plot(panel$x, panel$y, panel$xlab, panel$ylab, panel$main, margins, type = "l")
    return(invisible())
  }
  drawn <- lapply(panel$curves, function(cv) is.finite(cv$x) & is.finite(cv$y))
  curve_x <- unlist(Map(function(cv, keep) cv$x[keep], panel$curves, drawn))
  curve_y <- unlist(Map(function(cv, keep) cv$y[keep], panel$curves, drawn))
  ylim <- if (is.null(panel$ylim)) range(c(panel$y, curve_y)) else panel$ylim
  if (is.null(panel$x)) {
    xlim <- if (is.null(panel$xlim)) range(curve_x) else panel$xlim
    panel_plot(xlim, ylim, panel$xlab, panel$ylab, panel$main, margins, type = "n")
  } else {
    ord <- style$order
    panel_plot(panel$x[ord], panel$y[ord], panel$xlab, panel$ylab, panel$main, margins,
               col = style$col[ord], pch = 16, cex = style$cex, ylim = ylim, xlim = panel$xlim)
  }
  if (!is.null(panel$rug)) {
    graphics::rug(panel$rug, col = grDevices::adjustcolor("grey30", 0.4), ticksize = 0.02)
  }
  for (cv in panel$curves) {
    if (isTRUE(cv$style$halo)) {
      graphics::lines(cv$x, cv$y, col = "white", lty = 1, lwd = cv$style$lwd + 2)
    }
    graphics::lines(cv$x, cv$y, col = cv$style$col, lty = cv$style$lty, lwd = cv$style$lwd)
  }
  keys <- if (!is.null(panel$keys)) panel$keys else if (!is.null(panel$x)) style$keys
  fit_panel_legend(keys, panel$curves, c(panel$x, curve_x), c(panel$y, curve_y), panel$legend_title)
}

# A panel's plot with its y title placed past the tick labels: with
# horizontal tick labels (las = 1 or 2) the left margin grows to hold the
# widest. `base`: the mar and mgp settings before any panel.
panel_plot <- function(x, y, xlab, ylab, main, base, ...) {
  line <- base$mgp[1]
  graphics::par(mar = base$mar)
  if (graphics::par("las") %in% c(1, 2)) {
    ticks <- format(pretty(range(y[is.finite(y)])))
    width <- max(graphics::strwidth(ticks, units = "inches", cex = graphics::par("cex.axis"))) /
      graphics::par("csi")
    line <- max(line, base$mgp[2] + width + 0.6)
    graphics::par(mar = replace(base$mar, 2, max(base$mar[2], line + 1.2)))
  }
  graphics::plot(x, y, xlab = xlab, ylab = "", main = main, ...)
  graphics::title(ylab = ylab, line = line)
}

# The keys of the points, then the labelled curves, in the corner (or else
# the middle of a side) of the panel where it hides the fewest of the
# points (x, y).
fit_panel_legend <- function(keys, curves, x, y, title = NULL) {
  curves <- Filter(function(cv) !is.null(cv$label), curves)
  entries <- c(keys, lapply(curves, function(cv) {
    list(label = cv$label, col = cv$style$col, lty = cv$style$lty, lwd = cv$style$lwd,
         pch = NA)
  }))
  if (length(entries) == 0) return(invisible())
  field <- function(name, default) {
    vapply(entries, function(e) if (is.null(e[[name]])) default else e[[name]], default)
  }
  args <- list(legend = field("label", ""), pch = field("pch", 16), col = field("col", ""),
               lty = field("lty", NA_real_), lwd = field("lwd", NA_real_),
               title = title, cex = 0.75, bg = grDevices::adjustcolor("white", 0.85),
               box.col = "grey70", inset = 0.01, seg.len = 1.6)
  # corners first, then the middles of the sides; ties go to the first
  places <- c("topleft", "topright", "bottomleft", "bottomright", "right", "left", "top",
              "bottom")
  usr <- graphics::par("usr")
  pad <- 0.01 * c(usr[2] - usr[1], usr[4] - usr[3])
  hidden <- vapply(places, function(place) {
    box <- do.call(graphics::legend, c(list(place, plot = FALSE), args))$rect
    sum(x >= box$left - pad[1] & x <= box$left + box$w + pad[1] &
          y >= box$top - box$h - pad[2] & y <= box$top + pad[2], na.rm = TRUE)
  }, numeric(1))
  do.call(graphics::legend, c(list(places[which.min(hidden)]), args))
}

# Points shrink and grow transparent as n grows, so that large samples stay
# readable and small ones visible.
point_size <- function(n) {
  list(cex = min(1, max(0.3, 1.5 - 0.25 * log10(n))),
       alpha = min(0.9, max(0.15, 25 / sqrt(n))))
}

# The log-likelihood over the iterations of a fit.
trace_panel <- function(trace, unit) {
  list(x = seq_along(trace) - 1, y = trace, xlab = unit, ylab = "log-likelihood",
       main = "Log-likelihood trace", line = TRUE)
}

# Points along a range, as weighted means of its ends (which cannot
# overflow where their difference can).
grid_along <- function(v, size = 200) {
  weight <- seq(0, 1, length.out = size)
  min(v) * (1 - weight) + max(v) * weight
}

# Display names of a fit's variables: the response's (from the formula, else
# "y") and the covariates' (column names of fit$x, else x or x1, x2, ...),
# overridden by `labels`, a character vector named by variables.
fit_variable_names <- function(fit, labels) {
  d <- ncol(fit$x)
  covariates <- covariate_labels(fit$x)
  if (is.null(covariates)) covariates <- if (d == 1) "x" else paste0("x", seq_len(d))
  response <- if (is.null(fit$terms)) "y" else {
    deparse(attr(fit$terms, "variables")[[2]], width.cutoff = 500L)[1]
  }
  known <- c(response, covariates)
  if (!is.null(labels)) {
    if (!is.character(labels) || is.null(names(labels)) || anyNA(labels) ||
        any(!names(labels) %in% known)) {
      stop_arg("labels", "must be a character vector named by variables of the fit (",
               paste(known, collapse = ", "), ").")
    }
    covariates[covariates %in% names(labels)] <- labels[covariates[covariates %in% names(labels)]]
    if (response %in% names(labels)) response <- labels[[response]]
  }
  list(response = response, covariates = unname(covariates))
}

# par() settings only; the layout and the labels are the method's.
check_graphical_settings <- function(settings, what) {
  if (length(settings) == 0) return(invisible())
  given <- names(settings)
  if (is.null(given) || any(!nzchar(given))) {
    stop_arg("...", "must hold named graphical parameters, such as las = 1.")
  }
  reserved <- c("mfrow", "mfcol", "mfg", "fig", "fin", "pin", "plt", "oma", "omi", "omd",
                "new", "ask", "usr")
  allowed <- setdiff(names(graphics::par(no.readonly = TRUE)), reserved)
  bad <- given[!given %in% allowed]
  if (length(bad) > 0) {
    stop_arg(bad[1], "is not a graphical parameter plot() of ", what, " takes: each ",
             "panel is titled and labelled from the fit's variable names (rename them with ",
             "`labels`), and the panels are laid out by `which`; `...` takes par() settings ",
             "such as las or cex.axis.")
  }
}

# Draws the same figure into `stem`.png (150 dpi) and `stem`.pdf, `width`
# by `height` inches, and returns the two files.
save_figure <- function(stem, draw, width, height, pointsize = 12) {
  files <- paste0(stem, c(".png", ".pdf"))
  grDevices::png(files[1], width = width, height = height, units = "in", res = 150,
                 pointsize = pointsize)
  tryCatch(draw(), finally = grDevices::dev.off())
  grDevices::pdf(files[2], width = width, height = height, pointsize = pointsize)
  tryCatch(draw(), finally = grDevices::dev.off())
  files
}
