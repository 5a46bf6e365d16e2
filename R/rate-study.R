#' Run a convergence-rate study
#'
#' The general engine behind [gmoe_study()] and [cmoe_study()]: for every
#' sample size in `n` and every replication, simulate a data set, fit it and
#' measure the fit. All (sample size, replication) runs go through the future
#' framework ([future.apply::future_lapply()]), so the study runs on whatever
#' [future::plan()] is set: sequentially, on a laptop's cores
#' (`plan(multisession)`), on a cluster or through a batch scheduler.
#'
#' **Your own functions on any plan.** `simulate`, `fit` and `metrics` may
#' read global variables, call helper functions of your own and functions of
#' attached packages: the future framework's globals machinery finds what
#' they use (recursively, through your helpers) and sends it to the workers,
#' and the packages they call are attached there. A global that cannot be
#' sent to another R process (a connection, an external pointer) or that is
#' larger than `getOption("future.globals.maxSize")` is an error that names
#' it, before any run starts.
#'
#' **Reproducibility.** Each run gets its own L'Ecuyer-CMRG random-number
#' stream keyed by the run itself: stream `rep` of the seed, substream keyed
#' by the sample size (and, for a size repeated in `n`, by which repeat it
#' is). So a run's data do not depend on the other runs of the design: the
#' results are identical whatever the plan and the number of workers,
#' between an interrupted-and-resumed study and an uninterrupted one, and a
#' study extended by more replications or more sample sizes keeps the runs
#' it had. The caller's random-number state is left as it was, apart from
#' the one draw that makes `seed` when it is `NULL`.
#'
#' **Progress** goes through progressr. When no global progressr handler is
#' set, the study shows its progress itself, with the handlers of
#' [progressr::handlers()] (a text progress bar unless you chose others):
#' by default (`progress = NULL`) when R is interactive or its standard
#' error is a terminal, as under `Rscript` in a shell, and not when the
#' output goes to a log file; always with `progress = TRUE`. With a global
#' handler (`progressr::handlers(global = TRUE)`) that handler shows it. With
#' `progress = FALSE` progress is only signalled, for your own
#' [progressr::with_progress()].
#'
#' **Checkpoints.** With `checkpoint = "dir"`, every run is saved to `dir` as
#' soon as it finishes (by the worker, written under a temporary name and
#' renamed), with the study's fingerprint and the run's own sample size and
#' replication. The fingerprint covers `seed`, the code of `simulate`, `fit`
#' and `metrics`, the values of the variables they enclose, and the values of
#' the globals they read (from the global environment too), so changing a
#' true parameter held in a global variable makes another study. A rerun
#' with the same study and directory loads what was saved and runs only what
#' is missing, failed runs included (unless `retry_failed = FALSE`); more
#' replications or more sample sizes over an existing checkpoint run only
#' the new runs. A directory that holds another study is refused with an
#' error that says what differs. A run file of another study or another run,
#' or one that cannot be read cleanly, is treated as missing and rerun;
#' workers left over from a killed session cannot write into a directory that
#' a later, different study has taken over. A write that fails (no
#' permission, disk full) stops the study with an error naming the
#' directory.
#'
#' **Failures and warnings.** An error in `simulate`, `fit` or `metrics` on
#' one run is recorded (in `$runs`, with the name of the function that raised
#' it and its message) and the study goes on; the failed runs are reported by
#' one warning and left out of the results. If every run fails, the study is
#' an error. Warnings raised by the functions are recorded with their run (in
#' `$runs$warnings`) and summarised by one warning instead of being repeated.
#' A `metrics` function that returns something other than named numbers, or
#' different names on different runs, is a mistake in the study and stops it
#' with an error.
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
#'   study; it must be given with a checkpoint.
#' @param checkpoint `NULL`, or a directory in which each finished run is
#'   saved and from which a rerun resumes.
#' @param theory Optional named numeric vector: the slope the theory predicts
#'   for each metric (of the metric against \eqn{n} on log-log scale), used
#'   by [rate_slopes()] and the plots. Metrics not named get `NA`.
#' @param labels Optional named character vector: a readable name for each
#'   metric (for example `c(error = "|mean - mu|")`), used on the axes of
#'   the plots. Metrics not named are labelled by their name.
#' @param retry_failed If `TRUE`, runs saved in the checkpoint as failed are
#'   run again; `FALSE` keeps them as failed.
#' @param progress `NULL` (show progress when R is interactive or writes to
#'   a terminal), `TRUE` (always show it) or `FALSE` (only signal it); see
#'   Details. A global progressr handler, when set, shows it instead.
#' @param verbose If `TRUE`, say through [message()] how many runs were found
#'   in the checkpoint and how many failed.
#' @return An object of class `rate_study`, a list with
#'   \describe{
#'     \item{`results`}{a long data frame with columns `n_index`, `n`,
#'       `rep`, `metric`, `value`, one row per run and metric, ordered by
#'       `n_index`, `rep` and metric;}
#'     \item{`runs`}{a data frame with one row per run: `n_index`, `n`,
#'       `rep`, `status` (`"ok"` or `"failed"`), `seconds` (elapsed time of
#'       the run), `message` (the error of a failed run, naming the function
#'       that raised it), `warnings` (the warnings the run raised, `NA` if
#'       none), `kernels` (the code path of the passes over the data on the
#'       worker that ran it, see [gmoe_control()]);}
#'     \item{`design`}{`n`, `reps`, `seed`, the metric names, `theory` and
#'       `labels`.}
#'   }
#'   `summary()` of a study returns a list with the `study`, `means` (a data
#'   frame with the mean, standard deviation, number of replications,
#'   median and 10% trimmed mean of each metric at each design point, and
#'   whether one replication dominates it (see [rate_slopes()]): `metric`,
#'   `n_index`, `n`, `mean`, `sd`, `reps`, `median`, `trimmed`, `share` (the
#'   largest replication's share of the sum), `top_rep` (that replication),
#'   `dominated`, `value` and `var_log` (the mean and the delta-method
#'   variance of its log)) and `slopes` ([rate_slopes()]); `as.data.frame()`
#'   returns `results`.
#' @seealso [rate_slopes()], [plot.rate_study()], [gmoe_study()],
#'   [as_rate_study()].
#' @examples
#' # a toy study: the error of the sample mean falls like n^(-1/2)
#' mu <- 1
#' study <- rate_study(
#'   simulate = function(n) rnorm(n, mean = mu),
#'   fit = function(data, n) mean(data),
#'   metrics = function(fit, n) c(error = abs(fit - mu)),
#'   n = c(100, 400, 1600, 6400), reps = 20, seed = 1,
#'   theory = c(error = -0.5))
#' study
#' rate_slopes(study)
#' \donttest{
#' # the same study on two local workers gives identical results: the global
#' # `mu` is sent to the workers
#' oplan <- future::plan(future::multisession, workers = 2)
#' again <- rate_study(
#'   simulate = function(n) rnorm(n, mean = mu),
#'   fit = function(data, n) mean(data),
#'   metrics = function(fit, n) c(error = abs(fit - mu)),
#'   n = c(100, 400, 1600, 6400), reps = 20, seed = 1,
#'   theory = c(error = -0.5))
#' future::plan(oplan)
#' identical(study$results, again$results)
#' }
#' @export
rate_study <- function(simulate, fit, metrics, n, reps, seed = NULL,
                       checkpoint = NULL, theory = NULL, labels = NULL,
                       retry_failed = TRUE, progress = NULL, verbose = FALSE) {
  functions <- list(simulate = check_function(simulate, "simulate", 1),
                    fit = check_function(fit, "fit", 2),
                    metrics = check_function(metrics, "metrics", 2))
  n <- check_sizes(n)
  reps <- check_count(reps, "reps")
  check_flag(retry_failed, "retry_failed")
  if (is.null(progress)) {
    progress <- interactive() || isatty(stderr())
  } else {
    check_flag(progress, "progress")
  }
  check_flag(verbose, "verbose")
  theory <- check_theory(theory)
  labels <- check_labels(labels)
  if (!is.null(checkpoint) &&
      (!is.character(checkpoint) || length(checkpoint) != 1 || is.na(checkpoint) ||
       !nzchar(checkpoint))) {
    stop_arg("checkpoint", "must be NULL or the path of a directory.")
  }
  if (is.null(seed)) {
    if (!is.null(checkpoint)) {
      stop_arg("seed", "must be given with `checkpoint`, so that a rerun is the same study.")
    }
    seed <- sample.int(.Machine$integer.max, 1)
  } else {
    seed <- check_count(seed, "seed", min = 0)
  }
  globals <- study_globals(functions)
  check_exportable(globals)
  kernels <- check_kernels(getOption("moerates.kernels", "auto"), "options(moerates.kernels)")

  design <- study_design(n, reps)
  done <- vector("list", nrow(design))
  fp <- NULL
  if (!is.null(checkpoint)) {
    fp <- study_fingerprint(seed, functions, globals)
    open_checkpoint(checkpoint, fp)
    done <- lapply(seq_len(nrow(design)), function(i) {
      read_run(checkpoint, design[i, ], fp$id)
    })
    if (retry_failed) {
      failed <- vapply(done, function(r) !is.null(r) && r$status == "failed", logical(1))
      done[failed] <- list(NULL)
    }
  }
  todo <- which(vapply(done, is.null, logical(1)))
  if (verbose && !is.null(checkpoint)) {
    message(sprintf("checkpoint %s: %d of %d runs already done", checkpoint,
                    nrow(design) - length(todo), nrow(design)))
  }
  if (length(todo)) {
    run <- function() {
      run_design(design[todo, , drop = FALSE], study_seeds(seed, design[todo, , drop = FALSE]),
                 functions, checkpoint, fp$id, kernels)
    }
    show <- progress && !isTRUE(progressr::handlers(global = NA))
    done[todo] <- if (show) progressr::with_progress(run(), enable = TRUE) else run()
  }
  done <- lapply(seq_along(done), function(i) {
    utils::modifyList(done[[i]], list(n_index = design$n_index[i]))
  })
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
    stop_arg(arg, "must be a vector of whole numbers between 1 and ",
             .Machine$integer.max, ".")
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

# The runs of a study, replication-major: `occurrence` numbers the repeats of
# a sample size that appears more than once in `n`.
study_design <- function(n, reps) {
  occurrence <- stats::ave(seq_along(n), n, FUN = seq_along)
  if (any(occurrence > max_occurrence)) {
    stop_arg("n", "repeats a sample size more than ", max_occurrence, " times.")
  }
  design <- expand.grid(n_index = seq_along(n), rep = seq_len(reps))
  design$n <- n[design$n_index]
  design$occurrence <- as.integer(occurrence[design$n_index])
  design
}

max_occurrence <- 1024L

# The random-number stream of each run: L'Ecuyer-CMRG stream `rep` of the
# seed, substream keyed by (n, occurrence), so that a run's stream depends
# on nothing but the run (src/rng_streams.h).
study_seeds <- function(seed, design) {
  with_rng_restored({
    set.seed(seed, kind = "L'Ecuyer-CMRG")
    base <- get(".Random.seed", envir = globalenv())
  })
  substream <- (as.double(design$n) - 1) * max_occurrence + (design$occurrence - 1)
  lapply(seq_len(nrow(design)), function(i) {
    .rng_stream_cpp(base, design$rep[i], substream[i])
  })
}

# The stream of one run, for tests and for redoing a run by hand.
run_seed <- function(seed, n, rep, occurrence = 1L) {
  study_seeds(seed, data.frame(n = n, rep = rep, occurrence = occurrence))[[1]]
}

# expr under set.seed(seed), the caller's random-number state kept; with
# seed NULL, expr on the caller's stream.
with_seed <- function(seed, expr) {
  if (is.null(seed)) return(expr)
  with_rng_restored({
    set.seed(seed)
    expr
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

run_design <- function(design, seeds, functions, checkpoint, id, kernels) {
  progress <- progressr::progressor(steps = nrow(design))
  tasks <- lapply(seq_len(nrow(design)), function(i) as.list(design[i, ]))
  runner <- make_runner(functions, checkpoint, id, kernels, progress)
  with_rng_restored(future.apply::future_lapply(
    tasks, runner, future.seed = seeds, future.packages = "moerates"))
}

# The function each worker calls, in an environment that holds only what a
# run needs: the future framework scans it, finds the user's functions and,
# through them, the globals and packages they use.
make_runner <- function(functions, checkpoint, id, kernels, progress) {
  simulate <- functions$simulate
  fit <- functions$fit
  metrics <- functions$metrics
  function(task) run_one(task, simulate, fit, metrics, checkpoint, id, kernels, progress)
}

# One run of the design, on a worker: errors in the user's functions are
# recorded, not raised, so one failing replication loses nothing else, and
# so are their warnings, to be summarised once. The caller's choice of code
# path (options(moerates.kernels)), which workers do not inherit, is set
# for the run, and the path the run took recorded.
run_one <- function(task, simulate, fit, metrics, checkpoint, id, kernels, progress) {
  old <- options(moerates.kernels = kernels)
  on.exit(options(old))
  started <- proc.time()[["elapsed"]]
  stage <- "simulate"
  warnings <- character(0)
  out <- withCallingHandlers(
    tryCatch({
      data <- simulate(task$n)
      stage <- "fit"
      fitted <- fit(data, task$n)
      stage <- "metrics"
      value <- metrics(fitted, task$n)
      list(status = "ok", value = value, message = NA_character_)
    }, error = function(e) {
      list(status = "failed", value = NULL,
           message = sprintf("`%s` raised an error: %s", stage, conditionMessage(e)))
    }),
    warning = function(w) {
      warnings <<- c(warnings, sprintf("`%s`: %s", stage, conditionMessage(w)))
      invokeRestart("muffleWarning")
    })
  out$problem <- if (out$status == "ok") metrics_problem(out$value) else NA_character_
  if (out$status == "ok" && is.na(out$problem)) {
    out$value <- stats::setNames(as.double(out$value), names(out$value))
  }
  out <- c(list(id = id), task[c("n", "occurrence", "rep")], out,
           warnings = if (length(warnings)) paste(unique(warnings), collapse = "\n") else NA_character_,
           seconds = proc.time()[["elapsed"]] - started, kernels = kernel_path(kernels))
  if (!is.null(checkpoint) && is.na(out$problem)) {
    write_run(checkpoint, out)
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
                     warnings = field("warnings", character(1)),
                     kernels = field("kernels", character(1)),
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
  first_of <- function(rows, text) {
    sprintf("the first (n = %d, replication %d): %s", runs$n[rows][1], runs$rep[rows][1],
            sub("[.[:space:]]+$", "", text[rows][1]))
  }
  if (all(failed)) {
    stop(sprintf("every run of the study failed (%d of %d); %s.", sum(failed), nrow(runs),
                 first_of(failed, runs$message)), call. = FALSE)
  }
  if (any(failed)) {
    warning(sprintf("%d of %d runs failed and are left out of the results; %s. See `$runs`.",
                    sum(failed), nrow(runs), first_of(failed, runs$message)), call. = FALSE)
  }
  paths <- table(runs$kernels)
  if (length(paths) > 1) {
    warning(sprintf(paste(
      "the runs of this study took different code paths (%s), so their results agree to",
      "rounding, not bitwise; for identical results on every worker set",
      "options(moerates.kernels = \"portable\") before the study. See `$runs$kernels`."),
      paste(names(paths), paths, sep = ": ", collapse = ", ")), call. = FALSE)
  }
  warned <- !is.na(runs$warnings)
  if (any(warned)) {
    # classed, so that a caller who tables `$runs$warnings` itself can muffle it
    warning(structure(class = c("moerates_run_warnings", "warning", "condition"), list(
      message = sprintf("%d of %d runs raised warnings; %s. See `$runs$warnings`.",
                        sum(warned), nrow(runs), first_of(warned, runs$warnings)),
      call = NULL)))
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
  runs$warnings <- NA_character_
  runs$kernels <- NA_character_
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

# Summaries of each metric at each point of the design, ignoring NA values:
# `mean`, `sd`, `median`, `trimmed` (the mean with the fraction `trim` of the
# replications cut from each end, as mean(x, trim = trim)), `reps`; `value`,
# the summary the slopes use, and `var_log`, the variance of its log: the
# delta method for the mean, sd^2 / (reps * mean^2), and for the median and
# the trimmed mean the variance of the log summary over `bootstrap`
# resamples of the point's replications (see point_bootstrap()). `share` is
# the largest replication's share of the sum (for values >= 0 with a
# positive sum), `top_rep` that replication, and `dominated` flags points
# of at least `dominance_reps` replications where it carries more than
# `dominance_share` of the sum: the mean there is one replication's value.
rate_means <- function(study, metrics = NULL, summary = "mean", trim = 0.1,
                       bootstrap = 1000, seed = 1) {
  res <- study$results
  if (!is.null(metrics)) res <- res[res$metric %in% metrics, ]
  res <- res[is.finite(res$value), ]
  key <- interaction(res$metric, res$n_index, drop = TRUE, lex.order = TRUE)
  groups <- split(res, key)
  draws <- new.env()
  out <- do.call(rbind, lapply(groups, function(g) {
    v <- g$value
    r <- length(v)
    total <- sum(v)
    share <- if (all(v >= 0) && total > 0) max(v) / total else NA_real_
    point <- data.frame(metric = g$metric[1], n_index = g$n_index[1], n = g$n[1],
                        mean = mean(v), sd = if (r > 1) stats::sd(v) else NA_real_,
                        reps = r, median = stats::median(v), trimmed = mean(v, trim = trim),
                        share = share, top_rep = g$rep[which.max(v)],
                        dominated = r >= dominance_reps && isTRUE(share > dominance_share),
                        stringsAsFactors = FALSE)
    point$value <- point[[summary]]
    point$var_log <- if (summary == "mean") {
      point$sd^2 / (r * point$mean^2)
    } else if (r > 1 && point$value > 0) {
      point_bootstrap(v, summary, trim, bootstrap, seed, point$n_index, draws)
    } else {
      NA_real_
    }
    point
  }))
  if (is.null(out)) {
    out <- data.frame(metric = character(0), n_index = integer(0), n = integer(0),
                      mean = numeric(0), sd = numeric(0), reps = integer(0),
                      median = numeric(0), trimmed = numeric(0), share = numeric(0),
                      top_rep = integer(0), dominated = logical(0), value = numeric(0),
                      var_log = numeric(0))
  }
  out <- out[order(match(out$metric, study$design$metrics), out$n_index), ]
  rownames(out) <- NULL
  out
}
