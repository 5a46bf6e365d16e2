# The README's main job: reproduce the published Gaussian-gated MoE rate
# study at quick scale (8 configurations, one EM step as published and
# converged EM on the same data and starts), on two local workers.
# Writes a figure per configuration, gmoe-slopes.csv and, if runs warned,
# gmoe-warnings.csv to gmoe-rates/ (which .gitignore covers).
library(moerates)
future::plan(future::multisession, workers = 2)
out_dir <- "gmoe-rates"
started <- proc.time()[["elapsed"]]
cat("Reproducing the GMoE rate study at quick scale: 8 configurations x 2 modes,",
    "8 sample sizes (100 to 10,000) x 5 replications, 2 workers.\n")
# The runs' warnings come back as one table; it is printed below instead.
out <- withCallingHandlers(
  reproduce_gmoe("quick", mode = "both", out_dir = out_dir),
  warning = function(w) {
    if (grepl("runs raised", conditionMessage(w))) invokeRestart("muffleWarning")
  })
future::plan(future::sequential)

cat("\nSlopes of log(mean Voronoi loss) on log(n):\n")
shown <- out$slopes
shown[c("slope", "lower", "upper")] <- round(shown[c("slope", "lower", "upper")], 3)
print(shown[c("model", "k", "type", "mode", "slope", "lower", "upper", "theory", "published")],
      row.names = FALSE)
if (nrow(out$warnings)) {
  cat(sprintf("\n%d warning(s) from single runs (all in %s):\n", nrow(out$warnings),
              file.path(out_dir, "gmoe-warnings.csv")))
  w <- out$warnings
  line <- sprintf("%s, %s, n = %d, replication %d: %s", w$configuration, w$mode, w$n, w$rep,
                  w$message)
  cat(paste0("  ", ifelse(nchar(line) > 110, paste0(substr(line, 1, 107), "..."), line)),
      sep = "\n")
}
cat(sprintf("\nDone in %.0f s. Figures and tables in %s/.\n",
            proc.time()[["elapsed"]] - started, normalizePath(out_dir)))
cat("Quick scale: the published slopes are for 100 sizes up to 1e5 x 20 replications",
    "(reproduce_gmoe(\"paper\")).\n")
