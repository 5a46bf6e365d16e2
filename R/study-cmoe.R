#' Scenarios of the contaminated MoE rate studies
#'
#' The preset scenarios of [cmoe_study()], each a pre-trained model, a
#' true prompt that may move with the sample size, and the slopes the theory
#' of Yan et al. (2025a, 2025b) predicts for every metric. The first four
#' have the constant gate, one covariate, \eqn{x \sim N(0, 1)}{x ~ N(0, 1)},
#' and a linear prompt; the four gated ones are described below.
#' \describe{
#'   \item{`"distinguishable"`}{Laplace \eqn{f_0}{f0} with linear expert
#'     \eqn{\eta_0 = (2, 0)}{eta0 = (2, 0)}, \eqn{\nu_0 = 1}{nu0 = 1}; prompt
#'     \eqn{\lambda^* = 0.3}{lambda* = 0.3}, \eqn{\eta^* = (-1, 1)}{eta* = (-1, 1)},
#'     \eqn{\nu^* = 0.5}{nu* = 0.5}. Every error falls like \eqn{n^{-1/2}}.}
#'   \item{`"vanishing"`}{the same, with
#'     \eqn{\lambda^*_n = 0.3 (n / 100)^{-\kappa}}{lambda*_n = 0.3 (n / 100)^(-kappa)}
#'     (`power` \eqn{\kappa}{kappa}, default 1/4, below 1/2): the weight
#'     error still falls like \eqn{n^{-1/2}}, the prompt's errors only like
#'     \eqn{n^{-1/2} / \lambda^*_n = n^{\kappa - 1/2}}{n^(-1/2) / lambda*_n = n^(kappa - 1/2)}
#'     (prompt vanishing); `loss` is `loss_distinguishable` of [cmoe_loss()],
#'     \eqn{n^{-1/2}}.}
#'   \item{`"merging"`}{Gaussian \eqn{f_0}{f0} with linear expert
#'     \eqn{\eta_0 = (2, 0)}{eta0 = (2, 0)}, \eqn{\nu_0 = 1}{nu0 = 1}, the
#'     prompt's own structure (not distinguishable); \eqn{\lambda^* = 0.5}{lambda* = 0.5}
#'     and the prompt approaches \eqn{f_0}{f0}:
#'     \eqn{\theta^*_n = \theta_0 + \Delta_n u}{theta*_n = theta0 + Delta_n u} with
#'     \eqn{\theta = (a, b, \nu)}{theta = (a, b, nu)}, \eqn{u = (-2, 2, 1) / 3} and
#'     \eqn{\Delta_n = (n / 100)^{-\kappa}}{Delta_n = (n / 100)^(-kappa)} (`power` default
#'     1/8, below 1/4). The weight error falls like
#'     \eqn{n^{-1/2} \Delta_n^{-2} = n^{2\kappa - 1/2}}{n^(-1/2) Delta_n^(-2) = n^(2 kappa - 1/2)},
#'     the prompt's like \eqn{n^{\kappa - 1/2}}{n^(kappa - 1/2)} (prompt merging);
#'     `loss` is `loss_merging`, \eqn{n^{-1/2}}.}
#'   \item{`"structure"`}{as `"merging"`, but \eqn{f_0}{f0} has a tanh expert
#'     \eqn{\tanh(2x)}{tanh(2x)}: the linear prompt still approaches
#'     \eqn{(2, 0, 1)}, yet the structures differ, the pair is
#'     distinguishable and every error falls like \eqn{n^{-1/2}}.}
#' }
#'
#' **The sigmoid-gated settings of Yan et al. (2025b).** \eqn{d = 8},
#' \eqn{x \sim N(0, I_8)}{x ~ N(0, I_8)}, expert \eqn{\tanh(\eta^\top x)}{tanh(eta'x)}
#' without intercept in \eqn{f_0}{f0} and in the prompt,
#' \eqn{\eta_0 = e_1}{eta0 = e1}, \eqn{\nu_0 = 0.001}{nu0 = 0.001}, gate
#' \eqn{\beta^* = 1_8 / \sqrt 8}{beta* = 1_8 / sqrt(8)}, \eqn{\tau^* = 1}{tau* = 1};
#' metrics `beta`, `exp_tau`, `eta`, `nu` (see [cmoe_loss()]).
#' \describe{
#'   \item{`"gated_distinguishable"`}{Laplace \eqn{f_0}{f0} with mean
#'     \eqn{\tanh(x_1)}{tanh(x1)} and variance \eqn{\nu_0}{nu0} (the paper says
#'     variance: the Laplace scale is \eqn{b = \sqrt{\nu_0 / 2}}{b = sqrt(nu0 / 2)},
#'     so the [pretrained_model()] has squared scale \eqn{\nu_0 / 2}{nu0 / 2});
#'     \eqn{\eta^* = -e_1}{eta* = -e1}, \eqn{\nu^* = \nu_0}{nu* = nu0}; every
#'     error at \eqn{n^{-1/2}}.}
#'   \item{`"gated_merging_eta"`}{Gaussian \eqn{f_0}{f0},
#'     \eqn{\eta^*_n = \eta_0 (1 + n^{-\kappa})}{eta*_n = eta0 (1 + n^(-kappa))}
#'     (\eqn{\kappa = 1/8}{kappa = 1/8} by default), \eqn{\nu^* = \nu_0}{nu* = nu0}:
#'     \eqn{\Delta_n \propto n^{-\kappa}}{Delta_n ~ n^(-kappa)}, so `exp_tau` at
#'     \eqn{n^{2\kappa - 1/2}}{n^(2 kappa - 1/2)} and the others at
#'     \eqn{n^{\kappa - 1/2}}{n^(kappa - 1/2)} (-1/4 and -3/8); the paper's
#'     setting (i).}
#'   \item{`"gated_merging_nu"`}{Gaussian \eqn{f_0}{f0}, \eqn{\eta^* = \eta_0}{eta* = eta0},
#'     \eqn{\nu^*_n = \nu_0 (1 + n^{-\kappa})}{nu*_n = nu0 (1 + n^(-kappa))}: the
#'     paper's setting (ii) as it was probably meant, with the rates of (i).}
#'   \item{`"gated_merging_nu_printed"`}{setting (ii) as printed:
#'     \eqn{\eta^* = -e_1}{eta* = -e1}, \eqn{\nu^*_n = \nu_0 (1 + n^{-\kappa})}{nu*_n = nu0 (1 + n^(-kappa))}.
#'     \eqn{\Delta_n \ge 2}{Delta_n >= 2} does not vanish, so the theory
#'     predicts \eqn{n^{-1/2}} for every error.}
#' }
#' The `loss` of the gated scenarios is `loss_distinguishable` for the first
#' and the last, `loss_merging` for the other two.
#'
#' @param scenario One of `"distinguishable"`, `"vanishing"`, `"merging"`,
#'   `"structure"`, `"gated_distinguishable"`, `"gated_merging_eta"`,
#'   `"gated_merging_nu"`, `"gated_merging_nu_printed"`.
#' @param power The exponent \eqn{\kappa}{kappa} of the moving truth
#'   (all but the two distinguishable scenarios); `NULL` for the default.
#' @return A list of class `cmoe_scenario` with `scenario`, `pretrained`,
#'   `truth` (a function of \eqn{n} returning the true [cmoe_params()]),
#'   `power`, `loss` (which loss of [cmoe_loss()] is the scenario's `loss`
#'   metric) and `theory` (named slopes of the metrics `lambda`, `eta`, `nu`,
#'   `prompt`, `loss`; `beta`, `exp_tau`, `eta`, `nu`, `prompt`, `loss` for
#'   the gated scenarios).
#' @references Yan, F., Nguyen, H., Le, D., Akbarian, P. and Ho, N. (2025a).
#'   Understanding expert structures on minimax parameter estimation in
#'   contaminated mixture of experts. AISTATS 2025.
#'
#'   Yan, F., Nguyen, H., Le, D., Akbarian, P., Ho, N. and Rinaldo, A.
#'   (2025b). On minimax estimation of parameters in softmax-contaminated
#'   mixture of experts. NeurIPS 2025, arXiv:2505.18455.
#' @seealso [cmoe_study()], [distinguishable()], [reproduce_gated_cmoe()].
#' @examples
#' sc <- cmoe_scenario("merging")
#' sc$theory
#' sc$truth(100)
#' sc$truth(1e5)
#' distinguishable(sc$pretrained, "linear")
#' gated <- cmoe_scenario("gated_merging_eta")
#' gated$theory
#' @export
cmoe_scenario <- function(scenario = c("distinguishable", "vanishing", "merging", "structure",
                                       "gated_distinguishable", "gated_merging_eta",
                                       "gated_merging_nu", "gated_merging_nu_printed"),
                          power = NULL) {
  scenario <- tryCatch(match.arg(scenario), error = function(e) {
    stop_arg("scenario", "must be one of \"distinguishable\", \"vanishing\", ",
             "\"merging\", \"structure\", \"gated_distinguishable\", \"gated_merging_eta\", ",
             "\"gated_merging_nu\" or \"gated_merging_nu_printed\".")
  })
  power <- scenario_power(scenario, power)
  if (startsWith(scenario, "gated_")) return(gated_scenario(scenario, power))
  theta0 <- c(2, 0, 1)
  direction <- c(-2, 2, 1) / 3
  truth <- switch(scenario,
    distinguishable = function(n) cmoe_params(0.3, c(-1, 1), 0.5),
    vanishing = function(n) cmoe_params(0.3 * (n / 100)^(-power), c(-1, 1), 0.5),
    function(n) {
      theta <- theta0 + (n / 100)^(-power) * direction
      cmoe_params(0.5, theta[1:2], theta[3])
    })
  pretrained <- switch(scenario,
    distinguishable = , vanishing = pretrained_model("laplace", eta0 = c(2, 0), nu0 = 1),
    merging = pretrained_model("gaussian", eta0 = c(2, 0), nu0 = 1),
    structure = pretrained_model("gaussian", "tanh", eta0 = c(2, 0), nu0 = 1))
  half <- -1 / 2
  theory <- switch(scenario,
    distinguishable = , structure = c(lambda = half, eta = half, nu = half, prompt = half,
                                      loss = half),
    vanishing = c(lambda = half, eta = half + power, nu = half + power,
                  prompt = half + power, loss = half),
    merging = c(lambda = half + 2 * power, eta = half + power, nu = half + power,
                prompt = half + power, loss = half))
  structure(list(scenario = scenario, pretrained = pretrained, truth = truth, power = power,
                 loss = if (scenario == "merging") "loss_merging" else "loss_distinguishable",
                 theory = theory),
            class = "cmoe_scenario")
}

# Beyond this power of the distance to the truth the theory predicts no
# consistency; NA for the presets whose truth does not move with n.
scenario_power_limit <- function(scenario) {
  switch(scenario, distinguishable = , gated_distinguishable = NA, vanishing = 1 / 2, 1 / 4)
}

# The checked power of a preset, its default when NULL (0 when it takes none).
scenario_power <- function(scenario, power) {
  limit <- scenario_power_limit(scenario)
  if (is.na(limit)) {
    if (!is.null(power)) stop_arg("power", "is not used by the \"", scenario, "\" scenario.")
    return(0)
  }
  if (is.null(power)) power <- if (scenario == "vanishing") 1 / 4 else 1 / 8
  power <- check_numeric(power, "power", len = 1)
  if (power < 0 || power >= limit) {
    stop_arg("power", "must be in [0, ", format(limit), ") for the \"", scenario,
             "\" scenario (beyond it the theory predicts no consistency), not ",
             format(power), ".")
  }
  power
}

# The settings of Yan et al. (2025b), see ?cmoe_scenario; `power` is checked.
gated_scenario <- function(scenario, power) {
  distinct <- scenario == "gated_distinguishable"
  d <- 8
  e1 <- c(1, numeric(d - 1))
  nu0 <- 0.001
  gated <- function(eta, nu) {
    cmoe_params(eta = eta, nu = nu, expert = "tanh", gate = "sigmoid",
                beta = rep(1 / sqrt(d), d), tau = 1, intercept = FALSE)
  }
  truth <- switch(scenario,
    gated_distinguishable = function(n) gated(-e1, nu0),
    gated_merging_eta = function(n) gated(e1 * (1 + n^(-power)), nu0),
    gated_merging_nu = function(n) gated(e1, nu0 * (1 + n^(-power))),
    gated_merging_nu_printed = function(n) gated(-e1, nu0 * (1 + n^(-power))))
  # the paper's Laplace f0 has variance nu0, i.e. squared scale nu0 / 2
  pretrained <- pretrained_model(if (distinct) "laplace" else "gaussian", "tanh",
                                 eta0 = c(e1, 0), nu0 = if (distinct) nu0 / 2 else nu0)
  half <- -1 / 2
  merging <- scenario %in% c("gated_merging_eta", "gated_merging_nu")
  theory <- if (merging) {
    c(beta = half + power, exp_tau = half + 2 * power, eta = half + power, nu = half + power,
      prompt = half + power, loss = half)
  } else {
    c(beta = half, exp_tau = half, eta = half, nu = half, prompt = half, loss = half)
  }
  structure(list(scenario = scenario, pretrained = pretrained, truth = truth, power = power,
                 loss = if (merging) "loss_merging" else "loss_distinguishable",
                 theory = theory),
            class = "cmoe_scenario")
}

#' @export
print.cmoe_scenario <- function(x, ...) {
  sc <- check_cmoe_scenario(x, "x")
  cat(sprintf("Contaminated MoE scenario \"%s\"%s\n", sc$scenario,
              if (sc$power > 0) sprintf(" (power %g)", sc$power) else ""))
  cat("  pre-trained:", pretrained_label(sc$pretrained), "\n")
  show <- function(v) paste(names(v), format(v, digits = 3), sep = " ", collapse = ", ")
  cat("  truth at n = 100:", show(cmoe_coef(sc$truth(100))), "\n")
  cat("  truth at n = 1e5:", show(cmoe_coef(sc$truth(1e5))), "\n")
  cat("  predicted slopes:", show(sc$theory), "\n")
  invisible(x)
}

#' Rate studies of the contaminated mixture of experts
#'
#' A [cmoe_scenario()] run on the rate-study engine [rate_study()]: for each
#' sample size and replication, draw \eqn{x \sim N(0, I_d)}{x ~ N(0, I_d)} and
#' \eqn{y} from the scenario's truth at that \eqn{n}, fit the prompt by
#' [fit_cmoe()] and measure it with [cmoe_loss()].
#'
#' **Metrics**, each with its predicted slope (see [cmoe_scenario()]):
#' `lambda` (`beta`, `exp_tau` for the gated scenarios), `eta`, `nu`, `prompt` (the errors of [cmoe_loss()]), `loss` (the
#' scenario's scaled loss), `iterations` (EM iterations, no theory) and
#' `at_bound` (1 when the fit's \eqn{\lambda}, or its sigmoid gate, ended at its bound, which
#' happens at small \eqn{n} when the prompt is close to \eqn{f_0}{f0}; the
#' fit's warning is not repeated). Each carries a readable label (such as
#' "|lambda - lambda*|") that names it on the axes of [plot.rate_study()].
#'
#' **Starts.** `start = "truth"` starts EM at the true parameters, so the
#' study measures the maximum-likelihood estimator near the truth, which is
#' what the theory describes; `"default"` uses [fit_cmoe()]'s data-driven
#' starts (`n_starts` of them), and so also measures how often EM finds it.
#'
#' @param scenario One of `"distinguishable"`, `"vanishing"`, `"merging"`,
#'   `"structure"` (see [cmoe_scenario()]), or a `cmoe_scenario` object.
#' @param n Sample sizes; by default 11 values evenly spaced on the log scale
#'   from \eqn{10^{2.5}} to \eqn{10^5}.
#' @param reps Replications per sample size.
#' @param power Passed to [cmoe_scenario()].
#' @param start `"truth"` or `"default"`.
#' @param n_starts Number of starts of [fit_cmoe()] with `start = "default"`.
#' @param control A [cmoe_control()] object.
#' @param ... Passed to [rate_study()]: `seed`, `checkpoint`, `verbose`.
#' @return A [rate_study()] object whose `design` also holds `scenario`
#'   (the `cmoe_scenario`) and `start`.
#' @references Yan, F., Nguyen, H., Le, D., Akbarian, P. and Ho, N. (2025).
#'   Understanding expert structures on minimax parameter estimation in
#'   contaminated mixture of experts. AISTATS 2025.
#' @seealso [cmoe_scenario()], [rate_slopes()], [plot.rate_study()].
#' @examples
#' study <- cmoe_study("vanishing", n = c(300, 1000, 3000, 10000), reps = 4, seed = 1)
#' rate_slopes(study, metrics = c("lambda", "prompt", "loss"))
#' @export
cmoe_study <- function(scenario, n = round(10^seq(2.5, 5, by = 0.25)), reps = 20,
                       power = NULL, start = c("truth", "default"), n_starts = 1,
                       control = cmoe_control(), ...) {
  scenario <- as_cmoe_scenario(scenario, power)
  start <- tryCatch(match.arg(start), error = function(e) {
    stop_arg("start", "must be \"truth\" or \"default\".")
  })
  n_starts <- check_count(n_starts, "n_starts")
  control <- check_cmoe_control(control)
  run <- cmoe_study_functions(scenario, start, n_starts, control)
  study <- rate_study(run$simulate, run$fit, run$metrics, n = n, reps = reps,
                      theory = scenario$theory, labels = cmoe_metric_labels(scenario), ...)
  study$design <- c(study$design, list(scenario = scenario, start = start))
  study
}

# A scenario given by name (with its power) or as a `cmoe_scenario` object.
as_cmoe_scenario <- function(scenario, power) {
  if (!inherits(scenario, "cmoe_scenario")) return(cmoe_scenario(scenario, power))
  if (!is.null(power)) stop_arg("power", "is already fixed by the `cmoe_scenario` object.")
  check_cmoe_scenario(scenario)
}

# The three functions of a contaminated-MoE study; their enclosing
# environment holds exactly the settings that define the study (which the
# checkpoint fingerprints).
cmoe_study_functions <- function(scenario, start, n_starts, control) {
  pretrained <- scenario$pretrained
  truth_at <- scenario$truth
  loss <- scenario$loss
  list(
    simulate = function(n) rcmoe(n, truth_at(n), pretrained),
    fit = function(data, n) {
      truth <- truth_at(n)
      init <- if (start == "truth") truth else NULL
      # a fit with lambda at its bound is counted by the at_bound metric
      suppressWarnings(fit_cmoe(data$x, data$y, pretrained, expert = truth$expert, init = init,
                                n_starts = if (is.null(init)) n_starts else 1,
                                control = control, gate = truth$gate,
                                intercept = truth$intercept))
    },
    metrics = function(fit, n) {
      l <- cmoe_loss(fit$params, truth_at(n), pretrained)
      errors <- if (fit$params$gate == "sigmoid") c("beta", "exp_tau", "eta", "nu", "prompt")
        else c("lambda", "eta", "nu", "prompt")
      c(l[errors], loss = l[[loss]],
        iterations = fit$iterations,
        at_bound = as.numeric(fit$diagnostics$lambda_at_bound || fit$diagnostics$gate_at_bound))
    })
}

# Axis labels of the metrics of cmoe_study_functions(): the errors of
# cmoe_loss() and the scenario's loss.
cmoe_metric_labels <- function(scenario) {
  c(lambda = "|lambda - lambda*|", beta = "||beta - beta*||",
    exp_tau = "|exp(tau) - exp(tau*)|", eta = "||eta - eta*||", nu = "|nu - nu*|",
    prompt = "||(eta, nu) - (eta*, nu*)||",
    loss = if (scenario$loss == "loss_merging") "merging loss" else "distinguishable loss",
    iterations = "EM iterations", at_bound = "share of fits with lambda or the gate at its bound")
}
