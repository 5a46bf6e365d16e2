#' Reproduce the published study of the sigmoid-gated contaminated MoE
#'
#' Runs the simulations of Yan et al. (2025b, Section 5) on [cmoe_study()]:
#' the distinguishable setting, the non-distinguishable setting (i), and
#' setting (ii) in both readings (as printed, \eqn{\eta^* = -e_1}{eta* = -e1},
#' and as probably meant, \eqn{\eta^* = \eta_0}{eta* = eta0}; see
#' [cmoe_scenario()]). For each it fits every data set by EM from the truth,
#' run to convergence (the paper started near the truth and used BFGS inside
#' the M-step), fits the slope of the log mean error on \eqn{\log n}{log n}
#' with an interval ([rate_slopes()]), and writes
#' \describe{
#'   \item{`gated-slopes.csv`}{one row per setting and parameter: our slope
#'     of the mean error with its interval, the published slope, the theory,
#'     the difference ours minus published, `efficient` (the slope of the
#'     errors of an efficient estimator at the same truths,
#'     [cmoe_efficient_errors()]), `ratio_median` (the median over sizes of
#'     our mean error over the efficient one: near 1 when the fits are the
#'     MLE in its normal regime), `slope_median` (the slope of the median
#'     error, which a few fits cannot dominate) and `at_bound` (the share of
#'     fits with the gate at its bound);}
#'   \item{`gated-<scenario>.png`, `.pdf`}{the errors against \eqn{n} with
#'     the fitted and theoretical lines ([plot.rate_study()]).}
#' }
#' The published design is 40 replications at 20 sample sizes in
#' \eqn{[10^3, 10^5]}; the spacing was not stated, and the default here is
#' log spacing.
#'
#' @param dir Directory for the CSV and the figures (created if needed).
#' @param n Sample sizes.
#' @param reps Replications per sample size.
#' @param scenarios Which gated scenarios of [cmoe_scenario()] to run.
#' @param control A [cmoe_control()] object: converged EM by default.
#' @param seed Seed of the studies (see [rate_study()]).
#' @param checkpoint `NULL` or a directory: each study is checkpointed in
#'   its own subdirectory (see [rate_study()]), so an interrupted
#'   reproduction resumes where it stopped.
#' @param ... Passed to [rate_study()]: `progress`, `verbose`.
#' @return Invisibly, the slopes table written to the CSV, with the studies
#'   in attribute `"studies"` and the efficient errors in `"efficient"`.
#' @references Yan, F., Nguyen, H., Le, D., Akbarian, P., Ho, N. and
#'   Rinaldo, A. (2025b). On minimax estimation of parameters in
#'   softmax-contaminated mixture of experts. NeurIPS 2025, arXiv:2505.18455.
#' @seealso [cmoe_scenario()], [cmoe_study()], [rate_slopes()].
#' @examples
#' \donttest{
#' # a small version: 3 sizes, 2 replications, one setting
#' out <- reproduce_gated_cmoe(tempfile("gated"), n = c(1000, 3000, 10000), reps = 2,
#'                             scenarios = "gated_distinguishable", seed = 1)
#' out[, c("scenario", "metric", "slope", "published", "theory")]
#' }
#' @export
reproduce_gated_cmoe <- function(dir, n = round(10^seq(3, 5, length.out = 20)), reps = 40,
                                 scenarios = names(gated_published_slopes),
                                 control = cmoe_control(), seed = 1, checkpoint = NULL, ...) {
  if (missing(dir) || !is.character(dir) || length(dir) != 1 || is.na(dir)) {
    stop_arg("dir", "must be one directory path for the CSV and the figures.")
  }
  if (!is.character(scenarios) || length(scenarios) == 0 ||
      !all(scenarios %in% names(gated_published_slopes)) || anyDuplicated(scenarios)) {
    stop_arg("scenarios", "must name distinct gated scenarios among ",
             paste0("\"", names(gated_published_slopes), "\"", collapse = ", "), ".")
  }
  control <- check_cmoe_control(control)
  if (!dir.exists(dir) && !dir.create(dir, recursive = TRUE)) {
    stop_arg("dir", "could not be created: ", dir, ".")
  }
  metrics <- c("beta", "exp_tau", "eta", "nu")
  studies <- list()
  efficient <- list()
  rows <- list()
  for (name in scenarios) {
    study <- cmoe_study(name, n = n, reps = reps, control = control, seed = seed,
                        checkpoint = if (!is.null(checkpoint)) file.path(checkpoint, name), ...)
    studies[[name]] <- study
    slopes <- rate_slopes(study, metrics = metrics)
    medians <- rate_slopes(study, metrics = metrics, summary = "median")
    published <- gated_published_slopes[[name]][slopes$metric]
    efficient[[name]] <- cmoe_efficient_errors(study$design$scenario, n, seed = seed)
    versus <- efficient_comparison(study, efficient[[name]], slopes$metric)
    rows[[name]] <- data.frame(scenario = name, metric = slopes$metric, slope = slopes$slope,
                               lower = slopes$lower, upper = slopes$upper,
                               published = unname(published), theory = slopes$theory,
                               difference = slopes$slope - unname(published),
                               efficient = versus$slope, ratio_median = versus$ratio_median,
                               slope_median = medians$slope,
                               at_bound = mean(study$results$value[study$results$metric == "at_bound"]),
                               n_min = slopes$n_min, n_max = slopes$n_max, reps = reps)
    save_figure(file.path(dir, paste0("gated-", name)),
                function() graphics::plot(study, metrics = metrics), width = 10, height = 7.5)
  }
  table <- do.call(rbind, rows)
  rownames(table) <- NULL
  utils::write.csv(table, file.path(dir, "gated-slopes.csv"), row.names = FALSE)
  attr(table, "studies") <- studies
  attr(table, "efficient") <- efficient
  invisible(table)
}

# Per metric, the OLS slope of the efficient errors on log n and the median
# over sizes of the study's mean error over the efficient one.
efficient_comparison <- function(study, efficient, metrics) {
  means <- rate_means(study, metrics)
  out <- lapply(metrics, function(m) {
    eff <- efficient[efficient$metric == m, ]
    ours <- means[means$metric == m, ]
    ratio <- ours$mean[match(eff$n, ours$n)] / eff$value
    c(slope = unname(stats::coef(stats::lm(log(eff$value) ~ log(eff$n)))[2]),
      ratio_median = stats::median(ratio))
  })
  as.data.frame(do.call(rbind, out))
}

# The slopes of Yan et al. (2025b), Section 5: setting (ii)'s published
# numbers stand for both of its readings.
gated_published_slopes <- list(
  gated_distinguishable = c(beta = -0.45, exp_tau = -0.52, eta = -0.50, nu = -0.54),
  gated_merging_eta = c(beta = -0.37, exp_tau = -0.23, eta = -0.39, nu = -0.35),
  gated_merging_nu_printed = c(beta = -0.39, exp_tau = -0.22, eta = -0.37, nu = -0.39),
  gated_merging_nu = c(beta = -0.39, exp_tau = -0.22, eta = -0.37, nu = -0.39))
