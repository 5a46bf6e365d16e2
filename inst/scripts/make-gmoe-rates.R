# Paper-scale results shipped for the vignette "Reproducing the Gaussian-gated
# MoE rates" (inst/extdata/gmoe-rates.rds). Run from the repository root with
# the package installed:
#   Rscript inst/scripts/make-gmoe-rates.R [workers]
# Runs are checkpointed under gmoe-rates-checkpoint/, so an interrupted run
# resumes where it stopped (the reported times then cover the last session
# only).
#
# 1. reproduce_gmoe(scale = "paper", mode = "converged"): the full published
#    design (8 configurations x 100 sample sizes x 20 replications) with EM
#    run to convergence by the default gmoe_control() (SQUAREM). The time
#    its fits took, summed over all runs (`info$converged_core_minutes`),
#    does not depend on interruptions; divided by the number of workers it
#    gives the wall-clock time of an uninterrupted run, up to the load
#    imbalance between workers; `info$converged_wall_minutes` is the
#    wall-clock time of this step in the script's last session (the whole
#    step if it ran uninterrupted, on an otherwise idle machine).
# 2. reproduce_gmoe(scale = "paper", mode = "one_step"): the same data and
#    starts, one EM step (the published procedure).
# 3. Converged and one-step EM with the cells fixed by `split`, for reading
#    the rate of each parameter cell by cell against the theory, on 12 of the
#    published sample sizes (log-spaced from 100 to 1e5) with 10
#    replications.
library(moerates)
args <- commandArgs(trailingOnly = TRUE)
workers <- if (length(args)) as.integer(args[1]) else 2L
future::plan(future::multisession, workers = workers)
checkpoint <- "gmoe-rates-checkpoint"
seed <- 2024L
started <- Sys.time()

paper_n <- gmoe_paper_n()
thin <- unique(vapply(10^seq(2, 5, length.out = 12),
                      function(t) which.min(abs(paper_n - t)), integer(1)))
thin_n <- paper_n[thin]

keep <- function(study, metrics) {
  study$results <- study$results[study$results$metric %in% metrics, ]
  study$design$metrics <- metrics
  study$design$theory <- study$design$theory[metrics]
  study
}
minutes_since <- function(t0) as.numeric(difftime(Sys.time(), t0, units = "mins"))
figures <- file.path(tempdir(), "gmoe-rates")
core_minutes <- function(studies) {
  sum(vapply(studies, function(s) sum(s$runs$seconds), numeric(1))) / 60
}
paper <- function(mode) {
  t0 <- Sys.time()
  res <- reproduce_gmoe("paper", mode, out_dir = figures, seed = seed,
                        checkpoint = file.path(checkpoint, "paper"), verbose = FALSE)
  wall <- minutes_since(t0)
  message(sprintf("paper scale, %s: %.1f min", mode, wall))
  studies <- lapply(res$studies, keep, metrics = c("loss", "iterations"))
  names(studies) <- sub(paste0("_", mode, "$"), "", names(studies))
  attr(studies, "wall_minutes") <- wall
  studies
}
converged <- paper("converged")
one_step <- paper("one_step")

run <- function(label, ...) {
  t0 <- Sys.time()
  s <- gmoe_study(..., checkpoint = file.path(checkpoint, label))
  message(sprintf("%s: %.1f min", label, minutes_since(t0)))
  s
}

splits <- list(model1_k4 = list(model = 1, k = 4, split = c(2, 1, 1)),
               model1_k5 = list(model = 1, k = 5, split = c(3, 1, 1)),
               model2_k4 = list(model = 2, k = 4, split = c(2, 1, 1)),
               model2_k5 = list(model = 2, k = 5, split = c(3, 1, 1)))
split_studies <- list()
for (name in names(splits)) {
  s <- splits[[name]]
  for (mode in c("one_step", "converged")) {
    split_studies[[paste0(name, "_", mode)]] <- run(
      paste0(name, "_split_", mode), s$model, s$k, n = thin_n, reps = 10,
      split = s$split, one_step = mode == "one_step", seed = seed + 100L + 10L * s$model + s$k)
  }
}

out <- list(one_step = one_step, converged = converged, split = split_studies,
            info = list(date = format(Sys.Date()),
                        workers = workers,
                        converged_core_minutes = core_minutes(converged),
                        converged_wall_minutes = attr(converged, "wall_minutes"),
                        core_minutes = core_minutes(c(one_step, converged, split_studies)),
                        r_version = R.version.string,
                        moerates = as.character(utils::packageVersion("moerates"))))
saveRDS(out, "inst/extdata/gmoe-rates.rds", compress = "xz")
message(sprintf("done in %.1f min; the runs took %.1f core-minutes",
                minutes_since(started), out$info$core_minutes))
