#' Methods for fitted contaminated mixtures of experts
#'
#' `print`, `summary` (estimates, standard errors and confidence intervals,
#' with the test of no prompt when given), `coef` (\eqn{\lambda}, the slopes
#' \eqn{a}, \eqn{b}, \eqn{\nu}; with the sigmoid gate \eqn{\beta} and
#' \eqn{\tau} in place of \eqn{\lambda}, named `beta_wt`, ..., `tau`; no
#' \eqn{b} for an expert without intercept), `vcov`, `confint`, `logLik`
#' (with `df` the number of free parameters, \eqn{d + 3} for the constant
#' gate, and `nobs`, so [AIC()] and [BIC()] work), `nobs`, `fitted`
#' (the conditional mean
#' \eqn{(1 - s(x)) E_{f_0}(y | x) + s(x) h(x, \eta)}{(1 - s(x)) E_f0(y | x) + s(x) h(x, eta)},
#' \eqn{s(x)} the prompt's weight, \eqn{\lambda} or the gate, at the
#' observed covariates), `residuals` and `simulate` (new responses at
#' the observed covariates). The slopes are named after the covariates
#' (`a_wt`; `a1`, `a2`, ... for unnamed columns).
#'
#' **Standard errors** come from the observed information, the negative
#' Hessian of the (case-weighted) log-likelihood, obtained by central
#' differences of its analytic gradient in the centred and scaled
#' coordinates the fit ran in (see [fit_cmoe()]), then mapped to the user's
#' units, so it does not depend on them. They are `NA` when \eqn{\lambda}
#' sits at its bound or the information is not positive definite (a flat
#' likelihood, as when the prompt merges into \eqn{f_0}{f0}), and for the
#' slopes of aliased covariates (held at 0, see [fit_cmoe()]).
#'
#' **Confidence intervals** respect the parameter space. \eqn{\nu}: a Wald
#' interval for \eqn{\log \nu}{log nu}, mapped back, so both ends are
#' positive. \eqn{a} and \eqn{b}: Wald intervals. \eqn{\lambda}: the profile
#' likelihood interval, the \eqn{\lambda_0}{lambda0} with
#' \eqn{2\{l(\hat\theta) - \max_{\eta, \nu} l(\lambda_0, \eta, \nu)\} \le \chi^2_{1}(\mathrm{level})}{2 (l(theta_hat) - max over (eta, nu) of l(lambda0, eta, nu)) <= qchisq(level, 1)}
#' (each profile point an EM fit with \eqn{\lambda} held fixed), which stays
#' in \eqn{[0, 1]} and is not symmetric where the likelihood is not. The
#' \eqn{\chi^2_1}{chi-square(1)} calibration holds for \eqn{\lambda_0}{lambda0}
#' away from 0, not at 0: there the prompt's \eqn{(\eta, \nu)} are not
#' identified, and whether 0 belongs in the interval is the question of
#' [prompt_test()]. So the lower end is given only with a test (`test =`):
#' it is 0 when the test does not reject \eqn{\lambda = 0} at level
#' \eqn{1 - } `level`, and the profile's lower end otherwise; without a test
#' it is `NA`. Where the test does not reject, the prompt's \eqn{a}, \eqn{b}
#' and \eqn{\nu} are those of a component the data may not contain, and
#' their intervals mean little; `summary()` says so. With the sigmoid gate,
#' \eqn{\beta} and \eqn{\tau} get Wald intervals (and [prompt_test()],
#' which tests \eqn{\lambda = 0}{lambda = 0}, does not apply).
#'
#' **Weights.** For a fit with case weights (see [fit_cmoe()]) the
#' log-likelihood is the weighted one and `nobs()` is the sum of the
#' weights.
#'
#' **Missing values.** For formula fits with `na.action = na.exclude`,
#' `fitted()`, `residuals()`, `simulate()` and `predict()` without `newdata`
#' are padded with `NA` at the excluded rows ([stats::naresid()]).
#'
#' Every method first checks `object`: a fit whose parts were edited by hand
#' (parameters, data, pre-trained model) so that they no longer belong to one
#' fit (its posterior probabilities and log f0, at a fixed set of rows, must
#' be those of its parameters, model and data) is refused with an error that
#' says so. With aliased covariates `logLik()` counts only the free
#' parameters in `df`. Arguments a method does not take are an error.
#'
#' @param object,x A `cmoe_fit` object (for `print.summary.cmoe_fit`, its
#'   summary).
#' @param digits Number of significant digits to print.
#' @param level Confidence level of the intervals.
#' @param test `NULL` or the [prompt_test()] of this fit: its result is
#'   printed and decides the lower end of \eqn{\lambda}'s interval (see
#'   Confidence intervals).
#' @param parm Parameters for `confint`: names or positions in `coef()`
#'   (all by default).
#' @param type For `residuals`: `"response"` (\eqn{y} minus the fitted
#'   mean) or `"pearson"` (those divided by the conditional standard
#'   deviation
#'   \eqn{\{(1 - \lambda) v_0 + \lambda \nu + \lambda (1 - \lambda) (\mu_0(x) - h(a^\top x + b))^2\}^{1/2}}{sqrt((1 - lambda) v0 + lambda nu + lambda (1 - lambda) (mu0(x) - h(a'x + b))^2)},
#'   with \eqn{v_0}{v0} the variance of \eqn{f_0}{f0}: \eqn{\nu_0}{nu0}
#'   Gaussian, \eqn{2\nu_0}{2 nu0} Laplace, \eqn{\nu_0 \mathrm{df} / (\mathrm{df} - 2)}{nu0 df / (df - 2)}
#'   Student with df > 2; not available for a user's log-density).
#' @param nsim Number of simulated response vectors.
#' @param seed As in [stats::simulate()]: `NULL` or an integer passed to
#'   [set.seed()] (the generator's state is restored afterwards).
#' @param ... Not used: any argument given here is an error.
#' @return `coef`: a named vector. `vcov`: a matrix. `confint`: a matrix
#'   with one row per parameter and columns for the lower and upper ends.
#'   `logLik`: an object of class `logLik`. `fitted`, `residuals`: numeric
#'   vectors. `simulate`: a data frame with `nsim` columns and attribute
#'   `"seed"`. `summary`: an object of class `summary.cmoe_fit` whose
#'   `coefficients` table has columns `estimate`, `std_error`, `lower`,
#'   `upper` and `interval` (how the interval was made: `"profile"`,
#'   `"Wald"` or `"Wald, log scale"`), and which holds the `test`.
#' @references Yan, F., Nguyen, H., Le, D., Akbarian, P. and Ho, N. (2025).
#'   Understanding expert structures on minimax parameter estimation in
#'   contaminated mixture of experts. AISTATS 2025.
#'
#'   Venzon, D. J. and Moolgavkar, S. H. (1988). A method for computing
#'   profile-likelihood-based confidence intervals. Applied Statistics 37,
#'   87-94.
#' @seealso [fit_cmoe()], [prompt_test()], [predict.cmoe_fit()],
#'   [plot.cmoe_fit()].
#' @examples
#' set.seed(1)
#' f0 <- pretrained_model("laplace", eta0 = c(2, 0), nu0 = 1)
#' sim <- rcmoe(2000, cmoe_params(0.3, c(-1, 1), 0.5), f0)
#' fit <- fit_cmoe(sim$x, sim$y, f0)
#' summary(fit, test = prompt_test(fit, B = 99))
#' coef(fit)
#' confint(fit, c("a_x1", "nu"))
#' c(AIC = AIC(fit), BIC = BIC(fit))
#' head(residuals(fit, type = "pearson"))
#' head(simulate(fit, nsim = 2, seed = 1))
#'
#' # the sigmoid gate
#' gated <- cmoe_params(eta = c(-1, 1), nu = 0.5, gate = "sigmoid", beta = 2, tau = -1)
#' sim <- rcmoe(2000, gated, f0)
#' gfit <- fit_cmoe(sim$x, sim$y, f0, gate = "sigmoid")
#' summary(gfit)
#' sqrt(diag(vcov(gfit)))
#' @name cmoe_fit-methods
NULL

#' @rdname cmoe_fit-methods
#' @export
print.cmoe_fit <- function(x, digits = max(3L, getOption("digits") - 3L), ...) {
  fit <- check_cmoe_fit(x, "x")
  cat("Contaminated mixture of experts fitted by EM\n")
  cat(sprintf("  pre-trained: %s; %s; n = %d, d = %d\n",
              pretrained_label(fit$pretrained), prompt_label(fit$params), nrow(fit$x),
              ncol(fit$x)))
  print(cmoe_named_coef(fit), digits = digits)
  cat(sprintf("  log-likelihood %s%s after %d %s%s\n",
              format(fit$loglik, digits = 10), if (is.null(fit$weights)) "" else " (weighted)",
              fit$iterations, iteration_unit(fit$control),
              if (fit$converged) ", converged" else ", not converged"))
  cat(aliased_note(fit, "  "))
  cat(missing_note(fit, "  "))
  if (cmoe_degenerate(fit)) cat("  degenerate fit: see fit$diagnostics and ?is_degenerate\n")
  invisible(x)
}

iteration_unit <- function(control) {
  if (control$accelerate == "squarem") "SQUAREM cycle(s) of 3 EM steps" else "EM iteration(s)"
}

prompt_label <- function(params) {
  sprintf("prompt expert: %s%s%s", params$expert,
          if (params$intercept) "" else " without intercept",
          if (params$gate == "sigmoid") "; sigmoid gate" else "")
}

pretrained_label <- function(pretrained) {
  if (pretrained$family == "user") return("user log-density")
  sprintf("%s with %s expert", pretrained$family, pretrained$expert)
}

# The covariates whose slopes fit_cmoe() held at 0 (see its Details).
aliased_note <- function(fit, indent) {
  aliased <- fit$aliased
  if (length(aliased) == 0) return("")
  sprintf("%sslope(s) on %s held at 0: aliased with other covariates\n", indent,
          paste(names(aliased), collapse = ", "))
}

#' @rdname cmoe_fit-methods
#' @export
summary.cmoe_fit <- function(object, level = 0.95, test = NULL, ...) {
  object <- check_cmoe_fit(object)
  stop_unused_args("summary.cmoe_fit()", ...)
  level <- check_level(level)
  if (!is.null(test)) test <- check_prompt_test(test, object)
  est <- cmoe_named_coef(object)
  parts <- cmoe_covariance(object)
  kinds <- cmoe_interval_kinds(object$params)
  se <- cmoe_standard_errors(parts)
  ends <- cmoe_intervals(object, est, se, level, test)
  table <- data.frame(estimate = est, std_error = se, lower = ends[, 1], upper = ends[, 2],
                      interval = kinds)
  structure(list(call = object$call, pretrained = object$pretrained,
                 expert = prompt_label(object$params), coefficients = table, level = level,
                 test = test, loglik = cmoe_loglik(object), weighted = !is.null(object$weights),
                 gate = object$params$gate,
                 iterations = object$iterations, unit = iteration_unit(object$control),
                 aliased = aliased_note(object, ""), missing = missing_note(object, ""),
                 converged = object$converged, degenerate = cmoe_degenerate(object)),
            class = "summary.cmoe_fit")
}

#' @rdname cmoe_fit-methods
#' @export
print.summary.cmoe_fit <- function(x, digits = max(3L, getOption("digits") - 3L), ...) {
  cat("Contaminated mixture of experts fitted by EM\n")
  cat("Call: ", paste(deparse(x$call), collapse = "\n"), "\n", sep = "")
  cat(sprintf("Pre-trained: %s; %s\n\n", pretrained_label(x$pretrained), x$expert))
  table <- x$coefficients
  names(table) <- c("estimate", "std. error",
                    sprintf("%g%% %s", 100 * x$level, c("lower", "upper")), "interval")
  print(table, digits = digits)
  if (x$gate == "constant") cat("\n", prompt_test_note(x$test, x$level), sep = "")
  cat(sprintf("\nlog-likelihood %s%s (df = %d), AIC %s, BIC %s, n = %s\n",
              format(as.numeric(x$loglik), digits = 10), if (x$weighted) " (weighted)" else "",
              attr(x$loglik, "df"), format(stats::AIC(x$loglik), digits = 8),
              format(stats::BIC(x$loglik), digits = 8), format(attr(x$loglik, "nobs"))))
  cat(sprintf("%d %s, %s\n", x$iterations, x$unit,
              if (x$converged) "converged" else "not converged"))
  cat(x$aliased)
  cat(x$missing)
  if (x$degenerate) cat("Degenerate fit: see fit$diagnostics and ?is_degenerate\n")
  invisible(x)
}

# What the summary says about lambda = 0: the test's verdict and what it
# means for the intervals, or how to get it.
prompt_test_note <- function(test, level) {
  if (is.null(test)) {
    return(paste0("Test of no prompt (lambda = 0) not computed: give summary(fit, test = ",
                  "prompt_test(fit)).\nUntil then the lower end of lambda's interval is ",
                  "not given (the chi-square calibration of the\nprofile does not hold at ",
                  "lambda = 0).\n"))
  }
  verdict <- sprintf(
    paste("Test of no prompt (lambda = 0): LR = %s, p-value %s (parametric bootstrap",
          "under f0, %d refits).\n"),
    format(test$statistic[[1]], digits = 4), format.pval(test$p.value, digits = 3),
    test$parameter[[1]])
  if (test$p.value > 1 - level) {
    verdict <- paste0(verdict, sprintf(
      "No evidence of a prompt at the %g%% level: lambda's interval starts at 0, and the\n",
      100 * (1 - level)),
      "prompt's slopes, intercept and variance may describe no component of the data.\n")
  }
  verdict
}

#' @rdname cmoe_fit-methods
#' @export
confint.cmoe_fit <- function(object, parm, level = 0.95, test = NULL, ...) {
  object <- check_cmoe_fit(object)
  stop_unused_args("confint.cmoe_fit()", ...)
  level <- check_level(level)
  if (!is.null(test)) test <- check_prompt_test(test, object)
  est <- cmoe_named_coef(object)
  if (missing(parm)) parm <- seq_along(est)
  if (is.character(parm) && all(parm %in% names(est))) {
    parm <- match(parm, names(est))
  } else if (!is.numeric(parm) || any(!parm %in% seq_along(est))) {
    stop_arg("parm", "must name parameters of coef(object) (", paste(names(est), collapse = ", "),
             ") or give their positions.")
  }
  se <- cmoe_standard_errors(cmoe_covariance(object))
  only <- replace(rep(FALSE, length(est)), parm, TRUE)
  ends <- cmoe_intervals(object, est, se, level, test, only)[parm, , drop = FALSE]
  dimnames(ends) <- list(names(est)[parm], sprintf("%g %%", 100 * c(1 - level, 1 + level) / 2))
  ends
}

check_level <- function(level) {
  level <- check_numeric(level, "level", len = 1)
  if (level <= 0 || level >= 1) stop_arg("level", "must be in (0, 1).")
  level
}

cmoe_interval_kinds <- function(params) {
  c(if (params$gate == "constant") "profile", rep("Wald", length(cmoe_coef(params)) - 2 +
                                                    (params$gate != "constant")),
    "Wald, log scale")
}

# Lower and upper ends for (lambda, a, b, nu) (for the rows in `only`; NA
# elsewhere): lambda by its profile likelihood (see ?cmoe_fit-methods), nu
# on the log scale, the rest Wald.
cmoe_intervals <- function(fit, est, se, level, test, only = rep(TRUE, length(est))) {
  q <- length(est)
  z <- stats::qnorm((1 + level) / 2)
  ends <- cbind(est - z * se, est + z * se)
  ends[q, ] <- est[q] * exp(c(-z, z) * se[q] / est[q])
  ends[!only, ] <- NA_real_
  if (only[1] && fit$params$gate == "constant") ends[1, ] <- cmoe_lambda_interval(fit, level, test)
  ends
}

#' @rdname cmoe_fit-methods
#' @export
coef.cmoe_fit <- function(object, ...) {
  object <- check_cmoe_fit(object)
  stop_unused_args("coef.cmoe_fit()", ...)
  cmoe_named_coef(object)
}

# (lambda, a, b, nu) or (beta, tau, a, b, nu) with the slopes named after
# the covariates.
cmoe_named_coef <- function(fit) {
  p <- fit$params
  gate <- if (p$gate == "constant") "lambda" else c(coefficient_names("beta", fit$x), "tau")
  stats::setNames(cmoe_coef(p), c(gate, coefficient_names("a", fit$x), if (p$intercept) "b",
                                  "nu"))
}

#' @rdname cmoe_fit-methods
#' @export
vcov.cmoe_fit <- function(object, ...) {
  object <- check_cmoe_fit(object)
  stop_unused_args("vcov.cmoe_fit()", ...)
  parts <- cmoe_covariance(object)
  names <- names(cmoe_named_coef(object))
  out <- matrix(NA_real_, length(names), length(names), dimnames = list(names, names))
  if (is.null(parts$internal)) return(out)
  identified <- parts$identified
  out[identified, identified] <- (parts$jacobian %*% parts$internal %*%
                                    t(parts$jacobian))[identified, identified]
  overflow <- identified & !is.finite(diag(out))
  if (any(overflow)) {
    stop_arg("object", "has a variance of ", paste0("`", names[overflow], "`", collapse = ", "),
             " beyond the range of a double (x or y in extreme units); summary() gives the ",
             "standard errors, or refit with x or y in other units.")
  }
  out
}

# The observed information (of the case-weighted log-likelihood), computed
# where the fit's EM ran (centred and scaled data, see cmoe_frame()) so that
# it is as well conditioned in any units, and the Jacobian of the map to the
# user's parameters. `internal` is NULL when lambda sits at its bound or the
# information is not positive definite; `identified` marks the parameters
# that are not aliased slopes.
cmoe_covariance <- function(fit) {
  params <- fit$params
  frame <- cmoe_frame(fit$x, fit$y, fit$logf0, params$expert, fit$weights, params$intercept,
                      params$gate)
  d <- ncol(fit$x)
  k <- length(frame$kept)
  gated <- params$gate == "sigmoid"
  ib <- params$intercept
  sx <- frame$x_scale[frame$kept]
  mx <- frame$x_center[frame$kept]
  # user (gate, a, b, nu) from internal (gate, a, b, nu); the gate block is
  # lambda alone, or (beta, tau) mapped as the slopes and intercept of x
  gate_user <- if (gated) d + 1 else 1
  gate_internal <- if (gated) k + 1 else 1
  q_user <- gate_user + d + ib + 1
  q_internal <- gate_internal + k + ib + 1
  jacobian <- matrix(0, q_user, q_internal)
  if (gated) {
    jacobian[cbind(frame$kept, seq_len(k))] <- 1 / sx
    jacobian[d + 1, seq_len(k)] <- -mx / sx
    jacobian[d + 1, k + 1] <- 1
  } else {
    jacobian[1, 1] <- 1
  }
  jacobian[cbind(gate_user + frame$kept, gate_internal + seq_len(k))] <- frame$y_scale / sx
  if (ib) {
    jacobian[gate_user + d + 1, gate_internal + seq_len(k)] <- -frame$y_scale * mx / sx
    jacobian[gate_user + d + 1, gate_internal + k + 1] <- frame$y_scale
  }
  jacobian[q_user, q_internal] <- frame$y_scale^2
  aliased <- c(if (gated) frame$aliased, gate_user + frame$aliased)
  identified <- !(seq_len(q_user) %in% aliased)
  parts <- list(jacobian = jacobian, internal = NULL, identified = identified)
  if (fit$diagnostics$lambda_at_bound || isTRUE(fit$diagnostics$gate_at_bound)) return(parts)
  p <- to_internal(frame, params)
  theta <- c(if (gated) p$gate else p$lambda, p$eta, p$nu)
  case_weights <- if (is.null(fit$weights)) 1 else fit$weights
  gradient <- function(th) {
    colSums(case_weights * cmoe_scores(frame$u, frame$v, frame$logf0, params, th))
  }
  q <- length(theta)
  step <- 1e-5 * pmax(abs(theta), 0.1)
  if (!gated) step[1] <- min(step[1], theta[1] / 2, (1 - theta[1]) / 2)
  step[q] <- min(step[q], theta[q] / 2)
  hessian <- vapply(seq_len(q), function(j) {
    e <- replace(numeric(q), j, step[j])
    (gradient(theta + e) - gradient(theta - e)) / (2 * step[j])
  }, numeric(q))
  info <- -(hessian + t(hessian)) / 2
  root <- if (all(is.finite(info))) tryCatch(chol(info), error = function(e) NULL)
  if (!is.null(root)) parts$internal <- chol2inv(root)
  parts
}

# sqrt(diag(J V J')) row by row, each row scaled to a largest entry of 1
# first, so a standard error a double can hold is returned even where its
# square is not.
cmoe_standard_errors <- function(parts) {
  se <- rep(NA_real_, nrow(parts$jacobian))
  if (is.null(parts$internal)) return(se)
  for (i in which(parts$identified)) {
    row <- parts$jacobian[i, ]
    top <- max(abs(row))
    se[i] <- top * sqrt(max(drop(crossprod(row / top, parts$internal %*% (row / top))), 0))
  }
  se
}

# Per-observation gradient of log p(y | x) in theta = (lambda, a, b, nu), or
# (beta, tau, a, b, nu) for the sigmoid gate (no b without intercept), given
# log f0 at the data; `model` gives the expert, gate and intercept.
cmoe_scores <- function(x, y, logf0, model, theta) {
  d <- ncol(x)
  gated <- model$gate == "sigmoid"
  head <- if (gated) d + 1 else 1
  q_eta <- d + model$intercept
  eta <- theta[head + seq_len(q_eta)]
  nu <- theta[head + q_eta + 1]
  params <- list(lambda = if (gated) 0.5 else theta[1], eta = eta, nu = nu, expert = model$expert,
                 gate = model$gate, beta = if (gated) theta[seq_len(d)],
                 tau = if (gated) theta[d + 1], intercept = model$intercept)
  w <- cmoe_evaluate(x, y, logf0, params)$posterior
  h <- prompt_mean(params, x)
  r <- y - h
  slope <- switch(model$expert, linear = 1, sigmoid = h * (1 - h), tanh = 1 - h^2)
  gate_score <- if (gated) {
    (w - cmoe_weight(params, x)) * cbind(x, 1)
  } else {
    w / theta[1] - (1 - w) / (1 - theta[1])
  }
  cbind(gate_score, (w * r / nu * slope) * if (model$intercept) cbind(x, 1) else x,
        w * (r * (r / nu) - 1) / (2 * nu))
}

# Aliased slopes, held at 0, are not free parameters (as lm() counts them);
# case weights count as observations.
cmoe_loglik <- function(fit) {
  p <- fit$params
  free <- cmoe_free_count(ncol(fit$x), p$gate, p$intercept) -
    (1 + (p$gate == "sigmoid")) * length(fit$aliased)
  structure(fit$loglik, df = as.integer(free), nobs = cmoe_nobs(fit), class = "logLik")
}

cmoe_nobs <- function(fit) if (is.null(fit$weights)) nrow(fit$x) else sum(fit$weights)

cmoe_degenerate <- function(fit) {
  diag <- fit$diagnostics
  diag$lambda_at_bound || isTRUE(diag$gate_at_bound) || diag$nu_floor_hits > 0 ||
    diag$prompt_empty > 0 ||
    diag$nonfinite
}

#' @rdname cmoe_fit-methods
#' @export
logLik.cmoe_fit <- function(object, ...) {
  object <- check_cmoe_fit(object)
  stop_unused_args("logLik.cmoe_fit()", ...)
  cmoe_loglik(object)
}

#' @rdname cmoe_fit-methods
#' @export
nobs.cmoe_fit <- function(object, ...) {
  object <- check_cmoe_fit(object)
  stop_unused_args("nobs.cmoe_fit()", ...)
  cmoe_nobs(object)
}

#' @rdname cmoe_fit-methods
#' @export
fitted.cmoe_fit <- function(object, ...) {
  object <- check_cmoe_fit(object)
  stop_unused_args("fitted.cmoe_fit()", ...)
  stats::napredict(object$na.action, cmoe_mean(object, object$x, "object"))
}

#' @rdname cmoe_fit-methods
#' @export
residuals.cmoe_fit <- function(object, type = c("response", "pearson"), ...) {
  object <- check_cmoe_fit(object)
  stop_unused_args("residuals.cmoe_fit()", ...)
  type <- match_choice(type, c("response", "pearson"), "type")
  value <- object$y - cmoe_mean(object, object$x, "object")
  if (type == "pearson") value <- value / sqrt(cmoe_variance(object, object$x, "object"))
  stats::naresid(object$na.action, value)
}

# One of `choices` (the first by default), or an error listing them.
match_choice <- function(value, choices, arg) {
  if (identical(value, choices)) return(choices[1])
  if (!is.character(value) || length(value) != 1 || !value %in% choices) {
    stop_arg(arg, "must be one of ", paste0("\"", choices, "\"", collapse = ", "), ".")
  }
  value
}

#' @rdname cmoe_fit-methods
#' @export
simulate.cmoe_fit <- function(object, nsim = 1, seed = NULL, ...) {
  object <- check_cmoe_fit(object)
  stop_unused_args("simulate.cmoe_fit()", ...)
  seed <- check_rng_seed(seed)
  n <- nrow(object$x)
  sims <- simulate_responses(nsim, seed, function() {
    rcmoe(n, object$params, object$pretrained, x = object$x)$y
  })
  if (is.null(object$na.action)) return(sims)
  padded <- as.data.frame(lapply(sims, function(s) stats::napredict(object$na.action, s)))
  attr(padded, "seed") <- attr(sims, "seed")
  padded
}

#' Predictions from a fitted contaminated mixture of experts
#'
#' @param object A `cmoe_fit` object.
#' @param newdata Covariates: a matrix with \eqn{d} columns (or a vector when
#'   \eqn{d = 1}), or, for fits made through the formula interface, a data
#'   frame holding the formula's covariates (and, for `"posterior"` and
#'   `"density"`, possibly its response). Missing: the observed covariates
#'   (and responses), with `NA` at rows a formula fit's
#'   `na.action = na.exclude` left out.
#' @param type `"mean"`: the conditional mean
#'   \eqn{(1 - \lambda) E_{f_0}(y | x) + \lambda h(a^\top x + b)}{(1 - lambda) E_f0(y | x) + lambda h(a'x + b)};
#'   `"prompt"`: the prompt expert's mean \eqn{h(a^\top x + b)}{h(a'x + b)};
#'   `"pretrained"`: the mean of \eqn{f_0}{f0} (its location);
#'   `"gate"`: the prompt's weight \eqn{s(x)} (\eqn{\lambda} for the
#'   constant gate);
#'   `"posterior"`: the posterior probability that \eqn{(x, y)} came from
#'   the prompt; `"density"`: the conditional density \eqn{p(y | x)}.
#' @param y Responses for `"posterior"` and `"density"`, one per row of
#'   `newdata`; for a formula fit taken from `newdata` when it holds the
#'   response. Only for those types.
#' @param ... Not used: any argument given here is an error.
#' @return A numeric vector with one value per row of `newdata`.
#' @examples
#' set.seed(1)
#' f0 <- pretrained_model("laplace", eta0 = c(2, 0), nu0 = 1)
#' sim <- rcmoe(2000, cmoe_params(0.3, c(-1, 1), 0.5), f0)
#' fit <- fit_cmoe(sim$x, sim$y, f0)
#' grid <- c(-1, 0, 1)
#' predict(fit, grid)
#' predict(fit, grid, type = "prompt")
#' predict(fit, grid, type = "posterior", y = c(2, 1, 0))
#'
#' # a formula fit predicts from a data frame
#' df <- data.frame(dose = sim$x[, 1], response = sim$y)
#' ffit <- fit_cmoe(response ~ dose, df, f0)
#' predict(ffit, data.frame(dose = grid))
#' @export
predict.cmoe_fit <- function(object, newdata,
                             type = c("mean", "prompt", "pretrained", "gate", "posterior",
                                      "density"),
                             y = NULL, ...) {
  object <- check_cmoe_fit(object)
  stop_unused_args("predict.cmoe_fit()", ...)
  type <- match_choice(type, c("mean", "prompt", "pretrained", "gate", "posterior", "density"),
                       "type")
  if (!is.null(y) && !type %in% c("posterior", "density")) {
    stop_arg("y", "is only used by type = \"posterior\" and \"density\", not \"", type, "\".")
  }
  observed <- missing(newdata) || is.null(newdata)
  input <- prediction_input(object, if (!observed) newdata, y, cmoe_categorical_reason)
  x <- input$x
  x_arg <- input$x_arg
  y <- input$y
  p <- object$params
  value <- switch(type,
    mean = cmoe_mean(object, x, x_arg),
    prompt = finite_prediction(prompt_mean(p, x), x_arg, "prompt's mean"),
    gate = cmoe_weight(p, x),
    pretrained = finite_prediction(pretrained_mean(object$pretrained, x, x_arg), x_arg,
                                   "pre-trained model's mean"),
    posterior = ,
    density = {
      if (is.null(y)) stop_arg("y", "is needed for type = \"", type, "\".")
      y <- as_response(y, nrow(x))
      ev <- cmoe_evaluate(x, y, pretrained_logdensity(object$pretrained, x, y, x_arg), p,
                          object$pretrained, object$control$kernels)
      if (type == "density") exp(ev$logdens) else ev$posterior
    })
  if (observed) stats::napredict(object$na.action, value) else value
}

# (1 - s(x)) E f0(y | x) + s(x) h(x, eta).
cmoe_mean <- function(fit, x, x_arg) {
  p <- fit$params
  s <- cmoe_weight(p, x)
  finite_prediction((1 - s) * pretrained_mean(fit$pretrained, x, x_arg) +
                      s * prompt_mean(p, x), x_arg, "mean")
}

# Var(y | x) = (1 - s) v0 + s nu + s (1 - s) (mu0 - h)^2, s = s(x).
cmoe_variance <- function(fit, x, x_arg) {
  p <- fit$params
  s <- cmoe_weight(p, x)
  gap <- pretrained_mean(fit$pretrained, x, x_arg) - prompt_mean(p, x)
  finite_prediction((1 - s) * pretrained_variance(fit$pretrained) + s * p$nu +
                      s * (1 - s) * gap^2, x_arg, "variance")
}

finite_prediction <- function(value, x_arg, what) {
  bad <- which(!is.finite(value))
  if (length(bad) > 0) {
    stop_arg(x_arg, "has row(s) ", paste(utils::head(bad, 5), collapse = ", "), " at which the ",
             what, " overflows a double; express x in smaller units.")
  }
  value
}

#' Plot a fitted contaminated mixture of experts
#'
#' Panels, chosen by `which`:
#' \describe{
#'   \item{`"data"`}{the response against each covariate, one panel per
#'     covariate, with three curves along it: the pre-trained model's mean,
#'     the prompt's mean \eqn{h(a^\top x + b)}{h(a'x + b)} and the mixture's
#'     mean \eqn{(1 - \lambda) E_{f_0}(y | x) + \lambda h(a^\top x + b)}{(1 - lambda) E_f0(y | x) + lambda h(a'x + b)};
#'     with several covariates the others are held at their means (the legend
#'     says so);}
#'   \item{`"fitted"`}{the observed response against the fitted mixture mean,
#'     with the line on which they agree;}
#'   \item{`"index"`}{the response against the prompt's index
#'     \eqn{a^\top x + b}{a'x + b} (\eqn{a^\top x}{a'x} without intercept) with the prompt's mean along it: the
#'     prompt's own view of the data, whatever \eqn{d};}
#'   \item{`"trace"`}{the log-likelihood over the EM iterations.}
#' }
#' In the first three the points are coloured by their posterior probability
#' of coming from the prompt (grey: the pre-trained model, red: the prompt),
#' the most prompt-like drawn last; they shrink and grow transparent as
#' \eqn{n} grows, so that large samples stay readable. The axes carry the
#' variable names (those of the formula or of the columns of `x`; `x` and
#' `y`, or `x1`, `x2`, ..., without names), and each panel has its own
#' title and, in the corner where it hides the fewest points, its own
#' legend. Several panels are laid out in a grid that fits the device.
#' Curves that need the pre-trained model's mean are left out, as is the
#' `"fitted"` panel by default, for a user's log-density without `mean`.
#'
#' @param x A `cmoe_fit` object.
#' @param which Panels to draw, a subset of `"data"`, `"fitted"`, `"index"`
#'   and `"trace"`. `NULL` (the default): `"data"` for one covariate;
#'   `c("fitted", "index", "data")` for several.
#' @param labels `NULL` or display names of variables, as a named character
#'   vector: `c(mpg = "Miles per gallon", wt = "Weight (1000 lb)")`. Names
#'   must be those of the response or of covariates.
#' @param ... Graphical parameters that [graphics::par()] sets, such as `las`
#'   or `cex.axis`, for every panel. Labels and titles are set per panel
#'   from the variable names (change them through `labels`): `xlab`, `main`
#'   and any other argument that is not a graphical parameter are an error.
#' @return `x`, invisibly.
#' @seealso [fit_cmoe()], [cmoe_fit-methods].
#' @examples
#' set.seed(1)
#' f0 <- pretrained_model("laplace", eta0 = c(2, 0), nu0 = 1)
#' sim <- rcmoe(1000, cmoe_params(0.3, c(-1, 1), 0.5), f0)
#' df <- data.frame(dose = sim$x[, 1], response = sim$y)
#' fit <- fit_cmoe(response ~ dose, df, f0)
#' plot(fit)
#' plot(fit, which = c("data", "trace"), labels = c(dose = "dose (mg)"), las = 1)
#'
#' # two covariates
#' f2 <- pretrained_model("laplace", eta0 = c(2, -1, 0), nu0 = 1)
#' sim2 <- rcmoe(1000, cmoe_params(0.3, c(-1, 1, 1), 0.5), f2)
#' plot(fit_cmoe(sim2$x, sim2$y, f2))
#' @export
plot.cmoe_fit <- function(x, which = NULL, labels = NULL, ...) {
  fit <- check_cmoe_fit(x, "x")
  draw_fit_panels(cmoe_plot_panels(fit, which, labels), cmoe_point_style(fit), list(...),
                  "a contaminated fit")
  invisible(x)
}

# What each panel shows, as draw_fit_panels() draws it (R/plot-helpers.R):
# its points (coloured by the posterior, or a line for the trace), its
# curves, axis labels, title and legend title.
cmoe_plot_panels <- function(fit, which, labels) {
  d <- ncol(fit$x)
  has_mean <- fit$pretrained$family != "user" || !is.null(fit$pretrained$mean)
  choices <- c("data", "fitted", "index", "trace")
  if (is.null(which)) {
    which <- if (d == 1) "data" else c(if (has_mean) "fitted", "index", "data")
  }
  if (!is.character(which) || length(which) == 0 || anyNA(which) || any(!which %in% choices) ||
      anyDuplicated(which)) {
    stop_arg("which", "must name distinct panels among ",
             paste0("\"", choices, "\"", collapse = ", "), ".")
  }
  names <- fit_variable_names(fit, labels)
  unlist(lapply(which, function(panel) {
    switch(panel,
      data = lapply(seq_len(d), function(j) cmoe_data_panel(fit, j, names, has_mean)),
      fitted = list(cmoe_fitted_panel(fit, names)),
      index = list(cmoe_index_panel(fit, names)),
      trace = list(trace_panel(fit$loglik_trace,
                               if (fit$control$accelerate == "squarem")
                                 "SQUAREM cycle (3 EM steps)" else "EM iteration")))
  }), recursive = FALSE)
}

# Points coloured from grey (f0) to red (prompt) by posterior probability
# and drawn in that order, smaller and more transparent as n grows.
cmoe_point_style <- function(fit) {
  size <- point_size(nrow(fit$x))
  ramp <- grDevices::colorRamp(c("grey55", "red3"))
  list(cex = size$cex,
       col = grDevices::rgb(ramp(fit$posterior), alpha = 255 * size$alpha, maxColorValue = 255),
       order = order(fit$posterior),
       keys = list(list(label = "P(prompt | x, y) near 0", col = "grey55", pch = 16),
                   list(label = "P(prompt | x, y) near 1", col = "red3", pch = 16)))
}

cmoe_curve_styles <- list(pretrained = list(col = "grey20", lty = 2, lwd = 2),
                          prompt = list(col = "red3", lty = 1, lwd = 2),
                          mixture = list(col = "dodgerblue3", lty = 1, lwd = 2.5),
                          agreement = list(col = "grey20", lty = 2, lwd = 1.5))

cmoe_data_panel <- function(fit, j, names, has_mean) {
  p <- fit$params
  d <- ncol(fit$x)
  grid <- grid_along(fit$x[, j])
  at <- matrix(colMeans(fit$x), length(grid), d, byrow = TRUE)
  at[, j] <- grid
  prompt <- prompt_mean(p, at)
  prompt_curve <- list(x = grid, y = prompt, style = cmoe_curve_styles$prompt,
                       label = "prompt mean")
  curves <- list(prompt_curve)
  if (has_mean) {
    base <- pretrained_mean(fit$pretrained, at, "x")
    s <- cmoe_weight(p, at)
    curves <- list(list(x = grid, y = base, style = cmoe_curve_styles$pretrained,
                        label = "pre-trained mean"),
                   prompt_curve,
                   list(x = grid, y = (1 - s) * base + s * prompt,
                        style = cmoe_curve_styles$mixture, label = "mixture mean"))
  }
  covariate <- names$covariates[j]
  list(x = fit$x[, j], y = fit$y, xlab = covariate, ylab = names$response,
       main = if (d == 1) "Data and fitted means" else paste("Against", covariate),
       curves = curves, legend_title = if (d > 1) "other covariates at their means")
}

cmoe_fitted_panel <- function(fit, names) {
  fitted <- cmoe_mean(fit, fit$x, "x")
  ends <- range(c(fitted, fit$y))
  list(x = fitted, y = fit$y, xlab = paste("fitted mean of", names$response),
       ylab = names$response, main = "Observed against fitted",
       curves = list(list(x = ends, y = ends, style = cmoe_curve_styles$agreement,
                          label = "observed = fitted")))
}

cmoe_index_panel <- function(fit, names) {
  p <- fit$params
  d <- ncol(fit$x)
  index <- drop(fit$x %*% p$eta[seq_len(d)]) + if (p$intercept) p$eta[[d + 1]] else 0
  grid <- grid_along(index)
  list(x = index, y = fit$y, xlab = "prompt index a'x + b", ylab = names$response,
       main = "The prompt's view",
       curves = list(list(x = grid, y = expert_value(p$expert, grid),
                          style = cmoe_curve_styles$prompt, label = "prompt mean")))
}
