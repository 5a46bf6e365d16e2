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
# on 11 sample sizes from 10^2.5 to 10^5 with 40 replications, EM started
# at the truth; and the distinguishable scenario again from fit_cmoe()'s own
# data-driven starts, to show that the estimates do not hinge on the start.
library(moerates)
args <- commandArgs(trailingOnly = TRUE)
workers <- if (length(args)) as.integer(args[1]) else 2L
future::plan(future::multisession, workers = workers)
checkpoint <- "cmoe-rates-checkpoint"
seed <- 2025L
n <- round(10^seq(2.5, 5, by = 0.25))
reps <- 40L
started <- Sys.time()

runs <- list(
  distinguishable = list(scenario = "distinguishable"),
  vanishing = list(scenario = "vanishing"),
  vanishing_strong = list(scenario = "vanishing", power = 0.4),
  merging = list(scenario = "merging"),
  merging_strong = list(scenario = "merging", power = 0.2),
  structure = list(scenario = "structure"),
  distinguishable_default_start = list(scenario = "distinguishable", start = "default",
                                       n_starts = 3))
studies <- list()
for (i in seq_along(runs)) {
  label <- names(runs)[i]
  t0 <- Sys.time()
  studies[[label]] <- do.call(cmoe_study, c(runs[[i]], list(
    n = n, reps = reps, seed = seed + i, checkpoint = file.path(checkpoint, label))))
  message(sprintf("%s: %.1f min", label, as.numeric(difftime(Sys.time(), t0, units = "mins"))))
}

info <- list(
  created = format(Sys.Date()),
  package_version = as.character(utils::packageVersion("moerates")),
  workers = workers,
  minutes = as.numeric(difftime(Sys.time(), started, units = "mins")),
  command = "Rscript inst/scripts/make-cmoe-rates.R")
dir.create("inst/extdata", showWarnings = FALSE, recursive = TRUE)
saveRDS(list(studies = studies, info = info), "inst/extdata/cmoe-rates.rds", compress = "xz")
message(sprintf("done in %.1f min", info$minutes))
