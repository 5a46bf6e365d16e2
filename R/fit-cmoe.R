#' Control settings for fitting a contaminated mixture of experts
#'
#' @param max_iter Largest number of iterations, a whole number >= 0 (`0`
#'   only evaluates the start).
#' @param tol Convergence tolerance. EM converges linearly, so a small last
#'   gain in log-likelihood, \eqn{g_t = l_t - l_{t-1}}, can hide a large
#'   remaining one; the fit therefore stops when both \eqn{g_t} and
#'   Aitken's estimate of the gain still to come,
#'   \eqn{g_t a_t / (1 - a_t)} with \eqn{a_t = g_t / g_{t-1}}, are below
#'   `tol` \eqn{(1 + |l_t|)}, \eqn{l_t} being for a linear prompt the
#'   log-likelihood of the centred and scaled response that EM works on (see
#'   [fit_cmoe()], Units), so that the rule does not depend on the units of
#'   `y`. With `tol = 0` the fit runs exactly
#'   `max_iter` iterations. EM slows down where the theory says estimation
#'   is hard (small \eqn{\lambda}, a prompt close to \eqn{f_0}{f0}), which is
#'   where a rule on the last gain alone would stop short of the maximum.
#' @param accelerate `"squarem"` (the default) makes each iteration one
#'   SQUAREM cycle (Varadhan and Roland 2008): two EM steps, a jump along
#'   them (in the parametrisation logit \eqn{\lambda}, \eqn{\eta}, log
#'   \eqn{\nu}, so that it stays valid) and an EM step from the jump, kept
#'   only if its log-likelihood is at least that of the second EM step, so
#'   the log-likelihood still never decreases. It reaches the same maximum
#'   in fewer passes over the data, most of all where EM is slow (a prompt
#'   close to \eqn{f_0}{f0}); `inst/bench/bench-cmoe.R` measures it.
#'   `"none"`: plain EM, one EM step per iteration.
#' @param mstep_iter For a nonlinear prompt expert: the largest number of
#'   Levenberg-Marquardt steps in each M-step, each accepted only if it
#'   lowers the weighted residual sum of squares; for the sigmoid gate, also
#'   the largest number of Newton steps of its logistic regression, each
#'   halved until it does not lower that objective. So the log-likelihood
#'   never decreases whatever the value. One step per M-step (a generalised
#'   EM) is the default because, measured, more steps hardly reduce the
#'   number of EM iterations but each costs about half an iteration.
#' @param lambda_bound \eqn{\lambda} is kept in
#'   `[lambda_bound, 1 - lambda_bound]`, with `lambda_bound` in
#'   `[.Machine$double.eps, 0.01)`. When the data push it to a bound
#'   (no prompt in the data, or no need for \eqn{f_0}{f0}) the fit stays
#'   finite, the bound is reported by [is_degenerate()] and a warning says
#'   so.
#' @param var_floor The prompt variance \eqn{\nu} is kept at or above
#'   `var_floor` times the sample variance of `y` (the likelihood is
#'   unbounded as the prompt shrinks onto one observation).
#' @param kernels `"auto"` (the default, unless the option
#'   `moerates.kernels` says otherwise) or `"portable"`: whether the
#'   exponentials of the E-step may use the processor's AVX2 and FMA
#'   instructions, as for [gmoe_control()], whose `kernels` documents what
#'   the choice means for reproducibility across machines. The fit records
#'   the path it ran in `$diagnostics$kernels`.
#' @param gate_bound For the sigmoid gate: its slope per standard deviation
#'   of each covariate (per root mean square, for an expert without
#'   intercept) and its value at the covariates' means are kept in
#'   `[-gate_bound, gate_bound]`, a compact parameter space as the theory
#'   assumes. Where the prompt is close to \eqn{f_0}{f0} the likelihood is
#'   nearly flat in the gate and can rise without end as the gate turns
#'   into a step; the bound keeps the estimate finite, and a fit that ends on
#'   it is reported by [is_degenerate()]; a start outside the bound begins
#'   on it. `Inf` for none.
#' @return A list of class `cmoe_control`.
#' @seealso [fit_cmoe()].
#' @examples
#' cmoe_control()
#' cmoe_control(max_iter = 50, tol = 0)  # exactly 50 EM iterations
#' @export
cmoe_control <- function(max_iter = 5000, tol = 1e-12, accelerate = c("squarem", "none"),
                         mstep_iter = 1, lambda_bound = 1e-8, var_floor = 1e-8,
                         kernels = getOption("moerates.kernels", "auto"), gate_bound = 30) {
  max_iter <- check_count(max_iter, "max_iter", min = 0)
  if (!is.character(accelerate) || !length(accelerate) %in% c(1, 2) ||
      !all(accelerate %in% c("squarem", "none"))) {
    stop_arg("accelerate", "must be \"squarem\" or \"none\".")
  }
  accelerate <- accelerate[1]
  tol <- check_numeric(tol, "tol", len = 1)
  if (tol < 0) stop_arg("tol", "must be >= 0.")
  mstep_iter <- check_count(mstep_iter, "mstep_iter")
  lambda_bound <- check_positive(lambda_bound, "lambda_bound", len = 1)
  if (lambda_bound < .Machine$double.eps || lambda_bound >= 0.01) {
    stop_arg("lambda_bound", "must be in [", format(.Machine$double.eps, digits = 3),
             ", 0.01) (below it 1 - lambda_bound is 1 in double precision), not ",
             format(lambda_bound), ".")
  }
  var_floor <- check_positive(var_floor, "var_floor", len = 1)
  if (var_floor >= 1) stop_arg("var_floor", "must be in (0, 1).")
  kernels <- check_kernels(kernels)
  gate_bound <- check_positive(gate_bound, "gate_bound", len = 1)
  structure(list(max_iter = max_iter, tol = tol, accelerate = accelerate,
                 mstep_iter = mstep_iter,
                 lambda_bound = lambda_bound, var_floor = var_floor, kernels = kernels,
                 gate_bound = gate_bound),
            class = "cmoe_control")
}

#' @export
print.cmoe_control <- function(x, ...) {
  control <- check_cmoe_control(x, "x")
  cat("Contaminated MoE fit control\n")
  cat(sprintf("  %-12s %s\n", names(control), vapply(control, format, character(1))), sep = "")
  invisible(x)
}

#' Fit a contaminated mixture of experts by EM
#'
#' Maximum-likelihood fit of the prompt of
#' \deqn{p(y | x) = (1 - \lambda) f_0(y | x) + \lambda\, \phi(y; h(a^\top x + b), \nu)}{p(y | x) = (1 - lambda) f0(y | x) + lambda phi(y; h(a'x + b), nu)}
#' with the pre-trained \eqn{f_0}{f0} frozen, or of its input-gated form
#' with the sigmoid gate \eqn{s(x) = 1 / (1 + \exp(-(\beta^\top x + \tau)))}{s(x) = 1 / (1 + exp(-(beta'x + tau)))}
#' in place of \eqn{\lambda} (`gate = "sigmoid"`, see [cmoe_params()]), by
#' the EM algorithm written in C++. \eqn{\log f_0}{log f0} is evaluated
#' once, at the data, before the EM starts.
#'
#' Each EM step: the E-step computes the posterior prompt probabilities
#' \eqn{w_i} in log space; the M-step sets \eqn{\lambda = \bar w}{lambda = mean(w)},
#' fits \eqn{\eta} by weighted least squares (in closed form for a linear
#' expert; for a sigmoid or tanh expert by Levenberg-Marquardt steps, each
#' accepted only if it lowers the weighted sum of squares) and sets
#' \eqn{\nu} to the weighted mean squared residual. With the sigmoid gate,
#' \eqn{(\beta, \tau)} are instead updated by the weighted logistic
#' regression of the posterior probabilities (soft labels) on \eqn{(x, 1)}:
#' Newton steps, each halved until this concave objective does not drop
#' (at most `mstep_iter` of them, see [cmoe_control()]). The log-likelihood
#' therefore never decreases; the number of (rounding-level) decreases is
#' recorded in `$diagnostics`. By default the EM steps are accelerated by
#' SQUAREM with a safeguard that keeps this property (see [cmoe_control()]).
#'
#' **Boundaries.** \eqn{\lambda} stays in `[lambda_bound, 1 - lambda_bound]`
#' and \eqn{\nu} above a floor ([cmoe_control()]); if the prompt receives no
#' weight at all, its \eqn{(\eta, \nu)} are kept. All of this is counted in
#' `$diagnostics` and reported by [is_degenerate()]; the estimate is always
#' finite.
#'
#' **Starts.** With `init = NULL` the first start weights each observation by
#' how much worse \eqn{f_0}{f0} explains it than a normal distribution fitted
#' to all of `y` (the posterior of "not \eqn{f_0}{f0}" at
#' \eqn{\lambda = 1/2}{lambda = 1/2}), then takes one M-step. The second
#' start is neutral: \eqn{\lambda = 1/2}{lambda = 1/2}, zero slopes (and the
#' mean of `y` as intercept of a linear prompt), \eqn{\nu} the variance of
#' `y`. Further starts take the M-step on random fifths of the data. The
#' start value of \eqn{\lambda} is kept within \eqn{[0.1, 0.9]}. With the
#' sigmoid gate, the neutral start has \eqn{\beta = 0}{beta = 0} and
#' \eqn{\tau = 0}{tau = 0}, and the other starts take the gate's Newton
#' steps from there on the same weights. The fit
#' with the highest log-likelihood is returned. A [cmoe_params()] object is
#' used as it is. Sigmoid and tanh prompts have local maxima (one is a
#' prompt that saturates into a step function), so for them several starts
#' are worth their cost. A start at which the data have a log-likelihood of
#' `-Inf` is refused.
#'
#' **Units.** EM runs on centred and scaled covariates and, for a linear
#' prompt, a centred and scaled response (an expert without intercept is
#' fitted on covariates and response scaled but not centred, which keeps
#' its form; with \eqn{\log f_0}{log f0}
#' shifted by the log of the scale, which leaves the likelihood unchanged up
#' to a constant); the estimates are mapped back. So the fit does not depend
#' on the units of `x`, nor, for a linear prompt and a pre-trained model
#' expressed in the same units, on those of `y`: data in other units give the
#' same fit in those units, also for covariates on wildly different scales.
#' The units of `y` matter only through \eqn{f_0}{f0}, which is fixed, and
#' through a sigmoid or tanh prompt, whose mean has a fixed range. Where a
#' double cannot hold the answer (the prompt variance of a response spread
#' over 1e300 is about 1e600) the fit stops with an error that says so.
#'
#' **Aliased covariates.** Covariates that are constant, or linear
#' combinations of other covariates and the intercept (duplicated columns,
#' `x` and `2 * x`), leave the prompt's slopes on them unidentified: any
#' split of the slope among aliased columns has the same likelihood. As in
#' [stats::lm()], the later such columns are set aside: their slopes are held
#' at 0 and listed in `$aliased`, with a warning, and their standard errors
#' are `NA`. The pre-trained model, which is fixed, may use any column.
#'
#' **Formula interface.** `fit_cmoe(y ~ x1 + x2, data, pretrained)` builds
#' the covariate matrix as [stats::lm()] does, with `subset`, `weights` and
#' `na.action` evaluated as there (`na.action` defaults to
#' `getOption("na.action")`, factory-fresh [stats::na.omit()]; with
#' [stats::na.exclude()] the per-observation results of the methods are
#' padded with `NA` at the excluded rows). The columns of the model matrix,
#' in order and without the intercept, are the \eqn{x} that the pre-trained
#' model and the prompt see, so `pretrained` must be written for them
#' (`eta0` has one slope per column). Factor, character and logical
#' covariates are refused: \eqn{f_0}{f0} and the prompt's mean
#' \eqn{h(a^\top x + b)}{h(a'x + b)} are functions of numeric covariates, and
#' dummy columns made behind your back would silently change the meaning of
#' `eta0`; code them as numeric columns yourself if that is what you mean.
#' The formula must keep its intercept (the prompt has its own \eqn{b}, the
#' gate its own \eqn{\tau}; an expert without \eqn{b} is asked for by
#' `intercept = FALSE`) and have no offset. The covariates' names name the slopes in [coef()]
#' (`a_wt`, `a_hp`), as they do for a matrix or data frame `x` with column
#' names (unnamed columns give `a1`, `a2`, ...).
#'
#' **Weights** are case weights: an observation of weight \eqn{c_i} counts
#' as \eqn{c_i} observations. The fit maximises the weighted log-likelihood
#' \eqn{\sum_i c_i \log p(y_i | x_i)}{sum_i c_i log p(y_i | x_i)}: each
#' observation's posterior prompt probability is multiplied by its weight in
#' the M-step, and \eqn{\lambda} is their weighted mean. With whole-number
#' weights the fit is that of the data with each row repeated \eqn{c_i}
#' times: the same estimates, log-likelihood ([logLik()] reports the
#' weighted one), `nobs()` \eqn{= \sum_i c_i}{= sum(c)}, and standard errors
#' from the weighted observed information. They are therefore not design-based
#' standard errors for survey weights. Weights must be positive (leave
#' observations out with `subset`).
#'
#' @param x Covariates: an \eqn{n \times d}{n x d} numeric matrix, a data
#'   frame of numeric columns or, for \eqn{d = 1}, a vector; or a formula
#'   `y ~ x1 + x2` (see Details, Formula interface).
#' @param y Responses, one per row of `x`.
#' @param pretrained The frozen model, a [pretrained_model()], written for
#'   the columns of `x` (for a formula, of its model matrix).
#' @param expert Structure of the prompt expert: `"linear"`, `"sigmoid"` or
#'   `"tanh"`.
#' @param gate The prompt's weight: `"constant"` (\eqn{\lambda}) or
#'   `"sigmoid"` (the gate \eqn{s(x)}), see [cmoe_params()].
#' @param intercept `TRUE` if the prompt expert has the intercept \eqn{b};
#'   `FALSE` for \eqn{h(a^\top x)}{h(a'x)}.
#' @param init `NULL` (data-driven starts) or a [cmoe_params()] start with
#'   the same expert, gate, intercept and \eqn{d}.
#' @param n_starts Number of starts when `init = NULL`.
#' @param control A [cmoe_control()] object.
#' @param verbose If `TRUE`, report each start through [message()].
#' @param weights `NULL` or positive case weights, one per observation (see
#'   Details). In the formula method, evaluated in `data` as in [stats::lm()].
#' @param data A data frame holding the variables of the formula (else they
#'   are taken from the formula's environment).
#' @param subset An optional expression saying which rows of `data` to use,
#'   as in [stats::lm()].
#' @param na.action What to do with rows with missing values, as in
#'   [stats::lm()]: [stats::na.omit()] (the factory-fresh default),
#'   [stats::na.exclude()] or [stats::na.fail()].
#' @param ... For the formula method, the arguments of the default method
#'   (`expert`, `gate`, `intercept`, `init`, `n_starts`, `control`,
#'   `verbose`); anything else is an error.
#' @return An object of class `cmoe_fit`: a list with `params` (a
#'   [cmoe_params()]), `loglik` (weighted, with `weights`), `loglik_trace`
#'   (at the start and after each iteration), `iterations`, `converged`,
#'   `posterior` (the posterior prompt probability of each observation),
#'   `diagnostics` (M-steps in which \eqn{\lambda} was held at a bound or
#'   \eqn{\nu} floored, M-steps with an empty prompt, log-likelihood
#'   decreases, SQUAREM cycles that kept the plain EM step, a non-finite
#'   step), `start`, `starts` (final log-likelihood from every start), the
#'   data `x`, `y`, `weights` (`NULL` without weights), `logf0` (log
#'   \eqn{f_0}{f0} at the data), `aliased` (indices of the covariates whose
#'   slopes are held at 0, see Details), `pretrained`, `control`, `init` and
#'   `n_starts` (how the fit started, which [prompt_test()] repeats),
#'   `terms` and `na.action` (formula fits; `NULL` otherwise) and `call`.
#' @seealso [cmoe_control()], [cmoe_fit-methods], [prompt_test()],
#'   [plot.cmoe_fit()], [cmoe_loss()], [distinguishable()].
#' @examples
#' set.seed(1)
#' f0 <- pretrained_model("laplace", eta0 = c(2, 0), nu0 = 1)
#' truth <- cmoe_params(0.3, c(-1, 1), 0.5)
#' sim <- rcmoe(2000, truth, f0)
#' fit <- fit_cmoe(sim$x, sim$y, f0)
#' fit
#' cmoe_loss(fit, truth)
#'
#' # the formula interface: names, subset, missing values
#' df <- data.frame(dose = sim$x[, 1], response = sim$y)
#' df$response[c(3, 7)] <- NA
#' fit_cmoe(response ~ dose, df, f0, subset = dose > -3)
#'
#' # a nonlinear prompt
#' truth_tanh <- cmoe_params(0.4, c(3, 0), 0.1, expert = "tanh")
#' sim <- rcmoe(2000, truth_tanh, f0)
#' fit_cmoe(sim$x, sim$y, f0, expert = "tanh", n_starts = 3)
#'
#' # the sigmoid gate with a tanh expert without intercept
#' gated <- cmoe_params(eta = -2, nu = 0.05, expert = "tanh", gate = "sigmoid",
#'                      beta = 1, tau = 0.5, intercept = FALSE)
#' sim <- rcmoe(2000, gated, f0)
#' fit_cmoe(sim$x, sim$y, f0, expert = "tanh", gate = "sigmoid", intercept = FALSE,
#'          init = gated)
#' @export
fit_cmoe <- function(x, ...) UseMethod("fit_cmoe")

#' @rdname fit_cmoe
#' @export
fit_cmoe.default <- function(x, y, pretrained, expert = "linear", init = NULL, n_starts = 1,
                             control = cmoe_control(), verbose = FALSE, weights = NULL, ...,
                             gate = "constant", intercept = TRUE) {
  formula_only <- intersect(dots_names(...), c("subset", "na.action"))
  if (length(formula_only) > 0) {
    stop_arg(formula_only[1], "belongs to the formula interface, fit_cmoe(y ~ x1 + x2, data, ",
             "pretrained, ...); with covariates `x` and responses `y`, select the rows yourself.")
  }
  stop_unused_args("fit_cmoe()", ...)
  if (missing(pretrained)) {
    stop_arg("pretrained", "is missing; give the frozen model, made by pretrained_model().")
  }
  pretrained <- check_pretrained(pretrained)
  x <- as_covariates(x, "x", d = pretrained_d(pretrained))
  n <- nrow(x)
  d <- ncol(x)
  y <- as_response(y, n)
  weights <- check_case_weights(weights, n)
  expert <- check_expert(expert, "expert")
  gate <- check_gate(gate, "gate")
  check_flag(intercept, "intercept")
  free <- cmoe_free_count(d, gate, intercept)
  if (n < free) {
    stop_arg("x", "has ", n, " row(s); the model has ", free,
             " free parameters, so at least that many observations are needed.")
  }
  if (min(y) == max(y)) stop_arg("y", "is constant; the prompt expert needs it to vary.")
  n_starts <- check_count(n_starts, "n_starts")
  control <- check_cmoe_control(control)
  check_flag(verbose, "verbose")
  if (!is.null(init)) {
    init <- check_cmoe_params(init, "init")
    if (init$expert != expert || cmoe_d(init) != d || init$gate != gate ||
        init$intercept != intercept) {
      stop_arg("init", "must have the prompt's expert (\"", expert, "\"), gate (\"", gate,
               "\"), intercept (", intercept, ") and d = ", d, ", not \"", init$expert,
               "\", \"", init$gate, "\", ", init$intercept, " and d = ", cmoe_d(init), ".")
    }
    if (n_starts > 1) {
      warning("`n_starts` is ignored when `init` is a cmoe_params start.", call. = FALSE)
      n_starts <- 1L
    }
  }
  logf0 <- pretrained_logdensity(pretrained, x, y)
  frame <- cmoe_frame(x, y, logf0, expert, weights, intercept, gate)
  check_response_scale(frame, y, expert, control$var_floor)
  if (length(frame$aliased) > 0) {
    warning("`x` has column(s) ", paste(names(frame$aliased), collapse = ", "),
            " that are constant or linear combinations of the other columns and the ",
            "intercept: the prompt's slopes on them are not identified and are held at 0 ",
            "(see ?fit_cmoe and fit$aliased).", call. = FALSE)
  }
  run <- cmoe_maximise(frame, expert, cmoe_start_list(frame, expert, init, n_starts, control),
                       control, verbose)
  if (!is.finite(run$res$loglik[1])) {
    if (!is.null(init)) {
      stop_arg("init", "gives the data a log-likelihood of -Inf: some observations have ",
               "zero density under both f0 and its prompt; start from a prompt that covers them.")
    }
    stop_arg("y", "has observations to which f0 gives zero density and that no start's ",
             "prompt reaches; check the pre-trained model.")
  }
  start <- if (is.null(init)) from_internal(frame, run$start) else init
  params <- if (run$res$iterations == 0) start else from_internal(frame, run$res$params)
  call <- match.call()
  call[[1L]] <- as.name("fit_cmoe")
  fit <- new_cmoe_fit(run$res, params, start, run$final, x, y, weights, logf0, frame$aliased,
                      pretrained, control, init, n_starts, call)
  warn_cmoe_fit(fit)
  fit
}

#' @rdname fit_cmoe
#' @export
fit_cmoe.formula <- function(x, data = NULL, pretrained, subset, weights, na.action, ...) {
  frame <- formula_frame(match.call(), parent.frame(), cmoe_categorical_reason)
  fit <- fit_cmoe.default(frame$x, frame$y, pretrained, weights = frame$weights, ...)
  fit$terms <- frame$terms
  fit$na.action <- frame$na_action
  call <- match.call()
  call[[1L]] <- as.name("fit_cmoe")
  fit$call <- call
  fit
}

cmoe_categorical_reason <- paste(
  "the pre-trained model and the prompt's mean h(a'x + b) are functions of numeric",
  "covariates, so a category has no place in them; code it as numeric columns (such as",
  "0/1 indicators) yourself, with eta0 written for those columns, if that is what you mean.")

# EM from every start in the coordinates of cmoe_frame(), keeping the best;
# log-likelihoods in the user's units. With `fixed_lambda` > 0, lambda is
# held there (the profile likelihood). fit_cmoe() and the refits of
# prompt_test() and of the profile all go through here.
cmoe_maximise <- function(frame, expert, starts, control, verbose = FALSE, fixed_lambda = 0) {
  bounds <- cmoe_bounds(frame, control)
  shift <- frame$total_weight * log(frame$y_scale)
  avx2 <- kernel_path(control$kernels, "control$kernels") == "avx2"
  best_of_starts(starts, verbose, function(start) {
    if (fixed_lambda > 0) start$lambda <- fixed_lambda
    res <- .cmoe_em_cpp(frame$u, frame$v, frame$logf0, expert, start, control$max_iter,
                        control$tol, control$mstep_iter, control$accelerate == "squarem",
                        bounds, frame$weights, fixed_lambda, avx2)
    res$loglik <- res$loglik - shift
    res$loglik[is.nan(res$loglik)] <- -Inf
    res
  })
}

# The coordinates EM works in. Each covariate is centred and scaled, and
# those that are constant or aliased with earlier ones (pivoted QR with
# lm()'s tolerance) are set aside; g expresses every scaled covariate in the
# kept ones and the intercept (first row), so a linear predictor in the
# user's covariates maps exactly onto the kept ones. For a linear prompt the
# response is centred and scaled too: log phi(y; h, nu) = log phi(v; h_v,
# nu / sy^2) - log(sy), so log f0 is shifted by log(sy) and the log-likelihood
# by n log(sy) (by sum(weights) log(sy) with case weights). A nonlinear
# prompt's mean has a fixed range, so its y stays. The case weights travel
# with the frame: `weights` is numeric(0) without them, as the C++ core takes it.
cmoe_frame <- function(x, y, logf0, expert, weights = NULL, intercept = TRUE,
                       gate = "constant") {
  d <- ncol(x)
  moments <- vapply(seq_len(d), function(j) location_scale(x[, j]), numeric(2))
  if (!intercept) {
    # h(a'x) keeps its form only if x is not shifted: scale by the root mean square
    moments[1, ] <- 0
    moments[2, ] <- sqrt(colMeans(x^2))
  }
  constant <- moments[2, ] == 0
  moments[2, constant] <- 1
  u <- t((t(x) - moments[1, ]) / moments[2, ])
  # centred columns are orthogonal to the intercept, so aliasing is among
  # the columns only, and one varying column is never aliased
  varying <- which(!constant)
  kept <- varying
  if (length(varying) > 1) {
    decomposition <- qr(u[, varying, drop = FALSE], tol = 1e-7)
    kept <- sort(varying[decomposition$pivot[seq_len(decomposition$rank)]])
  }
  aliased <- which(!seq_len(d) %in% kept)
  g <- matrix(0, length(kept) + 1, d)
  g[cbind(seq_along(kept) + 1, kept)] <- 1
  others <- aliased[!constant[aliased]]
  if (length(others) > 0) {
    g[, others] <- qr.coef(qr(cbind(1, u[, kept, drop = FALSE])), u[, others, drop = FALSE])
  }
  if (expert == "linear") {
    y_moments <- location_scale(y)
    if (!intercept) y_moments <- c(0, sqrt(mean(y^2)))
    v <- (y - y_moments[1]) / y_moments[2]
    v_var <- 1
  } else {
    y_moments <- c(0, 1)
    v <- y
    v_var <- location_scale(y)[2]^2
  }
  labels <- column_labels(x)
  names(aliased) <- labels[aliased]
  list(u = if (length(aliased) > 0) u[, kept, drop = FALSE] else u, v = v,
       logf0 = logf0 + log(y_moments[2]), kept = kept, aliased = aliased, labels = labels, g = g,
       x_center = moments[1, ], x_scale = moments[2, ], y_center = y_moments[1],
       y_scale = y_moments[2], v_var = v_var,
       weights = if (is.null(weights)) numeric(0) else weights, expert = expert,
       intercept = intercept, gate = gate,
       total_weight = if (is.null(weights)) length(y) else sum(weights))
}

# Mean and standard deviation; far from 1 in magnitude computed on
# v / max|v|, so that neither overflows near the largest double nor
# underflows near the smallest. The scale is 0 only for constant v.
location_scale <- function(v) {
  ends <- range(v)
  if (ends[1] == ends[2]) return(c(v[1], 0))
  top <- max(-ends[1], ends[2])
  unit <- if (top > 1e-100 && top < 1e100) 1 else top
  w <- if (unit == 1) v else v / unit
  m <- sum(w) / length(w)
  c(m, sqrt(sum((w - m)^2) / (length(w) - 1))) * unit
}

# Column names for messages, or "column j" where a name is missing or
# shared.
column_labels <- function(x) {
  labels <- colnames(x)
  if (is.null(labels)) labels <- character(ncol(x))
  unclear <- !nzchar(labels) | duplicated(labels) | duplicated(labels, fromLast = TRUE)
  labels[unclear] <- paste("column", which(unclear))
  labels
}

# The response must leave the prompt a variance a double can hold: the
# variance of y itself, for a nonlinear prompt also its floor (var_floor
# times it), and its largest values must not overflow when squared and
# summed. Estimates beyond a double are caught by from_internal().
check_response_scale <- function(frame, y, expert, var_floor) {
  var_y <- frame$v_var * frame$y_scale^2
  if (!is.finite(var_y)) {
    stop_arg("y", "varies too much: its variance overflows a double (values up to ",
             format(max(abs(y)), digits = 3), "); express y in smaller units ",
             "(and the pre-trained model with it).")
  }
  if (var_y < .Machine$double.xmin) {
    stop_arg("y", "varies too little: its variance (", format(var_y, digits = 3), "), the ",
             "scale of the prompt's variance, is below the smallest normal double; express y ",
             "in larger units (and the pre-trained model with it).")
  }
  # a nonlinear prompt's EM works on y itself, where the floor must be a double
  if (expert != "linear" && var_floor * var_y < .Machine$double.xmin) {
    stop_arg("y", "varies too little for a ", expert, " prompt: the smallest prompt variance, ",
             "`var_floor` times the variance of y (", format(var_y, digits = 3), "), is below ",
             "the smallest normal double; express y in larger units (and the pre-trained ",
             "model with it).")
  }
  if (expert != "linear" && max(abs(y)) > sqrt(.Machine$double.xmax / (4 * length(y)))) {
    stop_arg("y", "holds values up to ", format(max(abs(y)), digits = 3), ", whose squares ",
             "summed overflow a double; a ", expert, " prompt's mean has a fixed range, so ",
             "y cannot be rescaled within the fit: express it in smaller units ",
             "(and the pre-trained model with it).")
  }
}

# A cmoe_params in the user's units as internal (lambda, eta, nu), eta being
# the kept covariates' slopes then the intercept.
to_internal <- function(frame, params) {
  d <- length(frame$x_center)
  a <- params$eta[seq_len(d)]
  coefs <- drop(frame$g %*% (a * frame$x_scale))
  if (params$intercept) coefs[1] <- coefs[1] + params$eta[[d + 1]] + sum(a * frame$x_center)
  gate <- numeric(0)
  if (params$gate == "sigmoid") {
    gate <- drop(frame$g %*% (params$beta * frame$x_scale))
    gate <- c(gate[-1], gate[1] + params$tau + sum(params$beta * frame$x_center))
  }
  list(lambda = if (params$gate == "constant") params$lambda else 0.5,
       eta = c(coefs[-1], if (params$intercept) coefs[1] - frame$y_center) / frame$y_scale,
       nu = params$nu / frame$y_scale^2, gate = gate, intercept = params$intercept)
}

# Internal parameters back in the user's units, refused where a double
# cannot hold them.
from_internal <- function(frame, p) {
  d <- length(frame$x_center)
  k <- length(frame$kept)
  slopes <- p$eta[seq_len(k)]
  a <- numeric(d)
  a[frame$kept] <- slopes * frame$y_scale / frame$x_scale[frame$kept]
  b <- if (frame$intercept) {
    p$eta[[k + 1]] * frame$y_scale + frame$y_center -
      sum(a[frame$kept] * frame$x_center[frame$kept])
  } else 0
  nu <- p$nu * frame$y_scale^2
  lost <- frame$kept[!is.finite(a[frame$kept]) | (a[frame$kept] == 0 & slopes != 0)]
  if (length(lost) > 0) {
    stop_arg("x", "has column(s) ", paste(frame$labels[lost], collapse = ", "),
             " on a scale that leaves the prompt's slope beyond the range of a double; ",
             "express x (or y) in other units.")
  }
  if (!is.finite(b) || !is.finite(nu) || nu < .Machine$double.xmin) {
    stop_arg("y", "is on a scale that leaves the prompt's intercept or variance (",
             format(nu, digits = 3), ") beyond the range of a double; express y in other ",
             "units (and the pre-trained model with it).")
  }
  if (frame$gate == "constant") {
    return(cmoe_params(p$lambda, c(a, if (frame$intercept) b), nu, frame$expert,
                       intercept = frame$intercept))
  }
  beta <- numeric(d)
  beta[frame$kept] <- p$gate[seq_len(k)] / frame$x_scale[frame$kept]
  tau <- p$gate[[k + 1]] - sum(beta[frame$kept] * frame$x_center[frame$kept])
  if (!all(is.finite(c(beta, tau)))) {
    stop_arg("x", "is on a scale that leaves the gate's slopes beyond the range of a double; ",
             "express x in other units.")
  }
  cmoe_params(eta = c(a, if (frame$intercept) b), nu = nu, expert = frame$expert,
              gate = "sigmoid", beta = beta, tau = tau, intercept = frame$intercept)
}

# Free parameters: the weight lambda or the gate's d + 1, the expert's
# d (+ 1 with intercept), and nu.
cmoe_free_count <- function(d, gate, intercept) {
  (if (gate == "constant") 1 else d + 1) + d + intercept + 1
}

cmoe_bounds <- function(frame, control) {
  c(control$lambda_bound, control$var_floor * frame$v_var, control$gate_bound)
}

# The starts of a fit, internal: `init` as it is, else the data-driven ones
# (see ?fit_cmoe, Starts).
cmoe_start_list <- function(frame, expert, init, n_starts, control) {
  if (!is.null(init)) return(list(to_internal(frame, init)))
  cmoe_starts(frame, expert, n_starts, control, cmoe_bounds(frame, control))
}

cmoe_starts <- function(frame, expert, n_starts, control, bounds) {
  n <- nrow(frame$u)
  k <- ncol(frame$u)
  neutral <- list(lambda = 0.5,
                  eta = c(rep(0, k), if (frame$intercept) {
                    if (expert == "linear") mean(frame$v) else 0
                  }),
                  nu = frame$v_var, gate = if (frame$gate == "sigmoid") numeric(k + 1) else numeric(0),
                  intercept = frame$intercept)
  from_weights <- function(w) {
    p <- .cmoe_mstep_cpp(frame$u, frame$v, w, expert, neutral, control$mstep_iter, bounds,
                         frame$weights, kernel_path(control$kernels, "control$kernels") == "avx2")
    p$lambda <- min(max(p$lambda, 0.1), 0.9)
    p
  }
  log_normal <- stats::dnorm(frame$v, mean(frame$v), sqrt(frame$v_var), log = TRUE)
  contrast <- 1 / (1 + exp(frame$logf0 - log_normal))
  random <- lapply(seq_len(max(n_starts - 2, 0)), function(s) {
    w <- numeric(n)
    w[sample.int(n, max(2 * (k + 1), ceiling(n / 5)))] <- 1
    from_weights(w)
  })
  c(list(from_weights(contrast)), if (n_starts > 1) list(neutral), random)
}

new_cmoe_fit <- function(res, params, start, start_logliks, x, y, weights, logf0, aliased,
                         pretrained, control, init, n_starts, call) {
  trace <- res$loglik
  # 1 - (1 - bound) is not bound in floating point: compare on each side.
  margin <- control$lambda_bound * (1 + 1e-6)
  lambda <- if (params$gate == "constant") params$lambda else 0.5
  structure(list(
    params = params,
    loglik = trace[length(trace)],
    loglik_trace = trace,
    iterations = res$iterations,
    converged = res$converged,
    posterior = res$posterior,
    diagnostics = list(lambda_at_bound = lambda <= margin || lambda >= 1 - margin,
                       gate_at_bound = length(res$params$gate) > 0 &&
                         max(abs(res$params$gate)) >= control$gate_bound * (1 - 1e-9),
                       lambda_bound_hits = res$lambda_bound_hits,
                       gate_stalls = res$gate_stalls,
                       gate_bound_hits = res$gate_bound_hits,
                       nu_floor_hits = res$nu_floor_hits,
                       prompt_empty = res$prompt_empty,
                       decreases = res$decreases,
                       squarem_fallbacks = res$squarem_fallbacks,
                       nonfinite = res$nonfinite, kernels = res$kernels),
    start = start,
    starts = start_logliks,
    x = x,
    y = y,
    weights = weights,
    logf0 = logf0,
    aliased = aliased,
    pretrained = pretrained,
    control = control,
    init = init,
    n_starts = n_starts,
    terms = NULL,
    na.action = NULL,
    call = call),
    class = "cmoe_fit")
}

# What fit_cmoe() warns about once the fit is made.
warn_cmoe_fit <- function(fit) {
  if (fit$diagnostics$lambda_at_bound) {
    lambda <- fit$params$lambda
    warning(sprintf("lambda ended at its bound (%s): %s; see ?is_degenerate.",
                    format(lambda),
                    if (lambda < 0.5) "the data show no prompt" else "the data show no pre-trained model"),
            call. = FALSE)
  }
  if (isTRUE(fit$diagnostics$gate_at_bound)) {
    warning("the gate ended on its bound (gate_bound = ", format(fit$control$gate_bound),
            "): the likelihood is nearly flat in the gate; see ?cmoe_control and ",
            "?is_degenerate.", call. = FALSE)
  }
  if (fit$diagnostics$nonfinite) {
    warning("EM stopped at a step with a non-finite log-likelihood; the last finite iterate is returned.",
            call. = FALSE)
  }
}

#' @rdname is_degenerate
#' @export
is_degenerate.cmoe_fit <- function(fit) cmoe_degenerate(check_cmoe_fit(fit, "fit"))
