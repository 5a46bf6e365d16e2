#' Convergence slopes of a rate study
#'
#' For each metric, the least-squares slope of \eqn{\log} (mean over
#' replications) on \eqn{\log n}, as in the published figures, with a
#' confidence interval that accounts for the spread of the replications.
#'
#' The mean \eqn{\bar m_i} at design point \eqn{i} has, by the delta method,
#' \eqn{\mathrm{Var}(\log \bar m_i) \approx v_i = s_i^2 / (R_i \bar m_i^2)}{Var(log mean_i) ~ v_i = s_i^2 / (R_i mean_i^2)},
#' with \eqn{s_i} the standard deviation of the \eqn{R_i} replications. The
#' slope is a linear combination \eqn{\sum_i w_i \log \bar m_i}{sum_i w_i log mean_i}
#' of the log means, so its standard error is
#' \eqn{\sqrt{\sum_i w_i^2 v_i}}{sqrt(sum_i w_i^2 v_i)}. A straight line
#' may not describe the points (a rate with log factors, or sample sizes not
#' yet in the asymptotic regime): the lack of fit is measured by
#' \eqn{X^2 = \sum_i e_i^2 / v_i}{X^2 = sum_i e_i^2 / v_i} on \eqn{p - 2}
#' degrees of freedom (\eqn{e_i} the residuals, \eqn{p} the number of
#' points), and when \eqn{X^2 / (p - 2) > 1} the standard error is inflated
#' by \eqn{\sqrt{X^2 / (p - 2)}}{sqrt(X^2 / (p - 2))} and the interval uses
#' the \eqn{t} distribution, as in quasi-likelihood. With a single
#' replication per point the ordinary least-squares standard error is used.
#'
#' Design points whose mean is not positive and finite are left out (a log
#' cannot be taken); `NA` values of a metric (for example the error of an
#' empty Voronoi cell) are left out of its means.
#'
#' @param study A [rate_study()] object (or a data frame accepted by
#'   [as_rate_study()]).
#' @param metrics Names of the metrics to use; `NULL` (the default) for all.
#' @param min_n Only sample sizes at or above `min_n` are used; `NULL` uses
#'   all.
#' @param level Confidence level of the interval.
#' @return A data frame of class `rate_slopes`, one row per metric: `metric`,
#'   `slope`, `se`, `lower`, `upper`, `theory` (the predicted slope, `NA`
#'   where none is known), `points` (number of sample sizes used), `n_min`,
#'   `n_max`, `lack_of_fit_p` (p-value of \eqn{X^2}) and `intercept`.
#' @seealso [rate_study()], [plot.rate_study()]
#' @examples
#' # a known power law, slope -0.5, with log-normal replication noise
#' set.seed(1)
#' n <- rep(round(10^seq(2, 5, length.out = 12)), each = 20)
#' x <- data.frame(n = n, rep = rep(1:20, 12), metric = "loss",
#'                 value = 3 * n^-0.5 * exp(rnorm(length(n), sd = 0.3)))
#' rate_slopes(as_rate_study(x, theory = c(loss = -0.5)))
#' @export
rate_slopes <- function(study, metrics = NULL, min_n = NULL, level = 0.95) {
  study <- as_rate_study(study)
  if (!is.null(metrics)) {
    if (!is.character(metrics) || !all(metrics %in% study$design$metrics)) {
      stop_arg("metrics", "must name metrics of the study (",
               paste(study$design$metrics, collapse = ", "), ").")
    }
  } else {
    metrics <- study$design$metrics
  }
  if (!is.null(min_n)) min_n <- check_positive(min_n, "min_n", len = 1)
  level <- check_numeric(level, "level", len = 1)
  if (level <= 0 || level >= 1) stop_arg("level", "must be in (0, 1).")

  means <- slope_points(study, metrics, min_n)
  rows <- lapply(metrics, function(m) {
    pts <- means[means$metric == m, ]
    c(list(metric = m), slope_fit(log(pts$n), log(pts$mean), pts$var_log, level),
      theory = unname(study$design$theory[m]),
      points = nrow(pts),
      n_min = if (nrow(pts)) min(pts$n) else NA_real_,
      n_max = if (nrow(pts)) max(pts$n) else NA_real_)
  })
  columns <- c("metric", "slope", "se", "lower", "upper", "theory", "points",
               "n_min", "n_max", "lack_of_fit_p", "intercept")
  out <- do.call(rbind, lapply(rows, as.data.frame, stringsAsFactors = FALSE))
  if (is.null(out)) {
    out <- data.frame(metric = character(0), matrix(numeric(0), 0, length(columns) - 1,
                                                    dimnames = list(NULL, columns[-1])))
  }
  out <- out[columns]
  attr(out, "level") <- level
  class(out) <- c("rate_slopes", "data.frame")
  out
}

# The design points a slope is fitted to: means at n >= min_n that are
# positive, so that their log exists.
slope_points <- function(study, metrics, min_n) {
  pts <- rate_means(study, metrics)
  if (!is.null(min_n)) pts <- pts[pts$n >= min_n, ]
  pts[pts$mean > 0, ]
}

# Where the theory's reference line is drawn: through the fitted line at the
# mean log n of the points, so the two lines cross in the middle of the data.
# Returns the intercept (natural-log scale) of the theory line.
theory_intercept <- function(slopes, centre) {
  slopes$intercept + (slopes$slope - slopes$theory) * centre
}

# Least-squares line of y on x with the standard error of its slope from
# the variances v of the y values, inflated for lack of fit.
slope_fit <- function(x, y, v, level) {
  p <- length(x)
  none <- list(slope = NA_real_, se = NA_real_, lower = NA_real_, upper = NA_real_,
               lack_of_fit_p = NA_real_, intercept = NA_real_)
  if (p < 2 || stats::var(x) == 0) return(none)
  w <- (x - mean(x)) / sum((x - mean(x))^2)
  slope <- sum(w * y)
  intercept <- mean(y) - slope * mean(x)
  e <- y - intercept - slope * x
  df <- p - 2
  if (all(is.finite(v)) && all(v > 0)) {
    se <- sqrt(sum(w^2 * v))
    x2 <- sum(e^2 / v)
    lof <- if (df > 0) stats::pchisq(x2, df, lower.tail = FALSE) else NA_real_
    inflate <- df > 0 && x2 / df > 1
    if (inflate) se <- se * sqrt(x2 / df)
    q <- if (inflate) stats::qt((1 + level) / 2, df) else stats::qnorm((1 + level) / 2)
  } else if (df > 0) {
    se <- sqrt(sum(e^2) / df * sum(w^2))
    lof <- NA_real_
    q <- stats::qt((1 + level) / 2, df)
  } else {
    none$slope <- slope
    none$intercept <- intercept
    return(none)
  }
  list(slope = slope, se = se, lower = slope - q * se, upper = slope + q * se,
       lack_of_fit_p = lof, intercept = intercept)
}

#' @rdname rate_slopes
#' @param x A `rate_slopes` object.
#' @param digits Significant digits.
#' @param ... Unused.
#' @export
print.rate_slopes <- function(x, digits = 4, ...) {
  columns <- c("metric", "slope", "lower", "upper", "theory", "points", "n_min", "n_max",
               "lack_of_fit_p")
  if (!all(columns %in% names(x))) {
    # a subset of the columns: no longer a full table of slopes
    print(as.data.frame(unclass(x), stringsAsFactors = FALSE), digits = digits, ...)
    return(invisible(x))
  }
  level <- attr(x, "level")
  shown <- data.frame(metric = x$metric,
                      slope = format(round(x$slope, digits)),
                      ci = sprintf("[%s, %s]", format(round(x$lower, digits)),
                                   format(round(x$upper, digits))),
                      theory = format(round(x$theory, digits)),
                      points = x$points,
                      n = sprintf("%s-%s", format(x$n_min), format(x$n_max)),
                      lack_of_fit_p = format(signif(x$lack_of_fit_p, 2)),
                      stringsAsFactors = FALSE)
  names(shown)[3] <- sprintf("%g%% CI", 100 * level)
  print(shown, row.names = FALSE, right = FALSE)
  invisible(x)
}
