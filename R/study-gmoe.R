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
#' k-means) and measure the fit against the truth.
#'
#' **Metrics** (each with the slope the theory of Nguyen et al. (2024)
#' predicts, read per parameter as explained in [voronoi_loss()]):
#' \describe{
#'   \item{`loss`}{the Voronoi loss of the model's type (Type II when a true
#'     location is zero), theory \eqn{-1/2};}
#'   \item{`weight_j`}{for each true atom \eqn{j}, the error of the summed
#'     weight of its Voronoi cell, theory \eqn{-1/2};}
#'   \item{`c_j`, `Gamma_j`, `a_j`, `b_j`, `nu_j`}{for each true atom
#'     \eqn{j}, the largest error of that parameter over the fitted atoms in
#'     its cell (`NA` when the cell is empty). In a cell of one atom the
#'     theory gives \eqn{-1/2} for all; in an over-fitted cell of \eqn{m}
#'     atoms, with \eqn{r = \bar r(m)}{r = rbar(m)} (or
#'     \eqn{\tilde r(m)}{rtilde(m)} for a Type II cell at \eqn{c^*_j = 0}),
#'     \eqn{-1/(2r)} for \eqn{c} and \eqn{b}, \eqn{-1/r} for \eqn{\Gamma} and
#'     \eqn{\nu}, and \eqn{-1/4} for \eqn{a} (\eqn{-1/r} in a Type II cell at
#'     \eqn{c^*_j = 0}). These are known only when the cell sizes are, that
#'     is when `split` is given (or \eqn{k = k^*}); otherwise they are `NA`;}
#'   \item{`iterations`}{the number of EM iterations (no theory).}
#' }
#' Each metric carries a readable label (such as "max |c - c*| in cell 1")
#' that names it on the axes of [plot.rate_study()].
#' With `split`, the Voronoi cells of a fit are usually those of its start,
#' but EM may move an atom to another cell; the theory attached to a metric
#' is that of the cell size given by `split`.
#'
#' One-step mode (`one_step = TRUE`) is what the published figures show: one
#' EM iteration from the near-truth start. The default runs EM to
#' convergence, which is what the theorems are about. With the same `seed`,
#' the two modes see the same data sets and the same starts.
#'
#' @param model The true model: 1 to 4 for the published models (see
#'   [gmoe_paper_truth()]), or a [gmoe_params()] object.
#' @param k Number of fitted components, at least the number of true atoms.
#' @param n Sample sizes; the published grid [gmoe_paper_n()] by default.
#' @param reps Replications per sample size.
#' @param start `"near_truth"` (the published start, [init_near_truth()])
#'   or `"kmeans"`.
#' @param one_step If `TRUE`, one EM step from the start (the published
#'   procedure); `FALSE` runs EM to convergence under `control`.
#' @param split For `start = "near_truth"`: how many fitted atoms start near
#'   each true atom, e.g. `c(2, 1, 1)`; `NULL` draws it at random in each
#'   replication, as published.
#' @param control A [gmoe_control()] object for the EM; with `one_step =
#'   TRUE` its `max_iter` is set to 1.
#' @param ... Passed to [rate_study()]: `seed`, `checkpoint`, `verbose`.
#' @return A [rate_study()] object; its `design` also holds `model`, `k`,
#'   `type`, `start`, `one_step`, `split` and `truth`.
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
#' # converged EM on the same data and starts
#' conv <- gmoe_study(1, k = 4, n = c(200, 800, 3200), reps = 4,
#'                    split = c(2, 1, 1), seed = 1)
#' rate_slopes(conv, metrics = c("loss", "c_1", "c_2"))
#' }
#' @export
gmoe_study <- function(model, k, n = gmoe_paper_n(), reps = 20,
                       start = c("near_truth", "kmeans"), one_step = FALSE,
                       split = NULL, control = gmoe_control(), ...) {
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
  control <- check_gmoe_control(control)
  if (one_step) control$max_iter <- 1L
  type <- if (any(zero_locations(truth))) "II" else "I"

  run <- gmoe_study_functions(truth, k, type, start, split, control)
  study <- rate_study(run$simulate, run$fit, run$metrics, n = n, reps = reps,
                      theory = gmoe_theory(truth, k, type, split),
                      labels = gmoe_metric_labels(kstar, ncol(truth$c), type), ...)
  study$design <- c(study$design, list(
    model = if (inherits(model, "gmoe_params")) NA_integer_ else as.integer(model),
    k = k, type = type, start = start, one_step = one_step, split = split,
    truth = truth))
  study
}

# The three functions of a GMoE study, built here so that their enclosing
# environment holds exactly the settings that define the study (which the
# checkpoint fingerprints).
gmoe_study_functions <- function(truth, k, type, start, split, control) {
  list(
    simulate = function(n) rgmoe(n, truth),
    fit = function(data, n) {
      init <- if (start == "near_truth") init_near_truth(truth, k, n, split) else "kmeans"
      fit_gmoe(data$x, data$y, k = k, init = init, control = control)
    },
    metrics = function(fit, n) gmoe_metrics(fit, truth, type))
}

gmoe_metrics <- function(fit, truth, type) {
  loss <- voronoi_loss(fit, truth, type = type, detail = TRUE)
  atoms <- loss$atoms
  kstar <- length(truth$pi)
  worst <- function(gap) {
    vapply(seq_len(kstar), function(j) {
      g <- gap[atoms$cell == j]
      if (length(g)) max(g) else NA_real_
    }, numeric(1))
  }
  per_atom <- rbind(c = worst(atoms$dc), Gamma = worst(atoms$dGamma),
                    a = worst(atoms$da), b = worst(atoms$db), nu = worst(atoms$dnu))
  c(stats::setNames(c(loss$total, loss$cells$weight_error, as.vector(per_atom)),
                    gmoe_metric_names(kstar)),
    iterations = fit$iterations)
}

# Names of the loss, cell-weight and per-atom metrics of a GMoE study, in the
# order gmoe_metrics() and gmoe_theory() fill them: per true atom j,
# c_j, Gamma_j, a_j, b_j, nu_j.
gmoe_metric_names <- function(kstar) {
  c("loss", paste0("weight_", seq_len(kstar)),
    paste0(c("c", "Gamma", "a", "b", "nu"), "_", rep(seq_len(kstar), each = 5)))
}

# Axis labels of the metrics of gmoe_metrics(): the per-atom metrics are the
# largest distance over the fitted atoms of a cell, vector norms when d > 1.
gmoe_metric_labels <- function(kstar, d, type) {
  bars <- function(p, vector) {
    if (vector) sprintf("||%s - %s*||", p, p) else sprintf("|%s - %s*|", p, p)
  }
  params <- c("c", "Gamma", "a", "b", "nu")
  per_atom <- vapply(seq_len(kstar), function(j) {
    sprintf("max %s in cell %d", vapply(params, function(p) bars(p, d > 1 && p != "b" && p != "nu"),
                                         character(1)), j)
  }, character(5))
  c(stats::setNames(c(sprintf("Voronoi loss (Type %s)", type),
                      sprintf("weight error of cell %d", seq_len(kstar)),
                      as.vector(per_atom)),
                    gmoe_metric_names(kstar)),
    iterations = "EM iterations")
}

# Predicted slopes of each metric on log-log scale, from the cell sizes
# fixed by `split` (Nguyen et al. 2024, read per parameter).
gmoe_theory <- function(truth, k, type, split) {
  kstar <- length(truth$pi)
  if (is.null(split) && k == kstar) split <- rep(1L, kstar)
  zero_c <- zero_locations(truth)
  per_atom <- vapply(seq_len(kstar), function(j) {
    if (is.null(split)) return(rep(NA_real_, 5))
    m <- split[j]
    if (m == 1) return(rep(-0.5, 5))
    tilde <- type == "II" && zero_c[j]
    r <- if (m >= 4) NA_real_ else if (tilde) rtilde(m) else rbar(m)
    c(-1 / (2 * r), -1 / r, if (tilde) -1 / r else -1 / 4, -1 / (2 * r), -1 / r)
  }, numeric(5))
  stats::setNames(c(-0.5, rep(-0.5, kstar), as.vector(per_atom)), gmoe_metric_names(kstar))
}

#' Reproduce the published GMoE convergence study
#'
#' Runs the eight published configurations (models 1 to 4, \eqn{k = 4, 5})
#' with [gmoe_study()], in one-step mode (the published procedure), with
#' converged EM, or both on the same data and starts; writes one figure per
#' configuration (PNG and PDF: mean Voronoi loss against \eqn{n} on log-log
#' axes with the fitted slope, the theoretical slope and the published one)
#' and one CSV table of slopes.
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
#' @param control A [gmoe_control()] object for converged EM.
#' @param verbose If `TRUE`, report each configuration through [message()].
#' @return Invisibly, a list with `slopes` (the data frame written to
#'   `gmoe-slopes.csv`: `model`, `k`, `type`, `mode`, `slope`, `se`, `lower`,
#'   `upper`, `theory`, `published` (the published one-step slope, `NA` in
#'   converged rows), `points`, `n_min`, `n_max`), `studies`
#'   (the [rate_study()] objects, named like `"model1_k4_one_step"`) and
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
                           control = gmoe_control(), verbose = TRUE) {
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
  files <- character(0)
  for (i in seq_len(nrow(published))) {
    model <- published$model[i]
    k <- published$k[i]
    config <- sprintf("model%d_k%d", model, k)
    for (m in modes) {
      if (verbose) message(sprintf("%s, %s: %d sizes x %d replications", config, m,
                                   length(grid$n), grid$reps))
      cp <- if (is.null(checkpoint)) NULL else file.path(checkpoint, paste0(config, "_", m))
      study <- gmoe_study(model, k, n = grid$n, reps = grid$reps,
                          one_step = m == "one_step", control = control,
                          seed = seed + 10L * model + k, checkpoint = cp)
      studies[[paste0(config, "_", m)]] <- study
      s <- rate_slopes(study, metrics = "loss")
      rows[[length(rows) + 1]] <- data.frame(
        model = model, k = k, type = published$type[i], mode = m,
        slope = s$slope, se = s$se, lower = s$lower, upper = s$upper,
        theory = s$theory,
        published = if (m == "one_step") published$slope[i] else NA_real_, points = s$points,
        n_min = s$n_min, n_max = s$n_max, stringsAsFactors = FALSE)
    }
    figure <- file.path(out_dir, sprintf("gmoe-model%d-k%d", model, k))
    # about 4 x 3.6 inches per panel at 12 points: text as in a paper
    width <- 0.6 + 3.9 * length(modes)
    devices <- list(
      png = function(f) grDevices::png(f, width = width, height = 4.2, units = "in",
                                       res = 150, pointsize = 11),
      pdf = function(f) grDevices::pdf(f, width = width, height = 4.2, pointsize = 11))
    for (ext in names(devices)) {
      devices[[ext]](paste0(figure, ".", ext))
      tryCatch(plot_gmoe_config(studies[paste0(config, "_", modes)], modes, model, k,
                                published$slope[i]),
               finally = grDevices::dev.off())
    }
    files <- c(files, paste0(figure, ".", names(devices)))
  }
  slopes <- do.call(rbind, rows)
  table_file <- file.path(out_dir, "gmoe-slopes.csv")
  utils::write.csv(slopes, table_file, row.names = FALSE)
  if (verbose) message("wrote ", length(files), " figures and ", table_file)
  invisible(list(slopes = slopes, studies = studies, files = c(files, table_file)))
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
