# The README's main job: reproduce the published Gaussian-gated MoE rate
# study at quick scale (8 configurations, one EM step as published and
# converged EM on the same data and starts), on two local workers.
# Writes a figure per configuration and gmoe-slopes.csv to gmoe-rates/.
library(moerates)
future::plan(future::multisession, workers = 2)
progressr::handlers(global = TRUE)
started <- proc.time()[["elapsed"]]
out <- reproduce_gmoe("quick", mode = "both", out_dir = "gmoe-rates")
future::plan(future::sequential)

shown <- out$slopes
shown[c("slope", "lower", "upper")] <- round(shown[c("slope", "lower", "upper")], 3)
print(shown[c("model", "k", "type", "mode", "slope", "lower", "upper", "theory", "published")],
      row.names = FALSE)
cat(sprintf("\nDone in %.0f s. Figures and table in %s/.\n",
            proc.time()[["elapsed"]] - started, "gmoe-rates"))
cat("Quick scale: 8 sample sizes (100 to 10,000) x 5 replications; the published",
    "slopes are for 100 sizes up to 1e5 x 20 replications (reproduce_gmoe(\"paper\")).\n")
