# Larger-scale results shipped for the vignette "Contaminated MoE: prompt
# vanishing, prompt merging and expert structure"
# (inst/extdata/cmoe-rates.rds). Run from the repository root with the
# package installed:
#   Rscript inst/scripts/make-cmoe-rates.R [workers]
# Runs are checkpointed under cmoe-rates-checkpoint/, so an interrupted run
# resumes where it stopped.
#
# The four preset scenarios of cmoe_study() at their default powers, plus
# merging and vanishing at a second power (the theory's slopes move with it),
# on 13 sample sizes from 10^2.5 to 10^5.5 with 100 replications, EM started
# at the truth; and the distinguishable scenario again, on the same data,
# from fit_cmoe()'s own data-driven starts, to show whether the estimates
# hinge on the start.
library(moerates)
args <- commandArgs(trailingOnly = TRUE)
workers <- if (length(args)) as.integer(args[1]) else 2L
future::plan(future::multisession, workers = workers)
checkpoint <- "cmoe-rates-checkpoint"
seed <- 2025L
n <- round(10^seq(2.5, 5.5, by = 0.25))
reps <- 100L
started <- Sys.time()

# The default-start study has the distinguishable study's seed, so that both
# see the same data sets and differ only in the start.
runs <- list(
  distinguishable = list(scenario = "distinguishable", seed = seed + 1L),
  vanishing = list(scenario = "vanishing", seed = seed + 2L),
  vanishing_strong = list(scenario = "vanishing", power = 0.4, seed = seed + 3L),
  merging = list(scenario = "merging", seed = seed + 4L),
  merging_strong = list(scenario = "merging", power = 0.2, seed = seed + 5L),
  structure = list(scenario = "structure", seed = seed + 6L),
  distinguishable_default_start = list(scenario = "distinguishable", start = "default",
                                       n_starts = 3, seed = seed + 1L))
studies <- list()
for (label in names(runs)) {
  t0 <- Sys.time()
  studies[[label]] <- do.call(cmoe_study, c(runs[[label]], list(
    n = n, reps = reps, checkpoint = file.path(checkpoint, label))))
  message(sprintf("%s: %.1f min", label, as.numeric(difftime(Sys.time(), t0, units = "mins"))))
}

info <- list(
  created = format(Sys.Date()),
  package_version = as.character(utils::packageVersion("moerates")),
  workers = workers,
  minutes = as.numeric(difftime(Sys.time(), started, units = "mins")),
  # from the runs themselves, so that a resumed run still reports the full cost
  core_minutes = sum(vapply(studies, function(s) sum(s$runs$seconds), numeric(1))) / 60,
  command = "Rscript inst/scripts/make-cmoe-rates.R")
dir.create("inst/extdata", showWarnings = FALSE, recursive = TRUE)
saveRDS(list(studies = studies, info = info), "inst/extdata/cmoe-rates.rds", compress = "xz")
message(sprintf("done in %.1f min", info$minutes))
