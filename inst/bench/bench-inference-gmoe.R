# Standard errors, confidence intervals, bootstrap and prediction intervals
# of a Gaussian-gated mixture of experts fit, checked by Monte Carlo.
#
#   Rscript inst/bench/bench-inference-gmoe.R [data sets = 200] [n = 2000] [bootstrap sets = 20] [B = 199] [workers = 1] [d = 1]
#
# Truth: a well-separated two-expert GMoE with one covariate,
# pi = (0.4, 0.6), c = (-1, 1), Gamma = (0.3, 0.3), a = (1, -1), b = (0, 1),
# nu = (0.1, 0.2); with d = 2, c = (-1, -1), (1, 1), Gamma = 0.3 [1 0.3; 0.3 1] for
# both, a = (1, 0.5), (-1, 0.5). Each data set is fitted by fit_gmoe(x, y, k = 2) with its
# defaults (k-means start); the fit's components are matched to the truth's
# (the bootstrap's k! assignment). Printed:
#  1. the analytic score and Hessian of one fit against central differences
#     of the log-likelihood (relative error);
#  2. per parameter: the Monte Carlo standard deviation of the estimates,
#     the mean observed-information standard error, their ratio, and the
#     coverage of the 95% Wald intervals (with a binomial 95% interval);
#  3. on the first `bootstrap sets` data sets: the ratio of the parametric
#     and nonparametric bootstrap standard errors (B refits) to the Wald
#     ones, averaged over data sets, and the coverage of the percentile
#     intervals;
#  4. for every fit: the coverage of its 95% prediction intervals for 2000
#     new observations drawn from the fit's own model (and, for reference,
#     from the truth).
# With workers > 1 the bootstrap refits run on a multisession plan; the
# results are the same under any plan.

library(moerates)

args <- commandArgs(trailingOnly = TRUE)
sets <- if (length(args) >= 1) as.numeric(args[1]) else 200
n <- if (length(args) >= 2) as.numeric(args[2]) else 2000
boot_sets <- if (length(args) >= 3) as.numeric(args[3]) else 20
B <- if (length(args) >= 4) as.numeric(args[4]) else 199
workers <- if (length(args) >= 5) as.numeric(args[5]) else 1
d <- if (length(args) >= 6) as.numeric(args[6]) else 1
if (workers > 1) future::plan(future::multisession, workers = workers)

truth <- if (d == 1) {
  gmoe_params(pi = c(0.4, 0.6), c = c(-1, 1), Gamma = c(0.3, 0.3),
              a = c(1, -1), b = c(0, 1), nu = c(0.1, 0.2))
} else {
  G <- 0.3 * matrix(c(1, 0.3, 0.3, 1), 2, 2)
  gmoe_params(pi = c(0.4, 0.6), c = rbind(c(-1, -1), c(1, 1)), Gamma = array(c(G, G), c(2, 2, 2)),
              a = rbind(c(1, 0.5), c(-1, 0.5)), b = c(0, 1), nu = c(0.1, 0.2))
}
target <- moerates:::gmoe_natural_values(truth)
perms <- moerates:::all_permutations(2)
started <- proc.time()[["elapsed"]]

# 1. score and Hessian against central differences
set.seed(1)
sim <- rgmoe(n, truth)
fit <- fit_gmoe(sim$x, sim$y, k = 2, control = gmoe_control(max_iter = 1, tol = 0))
info <- moerates:::gmoe_information(fit)
loglik <- function(th) {
  sum(dgmoe(fit$x, fit$y, moerates:::.gmoe_unpack_cpp(th, fit$params), log = TRUE))
}
score <- function(th) {
  f <- fit
  f$params <- moerates:::.gmoe_unpack_cpp(th, fit$params)
  moerates:::gmoe_information(f)$score
}
diff <- function(f, theta, h) {
  sapply(seq_along(theta), function(i) {
    e <- replace(numeric(length(theta)), i, h)
    (f(theta + e) - f(theta - e)) / (2 * h)
  })
}
num_score <- diff(loglik, info$theta, 1e-5)
num_hess <- diff(score, info$theta, 1e-6)
cat(sprintf("d = %d, n = %d, %d data sets\n\n", d, n, sets))
cat("1. Analytic derivatives against central differences (a fit one EM step from k-means,",
    "not at a maximum)\n")
cat(sprintf(paste0("   score:   max |analytic - numeric| = %.2e (max |score| = %.1f; the ",
                   "differences' rounding error is about %.0e)\n"),
            max(abs(num_score - info$score)), max(abs(info$score)),
            .Machine$double.eps * abs(info$loglik) / 1e-5))
cat(sprintf("   Hessian: max |analytic - numeric| / max |Hessian| = %.2e\n\n",
            max(abs(num_hess - info$hessian)) / max(abs(info$hessian))))

# 2. Wald standard errors and intervals over `sets` data sets
runs <- vector("list", sets)
data_sets <- vector("list", sets)
set.seed(2026)
for (r in seq_len(sets)) {
  sim <- rgmoe(n, truth)
  fit <- fit_gmoe(sim$x, sim$y, k = 2)
  order <- moerates:::match_components(fit$params, truth, perms)
  p <- moerates:::permute_components(fit$params, order)
  # intervals and standard errors in the truth's component order
  rows <- as.vector(matrix(seq_along(target), ncol = 2)[, order])
  cov_ok <- TRUE
  se <- withCallingHandlers(summary(fit)$estimates$std_error,
                            warning = function(w) { cov_ok <<- FALSE; invokeRestart("muffleWarning") })
  ci <- suppressWarnings(confint(fit))
  runs[[r]] <- list(est = moerates:::gmoe_natural_values(p), se = se[rows], ci = ci[rows, ],
                    ok = cov_ok && !is_degenerate(fit), order = order)
  data_sets[[r]] <- list(sim = sim, fit = fit)
}
ok <- vapply(runs, `[[`, logical(1), "ok")
est <- sapply(runs[ok], `[[`, "est")
se <- sapply(runs[ok], `[[`, "se")
cover <- sapply(runs[ok], function(r) r$ci[, 1] <= target & target <= r$ci[, 2])
names_nat <- rownames(vcov(data_sets[[which(ok)[1]]]$fit))
table <- data.frame(truth = target, mc_sd = apply(est, 1, sd), mean_se = rowMeans(se),
                    row.names = names_nat)
table$ratio <- table$mean_se / table$mc_sd
table$coverage <- rowMeans(cover)
cat(sprintf("2. Observed-information standard errors and 95%% Wald intervals (%d of %d fits with ",
            sum(ok), sets), "standard errors; the others warned)\n", sep = "")
print(round(table, 4))
band <- qbinom(c(0.025, 0.975), sum(ok), 0.95) / sum(ok)
cat(sprintf(paste0("   SE ratio (mean SE / Monte Carlo sd): range %.3f to %.3f; largest |ratio - 1| = %.3f\n",
                   "   (the Monte Carlo sd of %d estimates is itself within about +-%.0f%% of its value)\n",
                   "   coverage: %.3f overall, per parameter %.3f to %.3f (binomial 95%% band at 0.95: %.3f to %.3f)\n\n"),
            min(table$ratio), max(table$ratio), max(abs(table$ratio - 1)), sum(ok),
            100 * 1.96 / sqrt(2 * (sum(ok) - 1)), mean(cover), min(table$coverage),
            max(table$coverage), band[1], band[2]))

# 3. bootstrap against Wald on the first data sets
boot_ratio <- list(parametric = NULL, nonparametric = NULL)
boot_cover <- list(parametric = NULL, nonparametric = NULL)
boot_time <- c(parametric = 0, nonparametric = 0)
for (r in seq_len(min(boot_sets, sets))) {
  if (!runs[[r]]$ok) next
  fit <- data_sets[[r]]$fit
  rows <- as.vector(matrix(seq_along(target), ncol = 2)[, runs[[r]]$order])
  for (type in names(boot_ratio)) {
    set.seed(r)
    t0 <- proc.time()[["elapsed"]]
    ci <- confint(fit, method = "bootstrap", B = B, type = type)
    boot_time[type] <- boot_time[type] + proc.time()[["elapsed"]] - t0
    boot_ratio[[type]] <- cbind(boot_ratio[[type]],
                                attr(ci, "bootstrap")$se[rows] / runs[[r]]$se)
    boot_cover[[type]] <- cbind(boot_cover[[type]],
                                ci[rows, 1] <= target & target <= ci[rows, 2])
  }
}
cat(sprintf("3. Bootstrap (B = %d) standard errors / Wald standard errors, mean over %d data sets\n",
            B, ncol(boot_ratio$parametric)))
print(round(data.frame(parametric = rowMeans(boot_ratio$parametric),
                       nonparametric = rowMeans(boot_ratio$nonparametric),
                       row.names = names_nat), 3))
cat(sprintf(paste0("   range of the mean ratios: parametric %.3f to %.3f, nonparametric %.3f to %.3f\n",
                   "   (one ratio's Monte Carlo error with B = %d: about %.0f%%; of a mean over %d ",
                   "data sets: about %.1f%%)\n",
                   "   95%% percentile-interval coverage: parametric %.3f, nonparametric %.3f\n",
                   "   time per bootstrap: parametric %.1f s, nonparametric %.1f s\n\n"),
            min(rowMeans(boot_ratio$parametric)), max(rowMeans(boot_ratio$parametric)),
            min(rowMeans(boot_ratio$nonparametric)), max(rowMeans(boot_ratio$nonparametric)),
            B, 100 / sqrt(2 * (B - 1)), ncol(boot_ratio$parametric),
            100 / sqrt(2 * (B - 1)) / sqrt(ncol(boot_ratio$parametric)),
            mean(boot_cover$parametric), mean(boot_cover$nonparametric),
            boot_time[["parametric"]] / ncol(boot_ratio$parametric),
            boot_time[["nonparametric"]] / ncol(boot_ratio$nonparametric)))

# 4. prediction intervals for new observations of each fit's own model
set.seed(7)
pi_cover <- t(vapply(data_sets, function(ds) {
  own <- rgmoe(2000, ds$fit$params)
  new <- rgmoe(2000, truth)
  a <- predict(ds$fit, own$x, interval = "prediction", level = 0.95)
  b <- predict(ds$fit, new$x, interval = "prediction", level = 0.95)
  c(own = mean(own$y >= a[, "lwr"] & own$y <= a[, "upr"]),
    truth = mean(new$y >= b[, "lwr"] & new$y <= b[, "upr"]))
}, numeric(2)))
cat("4. Coverage of 95% prediction intervals, 2000 new observations per fit\n")
cat(sprintf(paste0("   from the fit's own model: mean %.4f, range %.4f to %.4f, ",
                   "in [0.90, 0.98] for %d of %d fits\n",
                   "   from the truth:           mean %.4f, range %.4f to %.4f\n"),
            mean(pi_cover[, "own"]), min(pi_cover[, "own"]), max(pi_cover[, "own"]),
            sum(pi_cover[, "own"] >= 0.9 & pi_cover[, "own"] <= 0.98), sets,
            mean(pi_cover[, "truth"]), min(pi_cover[, "truth"]), max(pi_cover[, "truth"])))
cat(sprintf("\nTotal time %.0f s\n", proc.time()[["elapsed"]] - started))
