# Anchors for fit_gmoe(): the same Gaussian-gated mixture of experts fitted
# by other software, and the machine's own limit for this work.
#
# What it measures
#   1. One fit of the same data from the same start, for n = 1e3, 1e4, 1e5,
#      d = 1 (gmoe_paper_truth(1)) and d = 2 (gmoe_paper_truth(3)), k = 4
#      (start: init_near_truth(truth, k = 4, n)), by
#        - moerates::fit_gmoe, plain EM (accelerate = "none") and SQUAREM
#          (bench-mle.R times the default, SQUAREM then Newton steps);
#        - mclust's VVV EM on cbind(x, y) (a GMoE is an unconstrained
#          Gaussian mixture on (x, y), see gmoe_to_joint());
#        - flexCWM::cwm, a cluster-weighted model with Gaussian response and
#          Gaussian "VVV" covariates (same model), if flexCWM is installed;
#        - xLLiM::gllim, GLLiM with tapp = x and yapp = y (with one response
#          dimension and no constraints, the same joint Gaussian mixture), if
#          xLLiM is installed.
#      Columns: elapsed and CPU seconds (minimum over repeats), iterations,
#      milliseconds per iteration, and the final log-likelihood computed for
#      every method by moerates' own dgmoe(x, y, params, log = TRUE) summed,
#      after converting its estimate to a gmoe_params, so the numbers are
#      comparable (`note` says when a conversion was not possible); also each
#      method's own reported log-likelihood, as a check of the conversion.
#   2. The machine's limit for fit_gmoe's EM at n = 1e5, d = 2, k = 4 and 5:
#      flops and bytes of memory traffic per EM iteration (counted below),
#      the machine's flop rate and read bandwidth measured in R, the lower
#      bound on the time per iteration they imply, the time per iteration
#      achieved, and their ratio; also against the nominal peaks of the
#      instructions used (AVX2 + FMA where the processor has them, and the
#      baseline SSE2 code timed on its own).
#
# How to run (from the repository root, with moerates installed):
#   install.packages(c("flexCWM", "xLLiM"))   # optional; skipped if absent
#   Rscript inst/bench/bench-anchors.R
# flexCWM and xLLiM are not dependencies of moerates; the script looks them
# up at run time and prints a line for each one it cannot use. It needs
# mclust (in Suggests). The flexCWM and xLLiM calls follow flexCWM 1.92 and
# xLLiM 2.3.1 (argument names and the layout of their results).
# Runtime is kept under ~10 minutes: a method whose time for one fit,
# predicted from a pilot of 1 and 4 iterations, exceeds two minutes is
# skipped (and said so), and so is any fit that would overrun the script's
# overall budget; a pure-R fit (flexCWM, xLLiM) still running after three
# minutes is stopped and reported.
#
# Same settings everywhere the APIs allow: relative tolerance 1e-8 on the
# log-likelihood, |l_t - l_{t-1}| / (1 + |l_t|) < 1e-8 (mclust's own rule),
# and at most 2000 iterations. fit_gmoe stops on an absolute gain in
# log-likelihood; it gets tol = 1e-8 * (1 + |l_0|), l_0 the log-likelihood
# of the start, the same scale. The others cannot take that rule either:
#   - flexCWM stops when the Aitken-extrapolated log-likelihood is within an
#     absolute `threshold` of the current one; it gets threshold =
#     1e-8 * (1 + |l_0|), l_0 the log-likelihood of the start, the same
#     scale as the relative rule. That rule can stop after 3 iterations: the
#     first step from the smoothed start (below) is large, the next ones
#     small, and the extrapolation then looks converged;
#   - xLLiM::gllim has a fixed rule (stop when the last increase is below
#     0.1% of the total increase so far); only `maxiter = 2000` can be set.
#     So it may stop well short of the maximum: compare its ms/iteration,
#     and read its log-likelihood with that in mind.
# Same start: mclust and gllim take starting parameters directly
# (gmoe_to_joint() for mclust, the GLLiM layout for gllim). flexCWM's cwm()
# accepts only an initial classification (initialization = "manual",
# start.z); it is given the start's soft posterior probabilities computed
# from dgmoe() (log pi_j + the log density of component j, normalised),
# so its first M-step is the EM step from the start. flexCWM adds 1e-4 to
# start.z before normalising, a small perturbation of that start (its first
# step then equals moerates' M-step from the smoothed posteriors, not the
# EM step; at n = 1e4, d = 2 the two differ by about 0.7 in log-likelihood).
#
# Timing: another job may share this 2-core machine, so every fit that
# takes under 10 seconds is repeated (up to 3 runs) and the minimum is kept;
# CPU time (user + system) is printed next to elapsed time because it is
# less sensitive to a busy machine. All fits are single-threaded.

library(moerates)
if (!requireNamespace("mclust", quietly = TRUE)) stop("the benchmark needs mclust")

k <- 4
tol <- 1e-8
max_iter <- 2000
sizes <- c(1e3, 1e4, 1e5)
cap_seconds <- 120      # skip a method whose one fit is predicted to take longer
hard_seconds <- 180     # stop an R-level fit (flexCWM, xLLiM) that runs this long
budget_seconds <- 420   # all fits of part 1 together
t_script <- proc.time()[["elapsed"]]
since_start <- function() proc.time()[["elapsed"]] - t_script

# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------

# Elapsed and CPU seconds of f(): the first run, then repeats (at most 3 runs
# in all, none when a run takes 10 s or more or the budget would be
# exceeded); the minimum of each, and f()'s value.
timed <- function(f, max_runs = 3, budget = budget_seconds) {
  one <- function() {
    t <- system.time(value <- f())
    list(value = value, elapsed = t[["elapsed"]],
         cpu = t[["user.self"]] + t[["sys.self"]])
  }
  first <- one()
  best_e <- first$elapsed
  best_c <- first$cpu
  runs <- 1
  while (runs < max_runs && first$elapsed < 10 &&
         since_start() + first$elapsed < budget) {
    again <- one()
    best_e <- min(best_e, again$elapsed)
    best_c <- min(best_c, again$cpu)
    runs <- runs + 1
  }
  list(value = first$value, elapsed = best_e, cpu = best_c, runs = runs)
}

# f() under an elapsed-time limit: a backstop for the pure-R fits (flexCWM,
# xLLiM), whose runtime the pilot can underestimate when they need more
# iterations than predicted. R checks the limit between R-level operations,
# so it cannot stop compiled code (mclust's Fortran); mclust's prediction is
# reliable, as it stops by the same rule as plain EM. flexCWM runs its EM
# inside try(), which swallows the time-limit error and returns a model
# without estimates, so run_and_record() also compares the elapsed time with
# the limit.
with_limit <- function(f, seconds) {
  if (!is.finite(seconds)) return(f())
  setTimeLimit(elapsed = seconds, transient = TRUE)
  on.exit(setTimeLimit(elapsed = Inf, transient = FALSE))
  f()
}

# Log-likelihood of the data under a gmoe_params, by moerates' own density.
gmoe_loglik <- function(x, y, params) sum(dgmoe(x, y, params, log = TRUE))

# Posterior probabilities of the components at `params`, from dgmoe(): each
# component as a one-component GMoE gives log N(x; c_j, Gamma_j) +
# log N(y; a_j'x + b_j, nu_j); add log pi_j and normalise each row.
start_posterior <- function(x, y, params) {
  kk <- length(params$pi)
  lp <- vapply(seq_len(kk), function(j) {
    one <- gmoe_params(1, params$c[j, , drop = FALSE], params$Gamma[, , j, drop = FALSE],
                       params$a[j, , drop = FALSE], params$b[j], params$nu[j])
    log(params$pi[j]) + dgmoe(x, y, one, log = TRUE)
  }, numeric(length(y)))
  lp <- matrix(lp, ncol = kk)
  top <- do.call(pmax, lapply(seq_len(kk), function(j) lp[, j]))
  w <- exp(lp - top)
  w / rowSums(w)
}

# A method's result: params (a gmoe_params, or NULL with `note` saying why
# the conversion was not possible), iterations, convergence, own loglik.
method_result <- function(params, iterations, converged, own_loglik, note = "") {
  list(params = params, iterations = iterations, converged = converged,
       own_loglik = own_loglik, note = note)
}

# Converts with `convert()`; a failure becomes a note instead of an error.
try_convert <- function(convert) {
  tryCatch(list(params = convert(), note = ""),
           error = function(e) list(params = NULL,
                                    note = paste("conversion not possible:", conditionMessage(e))))
}

# ---------------------------------------------------------------------------
# The methods. Each is run(x, y, start, iters, tol) -> method_result; `iters`
# is the iteration cap (small for the pilots that predict the runtime).
# ---------------------------------------------------------------------------

run_moerates <- function(accelerate) {
  function(x, y, start, iters, tol) {
    absolute <- tol * (1 + abs(sum(dgmoe(x, y, start, log = TRUE))))
    fit <- fit_gmoe(x, y, k = length(start$pi), init = start,
                    control = gmoe_control(max_iter = iters, tol = absolute, accelerate = accelerate))
    method_result(fit$params, fit$iterations, fit$converged, fit$loglik)
  }
}

# mclust's VVV EM from the same start, with mclust's own relative tolerance
# and iteration cap.
run_mclust <- function(x, y, start, iters, tol) {
  fit <- moerates:::mclust_em_gmoe(x, y, start, iters, tol)
  method_result(fit$params, fit$iterations, !is.null(fit$params) && !fit$hit_max, fit$loglik,
                if (is.null(fit$params)) "conversion not possible: non-finite log-likelihood" else "")
}

# flexCWM::cwm: Gaussian response y ~ x, Gaussian covariates with the
# unconstrained model ("V" for one covariate, "VVV" for several), k fixed,
# manual start from the start's posterior probabilities. cwm() prints one
# "*" per iteration and the fitted object; that output is captured and
# dropped (its cost stays in the timing, and is small).
run_flexcwm <- function(cwm = getExportedValue("flexCWM", "cwm")) {
  function(x, y, start, iters, tol) {
    d <- ncol(x)
    xnames <- paste0("x", seq_len(d))
    df <- data.frame(y = y, x)
    names(df) <- c("y", xnames)
    form <- stats::as.formula(paste("y ~", paste(xnames, collapse = " + ")))
    z0 <- start_posterior(x, y, start)
    l0 <- gmoe_loglik(x, y, start)
    fit <- NULL
    utils::capture.output(
      fit <- cwm(formulaY = form, familyY = stats::gaussian, data = df,
                 Xnorm = as.matrix(df[xnames]), modelXnorm = if (d == 1) "V" else "VVV",
                 k = length(start$pi), initialization = "manual", start.z = z0,
                 iter.max = iters, threshold = tol * (1 + abs(l0))))
    m <- fit$models[[1]]
    # cwm2() returns iteration + 1 after its last M-step.
    its <- if (is.null(m$iter)) NA_integer_ else m$iter - 1
    conv <- try_convert(function() {
      if (is.null(m$GLModel) || is.null(m$concomitant)) stop("cwm() returned no estimates")
      kk <- m$k
      beta <- t(vapply(m$GLModel, function(g) unname(stats::coef(g$model)), numeric(d + 1)))
      gmoe_params(pi = unname(m$prior),
                  c = t(matrix(unname(m$concomitant$normal.mu), d, kk)),
                  Gamma = array(unname(m$concomitant$normal.Sigma), c(d, d, kk)),
                  a = beta[, -1, drop = FALSE], b = beta[, 1],
                  nu = vapply(m$GLModel, function(g) g$sigma^2, numeric(1)))
    })
    method_result(conv$params, its, !is.na(its) && its < iters,
                  if (is.null(m$logLik)) NA_real_ else m$logLik, conv$note)
  }
}

# xLLiM::gllim with the start's parameters in the GLLiM layout: c is d x k,
# Gamma d x d x k, A is D x L x k = 1 x d x k, b 1 x k, Sigma 1 x 1 x k;
# cstr$Sigma = "" leaves Sigma unconstrained (the default "i" would be the
# same for one response). gllim adds 1e-8 to the diagonals of Gamma and
# Sigma at every M-step and drops components that become empty.
run_xllim <- function(gllim = getExportedValue("xLLiM", "gllim")) {
  function(x, y, start, iters, tol) {
    d <- ncol(x)
    kk <- length(start$pi)
    theta0 <- list(c = t(start$c), Gamma = start$Gamma, pi = start$pi,
                   A = array(t(start$a), c(1, d, kk)), b = matrix(start$b, 1, kk),
                   Sigma = array(start$nu, c(1, 1, kk)))
    th <- gllim(t(x), matrix(y, 1), in_K = kk, maxiter = iters, cstr = list(Sigma = ""),
                verb = 0, in_theta = theta0)
    its <- length(th$LL)
    conv <- try_convert(function() {
      kf <- length(th$pi)
      gmoe_params(pi = th$pi, c = t(matrix(th$c, d, kf)), Gamma = array(th$Gamma, c(d, d, kf)),
                  a = t(matrix(th$A, d, kf)), b = as.vector(th$b), nu = as.vector(th$Sigma))
    })
    method_result(conv$params, its, its < iters, th$LLf, conv$note)
  }
}

# ---------------------------------------------------------------------------
# Part 1: one fit per method, same data and start
# ---------------------------------------------------------------------------

# own_rule: the method stops by its own rule (flexCWM's Aitken rule,
# gllim's fixed rule), so it is predicted to need the larger of plain EM's
# iterations here and twice its own at the previous n; mclust stops exactly
# as plain EM does.
external <- list(
  list(name = "mclust emVVV", pkg = "mclust", make = function() run_mclust, own_rule = FALSE),
  list(name = "flexCWM cwm", pkg = "flexCWM", make = function() run_flexcwm(), own_rule = TRUE),
  list(name = "xLLiM gllim", pkg = "xLLiM", make = function() run_xllim(), own_rule = TRUE))
previous_iterations <- list()
warmed <- list()
available <- vapply(external, function(m) requireNamespace(m$pkg, quietly = TRUE), logical(1))
for (m in external[!available]) {
  cat(sprintf("%s: package '%s' cannot be loaded (not installed?): install.packages(\"%s\"); skipped.\n",
              m$name, m$pkg, m$pkg))
}

rows <- list()
add_row <- function(n, d, method, timing = NULL, res = NULL, loglik = NA_real_, note = "") {
  rows[[length(rows) + 1]] <<- data.frame(
    n = n, d = d, method = method,
    elapsed_s = if (is.null(timing)) NA_real_ else timing$elapsed,
    cpu_s = if (is.null(timing)) NA_real_ else timing$cpu,
    runs = if (is.null(timing)) NA_integer_ else timing$runs,
    iterations = if (is.null(res)) NA_integer_ else as.integer(res$iterations),
    ms_per_iter = if (is.null(res)) NA_real_ else 1000 * timing$elapsed / res$iterations,
    converged = if (is.null(res)) NA else res$converged,
    loglik = loglik,
    own_loglik = if (is.null(res)) NA_real_ else res$own_loglik,
    note = note, stringsAsFactors = FALSE)
}

run_and_record <- function(n, d, name, run, x, y, start, limit = Inf) {
  tm <- timed(function() with_limit(function() run(x, y, start, max_iter, tol), limit))
  res <- tm$value
  if (is.finite(limit) && tm$elapsed >= 0.99 * limit) {
    cat(sprintf("  %s at n = %g, d = %d: stopped at the %d s time limit\n", name, n, d, limit))
    res$params <- NULL
    res$converged <- FALSE
    res$note <- sprintf("stopped at the %d s time limit", limit)
  }
  ll <- if (is.null(res$params)) NA_real_ else gmoe_loglik(x, y, res$params)
  add_row(n, d, name, tm, res, ll, res$note)
  res
}

for (d in 1:2) {
  truth <- gmoe_paper_truth(if (d == 1) 1 else 3)
  for (n in sizes) {
    set.seed(1000 * d + round(log10(n)))
    sim <- rgmoe(n, truth)
    x <- sim$x
    y <- sim$y
    start <- init_near_truth(truth, k = k, n = n)
    cat(sprintf("n = %g, d = %d: log-likelihood of the start %.4f\n", n, d,
                gmoe_loglik(x, y, start)))

    plain <- run_and_record(n, d, "moerates EM", run_moerates("none"), x, y, start)
    run_and_record(n, d, "moerates SQUAREM", run_moerates("squarem"), x, y, start)

    for (i in seq_along(external)) {
      m <- external[[i]]
      if (!available[i]) {
        add_row(n, d, m$name, note = "not installed")
        next
      }
      run <- m$make()
      # Pilot: 1 and then 4 iterations; their difference gives the time per
      # iteration without the fixed cost (set-up), which is added once. The
      # first use of a method is preceded by an untimed 4-iteration run:
      # R's first calls of a function (lazy loading, byte-compiling) made
      # the prediction 20 times too long.
      pilot <- tryCatch({
        if (is.null(warmed[[m$name]])) {
          with_limit(function() run(x, y, start, 4, 0), cap_seconds)
          warmed[[m$name]] <- TRUE
        }
        t1 <- system.time(with_limit(function() run(x, y, start, 1, 0), cap_seconds))[["elapsed"]]
        t4 <- system.time(with_limit(function() run(x, y, start, 4, 0), cap_seconds))[["elapsed"]]
        c(fixed = t1, per_iter = max(t4 - t1, 0) / 3)
      }, error = function(e) e)
      if (inherits(pilot, "error")) {
        cat(sprintf("  %s failed at n = %g, d = %d: %s\n", m$name, n, d, conditionMessage(pilot)))
        add_row(n, d, m$name, note = paste("error:", conditionMessage(pilot)))
        next
      }
      key <- paste(m$name, d)
      iters_expected <- if (m$own_rule && !is.null(previous_iterations[[key]])) {
        max(plain$iterations, min(max_iter, 2 * previous_iterations[[key]]))
      } else {
        plain$iterations
      }
      predicted <- pilot[["fixed"]] + pilot[["per_iter"]] * iters_expected
      if (predicted > cap_seconds) {
        cat(sprintf("  %s skipped at n = %g, d = %d: predicted %.0f s for one fit (> %d s)\n",
                    m$name, n, d, predicted, cap_seconds))
        add_row(n, d, m$name, note = sprintf("skipped: predicted %.0f s", predicted))
        next
      }
      if (since_start() + predicted > budget_seconds) {
        cat(sprintf("  %s skipped at n = %g, d = %d: predicted %.0f s would overrun the budget\n",
                    m$name, n, d, predicted))
        add_row(n, d, m$name, note = sprintf("skipped (budget): predicted %.0f s", predicted))
        next
      }
      limit <- if (m$pkg == "mclust") Inf else hard_seconds
      out <- tryCatch(run_and_record(n, d, m$name, run, x, y, start, limit),
                      error = function(e) e)
      if (inherits(out, "error")) {
        msg <- conditionMessage(out)
        if (grepl("time limit", msg)) msg <- sprintf("stopped after %d s (time limit)", hard_seconds)
        cat(sprintf("  %s at n = %g, d = %d: %s\n", m$name, n, d, msg))
        add_row(n, d, m$name, note = msg)
      } else {
        previous_iterations[[key]] <- if (isTRUE(out$converged)) out$iterations else max_iter
      }
    }
  }
}

tab <- do.call(rbind, rows)
# Distance to the best log-likelihood reached on the same data.
best <- ave(tab$loglik, tab$n, tab$d, FUN = function(v) if (all(is.na(v))) NA else max(v, na.rm = TRUE))
tab$ll_minus_best <- tab$loglik - best
shown <- data.frame(
  n = format(tab$n, scientific = TRUE, digits = 1), d = tab$d, method = tab$method,
  elapsed_s = sprintf("%.3f", tab$elapsed_s), cpu_s = sprintf("%.3f", tab$cpu_s),
  runs = as.character(tab$runs), iter = as.character(tab$iterations),
  ms_per_iter = sprintf("%.3f", tab$ms_per_iter),
  conv = as.character(tab$converged), loglik = sprintf("%.4f", tab$loglik),
  ll_minus_best = sprintf("%.2e", tab$ll_minus_best),
  own_loglik = sprintf("%.4f", tab$own_loglik), note = tab$note)
shown[is.na(shown) | shown == "NA"] <- ""
cat("\nOne fit per method, same data and start, k = 4, tol = 1e-8 (relative), max 2000 iterations\n")
cat("(seconds: minimum over `runs`; loglik: sum of dgmoe(log = TRUE) at each method's estimate)\n")
old_width <- options(width = 250)
print(shown, row.names = FALSE, right = TRUE)
options(old_width)
cat("SQUAREM iterations are cycles of about 4 passes over the data (3 EM steps and an\n",
    "evaluation at the jump); every other method's iteration is one EM step.\n", sep = "")
cat(sprintf("Part 1 took %.0f s.\n\n", since_start()))

# ---------------------------------------------------------------------------
# Part 2: the machine's limit for fit_gmoe's EM at n = 1e5, d = 2
# ---------------------------------------------------------------------------
#
# Flops per EM iteration, counted from src/gmoe_core.cpp (one pass over the
# data, E-step and moment accumulation; the M-step works on k sums of size
# (d+1)^2 and is negligible). Per observation and component, p = d + 1:
#   gate quadratic form through the rows of L^-1 (row r: r+1 subtractions,
#     r+1 multiplications, r additions; then u^2, x0.5, subtract):
#                                           5d + 3d(d-1)/2   (d = 2: 13)
#   expert residual y - b - a'x and its square scaled, subtracted:
#                                           2d + 4           (d = 2: 8)
#   exp of the shifted log term (src/fast_exp.h: range reduction 8,
#     degree-13 polynomial by Estrin's scheme 29, scaling 1, clamp 1):
#                                           39
#   normalisation (running max, subtract max, add to the row sum, scale by
#     the inverse sum):                     4
#   moments (s0 += r; for each of p coordinates: centre, weight, add;
#     p(p+1)/2 cross products: multiply, add):
#                                           1 + 3p + p(p+1)  (d = 2: 22)
# Per observation: one division (inverse row sum), the log-likelihood (one
# multiplication into a product of 16 rows, a log per 16 rows) and one
# addition: about 4.
# d = 2: 86 flops per observation and component; k = 4: 348 per observation,
# 3.48e7 per iteration at n = 1e5; k = 5: 434 per observation, 4.34e7.
# (With exp counted as one operation instead of 39: 48 per observation and
# component.)
#
# Bytes per EM iteration: the pass reads x and y once, 8 (d + 1) bytes per
# observation (2.4 MB at n = 1e5, d = 2). Nothing of size n is written during
# the iterations (the responsibilities live in blocks of 128 rows that stay
# in cache, and only their sums are kept), so this is the whole traffic; it
# even fits in this machine's L3 cache, so main-memory bandwidth is a loose
# bound here.
flops_per_iteration <- function(n, d, k) {
  p <- d + 1
  per_component <- (5 * d + 3 * d * (d - 1) / 2) + (2 * d + 4) + 39 + 4 + (1 + 3 * p + p * (p + 1))
  n * (k * per_component + 4)
}
bytes_per_iteration <- function(n, d) n * 8 * (d + 1)

# Machine peaks, measured in R (minimum time of several runs):
#   flops/s: a 1000 x 1000 matrix product (2e9 flops) through R's BLAS;
#   bytes/s: anyNA() over 2^25 doubles (256 MB), a read-only stream like the
#     EM pass; a copy (v + 0, read and write) is printed for reference.
min_elapsed <- function(f, runs) {
  min(vapply(seq_len(runs), function(i) system.time(f())[["elapsed"]], numeric(1)))
}
set.seed(3)
A <- matrix(stats::rnorm(1e6), 1000)
t_gemm <- min_elapsed(function() A %*% A, 3)
flops_peak <- 2e9 / t_gemm
v <- stats::rnorm(2^25)
t_read <- min_elapsed(function() anyNA(v), 5)
t_copy <- min_elapsed(function() v + 0, 5)
read_bw <- 8 * length(v) / t_read
copy_bw <- 2 * 8 * length(v) / t_copy
rm(A, v)
invisible(gc())

# Nominal peaks of the instructions fit_gmoe uses. R builds packages with
# -O2 and no -march, i.e. x86-64 with SSE2 (two 2-wide double operations per
# cycle: 4 flops per cycle); fit_gmoe's passes also carry AVX2 and FMA code,
# chosen at run time where the processor has it (two 4-wide fused
# multiply-adds per cycle: 16 flops per cycle). Both at the clock read from
# /proc/cpuinfo.
cpu_ghz <- tryCatch({
  info <- readLines("/proc/cpuinfo", warn = FALSE)
  model <- grep("^model name", info, value = TRUE)[1]
  ghz <- suppressWarnings(as.numeric(sub(".*@ *([0-9.]+) *GHz.*", "\\1", model)))
  if (is.na(ghz)) {
    mhz <- grep("^cpu MHz", info, value = TRUE)[1]
    ghz <- as.numeric(sub(".*: *", "", mhz)) / 1000
  }
  ghz
}, error = function(e) NA_real_, warning = function(w) NA_real_)
sse2_peak <- 4 * cpu_ghz * 1e9
avx2_peak <- 16 * cpu_ghz * 1e9
has_avx2 <- moerates:::kernel_path("auto") == "avx2"

cat("Machine, measured in R (single thread):\n")
cat(sprintf("  BLAS: %s\n", extSoftVersion()[["BLAS"]]))
cat(sprintf("  matrix product 1000 x 1000: %.3f s -> %.2f Gflop/s\n", t_gemm, flops_peak / 1e9))
cat(sprintf("  read 256 MB (anyNA): %.3f s -> %.2f GB/s; copy (v + 0, read + write): %.2f GB/s\n",
            t_read, read_bw / 1e9, copy_bw / 1e9))
cat(sprintf("  nominal SSE2 peak (4 flops/cycle at %.2f GHz): %.1f Gflop/s\n",
            cpu_ghz, sse2_peak / 1e9))
cat(sprintf("  nominal AVX2 + FMA peak (16 flops/cycle): %.1f Gflop/s; fit_gmoe uses it: %s\n",
            avx2_peak / 1e9, has_avx2))

# Achieved time per EM iteration: plain EM with tol = 0, so it runs exactly
# the iterations asked for; the difference between 120 and 20 iterations
# removes the fixed cost (checks, start, final responsibilities).
set.seed(2002)
n_lim <- 1e5
truth <- gmoe_paper_truth(3)
sim <- rgmoe(n_lim, truth)
lim_rows <- list()
cat("\nfit_gmoe plain EM at n = 1e5, d = 2: time per iteration (from 120 minus 20\n",
    "iterations, tol = 0) against the lower bound implied by the measured limits\n", sep = "")
for (kk in 4:5) {
  start <- init_near_truth(truth, k = kk, n = n_lim)
  fixed <- function(iters, kernels) {
    function() fit_gmoe(sim$x, sim$y, k = kk, init = start,
                        control = gmoe_control(max_iter = iters, tol = 0, accelerate = "none",
                                               kernels = kernels))
  }
  per_iteration <- function(kernels) {
    lo <- timed(fixed(20, kernels), budget = Inf)
    hi <- timed(fixed(120, kernels), budget = Inf)
    c(elapsed = (hi$elapsed - lo$elapsed) / 100, cpu = (hi$cpu - lo$cpu) / 100)
  }
  fast <- per_iteration("auto")
  base <- per_iteration("portable")
  per_iter_e <- fast[["elapsed"]]
  per_iter_c <- fast[["cpu"]]
  fl <- flops_per_iteration(n_lim, 2, kk)
  by <- bytes_per_iteration(n_lim, 2)
  t_flops <- fl / flops_peak
  t_bytes <- by / read_bw
  bound <- max(t_flops, t_bytes)
  t_sse2 <- fl / sse2_peak
  t_avx2 <- fl / avx2_peak
  lim_rows[[length(lim_rows) + 1]] <- c(ratio = per_iter_e / bound)
  cat(sprintf("\nk = %d: %.1f Mflop and %.1f MB per iteration\n", kk, fl / 1e6, by / 1e6))
  cat(sprintf("  lower bound: max(%.1f Mflop / %.2f Gflop/s = %.2f ms, %.1f MB / %.2f GB/s = %.2f ms) = %.2f ms\n",
              fl / 1e6, flops_peak / 1e9, 1000 * t_flops, by / 1e6, read_bw / 1e9,
              1000 * t_bytes, 1000 * bound))
  cat(sprintf("  achieved: %.2f ms elapsed (%.2f ms CPU) per iteration = %.2f Gflop/s (%.2f by CPU time)\n",
              1000 * per_iter_e, 1000 * per_iter_c, fl / per_iter_e / 1e9, fl / per_iter_c / 1e9))
  cat(sprintf("  achieved / lower bound: %.2f (CPU %.2f)\n", per_iter_e / bound, per_iter_c / bound))
  if (has_avx2) {
    cat(sprintf("  against the nominal AVX2 + FMA peak (%.2f ms): %.2f (CPU %.2f)\n",
                1000 * t_avx2, per_iter_e / t_avx2, per_iter_c / t_avx2))
  }
  cat(sprintf("  baseline SSE2 code: %.2f ms elapsed per iteration; against the nominal SSE2 peak (%.2f ms): %.2f\n",
              1000 * base[["elapsed"]], 1000 * t_sse2, base[["elapsed"]] / t_sse2))
}
if (any(unlist(lim_rows) < 1)) {
  cat("\nNote: a ratio below 1 means the EM pass runs faster than the measured matrix\n",
      "product, so that measurement is not the machine's peak (R's BLAS here is the\n",
      "reference one); the nominal peaks are then the meaningful bounds.\n", sep = "")
}
cat(sprintf("\nTotal runtime %.0f s.\n", since_start()))
