# Paper-scale results shipped for the vignette "Reproducing the Gaussian-gated
# MoE rates" (inst/extdata/gmoe-rates.rds). Run from the repository root with
# the package installed:
#   Rscript inst/scripts/make-gmoe-rates.R [workers]
# Runs are checkpointed under gmoe-rates-checkpoint/, so an interrupted run
# resumes where it stopped.
#
# 1. One EM step (the published procedure) on the full published design:
#    8 configurations x 100 sample sizes x 20 replications.
# 2. Converged EM on the same data and starts, on 12 of the published sample
#    sizes (log-spaced from 100 to 1e5) with 10 replications: the full
#    converged design waits for accelerated EM. The same thinned design is
#    also run in one-step mode, for a paired comparison.
# 3. Converged and one-step EM with the cells fixed by `split`, for reading
#    the rate of each parameter cell by cell against the theory.
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
run <- function(label, metrics, ...) {
  t0 <- Sys.time()
  # plain EM: the shipped converged results predate SQUAREM as the default
  s <- gmoe_study(..., control = gmoe_control(accelerate = "none"),
                  checkpoint = file.path(checkpoint, label))
  message(sprintf("%s: %.1f min", label, as.numeric(difftime(Sys.time(), t0, units = "mins"))))
  if (is.null(metrics)) s else keep(s, metrics)
}

configs <- gmoe_published_slopes()
one_step <- one_step_thin <- converged <- list()
for (i in seq_len(nrow(configs))) {
  m <- configs$model[i]
  k <- configs$k[i]
  name <- sprintf("model%d_k%d", m, k)
  one_step[[name]] <- run(paste0(name, "_one_step"), "loss", m, k, n = paper_n,
                          reps = 20, one_step = TRUE, seed = seed + 10L * m + k)
  one_step_thin[[name]] <- run(paste0(name, "_one_step_thin"), c("loss", "iterations"), m, k,
                               n = thin_n, reps = 10, one_step = TRUE, seed = seed + 10L * m + k)
  converged[[name]] <- run(paste0(name, "_converged"), c("loss", "iterations"), m, k,
                           n = thin_n, reps = 10, seed = seed + 10L * m + k)
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
      paste0(name, "_split_", mode), NULL, s$model, s$k, n = thin_n, reps = 10,
      split = s$split, one_step = mode == "one_step", seed = seed + 100L + 10L * s$model + s$k)
  }
}

out <- list(one_step = one_step, one_step_thin = one_step_thin, converged = converged,
            split = split_studies,
            info = list(date = format(Sys.Date()),
                        core_minutes = sum(vapply(c(one_step, one_step_thin, converged, split_studies),
                                                  function(s) sum(s$runs$seconds), numeric(1))) / 60,
                        r_version = R.version.string,
                        moerates = as.character(utils::packageVersion("moerates"))))
saveRDS(out, "inst/extdata/gmoe-rates.rds", compress = "xz")
message(sprintf("done in %.1f min; the runs took %.1f core-minutes",
                as.numeric(difftime(Sys.time(), started, units = "mins")), out$info$core_minutes))
