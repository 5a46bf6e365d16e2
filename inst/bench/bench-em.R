# Milliseconds per EM iteration of fit_gmoe() and of mclust's VVV EM on
# cbind(x, y), same data and start, fixed number of iterations, single
# thread; n in 1e3, 1e4, 1e5, d in 1, 2, k = 5. fit_gmoe() is timed with its
# AVX2 and FMA code (used where the processor has it) and with the baseline
# SSE2 code (`baseline_ms`), which processors without AVX2 run. Then
# fit_gmoe() with
# gmoe_control(threads = 2) against one thread, n in 1e4, 1e5, 1e6 (d = 2,
# k = 5): worth it only on a machine whose second core is otherwise idle.
# Run from the repository root with the package installed:
#   Rscript inst/bench/bench-em.R
library(moerates)
if (!requireNamespace("mclust", quietly = TRUE)) stop("the benchmark needs mclust")

iters <- 50
reps <- 3

# Best elapsed time of `reps` runs of f(), and f()'s value.
timed <- function(f) {
  best <- Inf
  for (r in seq_len(reps)) {
    t <- system.time(value <- f())[["elapsed"]]
    best <- min(best, t)
  }
  list(value = value, seconds = best)
}

rows <- list()
set.seed(1)
for (d in 1:2) {
  truth <- gmoe_paper_truth(if (d == 1) 1 else 3)
  for (n in c(1e3, 1e4, 1e5)) {
    sim <- rgmoe(n, truth)
    start <- init_near_truth(truth, k = 5, n = n)
    ctrl <- gmoe_control(max_iter = iters, tol = 0, accelerate = "none", kernels = "auto")
    ours <- timed(function() fit_gmoe(sim$x, sim$y, k = 5, init = start, control = ctrl))
    ctrl$kernels <- "portable"
    baseline <- timed(function() fit_gmoe(sim$x, sim$y, k = 5, init = start, control = ctrl))
    theirs <- timed(function() moerates:::mclust_em_gmoe(sim$x, sim$y, start, iters))
    rows[[length(rows) + 1]] <- data.frame(
      n = n, d = d, k = 5, iterations = iters,
      moerates_ms = 1000 * ours$seconds / iters,
      baseline_ms = 1000 * baseline$seconds / iters,
      mclust_ms = 1000 * theirs$seconds / iters,
      speedup = theirs$seconds / ours$seconds,
      loglik_diff = ours$value$loglik - theirs$value$loglik)
  }
}
tab <- do.call(rbind, rows)
cat("EM milliseconds per iteration (best of", reps, "runs of", iters, "iterations);",
    "kernels of \"auto\" here:", moerates:::kernel_path("auto"), "\n")
print(format(tab, digits = 3), row.names = FALSE)

threads <- do.call(rbind, lapply(c(1e4, 1e5, 1e6), function(n) {
  truth <- gmoe_paper_truth(3)
  sim <- rgmoe(n, truth)
  start <- init_near_truth(truth, k = 5, n = n)
  ms <- vapply(1:2, function(th) {
    ctrl <- gmoe_control(max_iter = iters, tol = 0, accelerate = "none", threads = th)
    1000 * timed(function() fit_gmoe(sim$x, sim$y, k = 5, init = start, control = ctrl))$seconds / iters
  }, numeric(1))
  data.frame(n = n, d = 2, k = 5, one_thread_ms = ms[1], two_threads_ms = ms[2],
             speedup = ms[1] / ms[2])
}))
cat("\nfit_gmoe() milliseconds per EM iteration, one thread against gmoe_control(threads = 2)\n")
print(format(threads, digits = 3), row.names = FALSE)
