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
  saved <- list.files(cp, pattern = "^run-", full.names = TRUE)
  expect_length(saved, 5)
  stamps <- file.mtime(saved)
  Sys.sleep(1.1)

  expect_message(
    expect_message(resumed <- toy_study(checkpoint = cp, verbose = TRUE), "12 runs done"),
    "5 of 12 runs already done")
  expect_equal(file.mtime(saved), stamps)
  expect_length(list.files(cp, pattern = "^run-"), 12)
  expect_identical(resumed$results, toy_study()$results)

  expect_message(
    expect_message(again <- toy_study(checkpoint = cp, verbose = TRUE), "12 runs done"),
    "12 of 12 runs already done")
  expect_identical(again$results, resumed$results)
})

test_that("a checkpoint of another study is refused", {
  cp <- tempfile("cp-")
  toy_study(checkpoint = cp)
  expect_error(toy_study(checkpoint = cp, seed = 12), "`checkpoint` holds a different study \\(its seed")
  expect_error(toy_study(checkpoint = cp, reps = 2), "its reps")
  expect_error(
    rate_study(function(n) n, function(data, n) data, function(fit, n) c(v = 1),
               n = c(50, 200, 800, 3200), reps = 3, seed = 11, checkpoint = cp),
    "its code")
})

test_that("failed runs are saved and not rerun; a truncated file is rerun", {
  cp <- tempfile("cp-")
  study <- function() {
    rate_study(function(n) n, function(data, n) if (n == 20) stop("no fit") else data,
               function(fit, n) c(v = fit), n = c(10, 20), reps = 1, seed = 1,
               checkpoint = cp)
  }
  expect_warning(first <- study(), "1 of 2 runs failed")
  writeBin(as.raw(1:3), file.path(cp, "run-n0001-rep0001.rds"))
  expect_warning(second <- study(), "1 of 2 runs failed")
  expect_identical(first$results, second$results)
  expect_identical(first$runs$status, second$runs$status)
})

test_that("closures with the same code but other settings are told apart", {
  make <- function(shift) {
    list(simulate = function(n) n + shift, fit = function(data, n) data,
         metrics = function(fit, n) c(v = fit))
  }
  a <- moerates:::fingerprint(make(1))
  expect_identical(a, moerates:::fingerprint(make(1)))
  expect_false(identical(a, moerates:::fingerprint(make(2))))
})
