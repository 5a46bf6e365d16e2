# Checks all 16,000 published Voronoi losses of arXiv 2305.07572 (models 1-4,
# fitted K = 4 and 5, 2,000 fits each) against voronoi_loss() computed from
# the published estimates.
#
# Run from the repository root, with the reference data at
# ../shared/reference/crpe-gmoe:
#   Rscript inst/scripts/check-reference-losses.R
# Uses the installed moerates if there is one, otherwise sources the R files.
# Prints, per (model, K), the number of fits, the largest relative error and
# the Voronoi cell-size patterns seen (with counts); exits with status 1 if
# any relative error is >= 1e-10 or any loss cannot be computed.

ref_dir <- file.path("..", "shared", "reference", "crpe-gmoe")
if (!dir.exists(ref_dir)) stop("Reference data not found at ", ref_dir,
                               "; run from the repository root.")

if (requireNamespace("moerates", quietly = TRUE)) {
  library(moerates)
  cat("Using the installed moerates", format(packageVersion("moerates")), "\n\n")
} else {
  for (f in c("validate.R", "params-gmoe.R", "losses-voronoi.R")) {
    source(file.path("R", f))
  }
  cat("moerates is not installed: using the sourced R/ files\n\n")
}

tolerance <- 1e-10

worst <- 0
total_fits <- 0
for (model in 1:4) for (K in 4:5) {
  est <- read.csv(file.path(ref_dir, sprintf("estimates_model%d_K%d.csv.gz", model, K)))
  los <- read.csv(file.path(ref_dir, sprintf("losses_model%d_K%d.csv.gz", model, K)))
  truth <- gmoe_paper_truth(model)
  d <- ncol(truth$c)
  fit_id <- paste(est$n_index, est$rep)
  rows <- split(seq_len(nrow(est)), factor(fit_id, levels = unique(fit_id)))
  if (!setequal(names(rows), paste(los$n_index, los$rep))) {
    stop("Estimates and losses of model ", model, ", K = ", K,
         " do not list the same fits.")
  }
  res <- lapply(seq_len(nrow(los)), function(r) {
    p <- gmoe_params_from_table(est[rows[[paste(los$n_index[r], los$rep[r])]], ])
    list(loss = voronoi_loss(p, truth),
         sizes = paste(voronoi_cells(p, truth)$size, collapse = "-"))
  })
  ours <- vapply(res, `[[`, numeric(1), "loss")
  rel <- abs(ours - los$loss) / abs(los$loss)
  worst <- max(worst, rel)
  total_fits <- total_fits + nrow(los)
  patterns <- table(vapply(res, `[[`, character(1), "sizes"))
  cat(sprintf("model %d (type %s, d = %d), K = %d: %d fits, max relative error %.3g\n",
              model, if (any(rowSums(truth$c != 0) == 0)) "II" else "I", d, K,
              nrow(los), max(rel)))
  cat("  cell sizes:", paste0("(", names(patterns), ") x ", patterns,
                              collapse = ", "), "\n")
}

cat(sprintf("\nAll %d fits: max relative error %.3g (tolerance %g)\n",
            total_fits, worst, tolerance))
if (is.na(worst) || worst >= tolerance) {
  cat("FAILED\n")
  quit(status = 1)
}
cat("OK\n")
