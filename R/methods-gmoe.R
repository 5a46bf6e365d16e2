#' Methods for fitted Gaussian-gated mixtures of experts
#'
#' `print`, `summary`, `coef`, `logLik` (with `df` and `nobs`, so [AIC()] and
#' [BIC()] work), `nobs`, `fitted` (the conditional mean
#' \eqn{E(y | x) = \sum_i g_i(x) (a_i^\top x + b_i)} at the observed
#' covariates) and `simulate` (new responses at the observed covariates,
#' drawn from \eqn{p(y | x)}). For formula fits with `na.action =
#' na.exclude`, `fitted` and `residuals` are padded with `NA` at the rows
#' left out, as for [stats::lm()]. `residuals`, `predict`: see
#' [predict.gmoe_fit()]; `vcov`, `confint`: see [gmoe_fit-uncertainty].
#'
#' `summary()` gives every free parameter (see [gmoe_fit-uncertainty]) with
#' its standard error from the observed information and its Wald interval
#' on a scale that respects the parameter space (logit for the weights, log
#' for the variances); `NA`, with a warning, where the information is
#' singular or the fit degenerate.
#'
#' **Joint and conditional log-likelihood.** The fit maximises the joint
#' log-likelihood \eqn{\sum_n \log p(x_n, y_n)}, and `logLik()` returns it
#' by default, as the theory does. `logLik(fit, type = "conditional")`
#' returns the log-likelihood of \eqn{y} given \eqn{x},
#' \eqn{\sum_n \log p(y_n | x_n) = \sum_n [\log p(x_n, y_n) - \log p(x_n)]},
#' with \eqn{p(x) = \sum_i \pi_i \phi_d(x; c_i, \Gamma_i)} the marginal
#' of the covariates (computed in log space from the gates): the quantity
#' that [stats::lm()], flexmix and mixtools report, and that a model of
#' \eqn{y} given \eqn{x} should be compared on. It is evaluated at the
#' joint maximum-likelihood estimate, which is not the maximiser of the
#' conditional likelihood; the degrees of freedom are the same (every
#' parameter, the gates' included, is estimated). The object prints which
#' of the two it is (its attribute `"type"`), and [AIC()] and [BIC()] of it
#' follow: `BIC(logLik(fit, type = "conditional"))`.
#'
#' Every method checks the fit first, as [fit_gmoe()] built it: a fit
#' edited by hand into something invalid (weights that do not sum to one,
#' a covariance that is not positive definite, data of the wrong shape, a
#' control that [gmoe_control()] would refuse) gets an error naming the part
#' that is wrong, such as `object$params`. `print()` and `summary()` say
#' which bounds of the parameter space are active at the fit's end (see
#' [gmoe_bounds()]); `summary()` also reports the passes over the data, the
#' estimated remaining gain in log-likelihood of a converged fit (see
#' [gmoe_control()]) and the code path the fit ran (`kernels`).
#'
#' @param object,x A `gmoe_fit` object (for `print.summary.gmoe_fit`, its
#'   summary).
#' @param digits Number of significant digits to print.
#' @param level For `summary`: the level of the confidence intervals.
#' @param nsim Number of simulated response vectors.
#' @param seed As in [stats::simulate()]: `NULL` or an integer passed to
#'   [set.seed()] (the generator's state is restored afterwards), at most
#'   `.Machine$integer.max` in absolute value.
#' @param type For `logLik`: `"joint"` (the default), the log-likelihood
#'   of \eqn{(x, y)} that the fit maximises, or `"conditional"`, that of
#'   \eqn{y} given \eqn{x}.
#' @param ... Unused; for `summary`, any argument given here is an error.
#' @return `coef`: the parameter table of [coef.gmoe_params()]. `logLik`: an
#'   object of class `logLik` (and `gmoe_logLik`, whose print says which
#'   log-likelihood it is), with attributes `df`, `nobs` and `type`.
#'   `fitted`: a numeric vector.
#'   `simulate`: a data frame with `nsim` columns and attribute `"seed"`.
#'   `summary`: an object of class `summary.gmoe_fit`, whose `estimates`
#'   is a data frame with one row per free parameter (named as the rows of
#'   [vcov.gmoe_fit()]) and columns `component`, `parameter`, `estimate`,
#'   `std_error`, `lower`, `upper` and `interval` (the scale of the Wald
#'   interval).
#' @examples
#' set.seed(1)
#' sim <- rgmoe(1000, gmoe_paper_truth(1))
#' fit <- fit_gmoe(sim$x, sim$y, k = 3)
#' summary(fit)
#' coef(fit)
#' c(AIC = AIC(fit), BIC = BIC(fit))
#' logLik(fit, type = "conditional")   # of y given x, as lm() reports
#' BIC(logLik(fit, type = "conditional"))
#' head(fitted(fit))
#' head(residuals(fit))
#' head(simulate(fit, nsim = 2, seed = 1))
#' @name gmoe_fit-methods
NULL

#' @rdname gmoe_fit-methods
#' @export
print.gmoe_fit <- function(x, digits = max(3L, getOption("digits") - 3L), ...) {
  x <- check_gmoe_fit(x, "x")
  k <- length(x$params$pi)
  cat(sprintf("Gaussian-gated mixture of experts fitted by EM: n = %d, d = %d, k = %d\n",
              nrow(x$x), ncol(x$x), k))
  cat(sprintf("log-likelihood %s after %d iteration%s (%s)\n",
              format(x$loglik, digits = digits + 4), x$iterations,
              if (x$iterations == 1) "" else "s",
              if (x$converged) "converged" else "not converged"))
  cat(missing_note(x, ""))
  cat("\n")
  print(coef(x), digits = digits)
  active <- active_bounds_text(x)
  if (!is.null(active)) cat("\nBounds active at the end:", active, "\n")
  if (is_degenerate(x)) {
    cat("\nDegenerate fit: on a bound of the parameter space or with collapsed components;",
        "see $diagnostics.\n")
  }
  invisible(x)
}

#' @rdname gmoe_fit-methods
#' @export
summary.gmoe_fit <- function(object, level = 0.95, ...) {
  object <- check_gmoe_fit(object)
  stop_unused_args("summary.gmoe_fit()", ...)
  level <- check_level(level)
  ll <- logLik(object)
  comp <- object$diagnostics$components
  comp$hard_count <- tabulate(max.col(object$responsibilities, ties.method = "first"),
                              length(object$params$pi))
  structure(list(coefficients = coef(object), logLik = as.numeric(ll),
                 df = attr(ll, "df"), nobs = attr(ll, "nobs"),
                 AIC = stats::AIC(object), BIC = stats::BIC(object),
                 iterations = object$iterations, converged = object$converged,
                 components = comp, decreases = object$diagnostics$decreases,
                 degenerate = is_degenerate(object), control = object$control,
                 kernels = object$diagnostics$kernels, call = object$call,
                 bounds = object$diagnostics$bounds, active_bounds = active_bounds_text(object),
                 passes = object$diagnostics$passes,
                 remaining_gain = object$diagnostics$remaining_gain,
                 estimates = gmoe_estimate_table(object, level), level = level),
            class = "summary.gmoe_fit")
}

# Estimates, standard errors and Wald intervals of the free parameters.
gmoe_estimate_table <- function(fit, level) {
  cov <- gmoe_covariance(fit)
  warn_covariance(cov)
  se <- cov$se
  ends <- gmoe_wald_intervals(fit, se, level)
  names <- gmoe_coef_names(fit)
  where <- regexpr(":", names, fixed = TRUE)
  data.frame(component = substr(names, 1, where - 1), parameter = substring(names, where + 1),
             estimate = gmoe_natural_values(fit$params), std_error = unname(se),
             lower = unname(ends[, 1]), upper = unname(ends[, 2]),
             interval = unname(gmoe_interval_kinds(fit)), row.names = names,
             stringsAsFactors = FALSE)
}

#' @rdname gmoe_fit-methods
#' @export
print.summary.gmoe_fit <- function(x, digits = max(3L, getOption("digits") - 3L), ...) {
  need <- c("coefficients", "logLik", "df", "nobs", "AIC", "BIC", "iterations", "converged",
            "components", "decreases", "degenerate", "control", "kernels")
  if (!is.list(x) || !all(need %in% names(x))) {
    stop_arg("x", "must be made by summary() of a `gmoe_fit`.")
  }
  cat("Call:\n")
  print(x$call)
  cat(sprintf("\nGaussian-gated mixture of experts: n = %d, k = %d\n", x$nobs,
              nrow(x$coefficients)))
  cat(sprintf("log-likelihood %s (df = %d)   AIC %s   BIC %s\n",
              format(x$logLik, digits = digits + 4), x$df,
              format(x$AIC, digits = digits + 4), format(x$BIC, digits = digits + 4)))
  cat(sprintf("%s: %d iteration%s, %s (tol = %g, max_iter = %d); kernels: %s\n",
              switch(x$control$accelerate, newton = "SQUAREM and Newton", squarem = "SQUAREM",
                     none = "EM"),
              x$iterations, if (x$iterations == 1) "" else "s",
              if (x$converged) "converged" else "not converged",
              x$control$tol, x$control$max_iter, x$kernels))
  if (!is.null(x$passes)) cat(sprintf("Passes over the data: %d", x$passes))
  if (!is.null(x$remaining_gain)) {
    cat(sprintf("; estimated remaining gain in log-likelihood %.2g", x$remaining_gain))
  }
  cat("\n\n")
  if (is.null(x$estimates)) {
    cat("Parameters:\n")
    print(x$coefficients, digits = digits)
  } else {
    print_estimate_table(x$estimates, x$level, digits)
  }
  cat("\nComponents:\n")
  print(x$components, digits = digits, row.names = FALSE)
  if (x$decreases > 0) {
    cat(sprintf("\nThe log-likelihood decreased in %d iteration(s).\n", x$decreases))
  }
  cat("\nParameter space:", format(x$control$bounds), "\n")
  if (!is.null(x$bounds)) {
    cat(if (is.null(x$active_bounds)) "No bound is active at the end.\n" else
      paste0("Bounds active at the end: ", x$active_bounds, "\n"))
  }
  if (x$degenerate) {
    cat("\nDegenerate fit: on a bound of the parameter space or with collapsed components.\n")
  }
  invisible(x)
}

# One block per component: estimate, standard error, interval.
print_estimate_table <- function(table, level, digits) {
  cat(sprintf("Estimates, standard errors (observed information) and %g%% intervals:\n",
              100 * level))
  shown <- table[c("estimate", "std_error", "lower", "upper", "interval")]
  names(shown) <- c("estimate", "std. error", sprintf("%g%% %s", 100 * level,
                                                        c("lower", "upper")), "interval")
  for (comp in unique(table$component)) {
    rows <- table$component == comp
    block <- shown[rows, ]
    rownames(block) <- table$parameter[rows]
    cat(comp, ":\n", sep = "")
    print(block, digits = digits)
  }
}

#' @rdname gmoe_fit-methods
#' @export
coef.gmoe_fit <- function(object, ...) {
  object <- check_gmoe_fit(object)
  out <- coef(object$params)
  colnames(out) <- unlist(param_columns(ncol(object$x), object$x), use.names = FALSE)
  out
}

#' @rdname gmoe_fit-methods
#' @export
logLik.gmoe_fit <- function(object, type = c("joint", "conditional"), ...) {
  object <- check_gmoe_fit(object)
  type <- tryCatch(match.arg(type), error = function(e) {
    stop_arg("type", "must be \"joint\" or \"conditional\".")
  })
  k <- length(object$params$pi)
  d <- ncol(object$params$c)
  value <- if (type == "joint") object$loglik else {
    # log p(y | x) = log p(x, y) - log p(x), summed in C++ from the gates in
    # log space rather than as a difference of two large sums
    sum(gmoe_cpp("object", .gmoe_log_density_cpp(object$x, object$y, object$params,
                                                  "conditional",
                                                  object$diagnostics$kernels == "avx2")))
  }
  structure(value, df = as.integer((k - 1) + k * (d + d * (d + 1) / 2 + d + 2)),
            nobs = nrow(object$x), type = type, class = c("gmoe_logLik", "logLik"))
}

#' @export
print.gmoe_logLik <- function(x, digits = getOption("digits"), ...) {
  cat(sprintf("'log Lik.' %s (df=%d), %s\n", format(c(x), digits = digits), attr(x, "df"),
              if (identical(attr(x, "type"), "conditional")) "conditional: of y given x" else
                "joint: of (x, y)"))
  invisible(x)
}

#' @rdname gmoe_fit-methods
#' @export
nobs.gmoe_fit <- function(object, ...) nrow(check_gmoe_fit(object)$x)

#' @rdname gmoe_fit-methods
#' @export
fitted.gmoe_fit <- function(object, ...) {
  object <- check_gmoe_fit(object)
  stats::napredict(object$na.action,
                   conditional_mean(object$x, object$params, object$diagnostics$kernels))
}

#' @rdname gmoe_fit-methods
#' @export
simulate.gmoe_fit <- function(object, nsim = 1, seed = NULL, ...) {
  object <- check_gmoe_fit(object)
  p <- object$params
  x <- object$x
  n <- nrow(x)
  gates <- exp(gate_log_probs(x, p, object$diagnostics$kernels, "object"))
  means <- x %*% t(p$a) + rep(p$b, each = n)
  simulate_responses(nsim, seed, function() {
    comp <- 1L + rowSums(stats::runif(n) > t(apply(gates, 1, cumsum)))
    comp <- pmin(comp, ncol(gates))
    means[cbind(seq_len(n), comp)] + sqrt(p$nu[comp]) * stats::rnorm(n)
  })
}

# The stats::simulate() convention shared by the fitted models: `nsim`
# columns drawn by `draw()`, the generator's state (or the seed) in the
# "seed" attribute, and the caller's state restored when a seed is given.
simulate_responses <- function(nsim, seed, draw) {
  nsim <- check_count(nsim, "nsim")
  if (!is.null(seed) && (!is.numeric(seed) || length(seed) != 1 || !is.finite(seed) ||
                         abs(seed) > .Machine$integer.max)) {
    stop_arg("seed", "must be NULL or a single number for set.seed(), at most ",
             .Machine$integer.max, " in absolute value.")
  }
  if (!exists(".Random.seed", envir = globalenv(), inherits = FALSE)) stats::runif(1)
  if (is.null(seed)) {
    rng_state <- get(".Random.seed", envir = globalenv())
  } else {
    old <- get(".Random.seed", envir = globalenv())
    on.exit(assign(".Random.seed", old, envir = globalenv()))
    set.seed(seed)
    rng_state <- structure(seed, kind = as.list(RNGkind()))
  }
  sims <- lapply(seq_len(nsim), function(s) draw())
  out <- as.data.frame(sims, col.names = paste0("sim_", seq_len(nsim)))
  attr(out, "seed") <- rng_state
  out
}

# The conditional mixture at each row of x: the gates (computed in log
# space), the experts' means (0 where the gate is 0, so that a mean that
# overflows far from the data adds nothing) and standard deviations. `arg`
# names the argument blamed if the gates cannot be computed.
conditional_mixture <- function(x, params, kernels, arg = "object") {
  gates <- exp(gate_log_probs(x, params, kernels, arg))
  means <- x %*% t(params$a) + rep(params$b, each = nrow(x))
  means[gates == 0] <- 0
  list(gates = gates, means = means, sd = rep(sqrt(params$nu), each = nrow(x)))
}

mixture_mean <- function(mix) rowSums(mix$gates * mix$means)

# E(y | x).
conditional_mean <- function(x, params, kernels, arg = "object") {
  mixture_mean(conditional_mixture(x, params, kernels, arg))
}
