# Results of the sigmoid-gated contaminated MoE shipped for the vignette
# "Contaminated MoE" (inst/extdata/gated-cmoe-rates.rds and
# inst/extdata/gated-cmoe-slopes.csv): reproduce_gated_cmoe() at the
# published design, 20 log-spaced sizes from 1e3 to 1e5, converged EM from
# the truth, on ONE worker (sequential plan). Run from the repository root
# with the package installed:
#   Rscript inst/scripts/make-gated-cmoe-rates.R [reps_nu]
# The distinguishable setting, setting (i) and setting (ii) as printed have
# the published 40 replications. Setting (ii) with eta* = eta0
# ("gated_merging_nu") costs about 40 times more per fit (the gate drifts to
# its bound over thousands of EM cycles where the prompt all but coincides
# with f0), so it has `reps_nu` replications (default 10), within a budget
# of about 40 core-minutes on a shared machine.
# Runs are checkpointed under gated-cmoe-checkpoint/ and the figures written
# to gated-cmoe-output/ (neither is shipped).
library(moerates)
args <- commandArgs(trailingOnly = TRUE)
reps_nu <- if (length(args)) as.integer(args[1]) else 10L
future::plan(future::sequential)
started <- Sys.time()
run <- function(scenarios, reps) {
  reproduce_gated_cmoe("gated-cmoe-output", reps = reps, scenarios = scenarios, seed = 2025L,
                       checkpoint = "gated-cmoe-checkpoint")
}
fast <- run(c("gated_distinguishable", "gated_merging_eta", "gated_merging_nu_printed"), 40L)
fast_csv <- utils::read.csv("gated-cmoe-output/gated-slopes.csv")
slow <- run("gated_merging_nu", reps_nu)
table <- rbind(fast_csv, utils::read.csv("gated-cmoe-output/gated-slopes.csv"))
utils::write.csv(table, "gated-cmoe-output/gated-slopes.csv", row.names = FALSE)
studies <- c(attr(fast, "studies"), attr(slow, "studies"))
info <- list(
  created = format(Sys.Date()),
  package_version = as.character(utils::packageVersion("moerates")),
  workers = 1L,
  reps = c(gated_distinguishable = 40L, gated_merging_eta = 40L,
           gated_merging_nu_printed = 40L, gated_merging_nu = reps_nu),
  # from the runs themselves, so that a resumed run still reports the full cost
  core_minutes = sum(vapply(studies, function(s) sum(s$runs$seconds), numeric(1))) / 60,
  command = "Rscript inst/scripts/make-gated-cmoe-rates.R")
dir.create("inst/extdata", showWarnings = FALSE, recursive = TRUE)
saveRDS(list(studies = studies, slopes = table, info = info),
        "inst/extdata/gated-cmoe-rates.rds", compress = "xz")
file.copy("gated-cmoe-output/gated-slopes.csv", "inst/extdata/gated-cmoe-slopes.csv",
          overwrite = TRUE)
message(sprintf("done in %.1f min (%.1f core-minutes in the runs)",
                as.numeric(difftime(Sys.time(), started, units = "mins")), info$core_minutes))
