#' Plot a fitted Gaussian-gated mixture of experts
#'
#' Panels, chosen by `which`:
#' \describe{
#'   \item{`"data"`}{the response against each covariate, one panel per
#'     covariate, the points coloured by their most likely component, with
#'     each expert's line, thick where its gate is the largest and thin
#'     where its gate probability exceeds 0.05, and the fitted mean;}
#'   \item{`"gates"`}{the gate probabilities against each covariate, one
#'     panel per covariate, with the observed values marked along the axis;}
#'   \item{`"fitted"`}{the observed response against the fitted mean
#'     \eqn{E(y | x)}, with the line on which they agree;}
#'   \item{`"trace"`}{the log-likelihood over the iterations of the fit.}
#' }
#' With one covariate the curves are the fit's own: the gates
#' \eqn{g_i(x)}, the experts \eqn{a_i x + b_i} and the conditional mean
#' \eqn{E(y | x)}. With several, a curve against covariate \eqn{x_m} cannot
#' fix the others, which vary with \eqn{x_m} in the data; the panels show
#' instead what the fitted model says given \eqn{x_m} alone, the other
#' covariates integrated out under the fitted joint law of \eqn{(x, y)}
#' (exact, as the gates are Gaussian): the gate probabilities
#' \eqn{P(i | x_m) \propto \pi_i \phi(x_m; c_{im}, \Gamma_{i,mm})}{P(i | x_m) ~ pi_i phi(x_m; c_im, Gamma_i,mm)},
#' each expert's mean given \eqn{x_m},
#' \eqn{E(y | x_m, i) = a_i^\top c_i + b_i + (a_i^\top \Gamma_{i,\cdot m} / \Gamma_{i,mm}) (x_m - c_{im})}{E(y | x_m, i) = a_i'c_i + b_i + (a_i'Gamma_i[, m] / Gamma_i,mm) (x_m - c_im)},
#' and the mean \eqn{E(y | x_m) = \sum_i P(i | x_m) E(y | x_m, i)}{E(y | x_m) = sum_i P(i | x_m) E(y | x_m, i)}.
#' (With one covariate these are the fit's own curves.) The `"fitted"`
#' panel then shows the fit at the observed covariates, all of them at once.
#'
#' The points shrink and grow transparent as \eqn{n} grows, so that large
#' samples stay readable. The axes carry the variable names (those of the
#' formula or of the columns of `x`; `x` and `y`, or `x1`, `x2`, ...,
#' without names), each panel has its own title and, in the corner where it
#' hides the fewest points, its own legend, and several panels are laid out
#' in a grid that fits the device. Colours, legends and layout are those of
#' [plot.cmoe_fit()].
#'
#' **Labels.** Axis titles are per panel, so `xlab` and `ylab` are not
#' taken (one label on every panel would be wrong on most of them): rename
#' a variable through `labels` instead, and every panel that shows it uses
#' the new name, e.g. `labels = c(eruptions = "eruption time (min)")`.
#'
#' @param x A `gmoe_fit` object.
#' @param which Panels to draw, a subset of `"data"`, `"gates"`,
#'   `"fitted"` and `"trace"`, drawn in that order. `NULL` (the default):
#'   `c("data", "gates")` for one covariate; `c("fitted", "data", "gates")`
#'   for several.
#' @param labels `NULL` or display names of variables, as a named character
#'   vector: `c(mpg = "Miles per gallon", wt = "Weight (1000 lb)")`. Names
#'   must be those of the response or of covariates.
#' @param ... Graphical parameters that [graphics::par()] sets, such as `las`
#'   or `cex.axis`, for every panel. Labels and titles are set per panel
#'   from the variable names (change them through `labels`): `xlab`, `main`
#'   and any other argument that is not a graphical parameter are an error.
#' @return `x`, invisibly.
#' @seealso [fit_gmoe()], [gmoe_fit-methods], [predict.gmoe_fit()].
#' @examples
#' fit <- fit_gmoe(waiting ~ eruptions, faithful, k = 2)
#' plot(fit)
#' plot(fit, which = c("data", "trace"), labels = c(eruptions = "eruption (min)"), las = 1)
#'
#' # two covariates: observed against fitted, then each covariate alone
#' plot(fit_gmoe(mpg ~ wt + hp, mtcars, k = 2))
#' @export
plot.gmoe_fit <- function(x, which = NULL, labels = NULL, ...) {
  fit <- check_gmoe_fit(x, "x")
  draw_fit_panels(gmoe_plot_panels(fit, which, labels), gmoe_point_style(fit), list(...),
                  "a Gaussian-gated fit")
  invisible(x)
}

# What each panel shows, as draw_fit_panels() draws it (R/plot-helpers.R).
gmoe_plot_panels <- function(fit, which, labels) {
  d <- ncol(fit$x)
  choices <- c("data", "gates", "fitted", "trace")
  if (is.null(which)) which <- if (d == 1) c("data", "gates") else c("fitted", "data", "gates")
  if (!is.character(which) || length(which) == 0 || anyNA(which) || any(!which %in% choices) ||
      anyDuplicated(which)) {
    stop_arg("which", "must name distinct panels among ",
             paste0("\"", choices, "\"", collapse = ", "), ".")
  }
  names <- fit_variable_names(fit, labels)
  colours <- gmoe_colours(length(fit$params$pi))
  unit <- switch(fit$control$accelerate, none = "EM iteration",
                 squarem = "SQUAREM cycle (3 EM steps)",
                 newton = "iteration (SQUAREM cycle or Newton step)")
  unlist(lapply(which, function(panel) {
    switch(panel,
      data = lapply(seq_len(d), function(m) gmoe_data_panel(fit, m, names, colours)),
      gates = lapply(seq_len(d), function(m) gmoe_gates_panel(fit, m, names, colours)),
      fitted = list(gmoe_fitted_panel(fit, names)),
      trace = list(trace_panel(fit$loglik_trace, unit)))
  }), recursive = FALSE)
}

gmoe_colours <- function(k) grDevices::hcl.colors(max(k, 2), "Dark 3")[seq_len(k)]

gmoe_curve_styles <- list(mean = list(col = "black", lty = 2, lwd = 2),
                          agreement = list(col = "grey20", lty = 2, lwd = 1.5))

# Points coloured by their most likely component, in the data's order.
gmoe_point_style <- function(fit) {
  size <- point_size(nrow(fit$x))
  colours <- gmoe_colours(length(fit$params$pi))
  component <- max.col(fit$responsibilities, ties.method = "first")
  list(cex = size$cex, col = grDevices::adjustcolor(colours, size$alpha)[component],
       order = seq_len(nrow(fit$x)),
       keys = lapply(seq_along(colours), function(j) {
         list(label = paste("component", j), col = colours[j], pch = 16)
       }))
}

# The fit given covariate m alone, along `grid`: the gate probabilities
# P(i | x_m) (a grid x k matrix), each expert's mean E(y | x_m, i) and the
# mean E(y | x_m), the other covariates integrated out under the fitted
# Gaussian gates (see ?plot.gmoe_fit). With d = 1, the fit's own gates,
# experts and conditional mean.
gmoe_given_covariate <- function(params, m, grid) {
  k <- length(params$pi)
  variance <- params$Gamma[m, m, ]
  offset <- outer(grid, params$c[, m], "-")
  log_weight <- -0.5 * offset^2 / rep(variance, each = length(grid)) +
    rep(log(params$pi) - 0.5 * log(variance), each = length(grid))
  gates <- exp(log_weight - apply(log_weight, 1, max))
  gates <- gates / rowSums(gates)
  slope <- vapply(seq_len(k), function(i) {
    sum(params$a[i, ] * params$Gamma[, m, i]) / variance[i]
  }, numeric(1))
  centre <- rowSums(params$a * params$c) + params$b
  experts <- offset * rep(slope, each = length(grid)) + rep(centre, each = length(grid))
  list(gates = gates, experts = experts, mean = rowSums(gates * experts))
}

gmoe_data_panel <- function(fit, m, names, colours) {
  d <- ncol(fit$x)
  grid <- grid_along(fit$x[, m])
  along <- gmoe_given_covariate(fit$params, m, grid)
  top <- max.col(along$gates, ties.method = "first")
  experts <- unlist(lapply(seq_along(colours), function(i) {
    reach <- ifelse(along$gates[, i] > 0.05, along$experts[, i], NA)
    main <- ifelse(top == i, along$experts[, i], NA)
    list(list(x = grid, y = reach, style = list(col = colours[i], lty = 1, lwd = 1)),
         list(x = grid, y = main, style = list(col = colours[i], lty = 1, lwd = 2.5, halo = TRUE)))
  }), recursive = FALSE)
  covariate <- names$covariates[m]
  list(x = fit$x[, m], y = fit$y, xlab = covariate, ylab = names$response,
       main = if (d == 1) "Data, experts and fitted mean" else paste("Against", covariate),
       curves = c(experts, list(list(x = grid, y = along$mean, style = gmoe_curve_styles$mean,
                                     label = "fitted mean"))),
       keys = lapply(seq_along(colours), function(i) {
         list(label = paste("expert", i), col = colours[i], pch = 16, lty = 1, lwd = 2.5)
       }),
       legend_title = if (d > 1) paste("given", covariate, "alone"))
}

gmoe_gates_panel <- function(fit, m, names, colours) {
  d <- ncol(fit$x)
  grid <- grid_along(fit$x[, m])
  gates <- gmoe_given_covariate(fit$params, m, grid)$gates
  covariate <- names$covariates[m]
  list(xlab = covariate,
       ylab = if (d == 1) "gate probability" else paste0("P(component | ", covariate, ")"),
       main = if (d == 1) "Gates" else paste("Gates given", covariate, "alone"),
       xlim = range(grid), ylim = c(0, 1), rug = fit$x[, m],
       curves = lapply(seq_along(colours), function(i) {
         list(x = grid, y = gates[, i], style = list(col = colours[i], lty = 1, lwd = 2.5),
              label = paste("gate", i))
       }))
}

gmoe_fitted_panel <- function(fit, names) {
  fitted <- conditional_mean(fit$x, fit$params, fit$diagnostics$kernels, "x")
  ends <- range(c(fitted, fit$y))
  list(x = fitted, y = fit$y, xlab = paste("fitted mean of", names$response),
       ylab = names$response, main = "Observed against fitted",
       curves = list(list(x = ends, y = ends, style = gmoe_curve_styles$agreement,
                          label = "observed = fitted")))
}
