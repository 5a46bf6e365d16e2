# Milliseconds per EM iteration of fit_gmoe() and of mclust's VVV EM on
# cbind(x, y), same data and start, fixed number of iterations, single
# thread; n in 1e3, 1e4, 1e5, d in 1, 2, k = 5.
# Run from the repository root with the package installed:
#   Rscript inst/bench/bench-em.R
library(moerates)
if (!requireNamespace("mclust", quietly = TRUE)) stop("the benchmark needs mclust")

iters <- 30
reps <- 3

run_mclust <- function(x, y, start, iters) {
  j <- gmoe_to_joint(start)
  p <- nrow(j$mean)
  k <- ncol(j$mean)
  chols <- array(vapply(seq_len(k), function(g) chol(j$sigma[, , g]), numeric(p * p)),
                 c(p, p, k))
  mclust::emVVV(cbind(x, y),
                parameters = list(pro = j$pro, mean = j$mean,
                                  variance = list(modelName = "VVV", d = p, G = k,
                                                  sigma = j$sigma, cholsigma = chols)),
                control = mclust::emControl(tol = c(0, 0), itmax = iters))
}

rows <- list()
set.seed(1)
for (d in 1:2) {
  truth <- gmoe_paper_truth(if (d == 1) 1 else 3)
  for (n in c(1e3, 1e4, 1e5)) {
    sim <- rgmoe(n, truth)
    start <- init_near_truth(truth, k = 5, n = n)
    ctrl <- gmoe_control(max_iter = iters, tol = 0)
    t_ours <- min(replicate(reps, system.time(
      fit <- fit_gmoe(sim$x, sim$y, k = 5, init = start, control = ctrl))[["elapsed"]]))
    t_mclust <- min(replicate(reps, system.time(
      ref <- run_mclust(sim$x, sim$y, start, iters))[["elapsed"]]))
    rows[[length(rows) + 1]] <- data.frame(
      n = n, d = d, k = 5, iterations = iters,
      moerates_ms = 1000 * t_ours / iters, mclust_ms = 1000 * t_mclust / iters,
      speedup = t_mclust / t_ours,
      loglik_diff = fit$loglik - ref$loglik)
  }
}
tab <- do.call(rbind, rows)
cat("EM milliseconds per iteration (best of", reps, "runs of", iters, "iterations)\n")
print(format(tab, digits = 3), row.names = FALSE)
