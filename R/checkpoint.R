# Checkpoints of rate studies: one file per finished run, written by the
# worker that ran it, and a record of the study (its fingerprint) so that a
# directory is never resumed with another study. Every run file carries the
# fingerprint and the run's own (n, occurrence, rep): a file that does not
# match the run it is read for, or that cannot be read cleanly, counts as
# missing.

checkpoint_format <- 2L

open_checkpoint <- function(dir, fp) {
  if (file.exists(dir) && !dir.exists(dir)) {
    stop_arg("checkpoint", "is a file, not a directory: ", dir, ".")
  }
  if (!dir.exists(dir) && !dir.create(dir, recursive = TRUE, showWarnings = FALSE)) {
    stop_arg("checkpoint", "is a directory that cannot be created: ", dir, ".")
  }
  # Temporary files left by workers that were killed while writing.
  unlink(list.files(dir, pattern = "^\\.partial-", all.files = TRUE, full.names = TRUE))
  record <- record_file(dir)
  if (file.exists(record)) {
    saved <- read_record(record)
    if (!identical(saved$id, fp$id)) {
      stop_arg("checkpoint", sprintf(
        "holds a different study (%s differ from this call's); use a new directory or delete %s to start afresh.",
        fingerprint_difference(saved$parts, fp$parts), dir))
    }
    return(invisible(dir))
  }
  save_atomic(list(format = checkpoint_format, id = fp$id, parts = fp$parts,
                   packages = fp$packages, created = Sys.time()), record)
  invisible(dir)
}

record_file <- function(dir) file.path(dir, "study.rds")

read_record <- function(record) {
  saved <- read_rds_cleanly(record)
  if (is.null(saved) || !is.list(saved) || !identical(saved$format, checkpoint_format) ||
      !is.character(saved$id)) {
    stop_arg("checkpoint", sprintf(
      "holds a study record %s (%s bytes) that is damaged or was written by an older version of moerates; delete it (or the whole directory) to start the study afresh, or use another directory.",
      record, format(file.size(record))))
  }
  saved
}

# readRDS() that returns NULL for a file it can read only with an error or a
# warning (truncated, garbage, written by a newer R).
read_rds_cleanly <- function(path) {
  tryCatch(readRDS(path), warning = function(w) NULL, error = function(e) NULL)
}

run_file <- function(dir, n, occurrence, rep) {
  file.path(dir, sprintf("run-n%d-%d-rep%d.rds", n, occurrence, rep))
}

# The saved run for one row of the design, or NULL when it is missing or is
# not that run of this study.
read_run <- function(dir, task, id) {
  f <- run_file(dir, task$n, task$occurrence, task$rep)
  if (!file.exists(f)) return(NULL)
  run <- read_rds_cleanly(f)
  valid <- is.list(run) && identical(run$check, run_check(run)) && identical(run$id, id) &&
    identical(run$n, task$n) && identical(run$occurrence, task$occurrence) &&
    identical(run$rep, task$rep) &&
    (identical(run$status, "ok") && is.numeric(run$value) || identical(run$status, "failed"))
  if (valid) run else NULL
}

# A checksum of a run's contents, stored with it: a file damaged in a way
# that still reads (a flipped digit in a number) is not trusted.
run_check <- function(run) hash_value(run[setdiff(names(run), "check")])

# Written by the worker. A worker whose study no longer owns the directory
# (its parent was killed and another study took the directory over) writes
# nothing.
write_run <- function(dir, run) {
  saved <- read_rds_cleanly(record_file(dir))
  if (is.list(saved) && !identical(saved$id, run$id)) return(invisible(FALSE))
  run$check <- run_check(run)
  save_atomic(run, run_file(dir, run$n, run$occurrence, run$rep))
  invisible(TRUE)
}

# Written under a temporary name and renamed, so a reader never sees half a
# file; a write that fails or leaves an empty file is an error at once.
save_atomic <- function(object, path) {
  dir <- dirname(path)
  tmp <- tempfile(".partial-", tmpdir = dir, fileext = ".rds")
  problem <- tryCatch({
    saveRDS(object, tmp)
    if (!isTRUE(file.size(tmp) > 0)) "the file written is empty" else NULL
  }, error = function(e) conditionMessage(e), warning = function(w) conditionMessage(w))
  if (is.null(problem) && !suppressWarnings(file.rename(tmp, path))) {
    problem <- paste("cannot rename a file to", basename(path))
  }
  if (!is.null(problem)) {
    unlink(tmp)
    stop_arg("checkpoint", sprintf(
      "directory %s cannot be written (%s); check that it is writable and that the disk is not full.",
      dir, problem))
  }
}
