scenarios <- c("distinguishable", "vanishing", "merging", "structure")
cmoe_metrics <- c("lambda", "eta", "nu", "prompt", "loss", "iterations", "at_bound")

test_that("the scenarios carry the theory's slopes", {
  half <- -0.5
  expect_equal(cmoe_scenario("distinguishable")$theory,
               c(lambda = half, eta = half, nu = half, prompt = half, loss = half))
  expect_equal(cmoe_scenario("structure")$theory,
               c(lambda = half, eta = half, nu = half, prompt = half, loss = half))
  for (power in c(0.25, 0.1, 0)) {
    expect_equal(cmoe_scenario("vanishing", power)$theory,
                 c(lambda = half, eta = half + power, nu = half + power,
                   prompt = half + power, loss = half))
  }
  for (power in c(0.125, 0.2, 0)) {
    expect_equal(cmoe_scenario("merging", power)$theory,
                 c(lambda = half + 2 * power, eta = half + power, nu = half + power,
                   prompt = half + power, loss = half))
  }
  expect_equal(cmoe_scenario("structure", 0.2)$theory, cmoe_scenario("structure")$theory)
  # the defaults
  expect_equal(cmoe_scenario("vanishing")$power, 1 / 4)
  expect_equal(cmoe_scenario("merging")$power, 1 / 8)
  expect_equal(cmoe_scenario("structure")$power, 1 / 8)
  expect_equal(cmoe_scenario("distinguishable")$power, 0)
  expect_equal(unname(cmoe_scenario("vanishing")$theory["prompt"]), -0.25)
  expect_equal(unname(cmoe_scenario("merging")$theory[c("lambda", "prompt")]), c(-0.25, -0.375))
  # which loss is the scenario's `loss`
  expect_identical(cmoe_scenario("merging")$loss, "loss_merging")
  for (s in setdiff(scenarios, "merging")) {
    expect_identical(cmoe_scenario(s)$loss, "loss_distinguishable")
  }
  expect_identical(cmoe_scenario()$scenario, "distinguishable")
  expect_identical(cmoe_scenario("merg")$scenario, "merging")
  expect_s3_class(cmoe_scenario("merging"), "cmoe_scenario")
})

test_that("the truth moves with n as documented", {
  sizes <- c(100, 300, 1e4, 1e5)
  dist <- cmoe_scenario("distinguishable")
  for (n in sizes) expect_equal(dist$truth(n), cmoe_params(0.3, c(-1, 1), 0.5))

  for (power in c(0.25, 0.1)) {
    van <- cmoe_scenario("vanishing", power)
    for (n in sizes) {
      p <- van$truth(n)
      expect_equal(p$lambda, 0.3 * (n / 100)^-power)
      expect_equal(unname(p$eta), c(-1, 1))
      expect_equal(p$nu, 0.5)
    }
  }
  expect_equal(cmoe_scenario("vanishing")$truth(1e6)$lambda, 0.03)

  theta0 <- c(2, 0, 1)
  u <- c(-2, 2, 1) / 3
  for (s in c("merging", "structure")) for (power in c(0.125, 0.2)) {
    sc <- cmoe_scenario(s, power)
    for (n in sizes) {
      p <- sc$truth(n)
      theta <- c(p$eta, p$nu)
      expect_equal(p$lambda, 0.5)
      expect_identical(p$expert, "linear")
      expect_equal(sqrt(sum((theta - theta0)^2)), (n / 100)^-power)
      expect_equal(unname(theta - theta0), (n / 100)^-power * u)
    }
  }
  # the merging truth at n = 100 is theta0 + u
  expect_equal(unname(c(cmoe_scenario("merging")$truth(100)$eta,
                        cmoe_scenario("merging")$truth(100)$nu)), c(4, 2, 4) / 3)
  # with power 0 the truth stands still
  expect_equal(cmoe_scenario("vanishing", 0)$truth(1e5)$lambda, 0.3)
  expect_equal(cmoe_scenario("merging", 0)$truth(1e5), cmoe_scenario("merging", 0)$truth(100))
})

test_that("the scenarios' pre-trained models are (in)distinguishable as designed", {
  expect_true(isTRUE(distinguishable(cmoe_scenario("distinguishable")$pretrained, "linear")))
  expect_true(isTRUE(distinguishable(cmoe_scenario("vanishing")$pretrained, "linear")))
  expect_true(isTRUE(distinguishable(cmoe_scenario("structure")$pretrained, "linear")))
  expect_true(isFALSE(distinguishable(cmoe_scenario("merging")$pretrained, "linear")))
  expect_identical(cmoe_scenario("vanishing")$pretrained$family, "laplace")
  expect_identical(cmoe_scenario("structure")$pretrained$expert, "tanh")
  expect_output(print(cmoe_scenario("merging")),
                "Contaminated MoE scenario \"merging\" \\(power 0.125\\)")
  expect_output(print(cmoe_scenario("merging")), "pre-trained: gaussian with linear expert")
  expect_output(print(cmoe_scenario("distinguishable")), "predicted slopes: lambda -0.5")
})

test_that("bad scenarios and powers are refused, naming the argument", {
  expect_error(cmoe_scenario("separated"), "`scenario` must be one of \"distinguishable\"")
  expect_error(cmoe_scenario(1), "`scenario`")
  expect_error(cmoe_scenario("distinguishable", power = 0.1),
               "`power` is not used by the \"distinguishable\" scenario")
  expect_error(cmoe_scenario("vanishing", 0.5), "`power` must be in \\[0, 0.5\\)")
  expect_error(cmoe_scenario("vanishing", -0.1), "`power` must be in \\[0, 0.5\\)")
  expect_error(cmoe_scenario("merging", 0.25), "`power` must be in \\[0, 0.25\\)")
  expect_error(cmoe_scenario("structure", 0.3), "`power` must be in \\[0, 0.25\\)")
  expect_error(cmoe_scenario("merging", "a"), "`power` must be numeric")
  expect_error(cmoe_scenario("merging", c(0.1, 0.2)), "`power` must have length 1")
  expect_error(cmoe_scenario("merging", NA_real_), "`power`")
})

# One small study per scenario, shared by the tests below.
n_small <- c(300, 3000, 30000)
studies <- lapply(setNames(scenarios, scenarios), function(s) {
  cmoe_study(s, n = n_small, reps = 4, seed = 1)
})

test_that("a cmoe study is a rate study of the scenario's metrics and theory", {
  for (s in scenarios) {
    st <- studies[[s]]
    expect_s3_class(st, "rate_study")
    expect_identical(st$design$metrics, cmoe_metrics)
    expect_equal(st$design$theory,
                 c(cmoe_scenario(s)$theory, iterations = NA_real_, at_bound = NA_real_))
    expect_identical(st$design$scenario$scenario, s)
    expect_identical(st$design$start, "truth")
    expect_identical(st$design$n, as.integer(n_small))
    expect_identical(st$design$reps, 4L)
    expect_true(all(st$runs$status == "ok"))
    expect_equal(nrow(st$results), 3 * 4 * 7)
    expect_true(all(st$results$value[st$results$metric == "at_bound"] %in% c(0, 1)))
    expect_true(all(is.finite(st$results$value) & st$results$value >= 0))
    iters <- st$results$value[st$results$metric == "iterations"]
    expect_true(all(iters >= 1 & iters == round(iters)))
    # the errors shrink from n = 300 to n = 30000
    loss <- st$results[st$results$metric == "loss", ]
    means <- tapply(loss$value, loss$n, mean)
    expect_lt(means[["30000"]], means[["300"]])
  }
})

test_that("each run's metrics are those of the fit it made", {
  seed <- moerates:::run_seed(1, n = 3000, rep = 2)
  for (s in c("vanishing", "merging")) {
    sc <- cmoe_scenario(s)
    # run (n = 3000, replication 2), from its own stream
    old_kind <- RNGkind()[1]
    assign(".Random.seed", seed, envir = globalenv())
    sim <- rcmoe(3000, sc$truth(3000), sc$pretrained)
    RNGkind(old_kind)
    fit <- fit_cmoe(sim$x, sim$y, sc$pretrained, init = sc$truth(3000))
    l <- cmoe_loss(fit, sc$truth(3000))
    got <- studies[[s]]$results
    got <- got[got$n_index == 2 & got$rep == 2, ]
    expect_identical(got$metric, cmoe_metrics)
    expect_equal(got$value, unname(c(l[c("lambda", "eta", "nu", "prompt", sc$loss)],
                                     fit$iterations, fit$diagnostics$lambda_at_bound)))
  }
})

test_that("a cmoe study is reproduced by its seed", {
  for (s in scenarios) {
    # two replications with the same seed are the first two of the four
    again <- cmoe_study(s, n = n_small, reps = 2, seed = 1)
    first <- studies[[s]]$results
    expect_identical(again$results, first[first$rep <= 2, ], ignore_attr = TRUE)
  }
  expect_identical(cmoe_study("vanishing", n = n_small, reps = 4, seed = 1)$results,
                   studies$vanishing$results)
  other <- cmoe_study("distinguishable", n = n_small, reps = 4, seed = 2)
  expect_false(identical(other$results, studies$distinguishable$results))
  # the caller's generator is left alone
  set.seed(3)
  before <- .Random.seed
  cmoe_study("structure", n = c(300, 600), reps = 1, seed = 5)
  expect_identical(.Random.seed, before)
})

test_that("a cmoe study gives identical results on two parallel workers", {
  skip_if_not_installed("future")
  par_runs <- with_plan(future::multisession, lapply(setNames(scenarios, scenarios), function(s) {
    cmoe_study(s, n = n_small, reps = 2, seed = 1)
  }), workers = 2)
  for (s in scenarios) {
    first <- studies[[s]]$results
    expect_identical(par_runs[[s]]$results, first[first$rep <= 2, ], ignore_attr = TRUE)
    expect_true(all(par_runs[[s]]$runs$status == "ok"))
  }
})

test_that("the distinguishable loss falls like n^(-1/2)", {
  st <- cmoe_study("distinguishable", n = round(10^seq(2.5, 5, by = 0.5)), reps = 6, seed = 1)
  sl <- rate_slopes(st, metrics = "loss")
  expect_equal(sl$theory, -0.5)
  expect_lt(abs(sl$slope - (-0.5)), 0.15)
  expect_equal(sl$points, 6)
})

test_that("data-driven starts and a scenario object run", {
  d <- cmoe_study("distinguishable", n = c(300, 3000), reps = 2, start = "default",
                  n_starts = 2, seed = 1)
  expect_identical(d$design$start, "default")
  expect_true(all(d$runs$status == "ok"))
  expect_identical(d$design$metrics, cmoe_metrics)
  m <- cmoe_study("merging", n = c(300, 3000), reps = 2, start = "default", seed = 1)
  expect_true(all(m$runs$status == "ok"))

  sc <- cmoe_scenario("vanishing", power = 0.1)
  v <- cmoe_study(sc, n = c(300, 3000), reps = 2, seed = 1)
  expect_equal(unname(v$design$theory["prompt"]), -0.4)
  expect_identical(v$design$scenario, sc)
  expect_identical(v$results, cmoe_study("vanishing", n = c(300, 3000), reps = 2,
                                         power = 0.1, seed = 1)$results)
  # the control reaches the fits
  capped <- cmoe_study("merging", n = c(300, 3000), reps = 2, seed = 1,
                       control = cmoe_control(max_iter = 3, tol = 0))
  expect_equal(capped$results$value[capped$results$metric == "iterations"], rep(3, 4))
})

test_that("bad cmoe study arguments are refused, naming the argument", {
  expect_error(cmoe_study("distinguishable", start = "random"), "`start` must be \"truth\" or \"default\"")
  expect_error(cmoe_study("distinguishable", control = list(max_iter = 3)),
               "`control` must be made by cmoe_control\\(\\)")
  expect_error(cmoe_study(cmoe_scenario("merging"), power = 0.1),
               "`power` is already fixed by the `cmoe_scenario` object")
  expect_error(cmoe_study("merging", power = 0.3), "`power` must be in")
  expect_error(cmoe_study("separated"), "`scenario`")
  expect_error(cmoe_study("distinguishable", n_starts = 0), "`n_starts`")
  expect_error(cmoe_study("distinguishable", n = c(300, 3000), reps = 0), "`reps`")
  expect_error(cmoe_study("distinguishable", n = 0), "`n`")
})

test_that("a cmoe study resumes from its checkpoint and refuses another scenario's", {
  dir <- tempfile("cmoe-checkpoint-")
  on.exit(unlink(dir, recursive = TRUE))
  first <- cmoe_study("merging", n = c(200, 400), reps = 2, seed = 3, checkpoint = dir)
  # the scenario holds closures: the saved record must still match a rerun
  said <- capture_messages(again <- cmoe_study("merging", n = c(200, 400), reps = 2, seed = 3,
                                                checkpoint = dir, verbose = TRUE))
  expect_match(said[1], "4 of 4 runs already done")
  expect_identical(again$results, first$results)
  expect_error(cmoe_study("merging", power = 0.2, n = c(200, 400), reps = 2, seed = 3,
                          checkpoint = dir), "different study")
})

test_that("a scenario edited by hand is refused where it enters, naming the argument", {
  sc <- cmoe_scenario("merging")
  edited <- function(field, value) {
    out <- sc
    out[field] <- list(value)
    out
  }
  cases <- list(truth = edited("truth", function(n) cmoe_params(0.5, c(2, 0), 1)),
                power = edited("power", 0.2),
                theory = edited("theory", replace(sc$theory, "loss", -1)),
                pretrained = edited("pretrained", pretrained_model("laplace", eta0 = c(2, 0), nu0 = 1)),
                loss = edited("loss", "loss_distinguishable"))
  for (field in names(cases)) {
    # the preset is rebuilt from the name and power, so a new power shows in the truth
    differs <- if (field == "power") "truth" else field
    expect_error(cmoe_study(cases[[field]], n = c(100, 200), reps = 1),
                 paste0("^`scenario` was edited: its `", differs, "` is not that of the \"merging\""),
                 label = field)
    expect_error(print(cases[[field]]), "^`x` was edited", label = field)
  }
  expect_error(print(edited("scenario", "separated")), "^`x` holds invalid contents: `scenario`")
  expect_error(print(edited("truth", function(n) 1)), "^`x` was edited: its `truth`")
  no_loss <- sc
  no_loss$loss <- NULL
  expect_error(cmoe_study(no_loss), "^`scenario` lacks the field\\(s\\) `loss`")
  expect_output(print(sc), "merging")
})

test_that("the gated scenarios are the published settings, with their theory", {
  e1 <- c(1, numeric(7))
  dist <- cmoe_scenario("gated_distinguishable")
  # a preset without power passes as an object too
  by_object <- cmoe_study(dist, n = 1000, reps = 1, seed = 1)
  expect_identical(by_object$results, cmoe_study("gated_distinguishable", n = 1000, reps = 1,
                                                 seed = 1)$results)
  expect_identical(dist$pretrained$family, "laplace")
  # variance nu0 = 0.001 read as the Laplace scale b = sqrt(nu0 / 2)
  expect_equal(dist$pretrained$nu0, 0.0005)
  expect_equal(dist$pretrained$eta0, c(e1, 0), ignore_attr = TRUE)
  truth <- dist$truth(1000)
  expect_identical(truth$gate, "sigmoid")
  expect_false(truth$intercept)
  expect_equal(unname(truth$beta), rep(1 / sqrt(8), 8))
  expect_identical(truth$tau, 1)
  expect_equal(unname(truth$eta), -e1)
  expect_equal(truth$nu, 0.001)
  expect_equal(unname(dist$theory[c("beta", "exp_tau", "eta", "nu")]), rep(-0.5, 4))
  merge <- cmoe_scenario("gated_merging_eta")
  expect_identical(merge$pretrained$family, "gaussian")
  expect_equal(unname(merge$truth(256)$eta), e1 * (1 + 256^(-1 / 8)))
  expect_equal(unname(merge$theory[c("beta", "exp_tau", "eta", "nu")]),
               c(-3 / 8, -1 / 4, -3 / 8, -3 / 8))
  expect_false(distinguishable(merge$pretrained, "tanh", "sigmoid", FALSE))
  nu <- cmoe_scenario("gated_merging_nu")
  expect_equal(unname(nu$truth(256)$eta), e1)
  expect_equal(nu$truth(256)$nu, 0.001 * (1 + 256^(-1 / 8)))
  expect_identical(nu$theory, merge$theory)
  printed <- cmoe_scenario("gated_merging_nu_printed")
  expect_equal(unname(printed$truth(256)$eta), -e1)
  expect_equal(unname(printed$theory[c("beta", "exp_tau", "eta", "nu")]), rep(-0.5, 4))
  expect_output(print(merge), "gated_merging_eta")
  expect_error(cmoe_scenario("gated_distinguishable", power = 0.1), "^`power`")
  expect_error(cmoe_scenario("gated_merging_eta", power = 0.3), "^`power`")
})

test_that("gated studies run on the engine and reproduce_gated_cmoe() writes its files", {
  study <- cmoe_study("gated_merging_eta", n = c(1000, 2000), reps = 2, seed = 1)
  expect_setequal(study$design$metrics,
                  c("beta", "exp_tau", "eta", "nu", "prompt", "loss", "iterations", "at_bound"))
  expect_true(all(is.finite(study$results$value)))
  dir <- tempfile("gated")
  out <- reproduce_gated_cmoe(dir, n = c(1000, 2000, 4000), reps = 2,
                              scenarios = c("gated_distinguishable", "gated_merging_nu"), seed = 2)
  expect_setequal(list.files(dir), c("gated-slopes.csv", sprintf("gated-%s.%s",
    rep(c("gated_distinguishable", "gated_merging_nu"), each = 2), c("png", "pdf"))))
  csv <- utils::read.csv(file.path(dir, "gated-slopes.csv"))
  expect_identical(nrow(csv), 8L)
  expect_equal(csv$published[csv$scenario == "gated_distinguishable"], c(-0.45, -0.52, -0.50, -0.54))
  expect_equal(csv$difference, csv$slope - csv$published)
  expect_true(all(csv$lower <= csv$slope & csv$slope <= csv$upper))
  expect_length(attr(out, "studies"), 2)
  expect_named(attr(out, "efficient"), c("gated_distinguishable", "gated_merging_nu"))
  # the efficient errors of the distinguishable setting fall as n^-1/2
  expect_equal(csv$efficient[csv$scenario == "gated_distinguishable"], rep(-0.5, 4),
               tolerance = 0.05)
  expect_true(all(is.finite(csv$slope_median) & csv$ratio_median > 0))
  expect_true(all(csv$at_bound >= 0 & csv$at_bound <= 1))
  expect_equal(out$ratio_median, csv$ratio_median)
  expect_error(reproduce_gated_cmoe(dir, scenarios = "merging"), "^`scenarios`")
  expect_error(reproduce_gated_cmoe(), "^`dir`")
})
