#!/usr/bin/env Rscript
# Rate studies through a real Slurm cluster: future.batchtools's
# batchtools_slurm plan with the job script shipped in the package
# (inst/templates/slurm.tmpl), on the one-node cluster of tools/slurm-up.sh.
#
#   1. the GMoE preset, and
#   2. a user's own study whose functions read a global variable, call a
#      global helper function and a function of an attached package (also
#      through batchtools_custom with the package's batchtools.conf.R),
#      give results identical to plan(sequential), and sacct lists their jobs
#      (each run of the user's study records the SLURM_JOB_ID it ran under,
#      and those are the jobs sacct lists);
#   3. a study with a checkpoint whose Slurm jobs are cancelled (scancel)
#      half-way, in a background R session, resumes from its checkpoint, runs
#      only what is missing, and ends identical to the uninterrupted study.
#
# Usage: Rscript tools/slurm-test.R [--lib DIR] [--out DIR]
#   --lib DIR  library holding the moerates to test (default: R's libraries);
#              the jobs get it through R_LIBS
#   --out DIR  working directory for the studies, logs and counts
#              (default: a new temporary directory)
# Prints every check; ends with "slurm test: N passed, N failed" and writes
# "N N" to OUT/counts. Exits non-zero when a check failed or the test could
# not run (no cluster is a failure, not a skip).

args <- commandArgs(trailingOnly = TRUE)
arg_value <- function(name) {
  i <- match(name, args)
  if (is.na(i) || i == length(args)) NULL else args[[i + 1]]
}
out <- arg_value("--out")
if (is.null(out)) out <- tempfile("moerates-slurm-")
unlink(out, recursive = TRUE)
dir.create(out, recursive = TRUE)
out <- normalizePath(out)
lib <- arg_value("--lib")
if (!is.null(lib)) {
  lib <- normalizePath(lib, mustWork = TRUE)
  .libPaths(c(lib, .libPaths()))
  # jobs and the background session are new R processes, started elsewhere
  Sys.setenv(R_LIBS = paste(c(lib, strsplit(Sys.getenv("R_LIBS"), ":")[[1]]), collapse = ":"))
}

passed <- 0L
failed <- 0L
check <- function(ok, what) {
  if (isTRUE(ok)) {
    passed <<- passed + 1L
    cat("  ok    ", what, "\n", sep = "")
  } else {
    failed <<- failed + 1L
    cat("  FAIL  ", what, "\n", sep = "")
  }
  invisible(isTRUE(ok))
}
finish <- function() {
  writeLines(paste(passed, failed), file.path(out, "counts"))
  cat(sprintf("slurm test: %d passed, %d failed\n", passed, failed))
  quit(save = "no", status = if (failed > 0L) 1L else 0L)
}
# A part that stops with an error counts as one failed check, and the
# test goes on with the next part.
part <- function(title, expr) {
  cat("\n== ", title, " ==\n", sep = "")
  started <- Sys.time()
  tryCatch(expr, error = function(e) check(FALSE, paste("stopped with an error:", conditionMessage(e))))
  cat(sprintf("  (%.0f s)\n", as.numeric(difftime(Sys.time(), started, units = "secs"))))
}
command <- function(cmd, ...) {
  res <- suppressWarnings(system2(cmd, shQuote(c(...)), stdout = TRUE, stderr = TRUE))
  status <- attr(res, "status")
  if (!is.null(status) && status != 0) {
    stop(sprintf("`%s %s` failed (status %d): %s", cmd, paste(c(...), collapse = " "),
                 status, paste(res, collapse = " ")), call. = FALSE)
  }
  res
}
in_dir <- function(dir, expr) {
  dir.create(dir, showWarnings = FALSE, recursive = TRUE)
  old <- setwd(dir)
  on.exit(setwd(old))
  expr
}
test_started <- Sys.time()

cat("== the cluster ==\n")
up <- tryCatch({
  nodes <- command("sinfo", "--noheader", "--Node", "--format=%N %T %c")
  cat(paste0("  sinfo: ", nodes, "\n"), sep = "")
  any(grepl(" (idle|mixed)$| (idle|mixed) ", nodes))
}, error = function(e) {
  cat("  ", conditionMessage(e), "\n", sep = "")
  FALSE
})
check(up, "Slurm answers and a node is idle (tools/slurm-up.sh)")
loaded <- requireNamespace("moerates", quietly = TRUE) &&
  requireNamespace("future.batchtools", quietly = TRUE)
check(loaded, "moerates and future.batchtools load")
template <- if (loaded) system.file("templates", "slurm.tmpl", package = "moerates") else ""
check(nzchar(template), "the package ships its Slurm job script (templates/slurm.tmpl)")
if (!up || !nzchar(template)) finish()
cat(sprintf("  moerates %s from %s\n  job script %s\n",
            utils::packageVersion("moerates"), dirname(system.file(package = "moerates")),
            template))
suppressPackageStartupMessages(library(moerates))

slurm_plan <- function() {
  # future.batchtools sends each future to Slurm as one job; with its
  # default of up to 100 workers, future.apply gives each run of these
  # small studies its own future, so its own job.
  future::plan(future.batchtools::batchtools_slurm, template = template,
               resources = list(ncpus = 1, memory = 512, walltime = 600))
}
with_plan <- function(strategy, expr) {
  old <- if (identical(strategy, "slurm")) slurm_plan() else future::plan(strategy)
  on.exit(future::plan(old))
  expr
}

# The jobs that sacct lists (from the job completion log: `sacct
# --completion`, which reads it without a database) that were submitted by
# this test from `workdir`: every part of the test submits from a directory
# of its own. A job's record is written as the job ends, which can be a
# moment after its result is read: wait for `expected` records.
slurm_jobs <- function(workdir, expected, timeout = 60) {
  deadline <- Sys.time() + timeout
  repeat {
    lines <- command("sacct", "--completion", "--parsable2", "--noheader",
                     "--format=JobID,JobName,State,WorkDir,Submit")
    fields <- strsplit(lines[nzchar(lines)], "|", fixed = TRUE)
    field <- function(i) vapply(fields, `[`, "", i)
    jobs <- data.frame(id = field(1), name = field(2), state = field(3), workdir = field(4),
                       submitted = as.POSIXct(field(5), format = "%Y-%m-%dT%H:%M:%S"),
                       stringsAsFactors = FALSE)
    # (--completion ignores --starttime, and a restarted cluster numbers
    # its jobs from 1 again)
    jobs <- jobs[jobs$workdir == workdir & !is.na(jobs$submitted) &
                   jobs$submitted >= trunc(test_started, "secs"), , drop = FALSE]
    if (nrow(jobs) >= expected || Sys.time() > deadline) break
    Sys.sleep(1)
  }
  jobs[order(as.integer(jobs$id)), , drop = FALSE]
}
show_jobs <- function(jobs) {
  cat(sprintf("  sacct: job %-5s %-18s %s\n", jobs$id, jobs$name, jobs$state), sep = "")
}

# --- 1. the GMoE preset ---------------------------------------------------
part("1. GMoE preset through Slurm", {
  preset <- function() {
    gmoe_study(1, k = 4, n = c(200, 400), reps = 2, one_step = TRUE, seed = 1,
               progress = FALSE)
  }
  reference <- with_plan(future::sequential, preset())
  dir <- file.path(out, "gmoe")
  on_slurm <- in_dir(dir, with_plan("slurm", preset()))
  runs <- nrow(on_slurm$runs)
  cat(sprintf("  gmoe_study(1, k = 4, n = c(200, 400), reps = 2, one_step = TRUE): %d runs\n", runs))
  check(all(on_slurm$runs$status == "ok"), "every run succeeded")
  check(identical(on_slurm$results, reference$results),
        "results identical to plan(sequential)")
  jobs <- slurm_jobs(dir, runs)
  show_jobs(jobs)
  check(nrow(jobs) == runs && all(jobs$state == "COMPLETED"),
        sprintf("sacct lists %d completed Slurm jobs from the study, one per run", runs))
})

# --- 2. a user's own study with globals ------------------------------------
# Defined in the global environment, as a user's script would: a global
# variable (mu), a global helper function (centre), a function of an
# attached package (MASS::mvrnorm, called as mvrnorm), and a helper that
# records the Slurm job each run ran in.
part("2. a user's study with globals through Slurm", {
  suppressPackageStartupMessages(library(MASS))
  assign("mu", 1, envir = globalenv())
  eval(quote({
    centre <- function(x) x - mu
    note_job <- function() {
      writeLines(Sys.getenv("SLURM_JOB_ID"), tempfile("run-", tmpdir = trace_dir))
    }
    user_simulate <- function(n) {
      note_job()
      mvrnorm(n, mu = c(mu, mu), Sigma = diag(2))
    }
    user_fit <- function(data, n) colMeans(data)
    user_metrics <- function(fit, n) c(error = sqrt(sum(centre(fit)^2)))
    user_study <- function() {
      rate_study(user_simulate, user_fit, user_metrics, n = c(100, 400), reps = 2,
                 seed = 1, progress = FALSE)
    }
  }), globalenv())
  assign("trace_dir", file.path(out, "user-sequential-trace"), envir = globalenv())
  dir.create(trace_dir)
  reference <- with_plan(future::sequential, user_study())
  # through the plan of the tests (batchtools_slurm with the job script),
  # then through batchtools_custom with the batchtools.conf.R the package
  # ships as an example
  conf <- system.file("templates", "batchtools.conf.R", package = "moerates")
  plans <- list(
    "batchtools_slurm" = function() with_plan("slurm", user_study()),
    "batchtools_custom with the shipped batchtools.conf.R" = function() {
      old <- future::plan(future.batchtools::batchtools_custom, conf.file = conf)
      on.exit(future::plan(old))
      user_study()
    })
  for (i in seq_along(plans)) {
    cat(sprintf("  -- plan(%s)\n", names(plans)[i]))
    dir <- file.path(out, paste0("user-", i))
    trace <- file.path(dir, "trace")
    dir.create(trace, recursive = TRUE)
    assign("trace_dir", trace, envir = globalenv())
    on_slurm <- in_dir(dir, plans[[i]]())
    runs <- nrow(on_slurm$runs)
    check(all(on_slurm$runs$status == "ok"), sprintf("every run succeeded (%d runs)", runs))
    check(identical(on_slurm$results, reference$results),
          "results identical to plan(sequential): mu, centre() and MASS reached the jobs")
    jobs <- slurm_jobs(dir, runs)
    show_jobs(jobs)
    ran_in <- vapply(list.files(trace, full.names = TRUE), readLines, "")
    cat(sprintf("  the runs recorded SLURM_JOB_ID %s\n", paste(sort(as.integer(ran_in)), collapse = ", ")))
    check(nrow(jobs) == runs && all(jobs$state == "COMPLETED"),
          sprintf("sacct lists %d completed Slurm jobs from the study", runs))
    check(length(ran_in) == runs && setequal(ran_in, jobs$id),
          "each run ran inside its own Slurm job, and those are the jobs sacct lists")
  }
})

# --- 3. cancelled half-way, resumed from the checkpoint --------------------
part("3. a study cancelled with scancel half-way resumes from its checkpoint", {
  dir <- file.path(out, "cancel")
  dir.create(dir)
  checkpoint <- file.path(dir, "checkpoint")
  # The study, in a file that the background session and this one both
  # source, so that both are the same study; its fit is slow, so that the
  # jobs can be cancelled while some runs are saved and others are not.
  writeLines(c(
    "suppressPackageStartupMessages(library(moerates))",
    "pause <- 3",
    "slow_mean <- function(x) { Sys.sleep(pause); mean(x) }",
    "slow_simulate <- function(n) rnorm(n, mean = 2)",
    "slow_fit <- function(data, n) slow_mean(data)",
    "slow_metrics <- function(fit, n) c(error = abs(fit - 2))",
    "slow_study <- function(checkpoint = NULL, verbose = FALSE) {",
    "  rate_study(slow_simulate, slow_fit, slow_metrics, n = c(100, 200, 400), reps = 2,",
    "             seed = 7, checkpoint = checkpoint, progress = FALSE, verbose = verbose)",
    "}"), file.path(dir, "slow-study.R"))
  source(file.path(dir, "slow-study.R"), local = globalenv())
  runs <- 6L

  background <- file.path(dir, "background")
  dir.create(background)
  writeLines(c(
    "writeLines(as.character(Sys.getpid()), 'pid')",
    sprintf("source(%s)", deparse(file.path(dir, "slow-study.R"))),
    # The jobs write to this machine's own disk: no need to wait for a shared
    # file system to show the log of a job cancelled before it started
    # (batchtools waits 65 s by default). batchtools_slurm() passes
    # fs.latency on to batchtools, which future's plan() does not know of.
    "withCallingHandlers(",
    sprintf(paste("  future::plan(future.batchtools::batchtools_slurm, template = %s, fs.latency = 5,",
                  "resources = list(ncpus = 1, memory = 512, walltime = 600)),"), deparse(template)),
    "  warning = function(w) if (grepl('fs.latency', conditionMessage(w))) invokeRestart('muffleWarning'))",
    sprintf("status <- tryCatch({ slow_study(%s); 'finished' },", deparse(checkpoint)),
    "  error = function(e) paste('stopped:', conditionMessage(e)))",
    "writeLines(status, 'status')"), file.path(background, "run.R"))
  rscript <- file.path(R.home("bin"), "Rscript")
  in_dir(background, system2(rscript, "run.R", stdout = "run.log", stderr = "run.log", wait = FALSE))
  cat("  started the study in a background R session under plan(batchtools_slurm)\n")

  saved <- function() length(list.files(checkpoint, pattern = "^run-.*\\.rds$"))
  deadline <- Sys.time() + 180
  while (saved() < 2 && !file.exists(file.path(background, "status")) && Sys.time() < deadline) {
    Sys.sleep(0.2)
  }
  queue <- command("squeue", "--noheader", "--format=%i|%Z|%T")
  queue <- do.call(rbind, lapply(strsplit(queue[nzchar(queue)], "|", fixed = TRUE), function(f) {
    data.frame(id = f[1], workdir = f[2], state = f[3], stringsAsFactors = FALSE)
  }))
  ours <- if (is.null(queue)) queue else queue[queue$workdir == background, , drop = FALSE]
  at_cancel <- saved()
  if (!is.null(ours) && nrow(ours)) {
    command("scancel", ours$id)
  }
  cat(sprintf("  %d of %d runs saved in the checkpoint; scancel %s (%s)\n", at_cancel, runs,
              paste(ours$id, collapse = " "), paste(tolower(ours$state), collapse = ", ")))
  check(at_cancel >= 1 && at_cancel < runs && NROW(ours) >= 1,
        "jobs cancelled half-way: some runs saved, some jobs still queued or running")

  deadline <- Sys.time() + 300
  while (!file.exists(file.path(background, "status")) && Sys.time() < deadline) Sys.sleep(0.5)
  status <- if (file.exists(file.path(background, "status"))) {
    readLines(file.path(background, "status"))
  } else {
    pid <- as.integer(readLines(file.path(background, "pid")))
    tools::pskill(pid)
    "still waiting after 300 s (stopped by the test)"
  }
  cat(sprintf("  the background study: %s\n", strtrim(paste(status, collapse = " "), 240)))
  check(startsWith(status[1], "stopped:"), "the background study was interrupted, not finished")
  cancelled <- slurm_jobs(background, runs)
  show_jobs(cancelled)
  check(any(cancelled$state == "CANCELLED"), "sacct lists the cancelled jobs")

  before_resume <- saved()
  messages <- character(0)
  resume_dir <- file.path(dir, "resume")
  resumed <- in_dir(resume_dir, with_plan("slurm", withCallingHandlers(
    slow_study(checkpoint, verbose = TRUE),
    message = function(m) {
      messages <<- c(messages, conditionMessage(m))
      invokeRestart("muffleMessage")
    })))
  cat(paste0("  rerun: ", trimws(messages), "\n"), sep = "")
  check(any(grepl(sprintf("%d of %d runs already done", before_resume, runs), messages, fixed = TRUE)),
        sprintf("the rerun found the %d saved runs", before_resume))
  jobs <- slurm_jobs(resume_dir, runs - before_resume)
  show_jobs(jobs)
  check(nrow(jobs) == runs - before_resume && all(jobs$state == "COMPLETED"),
        sprintf("the rerun sent only the %d missing runs to Slurm", runs - before_resume))
  uninterrupted <- with_plan(future::sequential, slow_study())
  check(all(resumed$runs$status == "ok") && identical(resumed$results, uninterrupted$results),
        "the resumed study is identical to the uninterrupted one")
})

cat(sprintf("\nslurm test took %.0f s\n", as.numeric(difftime(Sys.time(), test_started, units = "secs"))))
finish()
