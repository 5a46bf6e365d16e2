# Checkpoints of rate studies: one file per finished run, written by the
# worker that ran it, plus a record of the design so that a directory is
# never resumed with a different study.

open_checkpoint <- function(dir, design) {
  record <- file.path(dir, "study.rds")
  if (file.exists(record)) {
    saved <- readRDS(record)
    same <- vapply(names(design), function(nm) identical(saved[[nm]], design[[nm]]),
                   logical(1))
    if (!all(same)) {
      stop_arg("checkpoint", sprintf(
        "holds a different study (its %s differ from this call's); use a new directory or delete %s.",
        paste(names(design)[!same], collapse = ", "), dir))
    }
    return(invisible(dir))
  }
  if (!dir.exists(dir) && !dir.create(dir, recursive = TRUE, showWarnings = FALSE)) {
    stop_arg("checkpoint", "is a directory that cannot be created: ", dir, ".")
  }
  save_atomic(design, record)
  invisible(dir)
}

checkpoint_file <- function(dir, n_index, rep) {
  file.path(dir, sprintf("run-n%04d-rep%04d.rds", n_index, rep))
}

read_checkpoint <- function(dir, n_index, rep) {
  f <- checkpoint_file(dir, n_index, rep)
  if (!file.exists(f)) return(NULL)
  # A file cut short by a crash is rerun rather than trusted.
  tryCatch(readRDS(f), error = function(e) NULL)
}

write_checkpoint <- function(dir, run) {
  save_atomic(run, checkpoint_file(dir, run$n_index, run$rep))
}

# Written under a temporary name and renamed, so a reader never sees half
# a file.
save_atomic <- function(object, path) {
  tmp <- tempfile(".partial-", tmpdir = dirname(path))
  saveRDS(object, tmp)
  if (!file.rename(tmp, path)) {
    unlink(tmp)
    stop(sprintf("could not write checkpoint file %s", path), call. = FALSE)
  }
}

# What identifies the study's code: each function's deparsed text (no
# source references, which change from session to session) and the values
# of the variables in its enclosing environment, one level deep, so that two
# closures with the same code but different settings (say, another true
# model) are told apart.
fingerprint <- function(functions) {
  lapply(functions, function(f) {
    env <- environment(f)
    enclosed <- if (is.null(env) || identical(env, globalenv()) ||
                    isNamespace(env) || identical(env, baseenv())) {
      list()
    } else {
      vals <- mget(setdiff(sort(ls(env, all.names = TRUE)), "..."), envir = env)
      lapply(vals, comparable)
    }
    list(code = deparse(f), enclosed = enclosed)
  })
}

comparable <- function(v) {
  if (is.function(v)) return(deparse(v))
  if (is.environment(v)) return("<environment>")
  if (is.list(v)) return(lapply(v, comparable))
  v
}
