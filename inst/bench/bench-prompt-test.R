# Size and power of prompt_test(), the parametric-bootstrap likelihood ratio
# test of no prompt in a contaminated mixture of experts.
#
#   Rscript inst/bench/bench-prompt-test.R [data sets = 200] [B = 199] [workers = 1] [scenarios]
#
# `scenarios`: "laplace", "gaussian" or "all" (the default); the Gaussian one
# takes about six times as long (EM is slow where the prompt can merge into
# f0).
#
# For each scenario, `data sets` data sets of n = 2000 observations with
# x ~ N(0, 1) are drawn from f0 alone (size) and with a prompt of weight
# lambda = 0.1 (power); each is fitted by fit_cmoe() with its defaults and
# tested by prompt_test(fit, B). Printed per scenario and hypothesis: the
# rejection rates at the 1%, 5% and 10% levels with a binomial 95% interval
# for the 5% one, and, under no prompt, the Kolmogorov-Smirnov test of
# uniformity of the randomised p-values (the Monte Carlo p-value with ties
# broken at random, which is exactly uniform under H0) next to the rejection
# rate that the chi-bar-square law (1/2 chi2(0) + 1/2 chi2(1)) of a regular
# boundary problem would give. With workers > 1 the refits run on a
# multisession plan; the results are the same under any plan.

library(moerates)

args <- commandArgs(trailingOnly = TRUE)
sets <- if (length(args) >= 1) as.numeric(args[1]) else 200
B <- if (length(args) >= 2) as.numeric(args[2]) else 199
workers <- if (length(args) >= 3) as.numeric(args[3]) else 1
chosen <- if (length(args) >= 4) args[4] else "all"
if (workers > 1) future::plan(future::multisession, workers = workers)

scenarios <- list(
  laplace = list(name = "Laplace f0, linear prompt (distinguishable)",
       pretrained = pretrained_model("laplace", eta0 = c(2, 0), nu0 = 1),
       prompt = cmoe_params(0.1, c(-1, 1), 0.5)),
  gaussian = list(name = "Gaussian f0, linear prompt (not distinguishable)",
       pretrained = pretrained_model("gaussian", eta0 = c(2, 0), nu0 = 1),
       prompt = cmoe_params(0.1, c(1, 1), 1.5)))

one_data_set <- function(scenario, with_prompt, n = 2000) {
  x <- matrix(rnorm(n), n, 1)
  y <- if (with_prompt) rcmoe(n, scenario$prompt, scenario$pretrained, x = x)$y
       else moerates:::pretrained_draw(scenario$pretrained, x)
  fit <- suppressWarnings(fit_cmoe(x, y, scenario$pretrained))
  test <- prompt_test(fit, B = B)
  ties <- sum(test$null_statistics == test$statistic)
  c(p = test$p.value, lr = test$statistic[[1]],
    randomised = (sum(test$null_statistics > test$statistic) + runif(1) * (ties + 1)) / (B + 1))
}

rate <- function(p, level) mean(p <= level)
if (chosen != "all") scenarios <- scenarios[chosen]

set.seed(20250)
for (scenario in scenarios) {
  for (with_prompt in c(FALSE, TRUE)) {
    started <- proc.time()[["elapsed"]]
    res <- t(vapply(seq_len(sets), function(i) one_data_set(scenario, with_prompt), numeric(3)))
    seconds <- proc.time()[["elapsed"]] - started
    ci <- stats::binom.test(sum(res[, "p"] <= 0.05), sets)$conf.int
    cat(sprintf("\n%s, %s: %d data sets, n = 2000, B = %d, %.0f s\n", scenario$name,
                if (with_prompt) "prompt with lambda = 0.1 (power)" else "no prompt (size)",
                sets, B, seconds))
    cat(sprintf("  rejection rate at 1%% / 5%% / 10%%: %.3f / %.3f / %.3f (5%%: 95%% interval %.3f-%.3f)\n",
                rate(res[, "p"], 0.01), rate(res[, "p"], 0.05), rate(res[, "p"], 0.1), ci[1], ci[2]))
    if (!with_prompt) {
      ks <- stats::ks.test(res[, "randomised"], "punif")
      chibar <- stats::pchisq(res[, "lr"], 1, lower.tail = FALSE) / 2
      cat(sprintf("  uniformity of the randomised p-values: KS D = %.3f, p-value %.3f\n",
                  ks$statistic, ks$p.value))
      cat(sprintf("  LR quantiles 50%% / 90%% / 95%%: %.2f / %.2f / %.2f; chi-bar-square would reject %.3f at 5%%\n",
                  stats::quantile(res[, "lr"], 0.5), stats::quantile(res[, "lr"], 0.9),
                  stats::quantile(res[, "lr"], 0.95), rate(chibar, 0.05)))
    }
  }
}
