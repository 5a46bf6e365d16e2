# A small rate study whose error falls like n^(-1/2). The fit kills its own
# R process once `MOERATES_TEST_KILL_AFTER` runs are saved in the checkpoint:
# a real interruption, with the same code as an uninterrupted study.
toy_study <- function(checkpoint = NULL, seed = 11, reps = 3, n = c(50, 200, 800, 3200), ...) {
  rate_study(
    simulate = function(n) stats::rnorm(n, mean = 2),
    fit = function(data, n) {
      limit <- Sys.getenv("MOERATES_TEST_KILL_AFTER")
      if (nzchar(limit) && !is.null(checkpoint) &&
          length(list.files(checkpoint, pattern = "^run-")) >= as.integer(limit)) {
        tools::pskill(Sys.getpid(), tools::SIGKILL)
      }
      c(mean = mean(data), sd = stats::sd(data))
    },
    metrics = function(fit, n) c(mean_error = abs(fit[["mean"]] - 2),
                                 sd_error = abs(fit[["sd"]] - 1)),
    n = n, reps = reps, seed = seed, checkpoint = checkpoint,
    theory = c(mean_error = -0.5, sd_error = -0.5), progress = FALSE, ...)
}

with_plan <- function(plan, code, ...) {
  old <- future::plan(plan, ...)
  on.exit(future::plan(old), add = TRUE)
  code
}
