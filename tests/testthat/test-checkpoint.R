run_files <- function(cp) list.files(cp, pattern = "^run-", full.names = TRUE)

test_that("an interrupted checkpointed study resumes to the uninterrupted result", {
  cp <- file.path(tempfile("cp-"), "study")
  helper <- normalizePath(test_path("helper-rate-study.R"))
  script <- tempfile(fileext = ".R")
  writeLines(c("library(moerates)", sprintf("source(%s)", deparse(helper)),
               sprintf("toy_study(checkpoint = %s)", deparse(cp))), script)
  rscript <- file.path(R.home("bin"), "Rscript")
  status <- suppressWarnings(system2(rscript, script, stdout = FALSE, stderr = FALSE,
                                     env = "MOERATES_TEST_KILL_AFTER=5"))
  expect_false(identical(status, 0L))
  saved <- run_files(cp)
  expect_length(saved, 5)
  stamps <- file.mtime(saved)
  Sys.sleep(1.1)

  expect_message(
    expect_message(resumed <- toy_study(checkpoint = cp, verbose = TRUE), "12 runs done"),
    "5 of 12 runs already done")
  expect_equal(file.mtime(saved), stamps)
  expect_length(run_files(cp), 12)
  expect_identical(resumed$results, toy_study()$results)

  expect_message(
    expect_message(again <- toy_study(checkpoint = cp, verbose = TRUE), "12 runs done"),
    "12 of 12 runs already done")
  expect_identical(again$results, resumed$results)
})

test_that("a checkpoint of another study is refused, saying what differs", {
  cp <- tempfile("cp-")
  toy_study(checkpoint = cp)
  expect_error(toy_study(checkpoint = cp, seed = 12),
               "`checkpoint` holds a different study \\(its seed differ")
  expect_error(
    rate_study(function(n) n, function(data, n) data, function(fit, n) c(v = 1),
               n = c(50, 200), reps = 3, seed = 11, checkpoint = cp, progress = FALSE),
    "the code of `simulate`, the code of `fit`, the code of `metrics`")
  expect_error(rate_study(function(n) n, function(d, n) d, function(f, n) c(v = 1),
                          n = 1, reps = 1, checkpoint = cp),
               "`seed` must be given with `checkpoint`")
})

test_that("a study extended by replications or sample sizes runs only the new runs", {
  whole <- toy_study(reps = 3)
  cp <- tempfile("cp-")
  toy_study(checkpoint = cp, reps = 2, n = c(200, 3200))
  expect_length(run_files(cp), 4)
  expect_message(
    expect_message(more_reps <- toy_study(checkpoint = cp, reps = 3, n = c(200, 3200),
                                          verbose = TRUE), "6 runs done"),
    "4 of 6 runs already done")
  expect_message(
    expect_message(more_n <- toy_study(checkpoint = cp, reps = 3, verbose = TRUE),
                   "12 runs done"),
    "6 of 12 runs already done")
  expect_identical(more_n$results, whole$results)
  expect_identical(more_reps$results[c("n", "rep", "metric", "value")],
                   whole$results[whole$results$n %in% c(200, 3200), c("n", "rep", "metric", "value")],
                   ignore_attr = TRUE)
})

test_that("run files that belong to another run or study, or are damaged, are rerun", {
  cp <- tempfile("cp-")
  first <- toy_study(checkpoint = cp)
  files <- run_files(cp)
  target <- file.path(cp, "run-n200-1-rep1.rds")
  rerun_after <- function(damage) {
    damage()
    expect_message(again <- toy_study(checkpoint = cp, verbose = TRUE),
                   "11 of 12 runs already done")
    expect_identical(again$results, first$results)
  }
  # a run file copied over another
  rerun_after(function() file.copy(file.path(cp, "run-n50-1-rep1.rds"), target, overwrite = TRUE))
  # a flipped byte, in a file written without compression so that it still reads
  rerun_after(function() {
    run <- readRDS(target)
    saveRDS(run, target, compress = FALSE)
    bytes <- readBin(target, "raw", file.size(target))
    at <- length(bytes) - 40L
    bytes[at] <- xor(bytes[at], as.raw(1))
    writeBin(bytes, target)
  })
  # a truncated file
  rerun_after(function() writeBin(as.raw(1:3), target))
  # the same run of another study (another seed)
  other <- tempfile("cp-")
  toy_study(checkpoint = other, seed = 99)
  rerun_after(function() file.copy(file.path(other, "run-n200-1-rep1.rds"), target,
                                   overwrite = TRUE))
})

test_that("failed runs are retried unless retry_failed = FALSE", {
  cp <- tempfile("cp-")
  flag <- tempfile("fail-")
  file.create(flag)
  study <- function(...) {
    rate_study(function(n) n,
               function(data, n) if (n == 20 && file.exists(flag)) stop("no fit") else data,
               function(fit, n) c(v = fit), n = c(10, 20), reps = 1, seed = 1,
               checkpoint = cp, progress = FALSE, ...)
  }
  expect_warning(first <- study(), "1 of 2 runs failed")
  expect_warning(kept <- study(retry_failed = FALSE), "1 of 2 runs failed")
  expect_identical(kept$runs$status, first$runs$status)
  unlink(flag)
  expect_message(retried <- study(verbose = TRUE), "1 of 2 runs already done")
  expect_equal(retried$runs$status, c("ok", "ok"))
  expect_equal(retried$results$value, c(10, 20))
})

test_that("a damaged study record is an error that says what to do", {
  cp <- tempfile("cp-")
  toy_study(checkpoint = cp, reps = 1)
  record <- file.path(cp, "study.rds")
  file.create(record)
  expect_error(toy_study(checkpoint = cp, reps = 1),
               "holds a study record .*study.rds \\(0 bytes\\) that is damaged.*delete it")
  writeLines("not an R data file", record)
  expect_error(toy_study(checkpoint = cp, reps = 1), "that is damaged")
})

test_that("a checkpoint that cannot be written is an error naming the directory", {
  parent_file <- tempfile("file-")
  file.create(parent_file)
  expect_error(toy_study(checkpoint = file.path(parent_file, "cp")),
               "`checkpoint` is a directory that cannot be created")
  expect_error(toy_study(checkpoint = parent_file), "`checkpoint` is a file, not a directory")

  # the directory becomes unwritable while the study runs (as root, whom
  # permissions do not stop, by turning it into a file)
  cp <- tempfile("cp-")
  expect_error(
    rate_study(function(n) {
      if (dir.exists(cp)) {
        unlink(cp, recursive = TRUE)
        file.create(cp)
      }
      n
    }, function(data, n) data, function(fit, n) c(v = fit), n = 10, reps = 1, seed = 1,
    checkpoint = cp, progress = FALSE),
    sprintf("`checkpoint` directory %s cannot be written", cp), fixed = TRUE)
})

test_that("stale temporary files are removed when a study opens its checkpoint", {
  cp <- tempfile("cp-")
  toy_study(checkpoint = cp, reps = 1)
  stale <- file.path(cp, ".partial-dead.rds")
  writeBin(as.raw(1:10), stale)
  toy_study(checkpoint = cp, reps = 1)
  expect_false(file.exists(stale))
})

test_that("workers of a killed study cannot write into a later study's directory", {
  cp <- tempfile("cp-")
  script <- tempfile(fileext = ".R")
  started <- tempfile("started-")
  writeLines(c(
    "library(moerates)",
    "future::plan(future::multisession, workers = 2)",
    "mu <- 1",
    sprintf("started <- %s", deparse(started)),
    "rate_study(function(n) { file.create(started); Sys.sleep(4); rnorm(n, mu) },",
    "           function(data, n) mean(data), function(fit, n) c(error = abs(fit - mu)),",
    sprintf("           n = c(10, 20), reps = 1, seed = 1, checkpoint = %s, progress = FALSE)",
            deparse(cp))), script)
  rscript <- file.path(R.home("bin"), "Rscript")
  pid_file <- tempfile("pid-")
  system2("sh", c("-c", shQuote(sprintf("echo $$ > %s; exec %s %s", pid_file, rscript, script))),
          wait = FALSE, stdout = FALSE, stderr = FALSE)
  for (i in 1:100) if (file.exists(started)) break else Sys.sleep(0.2)
  expect_true(file.exists(started))
  tools::pskill(as.integer(readLines(pid_file)), tools::SIGKILL)

  # a later, different study takes the directory over while the orphans sleep
  unlink(cp, recursive = TRUE)
  mu <- 5
  later <- function(...) {
    rate_study(function(n) rnorm(n, mu), function(data, n) mean(data),
               function(fit, n) c(error = abs(fit - mu)), n = c(10, 20), reps = 1, seed = 1,
               checkpoint = cp, progress = FALSE, ...)
  }
  first <- later()
  Sys.sleep(6)
  expect_message(again <- later(verbose = TRUE), "2 of 2 runs already done")
  expect_identical(again$results, first$results)
})
