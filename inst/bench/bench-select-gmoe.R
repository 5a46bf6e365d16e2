# Choosing the number of experts with fit_gmoe(k = 1:6).
# 1. Data from the 3-expert GMoE of the paper (models 1 to 4: d = 1 and 2,
#    Type I and II), n = 2000, seeds 1 to 10: how often k = 3 is chosen (BIC
#    and, for comparison, the ICL among the fits that are not degenerate),
#    and the seconds per selection.
# 2. faithful, waiting ~ eruptions: the log-likelihood kept for each k
#    against mclust's VVV fit of cbind(eruptions, waiting) with G = k (the
#    same model: see ?gmoe_to_joint), and the choice.
# 3. mtcars, mpg ~ wt + hp, k = 1:5: the table and the choice.
# Run from the repository root with the package installed:
#   Rscript inst/bench/bench-select-gmoe.R
library(moerates)
suppressPackageStartupMessages(library(mclust)) # Mclust() evaluates its calls in the search path

seeds <- 1:10
rows <- list()
for (model in 1:4) {
  truth <- gmoe_paper_truth(model)
  for (seed in seeds) {
    set.seed(seed)
    sim <- rgmoe(2000, truth)
    seconds <- system.time(sel <- suppressMessages(fit_gmoe(sim$x, sim$y, k = 1:6)))[["elapsed"]]
    tab <- sel$table
    ok <- !tab$degenerate
    rows[[length(rows) + 1]] <- data.frame(
      model = model, d = ncol(truth$c), seed = seed, k_bic = sel$k,
      k_icl = tab$k[ok][which.min(tab$ICL[ok])], degenerate_k = sum(tab$degenerate),
      seconds = seconds)
  }
}
sim_table <- do.call(rbind, rows)
cat("Simulated 3-expert GMoE, n = 2000, k = 1:6, seeds", min(seeds), "to", max(seeds), "\n")
print(sim_table, row.names = FALSE)
cat("\nk = 3 chosen by BIC (ICL), out of", length(seeds), "seeds:\n")
counts <- lapply(split(sim_table, sim_table$model), function(m) {
  data.frame(model = m$model[1], d = m$d[1], bic_chose_3 = sum(m$k_bic == 3),
             icl_chose_3 = sum(m$k_icl == 3), mean_seconds = mean(m$seconds))
})
print(do.call(rbind, counts), row.names = FALSE)

cat("\nfaithful, waiting ~ eruptions, k = 1:6 (n_starts = 1 and 5) against mclust VVV\n")
set.seed(1)
sel1 <- suppressMessages(fit_gmoe(waiting ~ eruptions, data = faithful, k = 1:6))
set.seed(1)
seconds5 <- system.time(
  sel5 <- suppressMessages(fit_gmoe(waiting ~ eruptions, data = faithful, k = 1:6, n_starts = 5))
)[["elapsed"]]
mclust_ll <- vapply(1:6, function(g) {
  m <- Mclust(cbind(faithful$eruptions, faithful$waiting), G = g, modelNames = "VVV",
                      verbose = FALSE)
  if (is.null(m)) NA_real_ else m$loglik
}, numeric(1))
comparison <- data.frame(k = 1:6, moerates_1_start = sel1$table$logLik,
                         moerates_5_starts = sel5$table$logLik, mclust_VVV = mclust_ll,
                         difference_1 = sel1$table$logLik - mclust_ll,
                         degenerate = sel1$table$degenerate)
print(comparison, digits = 8, row.names = FALSE)
cat("chosen k:", sel1$k, "(1 start),", sel5$k, "(5 starts); seconds with 5 starts:",
    seconds5, "\n")

cat("\nmtcars, mpg ~ wt + hp, k = 1:5\n")
set.seed(1)
print(fit_gmoe(mpg ~ wt + hp, data = mtcars, k = 1:5))
