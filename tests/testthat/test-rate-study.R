test_that("a rate study returns every run and metric in design order", {
  s <- toy_study()
  expect_s3_class(s, "rate_study")
  expect_equal(nrow(s$runs), 12)
  expect_true(all(s$runs$status == "ok"))
  expect_equal(nrow(s$results), 24)
  expect_equal(unique(s$results$metric), c("mean_error", "sd_error"))
  expect_equal(s$results$n_index, rep(1:4, each = 6))
  expect_equal(s$results$rep, rep(rep(1:3, each = 2), 4))
  expect_equal(s$design$theory, c(mean_error = -0.5, sd_error = -0.5))
  expect_identical(as.data.frame(s), s$results)
  expect_output(print(s), "4 sample sizes \\(50 to 3200\\) x 3 replications = 12 runs")
  expect_output(print(summary(s)), "mean_error")
})

test_that("sequential, multisession and cluster plans give identical results", {
  seq_run <- with_plan(future::sequential, toy_study(reps = 4))
  par_run <- with_plan(future::multisession, toy_study(reps = 4), workers = 2)
  expect_identical(seq_run$results, par_run$results)
  expect_identical(seq_run$runs[c("n_index", "n", "rep", "status")],
                   par_run$runs[c("n_index", "n", "rep", "status")])
  one_worker <- with_plan(future::multisession, toy_study(reps = 4), workers = 1)
  expect_identical(seq_run$results, one_worker$results)
  cluster_run <- with_plan(future::cluster, toy_study(reps = 4), workers = 2)
  expect_identical(seq_run$results, cluster_run$results)
})

test_that("the seed reproduces a study and the caller's generator is left alone", {
  set.seed(3)
  before <- .Random.seed
  a <- toy_study(seed = 5)
  expect_identical(.Random.seed, before)
  expect_identical(RNGkind()[1], "Mersenne-Twister")
  expect_identical(a$results, toy_study(seed = 5)$results)
  expect_false(identical(a$results, toy_study(seed = 6)$results))

  set.seed(9)
  b <- toy_study(seed = NULL)
  set.seed(9)
  expect_identical(b$results, toy_study(seed = NULL)$results)
  expect_identical(b$design$seed, toy_study(seed = b$design$seed)$design$seed)
})

test_that("more replications extend a study without changing the first ones", {
  small <- toy_study(reps = 2)
  big <- toy_study(reps = 3)
  expect_identical(small$results, big$results[big$results$rep <= 2, ], ignore_attr = TRUE)
})

test_that("repeated sample sizes are separate design points", {
  s <- rate_study(function(n) n, function(data, n) data,
                  function(fit, n) c(v = stats::runif(1)),
                  n = c(10, 10, 20), reps = 2, seed = 1)
  expect_equal(unique(s$results$n_index), 1:3)
  expect_false(identical(s$results$value[1:2], s$results$value[3:4]))
})

test_that("a failing replication is recorded and loses nothing else", {
  expect_warning(
    s <- rate_study(function(n) n,
                    function(data, n) if (n == 20) stop("singular start") else data,
                    function(fit, n) c(v = 1 / fit), n = c(10, 20, 40), reps = 2, seed = 1),
    "2 of 6 runs failed.*singular start")
  expect_equal(s$runs$status, rep(c("ok", "failed", "ok"), each = 2))
  expect_equal(s$runs$message[3], "`fit` raised an error: singular start")
  expect_equal(s$results$n, c(10, 10, 40, 40))
  expect_equal(s$results$value, c(0.1, 0.1, 0.025, 0.025))
})

test_that("bad arguments give errors that name them", {
  sim <- function(n) n
  fit <- function(data, n) data
  met <- function(fit, n) c(v = fit)
  expect_error(rate_study(sim, fit, met, n = c(0, 10), reps = 2), "`n` must be .*whole numbers between 1 and")
  expect_error(rate_study(sim, fit, met, n = c(10.5, 20), reps = 2), "`n`")
  expect_error(rate_study(sim, fit, met, n = "100", reps = 2), "`n`")
  expect_error(rate_study(sim, fit, met, n = c(10, NA), reps = 2), "`n`")
  expect_error(rate_study(sim, fit, met, n = numeric(0), reps = 2), "`n`")
  expect_error(rate_study(sim, fit, met, n = 1e10, reps = 2), "`n`")
  expect_error(rate_study(sim, fit, met, n = 10, reps = 0), "`reps` must be a single whole number >= 1")
  expect_error(rate_study(sim, fit, met, n = 10, reps = 1.5), "`reps`")
  expect_error(rate_study("sim", fit, met, n = 10, reps = 1), "`simulate` must be a function")
  expect_error(rate_study(sim, function(data) data, met, n = 10, reps = 1), "`fit` must be a function of 2")
  expect_error(rate_study(sim, fit, met, n = 10, reps = 1, seed = -1), "`seed`")
  expect_error(rate_study(sim, fit, met, n = 10, reps = 1, checkpoint = 3), "`checkpoint`")
  expect_error(rate_study(sim, fit, met, n = 10, reps = 1, theory = c(-0.5)), "`theory`")
  expect_error(rate_study(sim, fit, function(fit, n) "a", n = 10, reps = 1),
               "`metrics` must return a named numeric vector, but returned character")
  expect_error(rate_study(sim, fit, function(fit, n) fit, n = 10, reps = 1),
               "`metrics` .*unnamed")
  expect_error(rate_study(sim, fit, function(fit, n) c(a = 1, a = 2), n = 10, reps = 1),
               "`metrics` .*duplicated")
  expect_error(rate_study(sim, fit, function(fit, n) if (n > 10) c(a = 1) else c(b = 1),
                          n = c(10, 20), reps = 1),
               "`metrics` must return the same names on every run: \\(b\\) .* but \\(a\\)")
})

test_that("as_rate_study() builds a study from a table and checks it", {
  x <- data.frame(n = c(10, 10, 20, 20), rep = c(1, 2, 1, 2), metric = "m",
                  value = c(1, 2, 0.5, 1))
  s <- as_rate_study(x, theory = c(m = -1))
  expect_s3_class(s, "rate_study")
  expect_equal(s$design$n, c(10, 20))
  expect_equal(s$design$theory, c(m = -1))
  expect_identical(as_rate_study(s), s)
  expect_error(as_rate_study(x[-4]), "missing: value")
  expect_error(as_rate_study(transform(x, n_index = c(1, 1, 3, 3))), "without gaps")
})

test_that("progress is reported through progressr, one step per run", {
  old <- options(progressr.enable = TRUE)
  on.exit(options(old))
  steps <- 0
  withCallingHandlers(toy_study(),
                      progression = function(p) {
                        if (identical(p$type, "update")) steps <<- steps + p$amount
                      })
  expect_equal(steps, 12)
})

test_that("a study in which every run failed is an error that says why", {
  expect_error(rate_study(function(n) n, function(data, n) stop("boom"),
                          function(fit, n) c(a = 1), n = c(10, 20), reps = 2, seed = 1,
                          progress = FALSE),
               "every run of the study failed \\(4 of 4\\); the first \\(n = 10, replication 1\\): `fit` raised an error: boom")
  expect_error(rate_study(function(n) stop("no data"), function(data, n) data,
                          function(fit, n) c(a = 1), n = 10, reps = 1, seed = 1, progress = FALSE),
               "`simulate` raised an error: no data")
  expect_error(rate_study(function(n) n, function(data, n) data,
                          function(fit, n) stop("bad metric"), n = 10, reps = 1, seed = 1,
                          progress = FALSE),
               "`metrics` raised an error: bad metric")
})

test_that("warnings of single runs are recorded and summarised once", {
  expect_warning(
    s <- rate_study(function(n) n,
                    function(data, n) {
                      if (n == 20) warning("component collapsed")
                      data
                    },
                    function(fit, n) c(v = fit), n = c(10, 20, 40), reps = 2, seed = 1,
                    progress = FALSE),
    "2 of 6 runs raised warnings; the first \\(n = 20, replication 1\\): `fit`: component collapsed")
  expect_equal(is.na(s$runs$warnings), c(TRUE, TRUE, FALSE, FALSE, TRUE, TRUE))
  expect_equal(nrow(s$results), 6)
  # the summary has a class of its own, for callers that table the warnings
  expect_warning(rate_study(function(n) n, function(data, n) {
    warning("w")
    data
  }, function(fit, n) c(v = fit), n = 10, reps = 1, seed = 1, progress = FALSE),
  class = "moerates_run_warnings")
})

# A user's own study, defined in the global environment as a script would:
# it reads a global variable, calls a global helper function and a function
# of a package the user attached.
define_user_study <- function(mu) {
  eval(quote({
    centre <- function(x) x - mu
    user_simulate <- function(n) mvrnorm(n, mu = c(mu, mu), Sigma = diag(2))
    user_fit <- function(data, n) colMeans(data)
    user_metrics <- function(fit, n) c(error = sqrt(sum(centre(fit)^2)))
  }), globalenv())
  assign("mu", mu, envir = globalenv())
}

run_user_study <- function(...) {
  g <- globalenv()
  rate_study(g$user_simulate, g$user_fit, g$user_metrics, n = c(100, 400), reps = 2,
             seed = 1, progress = FALSE, ...)
}

test_that("a user's study with globals gives identical results on every plan", {
  attached <- "package:MASS" %in% search()
  suppressPackageStartupMessages(library(MASS))
  on.exit({
    rm(list = c("mu", "centre", "user_simulate", "user_fit", "user_metrics"), envir = globalenv())
    if (!attached) detach("package:MASS")
  })
  define_user_study(1)
  seq_run <- with_plan(future::sequential, run_user_study())
  expect_true(all(seq_run$runs$status == "ok"))
  ms_run <- with_plan(future::multisession, run_user_study(), workers = 2)
  expect_identical(ms_run$results, seq_run$results)
  cl <- parallel::makePSOCKcluster(2)
  on.exit(parallel::stopCluster(cl), add = TRUE)
  cl_run <- with_plan(future::cluster, run_user_study(), workers = cl)
  expect_identical(cl_run$results, seq_run$results)

  # another value of the global is another study: a checkpoint refuses it
  cp <- tempfile("cp-")
  with_plan(future::multisession, run_user_study(checkpoint = cp), workers = 2)
  define_user_study(5)
  expect_error(run_user_study(checkpoint = cp), "the value of global `mu`")
  moved <- with_plan(future::multisession, run_user_study(), workers = 2)
  expect_false(identical(moved$results$value, seq_run$results$value))
  # and so is another helper function
  define_user_study(1)
  eval(quote(centre <- function(x) abs(x - mu)), globalenv())
  expect_error(run_user_study(checkpoint = cp), "the value of global `centre`")
})

test_that("a global that cannot reach the workers is an error that names it", {
  con <- file(tempfile(), "w")
  on.exit(close(con))
  sim <- function(n) {
    writeLines("run", con)
    stats::rnorm(n)
  }
  expect_error(with_plan(future::multisession,
                         rate_study(sim, function(data, n) mean(data),
                                    function(fit, n) c(e = abs(fit)), n = 10, reps = 1,
                                    seed = 1, progress = FALSE), workers = 2),
               "the global `con` used by `simulate` is a connection")
  big <- numeric(2e5)
  old <- options(future.globals.maxSize = 1e5)
  on.exit(options(old), add = TRUE)
  expect_error(with_plan(future::multisession,
                         rate_study(function(n) stats::rnorm(n) + big[1],
                                    function(data, n) mean(data),
                                    function(fit, n) c(e = abs(fit)), n = 10, reps = 1,
                                    seed = 1, progress = FALSE), workers = 2),
               "the global `big` used by `simulate` takes 1.5 MB")
})

test_that("a run's random numbers depend only on the run, not on the design", {
  whole <- toy_study(reps = 3)
  part <- toy_study(reps = 2, n = c(3200, 200))
  keep <- whole$results$rep <= 2 & whole$results$n %in% c(200, 3200)
  key <- function(r) paste(r$n, r$rep, r$metric)
  expect_identical(part$results$value[order(key(part$results))],
                   whole$results$value[keep][order(key(whole$results[keep, ]))])
  expect_identical(moerates:::run_seed(11, n = 800, rep = 3),
                   moerates:::study_seeds(11, moerates:::study_design(c(50, 800), 3))[[6]])
})

test_that("progress shows under Rscript in a terminal without any progressr setting", {
  script <- tempfile(fileext = ".R")
  study_call <- c("library(moerates)",
                  "s <- rate_study(function(n) rnorm(n), function(data, n) mean(data),",
                  "                function(fit, n) c(e = abs(fit)), n = c(10, 20), reps = 2, seed = 1%s)")
  rscript <- file.path(R.home("bin"), "Rscript")
  run <- function(extra, terminal) {
    writeLines(sprintf(study_call, extra), script)
    out <- tempfile()
    if (terminal) {
      # `script` gives the command a pseudo-terminal, as a shell would
      system2("script", c("-qec", shQuote(paste(rscript, script)), "/dev/null"),
              stdout = out, stderr = out)
    } else {
      system2(rscript, script, stdout = out, stderr = out)
    }
    any(grepl("100%", readLines(out)))
  }
  expect_true(run("", terminal = TRUE))
  expect_false(run("", terminal = FALSE))
  expect_true(run(", progress = TRUE", terminal = FALSE))
  expect_false(run(", progress = FALSE", terminal = TRUE))
})

test_that("every run records its code path; the caller's choice reaches the workers", {
  old <- options(moerates.kernels = "portable")
  on.exit(options(old))
  s <- with_plan(future::multisession, toy_study(reps = 1), workers = 2)
  expect_equal(s$runs$kernels, rep("portable", 4))
  options(moerates.kernels = "auto")
  auto <- toy_study(reps = 1)
  expect_equal(auto$runs$kernels, rep(moerates:::kernel_path("auto"), 4))

  # a study resumed under the other path says its runs are not bitwise comparable
  cp <- tempfile("cp-")
  options(moerates.kernels = "portable")
  toy_study(reps = 1, checkpoint = cp)
  options(moerates.kernels = "auto")
  if (moerates:::kernel_path("auto") == "avx2") {
    expect_warning(toy_study(reps = 2, checkpoint = cp),
                   "took different code paths \\(avx2: 4, portable: 4\\)")
  } else {
    expect_no_warning(toy_study(reps = 2, checkpoint = cp))
  }
  options(moerates.kernels = "fast")
  expect_error(toy_study(reps = 1), "`options\\(moerates.kernels\\)` must be \"auto\" or \"portable\"")
})
