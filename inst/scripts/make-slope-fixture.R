# Builds tests/testthat/fixtures/crpe-gmoe-mean-losses.csv: for every
# published configuration (model, K) and sample size, the mean of the 20
# published losses. The published slopes are least-squares slopes of
# log(mean loss) on log(n), so these 800 means are all that rate_slopes()
# needs to reproduce them; the n column also checks gmoe_paper_n().
#
# Run from the repository root, with the reference data at
# ../shared/reference/crpe-gmoe:
#   Rscript inst/scripts/make-slope-fixture.R
ref_dir <- file.path("..", "shared", "reference", "crpe-gmoe")
out_file <- file.path("tests", "testthat", "fixtures", "crpe-gmoe-mean-losses.csv")
if (!dir.exists(ref_dir)) stop("Reference data not found at ", ref_dir,
                               "; run from the repository root.")
means <- do.call(rbind, lapply(1:4, function(model) {
  do.call(rbind, lapply(4:5, function(K) {
    losses <- utils::read.csv(file.path(ref_dir, sprintf("losses_model%d_K%d.csv.gz", model, K)))
    stopifnot(all(table(losses$n_index) == 20))
    agg <- stats::aggregate(loss ~ n_index + n, data = losses, FUN = mean)
    agg <- agg[order(agg$n_index), ]
    data.frame(model = model, K = K, n_index = agg$n_index, n = agg$n,
               mean_loss = agg$loss)
  }))
}))
means$mean_loss <- sprintf("%.17g", means$mean_loss)
utils::write.csv(means, out_file, row.names = FALSE, quote = FALSE)
message("wrote ", nrow(means), " rows to ", out_file)
