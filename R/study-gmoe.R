#' The published GMoE simulation design
#'
#' `gmoe_paper_n()` is the grid of sample sizes of the published study
#' (Nguyen et al. 2024): 5 values evenly spaced from 100 to 500, then 95 from
#' 500 to \eqn{10^5}, each truncated to an integer (100 values; 500 appears
#' twice). `gmoe_published_slopes()` gives the slopes published for the
#' eight configurations, the least-squares slope of log(mean Voronoi loss
#' over 20 replications) on \eqn{\log n} over that grid.
#'
#' The released code behind the published figures stopped after one EM
#' iteration in every run, so the published slopes are those of one EM step
#' from the near-truth start (see [gmoe_study()] with `one_step = TRUE`).
#'
#' @return `gmoe_paper_n()`: an integer vector of length 100.
#'   `gmoe_published_slopes()`: a data frame with columns `model`, `k`,
#'   `type` (of the Voronoi loss) and `slope`.
#' @references Nguyen, H., Nguyen, T., Nguyen, K. and Ho, N. (2024). Towards
#'   convergence rates for parameter estimation in Gaussian-gated mixture of
#'   experts. AISTATS 2024. arXiv:2305.07572.
#' @seealso [gmoe_study()], [reproduce_gmoe()]
#' @examples
#' head(gmoe_paper_n(), 8)
#' gmoe_published_slopes()
#' @export
gmoe_paper_n <- function() {
  as.integer(c(seq(100, 500, length.out = 5), seq(500, 1e5, length.out = 95)))
}

#' @rdname gmoe_paper_n
#' @export
gmoe_published_slopes <- function() {
  data.frame(model = rep(1:4, each = 2), k = rep(4:5, 4),
             type = rep(c("I", "II", "I", "II"), each = 2),
             slope = c(-0.5055, -0.5046, -0.5045, -0.5045,
                       -0.5119, -0.5166, -0.5021, -0.5045),
             stringsAsFactors = FALSE)
}

#' Rate study of the Gaussian-gated mixture of experts
#'
#' The published simulation study (Nguyen et al. 2024) as a preset of
#' [rate_study()]: for each sample size and replication, simulate from the
#' true model, fit \eqn{k} components by EM from the near-truth start (or by
#' k-means) and from further starts, keep the fit with the highest
#' log-likelihood as the estimate, and measure it against the truth.
#'
#' **Starts and the estimate.** Each data set is fitted from the study's
#' start (`start`) and, with converged EM, from the extra starts of
#' `extra_starts`, in this order: k-means on the standardised data and
#' random partitions (the starts of [fit_gmoe()]), then perturbed truths.
#' A perturbed truth assigns each fitted atom to a true atom \eqn{s}
#' uniformly at random (every true atom gets one at least) with weight
#' \eqn{\pi^*_s} divided by the number of atoms on \eqn{s}; it moves the
#' location by \eqn{N(0, \Gamma^*_s / 4)}{N(0, Gamma*_s / 4)}, the expert's
#' intercept by \eqn{N(0, \nu^*_s / 4)}{N(0, nu*_s / 4)} and its slopes by
#' \eqn{N(0, \nu^*_s \Gamma^{*-1}_s / 4)}{N(0, nu*_s Gamma*_s^-1 / 4)}, and
#' multiplies \eqn{\Gamma^*_s}{Gamma*_s} and \eqn{\nu^*_s}{nu*_s} by
#' \eqn{\exp(N(0, 1/4))}{exp(N(0, 1/4))}: half the model's own spread,
#' whatever \eqn{n}, with every standard normal draw truncated at
#' \eqn{\pm 3}{+-3} so that the start lies within the bounds of
#' [gmoe_bounds_from_truth()]. The estimate is the fit with the highest
#' log-likelihood (the earliest start on ties); a start that fails is
#' recorded (log-likelihood `NA`, a warning naming it) and the others go
#' on. The extra starts draw their random numbers after the data and the
#' study's start, from the run's own stream, so with the same `seed` every
#' run sees the same data set and the same near-truth start whatever
#' `extra_starts` and `one_step` are. The near-truth fit alone is the
#' published procedure: a study with extra starts reports its loss,
#' `loss_start`, next to the estimate's on every run.
#'
#' **Metrics** (each with the slope the theory of Nguyen et al. (2024)
#' predicts, where it predicts one). For each true atom \eqn{j}, the
#' fitted atoms \eqn{i} of its Voronoi cell \eqn{A_j} ([voronoi_cells()])
#' with weights \eqn{\pi_i} and distances \eqn{d_i} to the true atom:
#' \describe{
#'   \item{`loss`}{the Voronoi loss of the model's type (Type II when a true
#'     location is zero), theory \eqn{-1/2};}
#'   \item{`weight_j`}{the error of the summed weight of cell \eqn{j},
#'     theory \eqn{-1/2};}
#'   \item{`loss_j`}{cell \eqn{j}'s term of the loss: the weighted form
#'     \eqn{\sum_{i \in A_j} \pi_i (\Delta c^{r} + \Delta\Gamma^{r/2} +
#'     \Delta a^2 + \Delta b^{r} + \Delta\nu^{r/2})}{sum_{i in A_j} pi_i
#'     (dc^r + dGamma^(r/2) + da^2 + db^r + dnu^(r/2))} the theory bounds in
#'     an over-fitted cell (the linear form in an exactly fitted one, and
#'     \eqn{\Delta a^{r/2}}{da^(r/2)} in a Type II cell at
#'     \eqn{c^*_j = 0}{c*_j = 0}; see [voronoi_loss()]) plus `weight_j`. The
#'     terms of the cells sum to `loss`; each is bounded by it, so theory
#'     \eqn{-1/2};}
#'   \item{`c_j`, `Gamma_j`, `a_j`, `b_j`, `nu_j`}{the weight-adjusted error
#'     of that parameter in cell \eqn{j}, the weighted power mean
#'     \eqn{(\sum_{i \in A_j} \pi_i d_i^p / \sum_{i \in A_j} \pi_i)^{1/p}}{(sum_{i in A_j}
#'     pi_i d_i^p / sum_{i in A_j} pi_i)^(1/p)} with the power \eqn{p} the
#'     loss gives that parameter in the fit's own cell: \eqn{p = r} for
#'     \eqn{c} and \eqn{b}, \eqn{r/2} for \eqn{\Gamma} and \eqn{\nu}, 2 for
#'     \eqn{a} (\eqn{r/2} in a Type II cell at \eqn{c^*_j = 0}), with
#'     \eqn{r = \bar r(m)}{r = rbar(m)} for a cell of \eqn{m \ge 2} atoms,
#'     and \eqn{p = 1} in an exactly fitted cell (`NA` for an empty cell).
#'     The theorem bounds \eqn{\sum_{i} \pi_i d_i^p}{sum_i pi_i d_i^p} by the
#'     loss, \eqn{O(n^{-1/2})}, and the cell's weight tends to
#'     \eqn{\pi^*_j}{pi*_j}, so the theory is \eqn{n^{-1/(2p)}}: \eqn{-1/2} in
#'     an exactly fitted cell; in an over-fitted one \eqn{-1/(2r)} for
#'     \eqn{c} and \eqn{b}, \eqn{-1/r} for \eqn{\Gamma} and \eqn{\nu},
#'     \eqn{-1/4} for \eqn{a} (\eqn{-1/r} in a Type II cell at
#'     \eqn{c^*_j = 0}). An atom whose weight vanishes counts for little
#'     here, as in the theorem, which says nothing of such atoms;}
#'   \item{`max_c_j`, ..., `max_nu_j`}{the largest error of that parameter
#'     over the atoms of cell \eqn{j}, vanishing atoms included (no theory:
#'     an atom whose weight tends to 0 need not converge);}
#'   \item{`size_j`}{the number of fitted atoms in cell \eqn{j} (no theory);}
#'   \item{`iterations`}{the number of EM iterations of the estimate;}
#'   \item{`bound_active`}{1 when the estimate ends on the boundary of its
#'     parameter space (a bound of `control$bounds` active at the end: see
#'     `fit$diagnostics$bounds`), a component collapsed or a step was not
#'     finite ([is_degenerate()]), else 0;}
#'   \item{with extra starts: `loglik_start`, `loglik_kmeans_1`, ...,
#'     `loglik_random_1`, ..., `loglik_perturbed_1`, ...}{the final
#'     log-likelihood from each start;}
#'   \item{`best_start`}{which start gave the estimate, numbered in the
#'     order above (1 is the study's start);}
#'   \item{`gap`}{the estimate's log-likelihood minus that of the fit from
#'     the study's start, \eqn{\ge 0};}
#'   \item{`loss_start`}{the Voronoi loss of the fit from the study's start
#'     (the published procedure), theory \eqn{-1/2}.}
#' }
#' Each metric carries a readable label (such as "weight-adjusted |c - c*|
#' in cell 1") that names it on the axes of [plot.rate_study()].
#'
#' **Cells and their theory.** The powers of every run's metrics are those
#' of the cells of its own estimate, which may differ from the cells of its
#' start. One theory is attached to each metric of the study: that of
#' `split` when it is given, else that of the cell sizes most runs have
#' (ties to the first in order). Printing the study says how many runs have
#' other cells (their sizes are the metrics `size_j`).
#'
#' One-step mode (`one_step = TRUE`) is what the published figures show: one
#' EM step from the near-truth start, with no extra starts. The default runs
#' EM to convergence, which is what the theorems are about. With the same
#' `seed`, the two modes see the same data sets and the same starts.
#'
#' @param model The true model: 1 to 4 for the published models (see
#'   [gmoe_paper_truth()]), or a [gmoe_params()] object.
#' @param k Number of fitted components, at least the number of true atoms.
#' @param n Sample sizes; the published grid [gmoe_paper_n()] by default.
#' @param reps Replications per sample size.
#' @param start The study's start: `"near_truth"` (the published start,
#'   [init_near_truth()]) or `"kmeans"`.
#' @param one_step If `TRUE`, one EM step from the start (the published
#'   procedure); `FALSE` runs EM to convergence under `control`.
#' @param split For `start = "near_truth"`: how many fitted atoms start near
#'   each true atom, e.g. `c(2, 1, 1)`; `NULL` draws it at random in each
#'   replication, as published.
#' @param control A [gmoe_control()] object for the EM of every start; with
#'   `one_step = TRUE` its `max_iter` is set to 1. `NULL` (the default) is
#'   `gmoe_control()` for the one-step procedure (as published) and, for
#'   converged EM, `gmoe_control(bounds = gmoe_bounds_from_truth(truth))`:
#'   the compact parameter space the theory assumes, without which the
#'   likelihood is unbounded and the highest of several starts is often a
#'   degenerate fit. A `control` given here is used as it is.
#' @param extra_starts How many extra starts of each kind fit each data set
#'   besides the study's start: a named vector of whole numbers with names
#'   among `kmeans`, `random` and `perturbed` (missing kinds get 0), or 0 for
#'   none. `NULL` (the default) is `c(kmeans = 1, random = 2, perturbed = 2)`
#'   with converged EM and none with `one_step = TRUE`, which allows none.
#' @param ... Passed to [rate_study()]: `seed`, `checkpoint`, `verbose`,
#'   `progress`.
#' @return A [rate_study()] object of class `gmoe_study`; its `design` also
#'   holds `model`, `k`, `type`, `start`, `one_step`, `split`,
#'   `extra_starts`, `cells` (the cell sizes whose theory is attached) and
#'   `truth`. Printing it adds how the runs were fitted, how often another
#'   start ended higher, how many runs have other cells than those of the
#'   theory, and in how many a bound was active.
#' @references Nguyen, H., Nguyen, T., Nguyen, K. and Ho, N. (2024). Towards
#'   convergence rates for parameter estimation in Gaussian-gated mixture of
#'   experts. AISTATS 2024. arXiv:2305.07572.
#'
#'   Ho, N. and Nguyen, X. (2016). Convergence rates of parameter estimation
#'   for some weakly identifiable finite mixtures. Annals of Statistics
#'   44(6), 2726-2755.
#' @seealso [reproduce_gmoe()], [rate_slopes()], [plot.rate_study()]
#' @examples
#' # a small one-step study of published model 1 with k = 4
#' study <- gmoe_study(1, k = 4, n = c(200, 800, 3200), reps = 4,
#'                     one_step = TRUE, split = c(2, 1, 1), seed = 1)
#' rate_slopes(study, metrics = c("loss", "c_1", "c_2"))
#' \donttest{
#' # converged EM on the same data and near-truth starts, with one extra
#' # start of each kind; the estimate is the highest of the four fits
#' conv <- gmoe_study(1, k = 4, n = c(200, 800, 3200), reps = 4,
#'                    split = c(2, 1, 1), seed = 1,
#'                    extra_starts = c(kmeans = 1, random = 1, perturbed = 1))
#' conv
#' rate_slopes(conv, metrics = c("loss", "loss_start", "c_1", "c_2"))
#' }
#' @export
gmoe_study <- function(model, k, n = gmoe_paper_n(), reps = 20,
                       start = c("near_truth", "kmeans"), one_step = FALSE,
                       split = NULL, control = NULL, extra_starts = NULL, ...) {
  truth <- if (inherits(model, "gmoe_params")) check_gmoe_params(model, "model") else gmoe_paper_truth(model)
  kstar <- length(truth$pi)
  k <- check_count(k, "k")
  if (k < kstar) {
    stop_arg("k", "must be at least the number of true atoms (", kstar, "), not ", k, ".")
  }
  start <- tryCatch(match.arg(start), error = function(e) {
    stop_arg("start", "must be \"near_truth\" or \"kmeans\".")
  })
  check_flag(one_step, "one_step")
  if (!is.null(split)) {
    if (start != "near_truth") stop_arg("split", "is only used with start = \"near_truth\".")
    split <- check_split(split, kstar, k)
  }
  control <- if (is.null(control)) {
    if (one_step) gmoe_control() else gmoe_control(bounds = gmoe_bounds_from_truth(truth))
  } else {
    check_gmoe_control(control)
  }
  if (one_step) control$max_iter <- 1L
  extra_starts <- check_extra_starts(extra_starts, one_step)
  starts <- start_names(extra_starts)
  type <- if (any(zero_locations(truth))) "II" else "I"

  run <- gmoe_study_functions(truth, k, type, start, split, control, starts)
  study <- rate_study(run$simulate, run$fit, run$metrics, n = n, reps = reps,
                      labels = gmoe_metric_labels(kstar, ncol(truth$c), type, start, starts), ...)
  cells <- if (is.null(split)) common_cells(study, kstar) else split
  study$design$theory <- full_theory(gmoe_theory(truth, type, cells), study$design$metrics)
  study$design <- c(study$design, list(
    model = if (inherits(model, "gmoe_params")) NA_integer_ else as.integer(model),
    k = k, type = type, start = start, one_step = one_step, split = split,
    extra_starts = extra_starts, cells = cells, truth = truth))
  class(study) <- c("gmoe_study", class(study))
  study
}

start_kinds <- c("kmeans", "random", "perturbed")

check_extra_starts <- function(extra_starts, one_step) {
  none <- stats::setNames(integer(3), start_kinds)
  if (is.null(extra_starts)) {
    return(if (one_step) none else c(kmeans = 1L, random = 2L, perturbed = 2L))
  }
  ok <- is.numeric(extra_starts) && length(extra_starts) >= 1 &&
    all(is.finite(extra_starts)) && all(extra_starts >= 0) &&
    all(extra_starts == round(extra_starts)) && all(extra_starts <= 1000)
  unnamed_zero <- ok && is.null(names(extra_starts)) && length(extra_starts) == 1 &&
    extra_starts == 0
  named <- ok && !is.null(names(extra_starts)) && all(names(extra_starts) %in% start_kinds) &&
    !anyDuplicated(names(extra_starts))
  if (!unnamed_zero && !named) {
    stop_arg("extra_starts", "must be 0 or a named vector of whole numbers between 0 and 1000 ",
             "with names among \"kmeans\", \"random\" and \"perturbed\", such as ",
             "c(kmeans = 1, random = 2, perturbed = 2).")
  }
  if (named) none[names(extra_starts)] <- as.integer(extra_starts)
  if (one_step && sum(none) > 0) {
    stop_arg("extra_starts", "must be 0 with one_step = TRUE: the published procedure is ",
             "one EM step from the near-truth start alone.")
  }
  none
}

# The names of the starts of every run, in the order they are fitted: the
# study's start, then the extra starts kind by kind.
start_names <- function(extra_starts) {
  c("start", unlist(lapply(start_kinds, function(kind) {
    if (extra_starts[[kind]] > 0) paste0(kind, "_", seq_len(extra_starts[[kind]]))
  })))
}

# The three functions of a GMoE study, built here so that their enclosing
# environment holds exactly the settings that define the study (which the
# checkpoint fingerprints).
gmoe_study_functions <- function(truth, k, type, start, split, control, starts) {
  list(
    simulate = function(n) rgmoe(n, truth),
    fit = function(data, n) {
      init <- if (start == "near_truth") init_near_truth(truth, k, n, split) else "kmeans"
      gmoe_fit_starts(data, init, truth, k, starts, control)
    },
    metrics = function(fit, n) gmoe_metrics(fit, truth, type, starts))
}

# Fits one data set from each start, in the order of `starts`. The extra
# starts draw their random numbers after the data and the study's start,
# so neither depends on them. A failed extra start is recorded as NA with a
# warning, and the warnings of the extra fits name their start.
gmoe_fit_starts <- function(data, init, truth, k, starts, control) {
  fits <- vector("list", length(starts))
  fits[[1]] <- fit_gmoe(data$x, data$y, k = k, init = init, control = control)
  for (s in seq_along(starts)[-1]) {
    kind <- sub("_[0-9]+$", "", starts[s])
    fits[s] <- list(tryCatch(withCallingHandlers({
      from <- if (kind == "perturbed") init_perturbed_truth(truth, k) else kind
      fit_gmoe(data$x, data$y, k = k, init = from, control = control)
    }, warning = function(w) {
      warning(sprintf("start %s: %s", starts[s], conditionMessage(w)), call. = FALSE)
      invokeRestart("muffleWarning")
    }), error = function(e) {
      warning(sprintf("start %s failed: %s", starts[s], conditionMessage(e)), call. = FALSE)
      NULL
    }))
  }
  loglik <- vapply(fits, function(f) if (is.null(f)) NA_real_ else f$loglik, numeric(1))
  list(fits = fits, loglik = loglik, best = which.max(loglik))
}

# A start around the truth at half the model's own spread (see
# ?gmoe_study): per fitted atom, in this order, its location, slopes,
# intercept, gate covariance and expert variance.
init_perturbed_truth <- function(truth, k) {
  kstar <- length(truth$pi)
  repeat {
    atom <- sample.int(kstar, k, replace = TRUE)
    if (all(tabulate(atom, kstar) > 0)) break
  }
  d <- ncol(truth$c)
  c <- truth$c[atom, , drop = FALSE]
  a <- truth$a[atom, , drop = FALSE]
  b <- truth$b[atom]
  Gamma <- truth$Gamma[, , atom, drop = FALSE]
  nu <- truth$nu[atom]
  # Normal draws truncated at 3 keep the start inside the bounds of
  # gmoe_bounds_from_truth() (a variance stays above 0.22 of the truth's).
  z <- function(m) pmin(pmax(stats::rnorm(m), -3), 3)
  for (i in seq_len(k)) {
    root <- chol(Gamma[, , i])
    c[i, ] <- c[i, ] + 0.5 * drop(z(d) %*% root)
    a[i, ] <- a[i, ] + 0.5 * sqrt(nu[i]) * backsolve(root, z(d))
    b[i] <- b[i] + 0.5 * sqrt(nu[i]) * z(1)
    Gamma[, , i] <- Gamma[, , i] * exp(0.5 * z(1))
    nu[i] <- nu[i] * exp(0.5 * z(1))
  }
  pi <- truth$pi[atom] / tabulate(atom, kstar)[atom]
  gmoe_params(pi / sum(pi), c, Gamma, a, b, nu)
}

# Whether the estimate ended on the boundary of its parameter space (a bound
# of fit$diagnostics$bounds active at the end), collapsed or stopped at a
# non-finite step: is_degenerate() decides all three.
bound_active <- function(fit) as.numeric(is_degenerate(fit))

gmoe_metrics <- function(fitted, truth, type, starts) {
  out <- gmoe_fit_metrics(fitted$fits[[fitted$best]], truth, type)
  if (length(starts) == 1) return(out)
  c(out, stats::setNames(fitted$loglik, paste0("loglik_", starts)),
    best_start = fitted$best,
    gap = fitted$loglik[fitted$best] - fitted$loglik[1],
    loss_start = voronoi_loss(fitted$fits[[1]], truth, type = type))
}

# The metrics of one fit, in the order of gmoe_metric_names(): the loss,
# and per cell its weight error, its term of the loss, the weight-adjusted
# and the largest error of each parameter and its size.
gmoe_fit_metrics <- function(fit, truth, type) {
  loss <- voronoi_loss(fit, truth, type = type, detail = TRUE)
  atoms <- loss$atoms
  kstar <- length(truth$pi)
  per_cell <- function(summarise) {
    vapply(gmoe_params_names, function(p) {
      vapply(seq_len(kstar), function(j) {
        in_cell <- atoms$cell == j
        if (!any(in_cell)) return(NA_real_)
        summarise(atoms$pi[in_cell], atoms[[paste0("d", p)]][in_cell],
                  atoms[[paste0("pow_", p)]][in_cell][1])
      }, numeric(1))
    }, numeric(kstar))
  }
  weighted <- per_cell(function(pi, d, p) (sum(pi * d^p) / sum(pi))^(1 / p))
  largest <- per_cell(function(pi, d, p) max(d))
  value <- c(loss$total, loss$cells$weight_error, loss$cells$term,
             as.vector(t(weighted)), as.vector(t(largest)), loss$cells$size,
             fit$iterations, bound_active(fit))
  stats::setNames(value, gmoe_metric_names(kstar))
}

gmoe_params_names <- c("c", "Gamma", "a", "b", "nu")

# Names of the metrics of a GMoE study, in the order gmoe_metrics() fills
# them; per true atom j the per-parameter metrics run c_j, Gamma_j, a_j,
# b_j, nu_j.
gmoe_metric_names <- function(kstar, starts = "start") {
  cells <- seq_len(kstar)
  per_parameter <- function(prefix) {
    paste0(prefix, gmoe_params_names, "_", rep(cells, each = length(gmoe_params_names)))
  }
  c("loss", paste0("weight_", cells), paste0("loss_", cells), per_parameter(""),
    per_parameter("max_"), paste0("size_", cells), "iterations", "bound_active",
    if (length(starts) > 1) c(paste0("loglik_", starts), "best_start", "gap", "loss_start"))
}

# Axis labels of the metrics of a GMoE study: errors are vector norms when
# d > 1.
gmoe_metric_labels <- function(kstar, d, type, start = "near_truth", starts = "start") {
  cells <- seq_len(kstar)
  per_parameter <- function(format) {
    bars <- vapply(gmoe_params_names, function(p) {
      bar <- if (d > 1 && !p %in% c("b", "nu")) "||" else "|"
      sprintf("%s%s - %s*%s", bar, p, p, bar)
    }, character(1))
    as.vector(vapply(cells, function(j) sprintf(format, bars, j), character(length(bars))))
  }
  from <- c(near_truth = "near-truth", kmeans = "k-means")[[start]]
  kind <- c(kmeans = "k-means start", random = "random start", perturbed = "perturbed-truth start")
  extra <- starts[-1]
  c(stats::setNames(c(sprintf("Voronoi loss (Type %s)", type),
                      sprintf("weight error of cell %d", cells),
                      sprintf("loss term of cell %d", cells),
                      per_parameter("weight-adjusted %s in cell %d"),
                      per_parameter("max %s in cell %d, vanishing atoms included"),
                      sprintf("size of cell %d", cells),
                      "EM iterations", "bound active (1 = yes)",
                      if (length(extra)) {
                        c(sprintf("log-likelihood from the %s start", from),
                          sprintf("log-likelihood from %s %s", kind[sub("_[0-9]+$", "", extra)],
                                  sub("^[a-z]+_", "", extra)),
                          "start of the estimate (1 = the study's)",
                          sprintf("log-likelihood gain over the %s fit", from),
                          sprintf("Voronoi loss of the %s fit", from))
                      }),
                    gmoe_metric_names(kstar, starts)))
}

# The labels of studies saved before labels were stored (moerates 0.4.0),
# whose per-parameter metrics c_j, ... were the largest errors in the cell.
gmoe_legacy_labels <- function(kstar, d, type) {
  now <- gmoe_metric_labels(kstar, d, type)
  largest <- grep("^max_", names(now), value = TRUE)
  c(now[c("loss", paste0("weight_", seq_len(kstar)))],
    stats::setNames(sub(", vanishing atoms included$", "", now[largest]),
                    sub("^max_", "", largest)),
    now["iterations"])
}

# Predicted slopes of each metric on log-log scale for the cell sizes
# `cells` (Nguyen et al. 2024): n^(-1/(2p)) for the weight-adjusted error
# with the loss's power p.
gmoe_theory <- function(truth, type, cells) {
  kstar <- length(truth$pi)
  zero_c <- zero_locations(truth)
  per_parameter <- vapply(seq_len(kstar), function(j) {
    m <- cells[j]
    if (m == 0) return(rep(NA_real_, 5))
    if (m == 1) return(rep(-0.5, 5))
    tilde <- type == "II" && zero_c[j]
    r <- if (m >= 4) NA_real_ else if (tilde) rtilde(m) else rbar(m)
    c(-1 / (2 * r), -1 / r, if (tilde) -1 / r else -1 / 4, -1 / (2 * r), -1 / r)
  }, numeric(5))
  cell_names <- seq_len(kstar)
  stats::setNames(c(-0.5, rep(-0.5, 2 * kstar), as.vector(per_parameter), -0.5),
                  c("loss", paste0("weight_", cell_names), paste0("loss_", cell_names),
                    paste0(gmoe_params_names, "_", rep(cell_names, each = 5)), "loss_start"))
}

# The cell sizes of every run's estimate, one row per run (in the order of
# the results); NULL for a study without them.
run_cells <- function(study, kstar) {
  res <- study$results
  sizes <- lapply(seq_len(kstar), function(j) res$value[res$metric == paste0("size_", j)])
  if (!length(sizes[[1]])) return(NULL)
  matrix(unlist(sizes), ncol = kstar)
}

# The cell sizes most runs have; ties go to the first in lexical order.
common_cells <- function(study, kstar) {
  sizes <- run_cells(study, kstar)
  counts <- table(apply(sizes, 1, paste, collapse = " "))
  as.integer(strsplit(names(counts)[which.max(counts)], " ")[[1]])
}

#' @rdname gmoe_study
#' @param x A `gmoe_study` object.
#' @export
print.gmoe_study <- function(x, ...) {
  NextMethod()
  say <- function(...) {
    cat(strwrap(paste0(...), width = max(40, getOption("width") - 2), indent = 2, exdent = 4),
        sep = "\n")
  }
  d <- x$design
  kstar <- length(d$truth$pi)
  from <- c(near_truth = "the near-truth start", kmeans = "k-means")[[d$start]]
  extra <- d$extra_starts
  cat(sprintf("GMoE study: %s, k = %d, Type %s loss\n",
              if (is.na(d$model)) "a user's truth" else sprintf("model %d", d$model), d$k, d$type))
  if (d$one_step) {
    say("one EM step from ", from, " (the published procedure)")
  } else if (sum(extra) == 0) {
    say("converged EM from ", from)
  } else {
    kinds <- c(kmeans = "k-means", random = "random", perturbed = "perturbed-truth")
    say("converged EM from ", from, " and ",
        paste(extra[extra > 0], kinds[names(extra)[extra > 0]], collapse = ", "),
        " start(s); the estimate is the highest")
    gap <- x$results$value[x$results$metric == "gap"]
    say(sprintf("another start ended higher in %d of %d runs ", sum(gap > 0), length(gap)),
        sprintf("(by more than 1 in %d; largest gain %.3g)", sum(gap > 1), max(gap, 0)))
  }
  sizes <- run_cells(x, kstar)
  if (!is.null(sizes)) {
    same <- apply(sizes, 1, function(s) all(s == d$cells))
    say(sprintf("cells of the estimates: %d of %d runs have (%s), ", sum(same), length(same),
                paste(d$cells, collapse = ", ")),
        if (is.null(d$split)) "the cells most runs have" else "the cells of `split`",
        sprintf(", whose theory is attached; %d differ (see size_j)", sum(!same)))
    active <- x$results$value[x$results$metric == "bound_active"]
    say(sprintf("a bound was active in %d of %d runs ", sum(active > 0), length(active)),
        "(the estimate on a bound of its parameter space, or collapsed: see ?is_degenerate)")
  }
  invisible(x)
}

#' Reproduce the published GMoE convergence study
#'
#' Runs the eight published configurations (models 1 to 4, \eqn{k = 4, 5})
#' with [gmoe_study()], in one-step mode (the published procedure), with
#' converged EM (the highest of the fits from the near-truth start and the
#' extra starts), or both on the same data and near-truth starts; writes one
#' figure per configuration (PNG and PDF: mean Voronoi loss against \eqn{n}
#' on log-log axes with the fitted slope, the theoretical slope and the
#' published one) and one CSV table of slopes.
#'
#' Scales: `"quick"` uses 8 sample sizes from 100 to 10,000 and 5
#' replications (under two minutes on two cores with
#' `future::plan(multisession, workers = 2)`); `"paper"` uses the published
#' grid ([gmoe_paper_n()], 100 sizes up to \eqn{10^5}) and 20 replications.
#' The published slopes are from the paper scale; the quick scale shows the
#' same picture with wider intervals.
#'
#' Runs go through the future framework: set a [future::plan()] first to use
#' several cores. With `checkpoint`, each configuration and mode saves its
#' runs under its own subdirectory, and an interrupted reproduction resumes
#' where it stopped.
#'
#' @param scale `"quick"` or `"paper"`.
#' @param mode `"both"`, `"one_step"` or `"converged"`.
#' @param out_dir Directory for the figures and the table (created if
#'   needed).
#' @param seed Seed of the study; configuration \eqn{(m, k)} uses
#'   `seed + 10 * m + k`, and both modes use the same seed.
#' @param checkpoint `NULL` or a directory for checkpoints.
#' @param control A [gmoe_control()] object for converged EM; `NULL` (the
#'   default) gives each configuration the bounds of
#'   [gmoe_bounds_from_truth()], as in [gmoe_study()].
#' @param extra_starts The extra starts of converged EM, as in
#'   [gmoe_study()] (`NULL`: its default); the one-step mode has none.
#' @param verbose If `TRUE`, report each configuration through [message()].
#' @return Invisibly, a list with `slopes` (the data frame written to
#'   `gmoe-slopes.csv`: `model`, `k`, `type`, `mode`, `slope`, `se`, `lower`,
#'   `upper`, `theory`, `published` (the published one-step slope, `NA` in
#'   converged rows), `points`, `n_min`, `n_max`), `studies`
#'   (the [rate_study()] objects, named like `"model1_k4_one_step"`),
#'   `warnings` (one row per warning a run raised: `configuration`, `mode`,
#'   `n`, `rep`, `message`; also written to `gmoe-warnings.csv` when there
#'   are any, and summarised by one warning instead of one per study) and
#'   `files` (the paths written).
#' @seealso [gmoe_study()], [gmoe_published_slopes()]
#' @examples
#' \donttest{
#' out <- reproduce_gmoe("quick", mode = "one_step", out_dir = tempdir())
#' out$slopes
#' }
#' @export
reproduce_gmoe <- function(scale = c("quick", "paper"),
                           mode = c("both", "one_step", "converged"),
                           out_dir = "gmoe-rates", seed = 2024, checkpoint = NULL,
                           control = NULL, extra_starts = NULL, verbose = TRUE) {
  scale <- tryCatch(match.arg(scale), error = function(e) {
    stop_arg("scale", "must be \"quick\" or \"paper\".")
  })
  mode <- tryCatch(match.arg(mode), error = function(e) {
    stop_arg("mode", "must be \"both\", \"one_step\" or \"converged\".")
  })
  if (!is.character(out_dir) || length(out_dir) != 1 || is.na(out_dir)) {
    stop_arg("out_dir", "must be the path of a directory.")
  }
  seed <- check_count(seed, "seed", min = 0)
  check_flag(verbose, "verbose")
  if (!dir.exists(out_dir) && !dir.create(out_dir, recursive = TRUE)) {
    stop_arg("out_dir", "cannot be created: ", out_dir, ".")
  }
  grid <- if (scale == "quick") {
    list(n = as.integer(round(10^seq(2, 4, length.out = 8))), reps = 5L)
  } else {
    list(n = gmoe_paper_n(), reps = 20L)
  }
  modes <- if (mode == "both") c("one_step", "converged") else mode
  published <- gmoe_published_slopes()

  studies <- list()
  rows <- list()
  warning_rows <- list()
  files <- character(0)
  for (i in seq_len(nrow(published))) {
    model <- published$model[i]
    k <- published$k[i]
    config <- sprintf("model%d_k%d", model, k)
    for (m in modes) {
      if (verbose) message(sprintf("%s, %s: %d sizes x %d replications", config, m,
                                   length(grid$n), grid$reps))
      cp <- if (is.null(checkpoint)) NULL else file.path(checkpoint, paste0(config, "_", m))
      t0 <- proc.time()[["elapsed"]]
      # the study's summary of its runs' warnings is replaced by one table
      # over all configurations, with the run each warning came from
      study <- withCallingHandlers(
        gmoe_study(model, k, n = grid$n, reps = grid$reps,
                   one_step = m == "one_step",
                   control = if (m == "converged") control,
                   extra_starts = if (m == "converged") extra_starts,
                   seed = seed + 10L * model + k, checkpoint = cp),
        moerates_run_warnings = function(w) invokeRestart("muffleWarning"))
      studies[[paste0(config, "_", m)]] <- study
      warned <- run_warnings(study, config, m)
      warning_rows[[length(warning_rows) + 1]] <- warned
      if (verbose) {
        message(sprintf("  done in %.0f s%s", proc.time()[["elapsed"]] - t0,
                        if (nrow(warned)) sprintf("; %d run(s) raised warnings", nrow(warned)) else ""))
      }
      s <- rate_slopes(study, metrics = "loss")
      rows[[length(rows) + 1]] <- data.frame(
        model = model, k = k, type = published$type[i], mode = m,
        slope = s$slope, se = s$se, lower = s$lower, upper = s$upper,
        theory = s$theory,
        published = if (m == "one_step") published$slope[i] else NA_real_, points = s$points,
        n_min = s$n_min, n_max = s$n_max, stringsAsFactors = FALSE)
    }
    # about 4 x 3.6 inches per panel at 11 points: text as in a paper
    files <- c(files, save_figure(
      file.path(out_dir, sprintf("gmoe-model%d-k%d", model, k)),
      function() plot_gmoe_config(studies[paste0(config, "_", modes)], modes, model, k,
                                  published$slope[i]),
      width = 0.6 + 3.9 * length(modes), height = 4.2, pointsize = 11))
  }
  slopes <- do.call(rbind, rows)
  table_file <- file.path(out_dir, "gmoe-slopes.csv")
  utils::write.csv(slopes, table_file, row.names = FALSE)
  files <- c(files, table_file)
  warnings <- do.call(rbind, warning_rows)
  if (nrow(warnings)) {
    warnings_file <- file.path(out_dir, "gmoe-warnings.csv")
    utils::write.csv(warnings, warnings_file, row.names = FALSE)
    files <- c(files, warnings_file)
    first <- warnings[1, ]
    warning(sprintf(paste("%d of %d runs raised %d warning(s) (%d distinct); each is listed with",
                          "its configuration, mode, sample size and replication in `$warnings`",
                          "and %s. The first (%s, %s, n = %d, replication %d): %s"),
                    nrow(unique(warnings[c("configuration", "mode", "n", "rep")])),
                    sum(vapply(studies, function(s) nrow(s$runs), integer(1))),
                    nrow(warnings), length(unique(warnings$message)), warnings_file,
                    first$configuration, first$mode, first$n, first$rep, first$message),
            call. = FALSE)
  }
  if (verbose) message("wrote ", length(files), " files to ", out_dir)
  invisible(list(slopes = slopes, studies = studies, warnings = warnings, files = files))
}

# One row per warning of a study's runs, with the run it came from; a run's
# warnings are joined by newlines in $runs$warnings.
run_warnings <- function(study, config, mode) {
  runs <- study$runs[!is.na(study$runs$warnings), , drop = FALSE]
  messages <- strsplit(runs$warnings, "\n", fixed = FALSE)
  data.frame(configuration = rep(config, sum(lengths(messages))),
             mode = rep(mode, sum(lengths(messages))),
             n = rep(runs$n, lengths(messages)), rep = rep(runs$rep, lengths(messages)),
             message = unlist(messages, use.names = FALSE), stringsAsFactors = FALSE)
}

# The loss of one configuration in each mode, side by side on one y scale;
# the published slope is quoted where it belongs, on the one-step panel.
plot_gmoe_config <- function(studies, modes, model, k, published) {
  titles <- c(one_step = "one EM step", converged = "converged EM")[modes]
  plot_rate_studies(stats::setNames(studies, titles), metrics = "loss",
                    main = sprintf("Model %d, k = %d: %s", model, k, titles),
                    reference = lapply(modes, function(m) {
                      if (m == "one_step") c(published = published)
                    }))
}
