# Paper-scale results shipped for the vignette "Reproducing the Gaussian-gated
# MoE rates" (inst/extdata/gmoe-rates.rds). Run from the repository root with
# the package installed:
#   Rscript inst/scripts/make-gmoe-rates.R [workers]
# Runs are checkpointed under gmoe-rates-checkpoint/, so an interrupted run
# resumes where it stopped (the reported times then cover the last session
# only).
#
# 1. Converged EM, the estimator the theory is about: the eight published
#    configurations, each data set fitted from the near-truth start and five
#    further starts (gmoe_study()'s default extra_starts: k-means, two random,
#    two perturbed truths), the highest log-likelihood kept, over the compact
#    parameter space of gmoe_bounds_from_truth() and with the default
#    stopping rule (an absolute Newton decrement, tol = 1e-6). The design is
#    thinned to fit in two hours on two cores: 16 of the 100 published sample
#    sizes (log-spaced from 100 to 1e5) with the published 20 replications.
#    The time its fits took, summed over all runs (`info$converged_core_minutes`),
#    does not depend on interruptions.
# 2. reproduce_gmoe(scale = "paper", mode = "one_step"): the full published
#    design (8 configurations x 100 sample sizes x 20 replications), one EM
#    step from the near-truth start (the published procedure).
# 3. Converged and one-step EM with the cells fixed by `split` (models 1
#    and 2, c(2, 1, 1) with k = 4 and c(3, 1, 1) with k = 5), for reading the
#    rate of each parameter cell by cell against the theory, on 12 sample
#    sizes log-spaced from 100 to 1e5 with 20 replications.
library(moerates)
args <- commandArgs(trailingOnly = TRUE)
workers <- if (length(args)) as.integer(args[1]) else 2L
future::plan(future::multisession, workers = workers)
checkpoint <- "gmoe-rates-checkpoint"
seed <- 2024L
started <- Sys.time()

paper_n <- gmoe_paper_n()
grid_n <- function(points) {
  paper_n[unique(vapply(10^seq(2, 5, length.out = points),
                        function(t) which.min(abs(paper_n - t)), integer(1)))]
}
converged_n <- grid_n(16)
split_n <- grid_n(12)

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
run <- function(label, ...) {
  t0 <- Sys.time()
  s <- gmoe_study(..., checkpoint = file.path(checkpoint, label))
  wall <- minutes_since(t0)
  message(sprintf("%s: %.1f min", label, wall))
  attr(s, "wall_minutes") <- wall
  s
}

published <- gmoe_published_slopes()
converged <- list()
for (i in seq_len(nrow(published))) {
  m <- published$model[i]
  k <- published$k[i]
  config <- sprintf("model%d_k%d", m, k)
  converged[[config]] <- run(paste0(config, "_converged"), m, k, n = converged_n,
                             reps = 20, seed = seed + 10L * m + k)
}
converged_wall <- sum(vapply(converged, attr, numeric(1), "wall_minutes"))

splits <- list(model1_k4 = list(model = 1, k = 4, split = c(2, 1, 1)),
               model1_k5 = list(model = 1, k = 5, split = c(3, 1, 1)),
               model2_k4 = list(model = 2, k = 4, split = c(2, 1, 1)),
               model2_k5 = list(model = 2, k = 5, split = c(3, 1, 1)))
split_studies <- list()
for (name in names(splits)) {
  s <- splits[[name]]
  for (mode in c("one_step", "converged")) {
    split_studies[[paste0(name, "_", mode)]] <- run(
      paste0(name, "_split_", mode), s$model, s$k, n = split_n, reps = 20,
      split = s$split, one_step = mode == "one_step", seed = seed + 100L + 10L * s$model + s$k)
  }
}

t0 <- Sys.time()
one_step <- reproduce_gmoe("paper", "one_step", out_dir = figures, seed = seed,
                           checkpoint = file.path(checkpoint, "paper"), verbose = FALSE)$studies
names(one_step) <- sub("_one_step$", "", names(one_step))
one_step <- lapply(one_step, keep, metrics = c("loss", "iterations"))
message(sprintf("paper scale, one step: %.1f min", minutes_since(t0)))

out <- list(one_step = one_step, converged = converged, split = split_studies,
            info = list(date = format(Sys.Date()),
                        workers = workers,
                        converged_core_minutes = core_minutes(converged),
                        converged_wall_minutes = converged_wall,
                        converged_n = converged_n, split_n = split_n,
                        core_minutes = core_minutes(c(one_step, converged, split_studies)),
                        r_version = R.version.string,
                        moerates = as.character(utils::packageVersion("moerates"))))
saveRDS(out, "inst/extdata/gmoe-rates.rds", compress = "xz")
message(sprintf("done in %.1f min; the runs took %.1f core-minutes",
                minutes_since(started), out$info$core_minutes))
