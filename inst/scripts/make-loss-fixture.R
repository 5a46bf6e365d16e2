# Builds tests/testthat/fixtures/crpe-gmoe-subset.csv: a subset of the
# published estimates of arXiv 2305.07572 joined with the published loss of
# each fit, for the voronoi_loss() tests.
#
# Run from the repository root, with the reference data at
# ../shared/reference/crpe-gmoe:
#   Rscript inst/scripts/make-loss-fixture.R
# Uses the installed moerates if there is one, otherwise sources the R files.
#
# Per (model, K) it keeps one fit of every Voronoi cell-size pattern that
# occurs (chosen at random among the fits with that pattern) and three more
# fits at random. d = 1 and d = 2 share one column layout; the d = 2 columns
# are NA for models 1 and 2. Numbers are written with 17 significant digits
# so they read back bit for bit.

ref_dir <- file.path("..", "shared", "reference", "crpe-gmoe")
out_file <- file.path("tests", "testthat", "fixtures", "crpe-gmoe-subset.csv")
if (!dir.exists(ref_dir)) stop("Reference data not found at ", ref_dir,
                               "; run from the repository root.")

if (requireNamespace("moerates", quietly = TRUE)) {
  library(moerates)
} else {
  for (f in c("validate.R", "params-gmoe.R", "losses-voronoi.R")) {
    source(file.path("R", f))
  }
}

columns <- c("model", "K", "n_index", "n", "rep", "component", "pi",
             "c1", "c2", "Gamma11", "Gamma12", "Gamma21", "Gamma22",
             "a1", "a2", "b", "nu", "loss", "cell_sizes")

set.seed(20240502)
parts <- list()
for (model in 1:4) for (K in 4:5) {
  est <- read.csv(file.path(ref_dir, sprintf("estimates_model%d_K%d.csv.gz", model, K)))
  los <- read.csv(file.path(ref_dir, sprintf("losses_model%d_K%d.csv.gz", model, K)))
  truth <- gmoe_paper_truth(model)
  fit_id <- paste(est$n_index, est$rep)
  rows <- split(seq_len(nrow(est)), factor(fit_id, levels = unique(fit_id)))
  los_rows <- rows[paste(los$n_index, los$rep)]
  los$cell_sizes <- vapply(los_rows, function(i) {
    paste(voronoi_cells(gmoe_params_from_table(est[i, ]), truth)$size, collapse = "-")
  }, character(1))

  pick <- vapply(split(seq_len(nrow(los)), los$cell_sizes),
                 function(i) i[sample.int(length(i), 1)], integer(1))
  pick <- c(pick, sample(setdiff(seq_len(nrow(los)), pick), 3))
  sel <- est[unlist(los_rows[pick]), ]
  sel <- merge(sel, los[pick, c("n_index", "rep", "loss", "cell_sizes")],
               by = c("n_index", "rep"), sort = FALSE)
  for (col in setdiff(columns, names(sel))) sel[[col]] <- NA_real_
  parts[[length(parts) + 1]] <- sel[order(sel$n_index, sel$rep, sel$component), columns]
}
fixture <- do.call(rbind, parts)

exact <- c("pi", "c1", "c2", "Gamma11", "Gamma12", "Gamma21", "Gamma22",
           "a1", "a2", "b", "nu", "loss")
for (col in exact) {
  fixture[[col]] <- ifelse(is.na(fixture[[col]]), "NA",
                           sprintf("%.17g", fixture[[col]]))
}
write.csv(fixture, out_file, row.names = FALSE, quote = FALSE)
cat(sprintf("Wrote %s: %d fits, %d rows, %.0f KB\n", out_file,
            nrow(unique(fixture[c("model", "K", "n_index", "rep")])),
            nrow(fixture), file.size(out_file) / 1024))
