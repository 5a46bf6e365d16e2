# How fast does fit_gmoe() reach the maximum, and how near does it stop?
#
# What it measures. Fits of the paper's models 1 and 2 (gmoe_paper_truth()),
# k = 4 (split c(2, 1, 1)) and k = 5 (split c(3, 1, 1)), n = 1e3, 1e4, 1e5,
# from the near-truth start (init_near_truth()), replications `seeds`, with:
#   newton   gmoe_control(): SQUAREM cycles, then Newton steps on the
#            analytic observed information, stopped where the Newton
#            decrement (the estimated remaining gain) is below tol = 1e-6;
#   tight    the same with tol = 1e-7 (ten times tighter);
#   squarem  gmoe_control(accelerate = "squarem", max_iter = 5000): SQUAREM
#            only, the same stopping rule;
#   plain    gmoe_control(accelerate = "none", max_iter = 20000): plain EM
#            to 20,000 iterations or the same stopping rule;
#   sq_0.4   (only with the environment variable MOERATES_OLD_LIB naming a
#            library that holds moerates 0.4.x) the 0.4 default: SQUAREM
#            stopped by the relative rule |dl| / (1 + |l|) < 1e-8, run in a
#            separate R process on the same data and start.
# The reference is the newton fit run on to tol = 1e-12 (its local
# maximum); `gap` is the reference's log-likelihood minus the method's.
# Different methods can end at different local maxima (over-fitted
# likelihoods have many): a negative gap means a higher maximum than the
# reference's.
#
# Cost. `passes` counts every pass over the data; `info` the passes that
# computed the observed information, which cost `info_cost` E-step passes
# each (measured below, per n), so `equiv` = passes - info + info *
# info_cost is the cost in E-step passes. Times are elapsed seconds of one
# run on one thread: on a loaded machine they are inflated and noisy, the
# passes are not.
#
# Run from the repository root with the package installed (about 15 minutes,
# most of it plain EM at n = 1e5):
#   Rscript inst/bench/bench-mle.R
#   MOERATES_OLD_LIB=/path/to/lib-with-0.4 Rscript inst/bench/bench-mle.R
library(moerates)

seeds <- 1:2
sizes <- c(1e3, 1e4, 1e5)
old_lib <- Sys.getenv("MOERATES_OLD_LIB")

# The 0.4 default fit in a separate process: returns loglik, iterations,
# passes and seconds.
fit_old <- function(sim, start, k) {
  io <- tempfile(fileext = ".rds")
  on.exit(unlink(c(io, paste0(io, ".out"))))
  saveRDS(list(x = sim$x, y = sim$y, start = unclass(start), k = k), io)
  code <- sprintf(paste(
    "library(moerates); a <- readRDS('%s');",
    "s <- do.call(gmoe_params, a$start[c('pi', 'c', 'Gamma', 'a', 'b', 'nu')]);",
    "t <- system.time(f <- fit_gmoe(a$x, a$y, a$k, init = s))[['elapsed']];",
    "saveRDS(c(loglik = f$loglik, iterations = f$iterations, passes = f$diagnostics$passes,",
    "seconds = t), '%s.out')"), io, io)
  env <- paste0("R_LIBS=", old_lib)
  status <- system2(file.path(R.home("bin"), "Rscript"), c("-e", shQuote(code)), env = env,
                    stdout = FALSE, stderr = FALSE)
  if (status != 0) return(NULL)
  readRDS(paste0(io, ".out"))
}

# Elapsed seconds of one E-step pass and of one information pass (the C++
# pass the fit makes, on the standardised data) at params.
pass_costs <- function(sim, params) {
  units <- moerates:::standard_units(sim$x, sim$y)
  p_u <- moerates:::params_to_units(params, units)
  reps <- max(3, round(2e6 / nrow(sim$x)))
  info <- system.time(for (r in seq_len(reps)) {
    moerates:::.gmoe_information_cpp(units$x, units$y, p_u, 1L, TRUE)
  })[["elapsed"]]
  em <- system.time(fit_gmoe(sim$x, sim$y, length(params$pi), init = params,
                             control = gmoe_control(max_iter = 10 * reps, tol = 0,
                                                    accelerate = "none")))[["elapsed"]]
  # the entry point also makes one E-step (for the score from its statistics)
  c(em = em / (10 * reps), info = info / reps - em / (10 * reps))
}

rows <- list()
costs <- list()
for (n in sizes) for (model in 1:2) for (k in 4:5) for (seed in seeds) {
  truth <- gmoe_paper_truth(model)
  set.seed(seed)
  sim <- rgmoe(n, truth)
  start <- init_near_truth(truth, k, n, split = if (k == 4) c(2, 1, 1) else c(3, 1, 1))
  controls <- list(newton = gmoe_control(), tight = gmoe_control(tol = 1e-7),
                   squarem = gmoe_control(accelerate = "squarem", max_iter = 5000),
                   plain = gmoe_control(accelerate = "none", max_iter = 20000))
  fits <- list()
  for (m in names(controls)) {
    seconds <- system.time(fits[[m]] <- suppressWarnings(
      fit_gmoe(sim$x, sim$y, k, init = start, control = controls[[m]])))[["elapsed"]]
    f <- fits[[m]]
    rows[[length(rows) + 1]] <- data.frame(
      model = model, k = k, n = n, seed = seed, method = m, passes = f$diagnostics$passes,
      info = f$diagnostics$information_passes, seconds = seconds, loglik = f$loglik,
      converged = f$converged)
  }
  ref <- fit_gmoe(sim$x, sim$y, k, init = fits$newton$params,
                  control = gmoe_control(tol = 1e-12))
  if (nzchar(old_lib)) {
    old <- fit_old(sim, start, k)
    if (!is.null(old)) {
      rows[[length(rows) + 1]] <- data.frame(
        model = model, k = k, n = n, seed = seed, method = "sq_0.4", passes = old[["passes"]],
        info = 0L, seconds = old[["seconds"]], loglik = old[["loglik"]], converged = NA)
    }
  }
  at <- vapply(rows, function(r) r$model == model && r$k == k && r$n == n && r$seed == seed,
               logical(1))
  for (i in which(at)) rows[[i]]$gap <- ref$loglik - rows[[i]]$loglik
  if (is.null(costs[[as.character(n)]])) costs[[as.character(n)]] <- pass_costs(sim, fits$newton$params)
  cat(sprintf("model %d, k = %d, n = %g, seed %d done\n", model, k, n, seed))
}
tab <- do.call(rbind, rows)
cost <- do.call(rbind, lapply(names(costs), function(n) {
  data.frame(n = as.numeric(n), em_ms = 1000 * costs[[n]][["em"]],
             info_ms = 1000 * costs[[n]][["info"]],
             info_cost = costs[[n]][["info"]] / costs[[n]][["em"]])
}))
tab$equiv <- round(tab$passes - tab$info + tab$info * cost$info_cost[match(tab$n, cost$n)])

cat("\nCost of a pass (d = 1, k = 5, ms; info_cost = information pass / E-step pass):\n")
print(format(cost, digits = 3), row.names = FALSE)
cat("\nEvery fit (gap: log-likelihood of the newton fit run on to tol 1e-12 minus the method's):\n")
print(format(tab, digits = 6), row.names = FALSE)

summ <- do.call(rbind, lapply(split(tab, list(tab$method, tab$n), drop = TRUE), function(s) {
  data.frame(method = s$method[1], n = s$n[1], fits = nrow(s),
             passes = stats::median(s$passes), equiv = stats::median(s$equiv),
             seconds = stats::median(s$seconds),
             gap_median = stats::median(s$gap), gap_max = max(s$gap),
             converged = if (all(is.na(s$converged))) NA else mean(s$converged))
}))
summ <- summ[order(summ$n, match(summ$method, c("newton", "tight", "squarem", "plain", "sq_0.4"))), ]
cat("\nMedians over models 1-2, k = 4-5 and seeds (gap_max: the largest gap):\n")
print(format(summ, digits = 3), row.names = FALSE)
conv <- tab[tab$method %in% c("newton", "tight") & tab$converged, ]
cat(sprintf(paste0("\nDistance of converged default fits to their maximum (tol 1e-6): ",
                   "max %.2g at n = 1e3, %.2g at n = 1e4, %.2g at n = 1e5\n"),
            max(conv$gap[conv$method == "newton" & conv$n == 1e3]),
            max(conv$gap[conv$method == "newton" & conv$n == 1e4]),
            max(conv$gap[conv$method == "newton" & conv$n == 1e5])))
