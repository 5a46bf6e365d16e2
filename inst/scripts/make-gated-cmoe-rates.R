# Results of the sigmoid-gated contaminated MoE shipped for the vignette
# "Contaminated MoE" (inst/extdata/gated-cmoe-rates.rds and
# inst/extdata/gated-cmoe-slopes.csv): reproduce_gated_cmoe() at the
# published design, 40 replications at 20 log-spaced sizes from 1e3 to 1e5,
# converged EM from the truth, with the efficient errors of
# cmoe_efficient_errors() at the same truths. Run from the repository root
# with the package installed:
#   Rscript inst/scripts/make-gated-cmoe-rates.R [workers]
# (2 multisession workers by default; the results do not depend on it).
# Setting (ii) with eta* = eta0 ("gated_merging_nu") costs about 20 times
# more per fit than the others (where the prompt all but coincides with f0
# the gate drifts to its bound over thousands of EM cycles): about 70 of the
# 75 core-minutes.
# Runs are checkpointed under gated-cmoe-checkpoint/ and the figures written
# to gated-cmoe-output/ (neither is shipped).
library(moerates)
args <- commandArgs(trailingOnly = TRUE)
workers <- if (length(args)) as.integer(args[1]) else 2L
future::plan(future::multisession, workers = workers)
started <- Sys.time()
table <- reproduce_gated_cmoe("gated-cmoe-output", reps = 40L, seed = 2025L,
                              checkpoint = "gated-cmoe-checkpoint")
studies <- attr(table, "studies")
info <- list(
  created = format(Sys.Date()),
  package_version = as.character(utils::packageVersion("moerates")),
  workers = workers,
  reps = 40L,
  # from the runs themselves, so that a resumed run still reports the full cost
  core_minutes = sum(vapply(studies, function(s) sum(s$runs$seconds), numeric(1))) / 60,
  command = "Rscript inst/scripts/make-gated-cmoe-rates.R")
dir.create("inst/extdata", showWarnings = FALSE, recursive = TRUE)
saveRDS(list(studies = studies, slopes = as.data.frame(table),
             efficient = attr(table, "efficient"), info = info),
        "inst/extdata/gated-cmoe-rates.rds", compress = "xz")
file.copy("gated-cmoe-output/gated-slopes.csv", "inst/extdata/gated-cmoe-slopes.csv",
          overwrite = TRUE)
message(sprintf("done in %.1f min (%.1f core-minutes in the runs)",
                as.numeric(difftime(Sys.time(), started, units = "mins")), info$core_minutes))
