#' Convergence slopes of a rate study
#'
#' For each metric, the least-squares slope of \eqn{\log} (summary over
#' replications) on \eqn{\log n}, with a confidence interval that accounts
#' for the spread of the replications. The published figures use the mean
#' (`summary = "mean"`, the default); the median and the trimmed mean are
#' robust to a few replications far from the others, which a mean of
#' losses raised to high powers can be carried by.
#'
#' **The mean.** The mean \eqn{\bar m_i} at design point \eqn{i} has, by the
#' delta method,
#' \eqn{\mathrm{Var}(\log \bar m_i) \approx v_i = s_i^2 / (R_i \bar m_i^2)}{Var(log mean_i) ~ v_i = s_i^2 / (R_i mean_i^2)},
#' with \eqn{s_i} the standard deviation of the \eqn{R_i} replications.
#'
#' **The median and the trimmed mean** (`summary = "median"` or
#' `"trimmed"`, the mean of the replications left when the fraction `trim`
#' is cut from each end, as `mean(x, trim = trim)`). Their \eqn{v_i} is a
#' bootstrap over replications: the \eqn{R_i} replications of point \eqn{i}
#' are resampled with replacement `bootstrap` times and \eqn{v_i} is the
#' variance of the log summary over the resamples (infinite when a
#' resample's summary is not positive). The resamples come from
#' L'Ecuyer-CMRG streams seeded by `seed`, one stream per design point, so
#' the intervals are reproducible, do not depend on which metrics or sample
#' sizes are asked for, and leave the caller's random-number state as it
#' was; another `seed` shows how much they move with the resampling.
#'
#' **The slope and its interval.** The slope is a linear combination
#' \eqn{\sum_i w_i \log \bar m_i}{sum_i w_i log m_i} of the log summaries, so
#' its standard error is \eqn{\sqrt{\sum_i w_i^2 v_i}}{sqrt(sum_i w_i^2 v_i)}.
#' A straight line may not describe the points (a rate with log factors, or
#' sample sizes not yet in the asymptotic regime): the lack of fit is
#' measured by \eqn{X^2 = \sum_i e_i^2 / v_i}{X^2 = sum_i e_i^2 / v_i} on
#' \eqn{p - 2} degrees of freedom (\eqn{e_i} the residuals, \eqn{p} the
#' number of points), and when \eqn{X^2 / (p - 2) > 1} the standard error is
#' inflated by \eqn{\sqrt{X^2 / (p - 2)}}{sqrt(X^2 / (p - 2))} and the
#' interval uses the \eqn{t} distribution, as in quasi-likelihood. With a
#' single replication per point, or a \eqn{v_i} that is not finite and
#' positive, the ordinary least-squares standard error is used.
#'
#' **Dominated points.** A design point is *dominated* when it has at least
#' three replications, their values are \eqn{\ge 0}, and the largest is
#' more than half of their sum (larger than all the others together): the
#' mean there is mostly one replication's value. `dominated` counts these
#' points among those a slope uses, whatever the summary; the print method
#' (and so [summary()][summary.rate_study] of a study) shows the count when
#' some are dominated and lists the first of them, and the figures
#' ([plot.rate_study()]) ring them. A slope of the mean with dominated points says more about those
#' replications than about the rate; compare it with the median's.
#'
#' Design points whose summary is not positive and finite are left out (a
#' log cannot be taken); `NA` values of a metric (for example the error of
#' an empty Voronoi cell) are left out of its summaries.
#'
#' @param study A [rate_study()] object (or a data frame accepted by
#'   [as_rate_study()]).
#' @param metrics Names of the metrics to use; `NULL` (the default) for all.
#' @param min_n Only sample sizes at or above `min_n` are used; `NULL` uses
#'   all.
#' @param level Confidence level of the interval.
#' @param summary What is summarised over the replications at each sample
#'   size: `"mean"` (as published), `"median"` or `"trimmed"` (trimmed
#'   mean).
#' @param trim For `summary = "trimmed"`: the fraction of the replications
#'   cut from each end, in \eqn{[0, 0.5)}.
#' @param bootstrap For the median and the trimmed mean: the number of
#'   bootstrap resamples per design point.
#' @param seed For the median and the trimmed mean: the seed of the
#'   bootstrap, a whole number.
#' @return A data frame of class `rate_slopes`, one row per metric: `metric`,
#'   `slope`, `se`, `lower`, `upper`, `theory` (the predicted slope, `NA`
#'   where none is known), `points` (number of sample sizes used),
#'   `dominated` (how many of them are dominated by one replication),
#'   `n_min`, `n_max`, `lack_of_fit_p` (p-value of \eqn{X^2}) and
#'   `intercept`. Its attributes hold the `level`, the `summary` (and `trim`,
#'   `bootstrap`, `seed` for the median and the trimmed mean) and
#'   `dominated`, a data frame of the dominated points: `metric`, `n`,
#'   `rep` (the dominating replication) and `share` (its share of the sum).
#' @seealso [rate_study()], [plot.rate_study()]
#' @examples
#' # a known power law, slope -0.5, with log-normal replication noise
#' set.seed(1)
#' n <- rep(round(10^seq(2, 5, length.out = 12)), each = 20)
#' x <- data.frame(n = n, rep = rep(1:20, 12), metric = "loss",
#'                 value = 3 * n^-0.5 * exp(rnorm(length(n), sd = 0.3)))
#' rate_slopes(as_rate_study(x, theory = c(loss = -0.5)))
#'
#' # one replication far off at the three largest sizes carries their means
#' far <- x$n >= 7e4 & x$rep == 1
#' x$value[far] <- x$value[far] * 1000
#' study <- as_rate_study(x, theory = c(loss = -0.5))
#' rate_slopes(study)
#' rate_slopes(study, summary = "median")
#' @export
rate_slopes <- function(study, metrics = NULL, min_n = NULL, level = 0.95,
                        summary = c("mean", "median", "trimmed"), trim = 0.1,
                        bootstrap = 1000, seed = 1) {
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
  robust <- check_summary(summary, trim, bootstrap, seed)

  means <- slope_points(study, metrics, min_n, robust)
  rows <- lapply(metrics, function(m) {
    pts <- means[means$metric == m, ]
    c(list(metric = m), slope_fit(log(pts$n), log(pts$value), pts$var_log, level),
      theory = unname(study$design$theory[m]),
      points = nrow(pts),
      dominated = sum(pts$dominated),
      n_min = if (nrow(pts)) min(pts$n) else NA_real_,
      n_max = if (nrow(pts)) max(pts$n) else NA_real_)
  })
  columns <- c("metric", "slope", "se", "lower", "upper", "theory", "points", "dominated",
               "n_min", "n_max", "lack_of_fit_p", "intercept")
  out <- do.call(rbind, lapply(rows, as.data.frame, stringsAsFactors = FALSE))
  if (is.null(out)) {
    out <- data.frame(metric = character(0), matrix(numeric(0), 0, length(columns) - 1,
                                                    dimnames = list(NULL, columns[-1])))
  }
  out <- out[columns]
  flagged <- means[means$dominated, c("metric", "n", "top_rep", "share")]
  names(flagged)[3] <- "rep"
  rownames(flagged) <- NULL
  attr(out, "level") <- level
  attr(out, "summary") <- robust
  attr(out, "dominated") <- flagged
  class(out) <- c("rate_slopes", "data.frame")
  out
}

# The summary over replications and its settings, checked: a list with
# `summary` and, for the median and the trimmed mean, `trim`, `bootstrap`
# and `seed`.
check_summary <- function(summary, trim, bootstrap, seed) {
  if (!is.character(summary) || !length(summary) %in% c(1, 3) ||
      !all(summary %in% c("mean", "median", "trimmed"))) {
    stop_arg("summary", "must be \"mean\", \"median\" or \"trimmed\".")
  }
  summary <- summary[1]
  trim <- check_numeric(trim, "trim", len = 1)
  if (trim < 0 || trim >= 0.5) stop_arg("trim", "must be in [0, 0.5).")
  bootstrap <- check_count(bootstrap, "bootstrap", min = 2)
  seed <- check_count(seed, "seed", min = 0)
  list(summary = summary, trim = trim, bootstrap = bootstrap, seed = seed)
}

# The design points a slope is fitted to: summaries at n >= min_n that are
# positive, so that their log exists.
slope_points <- function(study, metrics, min_n, robust) {
  pts <- rate_means(study, metrics, robust$summary, robust$trim, robust$bootstrap, robust$seed)
  if (!is.null(min_n)) pts <- pts[pts$n >= min_n, ]
  pts[pts$value > 0, ]
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
  robust <- attr(x, "summary")
  robust_summary <- !is.null(robust) && robust$summary != "mean"
  if (robust_summary) {
    cat(sprintf("Slopes of log(%s) on log(n), bootstrap intervals (%d resamples, seed %d)\n",
                summary_name(robust), robust$bootstrap, robust$seed))
  }
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
  # the count of dominated points shows where there are some, with a list below
  if (any(x$dominated > 0, na.rm = TRUE)) {
    shown <- cbind(shown[1:5], dominated = x$dominated, shown[6:7])
  }
  print(shown, row.names = FALSE, right = FALSE)
  flagged <- attr(x, "dominated")
  if (!is.null(flagged) && nrow(flagged)) {
    first <- utils::head(flagged, 5)
    cat(sprintf(paste0("\n%d design point%s dominated by one replication (more than half ",
                       "the sum):\n  %s%s\n"),
                nrow(flagged), if (nrow(flagged) == 1) " is" else "s are",
                paste(sprintf("%s at n = %s: replication %d, %.0f%%", first$metric,
                              as.character(first$n), first$rep, 100 * first$share),
                      collapse = "\n  "),
                if (nrow(flagged) > 5) sprintf("\n  ... and %d more", nrow(flagged) - 5) else ""))
  }
  invisible(x)
}

# "median", "mean" or "10% trimmed mean", for titles and keys.
summary_name <- function(robust) {
  switch(robust$summary, mean = "mean", median = "median",
         trimmed = sprintf("%g%% trimmed mean", 100 * robust$trim))
}

# A design point is dominated when one of at least three replications is
# larger than all the others together.
dominance_share <- 0.5
dominance_reps <- 3L

# Bootstrap variance of the log median or log trimmed mean of the values v
# of one design point: `bootstrap` resamples of its replications with
# replacement, drawn as indices into the sorted values. The resamples of a
# point come from its own L'Ecuyer-CMRG stream (stream 1, substream
# `n_index` of `seed`), so they depend on nothing but the point and its
# number of replications (the same for every metric with as many, whichever
# metrics and sample sizes are asked for), and the caller's random-number
# state is untouched. The resampled indices, sorted within each resample,
# are kept in `draws` for the other metrics of the point. Inf when some
# resample's summary is not positive (its log does not exist).
point_bootstrap <- function(v, summary, trim, bootstrap, seed, n_index, draws) {
  r <- length(v)
  key <- paste(n_index, r)
  idx <- draws[[key]]
  if (is.null(idx)) {
    idx <- with_rng_restored({
      set.seed(seed, kind = "L'Ecuyer-CMRG", normal.kind = "Inversion",
               sample.kind = "Rejection")
      assign(".Random.seed", .rng_stream_cpp(get(".Random.seed", envir = globalenv()), 1, n_index),
             envir = globalenv())
      sample.int(r, r * bootstrap, replace = TRUE)
    })
    # sorting the indices offset by resample sorts each resample: the offsets
    # keep the resamples apart
    offset <- rep((seq_len(bootstrap) - 1L) * r, each = r)
    idx <- matrix(sort.int(idx + offset, method = "radix") - offset, r)
    draws[[key]] <- idx
  }
  boot <- matrix(sort(v)[idx], r)
  est <- if (summary == "median") {
    (boot[(r + 1) %/% 2, ] + boot[r %/% 2 + 1, ]) / 2
  } else {
    cut <- floor(r * trim)
    colMeans(boot[(cut + 1):(r - cut), , drop = FALSE])
  }
  if (any(est <= 0)) return(Inf)
  stats::var(log(est))
}
