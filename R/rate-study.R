#' Run a convergence-rate study
#'
#' The general engine behind [gmoe_study()]: for every sample size in `n` and
#' every replication, simulate a data set, fit it and measure the fit. All
#' (sample size, replication) runs go through the future framework
#' ([future.apply::future_lapply()]), so the study runs on whatever
#' [future::plan()] is set: sequentially, on a laptop's cores
#' (`plan(multisession)`), or on a cluster.
#'
#' **Reproducibility.** Each run gets its own L'Ecuyer-CMRG random-number
#' stream, derived from `seed` and the run's position in the design
#' (replication-major, so a study with more replications extends one with
#' fewer). The results are therefore identical whatever the plan and the
#' number of workers, and identical between an interrupted-and-resumed study
#' and an uninterrupted one. The caller's random-number state is left as it
#' was, apart from the one draw that makes `seed` when it is `NULL`.
#'
#' **Progress** is reported through progressr: wrap the call in
#' [progressr::with_progress()] or set `progressr::handlers(global = TRUE)`
#' to see it.
#'
#' **Checkpoints.** With `checkpoint = "dir"`, every run is saved to `dir` as
#' soon as it finishes (by the worker, with an atomic rename), together with a
#' record of the design: `n`, `reps`, `seed` and the code of `simulate`,
#' `fit` and `metrics` with the values of the variables they enclose. A rerun
#' with the same arguments and the same directory loads what was saved and
#' runs only what is missing; a directory holding a different study is
#' refused.
#'
#' **Failures.** An error in `simulate`, `fit` or `metrics` on one run is
#' recorded (in `$runs`, with its message) and the study goes on; the failed
#' runs are reported by a warning and left out of the results. A `metrics`
#' function that returns something other than named numbers, or different
#' names on different runs, is a mistake in the study and stops it with an
#' error.
#'
#' @param simulate `function(n)` returning one data set of size `n`.
#' @param fit `function(data, n)` fitting one data set.
#' @param metrics `function(fit, n)` returning a named numeric vector (the
#'   same names on every run): losses, parameter errors, iteration counts...
#' @param n Sample sizes: whole numbers >= 1. Repeated values are allowed
#'   (the published GMoE grid holds 500 twice); each entry is a separate
#'   point of the design, numbered by `n_index`.
#' @param reps Replications per sample size, a whole number >= 1.
#' @param seed A single whole number: the seed of the study. `NULL` draws one
#'   from R's generator, so [set.seed()] before the call reproduces the
#'   study; give it explicitly when using a checkpoint.
#' @param checkpoint `NULL`, or a directory in which each finished run is
#'   saved and from which a rerun resumes.
#' @param theory Optional named numeric vector: the slope the theory predicts
#'   for each metric (of the metric against \eqn{n} on log-log scale), used
#'   by [rate_slopes()] and the plots. Metrics not named get `NA`.
#' @param labels Optional named character vector: a readable name for each
#'   metric (for example `c(error = "|mean - mu|")`), used on the axes of
#'   the plots. Metrics not named are labelled by their name.
#' @param verbose If `TRUE`, say through [message()] how many runs were found
#'   in the checkpoint and how many failed.
#' @return An object of class `rate_study`, a list with
#'   \describe{
#'     \item{`results`}{a long data frame with columns `n_index`, `n`,
#'       `rep`, `metric`, `value`, one row per run and metric, ordered by
#'       `n_index`, `rep` and metric;}
#'     \item{`runs`}{a data frame with one row per run: `n_index`, `n`,
#'       `rep`, `status` (`"ok"` or `"failed"`), `seconds` (elapsed time of
#'       the run), `message` (the error of a failed run);}
#'     \item{`design`}{`n`, `reps`, `seed`, the metric names, `theory` and
#'       `labels`.}
#'   }
#'   `summary()` of a study returns a list with the `study`, `means` (a data
#'   frame with the mean, standard deviation and number of replications of
#'   each metric at each design point: `metric`, `n_index`, `n`, `mean`,
#'   `sd`, `reps`) and `slopes` ([rate_slopes()]); `as.data.frame()` returns
#'   `results`.
#' @seealso [rate_slopes()], [plot.rate_study()], [gmoe_study()],
#'   [as_rate_study()].
#' @examples
#' # a toy study: the error of the sample mean falls like n^(-1/2)
#' study <- rate_study(
#'   simulate = function(n) rnorm(n, mean = 1),
#'   fit = function(data, n) mean(data),
#'   metrics = function(fit, n) c(error = abs(fit - 1)),
#'   n = c(100, 400, 1600, 6400), reps = 20, seed = 1,
#'   theory = c(error = -0.5))
#' study
#' rate_slopes(study)
#' \donttest{
#' # the same study on two local workers gives identical results
#' oplan <- future::plan(future::multisession, workers = 2)
#' again <- rate_study(
#'   simulate = function(n) rnorm(n, mean = 1),
#'   fit = function(data, n) mean(data),
#'   metrics = function(fit, n) c(error = abs(fit - 1)),
#'   n = c(100, 400, 1600, 6400), reps = 20, seed = 1,
#'   theory = c(error = -0.5))
#' future::plan(oplan)
#' identical(study$results, again$results)
#' }
#' @export
rate_study <- function(simulate, fit, metrics, n, reps, seed = NULL,
                       checkpoint = NULL, theory = NULL, labels = NULL,
                       verbose = FALSE) {
  check_function(simulate, "simulate", 1)
  check_function(fit, "fit", 2)
  check_function(metrics, "metrics", 2)
  n <- check_sizes(n)
  reps <- check_count(reps, "reps")
  check_flag(verbose, "verbose")
  theory <- check_theory(theory)
  labels <- check_labels(labels)
  if (is.null(seed)) {
    seed <- sample.int(.Machine$integer.max, 1)
  } else {
    seed <- check_count(seed, "seed", min = 0)
  }
  if (!is.null(checkpoint) &&
      (!is.character(checkpoint) || length(checkpoint) != 1 || is.na(checkpoint) ||
       !nzchar(checkpoint))) {
    stop_arg("checkpoint", "must be NULL or the path of a directory.")
  }

  design <- expand.grid(n_index = seq_along(n), rep = seq_len(reps))
  design$n <- n[design$n_index]
  seeds <- run_seeds(seed, nrow(design))
  done <- vector("list", nrow(design))
  if (!is.null(checkpoint)) {
    open_checkpoint(checkpoint, list(
      n = n, reps = reps, seed = seed,
      code = fingerprint(list(simulate = simulate, fit = fit, metrics = metrics))))
    done <- lapply(seq_len(nrow(design)), function(i) {
      read_checkpoint(checkpoint, design$n_index[i], design$rep[i])
    })
  }
  todo <- which(vapply(done, is.null, logical(1)))
  if (verbose && !is.null(checkpoint)) {
    message(sprintf("checkpoint %s: %d of %d runs already done", checkpoint,
                    nrow(design) - length(todo), nrow(design)))
  }
  if (length(todo)) {
    done[todo] <- run_design(design[todo, , drop = FALSE], seeds[todo],
                             simulate, fit, metrics, checkpoint)
  }
  new_rate_study(done, n, reps, seed, theory, labels, verbose)
}

check_function <- function(f, arg, nargs) {
  if (!is.function(f)) {
    stop_arg(arg, "must be a function, not ", class(f)[1], ".")
  }
  formals_ok <- is.primitive(f) || "..." %in% names(formals(f)) ||
    length(formals(f)) >= nargs
  if (!formals_ok) {
    stop_arg(arg, "must be a function of ", nargs, " argument(s).")
  }
  f
}

check_sizes <- function(n, arg = "n") {
  if (!is.numeric(n) || length(n) == 0 || any(!is.finite(n)) ||
      any(n < 1) || any(n != round(n)) || any(n > .Machine$integer.max)) {
    stop_arg(arg, "must be a vector of whole numbers >= 1.")
  }
  as.integer(n)
}

check_labels <- function(labels) {
  if (is.null(labels)) return(stats::setNames(character(0), character(0)))
  if (!is.character(labels) || is.null(names(labels)) || anyNA(labels) ||
      any(!nzchar(names(labels))) || anyDuplicated(names(labels))) {
    stop_arg("labels", "must be NULL or a character vector named by metric.")
  }
  labels
}

# Axis labels of every metric: the given label, or the metric's name.
full_labels <- function(labels, metric_names) {
  out <- stats::setNames(metric_names, metric_names)
  known <- intersect(names(labels), metric_names)
  out[known] <- labels[known]
  out
}

check_theory <- function(theory) {
  if (is.null(theory)) return(stats::setNames(numeric(0), character(0)))
  if (!is.numeric(theory) || is.null(names(theory)) || any(!nzchar(names(theory))) ||
      anyDuplicated(names(theory))) {
    stop_arg("theory", "must be NULL or a numeric vector named by metric.")
  }
  theory
}

# One L'Ecuyer-CMRG stream per run, in design order, from the study's seed;
# the caller's generator is restored afterwards.
run_seeds <- function(seed, count) {
  with_rng_restored({
    set.seed(seed, kind = "L'Ecuyer-CMRG")
    s <- get(".Random.seed", envir = globalenv())
    lapply(seq_len(count), function(i) s <<- parallel::nextRNGStream(s))
  })
}

with_rng_restored <- function(expr) {
  kind <- RNGkind()
  had_seed <- exists(".Random.seed", envir = globalenv(), inherits = FALSE)
  if (had_seed) old <- get(".Random.seed", envir = globalenv())
  on.exit({
    RNGkind(kind[1], kind[2], kind[3])
    if (had_seed) {
      assign(".Random.seed", old, envir = globalenv())
    } else if (exists(".Random.seed", envir = globalenv(), inherits = FALSE)) {
      rm(".Random.seed", envir = globalenv())
    }
  })
  expr
}

run_design <- function(design, seeds, simulate, fit, metrics, checkpoint) {
  progress <- progressr::progressor(steps = nrow(design))
  tasks <- lapply(seq_len(nrow(design)), function(i) as.list(design[i, ]))
  with_rng_restored(future.apply::future_lapply(
    tasks, run_one, simulate = simulate, fit = fit, metrics = metrics,
    checkpoint = checkpoint, progress = progress,
    future.seed = seeds, future.packages = "moerates"))
}

# One run of the design, on a worker: errors in the user's functions are
# recorded, not raised, so one failing replication loses nothing else.
run_one <- function(task, simulate, fit, metrics, checkpoint, progress) {
  started <- proc.time()[["elapsed"]]
  out <- tryCatch({
    data <- simulate(task$n)
    fitted <- fit(data, task$n)
    value <- metrics(fitted, task$n)
    list(status = "ok", value = value, message = NA_character_)
  }, error = function(e) {
    list(status = "failed", value = NULL, message = conditionMessage(e))
  })
  out$problem <- if (out$status == "ok") metrics_problem(out$value) else NA_character_
  if (out$status == "ok" && is.na(out$problem)) {
    out$value <- stats::setNames(as.double(out$value), names(out$value))
  }
  out <- c(task[c("n_index", "n", "rep")], out,
           seconds = proc.time()[["elapsed"]] - started)
  if (!is.null(checkpoint) && is.na(out$problem)) {
    write_checkpoint(checkpoint, out)
  }
  progress(sprintf("n = %d, replication %d", task$n, task$rep))
  out
}

metrics_problem <- function(value) {
  if (!is.numeric(value) || !is.null(dim(value))) {
    return(paste0("returned ", class(value)[1], ", not a named numeric vector"))
  }
  nm <- names(value)
  if (length(value) == 0) return("returned an empty vector")
  if (is.null(nm) || any(is.na(nm) | !nzchar(nm))) return("returned unnamed values")
  if (anyDuplicated(nm)) return("returned duplicated names")
  NA_character_
}

new_rate_study <- function(done, n, reps, seed, theory, labels, verbose) {
  status <- vapply(done, `[[`, character(1), "status")
  problem <- vapply(done, `[[`, character(1), "problem")
  bad <- which(!is.na(problem))
  if (length(bad)) {
    first <- done[[bad[1]]]
    stop_arg("metrics", sprintf(
      "must return a named numeric vector, but %s (n = %d, replication %d).",
      first$problem, first$n, first$rep))
  }
  ok <- which(status == "ok")
  metric_names <- if (length(ok)) names(done[[ok[1]]]$value) else character(0)
  for (i in ok) {
    if (!identical(names(done[[i]]$value), metric_names)) {
      stop_arg("metrics", sprintf(
        "must return the same names on every run: (%s) at n = %d, replication %d but (%s) at n = %d, replication %d.",
        paste(metric_names, collapse = ", "), done[[ok[1]]]$n, done[[ok[1]]]$rep,
        paste(names(done[[i]]$value), collapse = ", "), done[[i]]$n, done[[i]]$rep))
    }
  }
  field <- function(name, type) vapply(done, `[[`, type, name)
  runs <- data.frame(n_index = field("n_index", integer(1)), n = field("n", integer(1)),
                     rep = field("rep", integer(1)), status = status,
                     seconds = field("seconds", numeric(1)),
                     message = field("message", character(1)),
                     stringsAsFactors = FALSE)
  ord <- order(runs$n_index, runs$rep)
  runs <- runs[ord, ]
  rownames(runs) <- NULL
  ok <- ord[status[ord] == "ok"]
  m <- length(metric_names)
  results <- data.frame(
    n_index = rep(runs$n_index[runs$status == "ok"], each = m),
    n = rep(runs$n[runs$status == "ok"], each = m),
    rep = rep(runs$rep[runs$status == "ok"], each = m),
    metric = rep(metric_names, length(ok)),
    value = unlist(lapply(done[ok], `[[`, "value"), use.names = FALSE),
    stringsAsFactors = FALSE)
  failed <- runs$status == "failed"
  if (any(failed)) {
    warning(sprintf("%d of %d runs failed and are left out of the results; the first (n = %d, replication %d): %s. See `$runs`.",
                    sum(failed), nrow(runs), runs$n[failed][1], runs$rep[failed][1],
                    runs$message[failed][1]), call. = FALSE)
  }
  if (verbose) message(sprintf("%d runs done, %d failed", nrow(runs), sum(failed)))
  structure(list(results = results, runs = runs,
                 design = list(n = n, reps = reps, seed = seed,
                               metrics = metric_names,
                               theory = full_theory(theory, metric_names),
                               labels = full_labels(labels, metric_names))),
            class = "rate_study")
}

full_theory <- function(theory, metric_names) {
  out <- stats::setNames(rep(NA_real_, length(metric_names)), metric_names)
  known <- intersect(names(theory), metric_names)
  out[known] <- theory[known]
  out
}

#' Turn a table of results into a rate study
#'
#' Builds a `rate_study` object from results computed elsewhere (for
#' example the published losses of a simulation study), so that
#' [rate_slopes()], [summary()][summary.rate_study] and
#' [plot()][plot.rate_study] can be used on them.
#'
#' @param x A data frame with columns `n`, `rep`, `metric` and `value`, and
#'   optionally `n_index` (needed when the same sample size appears as two
#'   points of the design; otherwise each distinct `n` is one point).
#' @param theory,labels Optional named numeric vector of theoretical slopes
#'   and named character vector of metric labels, as in [rate_study()].
#' @param ... Unused.
#' @return A `rate_study` object whose `runs` have `seconds = NA`.
#' @examples
#' set.seed(1)
#' n <- rep(c(100, 1000, 10000), each = 10)
#' x <- data.frame(n = n, rep = rep(1:10, 3), metric = "error",
#'                 value = abs(rnorm(30)) / sqrt(n))
#' rate_slopes(as_rate_study(x, theory = c(error = -0.5)))
#' @export
as_rate_study <- function(x, ...) UseMethod("as_rate_study")

#' @rdname as_rate_study
#' @export
as_rate_study.rate_study <- function(x, ...) x

#' @rdname as_rate_study
#' @export
as_rate_study.data.frame <- function(x, theory = NULL, labels = NULL, ...) {
  check_dots_empty(...)
  need <- c("n", "rep", "metric", "value")
  if (!all(need %in% names(x))) {
    stop_arg("x", "must have columns ", paste(need, collapse = ", "),
             "; missing: ", paste(setdiff(need, names(x)), collapse = ", "), ".")
  }
  if (!is.numeric(x$value)) stop_arg("x", "must have a numeric `value` column.")
  n <- check_sizes(x$n, "x$n")
  n_index <- if ("n_index" %in% names(x)) {
    check_sizes(x$n_index, "x$n_index")
  } else {
    match(n, sort(unique(n)))
  }
  grid <- n[match(seq_len(max(n_index)), n_index)]
  if (anyNA(grid) || any(n != grid[n_index])) {
    stop_arg("x", "must have one sample size per `n_index`, numbered 1, 2, ... without gaps.")
  }
  reps <- check_sizes(x$rep, "x$rep")
  metric <- as.character(x$metric)
  metric_names <- unique(metric)
  results <- data.frame(n_index = n_index, n = n, rep = reps, metric = metric,
                        value = as.double(x$value), stringsAsFactors = FALSE)
  results <- results[order(results$n_index, results$rep,
                           match(results$metric, metric_names)), ]
  rownames(results) <- NULL
  runs <- unique(results[c("n_index", "n", "rep")])
  rownames(runs) <- NULL
  runs$status <- "ok"
  runs$seconds <- NA_real_
  runs$message <- NA_character_
  structure(list(results = results, runs = runs,
                 design = list(n = grid, reps = max(reps), seed = NA_integer_,
                               metrics = metric_names,
                               theory = full_theory(check_theory(theory), metric_names),
                               labels = full_labels(check_labels(labels), metric_names))),
            class = "rate_study")
}

#' @rdname rate_study
#' @param x,object A `rate_study` object.
#' @param ... Unused.
#' @export
print.rate_study <- function(x, ...) {
  runs <- x$runs
  cat(sprintf("Rate study: %d sample sizes (%d to %d) x %d replications = %d runs\n",
              length(x$design$n), min(x$design$n), max(x$design$n),
              x$design$reps, nrow(runs)))
  failed <- sum(runs$status == "failed")
  cat(sprintf("  %d done, %d failed%s\n", sum(runs$status == "ok"), failed,
              if (failed) " (see $runs)" else ""))
  if (!is.na(x$design$seed)) cat(sprintf("  seed %d\n", x$design$seed))
  cat(sprintf("  metrics: %s\n", paste(x$design$metrics, collapse = ", ")))
  if (any(!is.na(runs$seconds))) {
    cat(sprintf("  time per run: median %.3g s, total %.3g s\n",
                stats::median(runs$seconds), sum(runs$seconds)))
  }
  invisible(x)
}

#' @rdname rate_study
#' @param row.names,optional Ignored; part of the generic.
#' @export
as.data.frame.rate_study <- function(x, row.names = NULL, optional = FALSE, ...) {
  x$results
}

#' @rdname rate_study
#' @export
summary.rate_study <- function(object, ...) {
  structure(list(study = object,
                 means = rate_means(object),
                 slopes = rate_slopes(object)),
            class = "summary.rate_study")
}

#' @export
print.summary.rate_study <- function(x, digits = max(3L, getOption("digits") - 3L), ...) {
  print(x$study)
  cat("\nSlopes of log(mean) on log(n):\n")
  print(x$slopes, digits = digits)
  invisible(x)
}

# Mean, standard deviation and replication count of each metric at each
# point of the design, ignoring NA values, with the delta-method variance of
# the log mean, var_log = sd^2 / (reps * mean^2).
rate_means <- function(study, metrics = NULL) {
  res <- study$results
  if (!is.null(metrics)) res <- res[res$metric %in% metrics, ]
  res <- res[is.finite(res$value), ]
  key <- interaction(res$metric, res$n_index, drop = TRUE, lex.order = TRUE)
  groups <- split(res, key)
  out <- do.call(rbind, lapply(groups, function(g) {
    data.frame(metric = g$metric[1], n_index = g$n_index[1], n = g$n[1],
               mean = mean(g$value), sd = if (nrow(g) > 1) stats::sd(g$value) else NA_real_,
               reps = nrow(g), stringsAsFactors = FALSE)
  }))
  if (is.null(out)) {
    out <- data.frame(metric = character(0), n_index = integer(0), n = integer(0),
                      mean = numeric(0), sd = numeric(0), reps = integer(0))
  }
  out <- out[order(match(out$metric, study$design$metrics), out$n_index), ]
  out$var_log <- out$sd^2 / (out$reps * out$mean^2)
  rownames(out) <- NULL
  out
}
