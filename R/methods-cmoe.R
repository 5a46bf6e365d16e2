#' Methods for fitted contaminated mixtures of experts
#'
#' `print`, `summary` (estimates with standard errors and Wald intervals
#' from the observed information), `coef` (\eqn{\lambda}, \eqn{a}, \eqn{b},
#' \eqn{\nu}), `vcov`, `logLik` (with `df` \eqn{= d + 3} and `nobs`, so
#' [AIC()] and [BIC()] work), `nobs`, `fitted` (the conditional mean
#' \eqn{(1 - \lambda) E_{f_0}(y | x) + \lambda h(a^\top x + b)}{(1 - lambda) E_f0(y | x) + lambda h(a'x + b)}
#' at the observed covariates), `residuals` (`y` minus the fitted values) and
#' `simulate` (new responses at the observed covariates).
#'
#' The observed information is the negative Hessian of the log-likelihood,
#' obtained by central differences of its analytic gradient in the centred
#' and scaled coordinates the fit ran in (see [fit_cmoe()]), then mapped to
#' the user's units, so it does not depend on them. Standard errors
#' are `NA` when \eqn{\lambda} sits at its bound or the information is not
#' positive definite (a flat likelihood, as when the prompt merges into
#' \eqn{f_0}{f0}), and for the slopes of aliased covariates (held at 0,
#' see [fit_cmoe()]); a Wald interval for \eqn{\lambda} near 0 or 1 is a poor
#' guide in any case.
#'
#' Every method first checks `object`: a fit whose parts were edited by hand
#' (parameters, data, pre-trained model) so that they no longer belong to one
#' fit (its posterior probabilities and log f0, at a fixed set of rows, must
#' be those of its parameters, model and data) is refused with an error that
#' says so. With aliased covariates (see [fit_cmoe()]) `logLik()` counts
#' only the free parameters in `df`.
#'
#' @param object,x A `cmoe_fit` object (for `print.summary.cmoe_fit`, its
#'   summary).
#' @param digits Number of significant digits to print.
#' @param level Confidence level of the Wald intervals.
#' @param nsim Number of simulated response vectors.
#' @param seed As in [stats::simulate()]: `NULL` or an integer passed to
#'   [set.seed()] (the generator's state is restored afterwards).
#' @param ... Unused.
#' @return `coef`: a named vector. `vcov`: a matrix. `logLik`: an object of
#'   class `logLik`. `fitted`, `residuals`: numeric vectors. `simulate`: a
#'   data frame with `nsim` columns and attribute `"seed"`. `summary`: an
#'   object of class `summary.cmoe_fit` whose `coefficients` table has
#'   columns `estimate`, `std_error`, `lower`, `upper`.
#' @examples
#' set.seed(1)
#' f0 <- pretrained_model("laplace", eta0 = c(2, 0), nu0 = 1)
#' sim <- rcmoe(2000, cmoe_params(0.3, c(-1, 1), 0.5), f0)
#' fit <- fit_cmoe(sim$x, sim$y, f0)
#' summary(fit)
#' coef(fit)
#' c(AIC = AIC(fit), BIC = BIC(fit))
#' head(residuals(fit))
#' head(simulate(fit, nsim = 2, seed = 1))
#' @name cmoe_fit-methods
NULL

#' @rdname cmoe_fit-methods
#' @export
print.cmoe_fit <- function(x, digits = max(3L, getOption("digits") - 3L), ...) {
  fit <- check_cmoe_fit(x, "x")
  cat("Contaminated mixture of experts fitted by EM\n")
  cat(sprintf("  pre-trained: %s; prompt expert: %s; n = %d, d = %d\n",
              pretrained_label(fit$pretrained), fit$params$expert, nrow(fit$x), ncol(fit$x)))
  print(cmoe_coef(fit$params), digits = digits)
  cat(sprintf("  log-likelihood %s after %d %s%s\n",
              format(fit$loglik, digits = 10), fit$iterations, iteration_unit(fit$control),
              if (fit$converged) ", converged" else ", not converged"))
  cat(aliased_note(fit, "  "))
  if (cmoe_degenerate(fit)) cat("  degenerate fit: see fit$diagnostics and ?is_degenerate\n")
  invisible(x)
}

iteration_unit <- function(control) {
  if (control$accelerate == "squarem") "SQUAREM cycle(s) of 3 EM steps" else "EM iteration(s)"
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
summary.cmoe_fit <- function(object, level = 0.95, ...) {
  object <- check_cmoe_fit(object)
  level <- check_numeric(level, "level", len = 1)
  if (level <= 0 || level >= 1) stop_arg("level", "must be in (0, 1).")
  est <- cmoe_coef(object$params)
  se <- cmoe_standard_errors(cmoe_covariance(object))
  z <- stats::qnorm((1 + level) / 2)
  table <- data.frame(estimate = est, std_error = se, lower = est - z * se,
                      upper = est + z * se)
  structure(list(call = object$call, pretrained = object$pretrained,
                 expert = object$params$expert, coefficients = table, level = level,
                 loglik = cmoe_loglik(object), iterations = object$iterations,
                 unit = iteration_unit(object$control), aliased = aliased_note(object, ""),
                 converged = object$converged, degenerate = cmoe_degenerate(object)),
            class = "summary.cmoe_fit")
}

#' @rdname cmoe_fit-methods
#' @export
print.summary.cmoe_fit <- function(x, digits = max(3L, getOption("digits") - 3L), ...) {
  cat("Contaminated mixture of experts fitted by EM\n")
  cat("Call: ", paste(deparse(x$call), collapse = "\n"), "\n", sep = "")
  cat(sprintf("Pre-trained: %s; prompt expert: %s\n\n", pretrained_label(x$pretrained),
              x$expert))
  table <- x$coefficients
  names(table)[3:4] <- sprintf("%g%% %s", 100 * x$level, c("lower", "upper"))
  print(table, digits = digits)
  cat(sprintf("\nlog-likelihood %s (df = %d), AIC %s, BIC %s, n = %d\n",
              format(as.numeric(x$loglik), digits = 10), attr(x$loglik, "df"),
              format(stats::AIC(x$loglik), digits = 8), format(stats::BIC(x$loglik), digits = 8),
              attr(x$loglik, "nobs")))
  cat(sprintf("%d %s, %s\n", x$iterations, x$unit,
              if (x$converged) "converged" else "not converged"))
  cat(x$aliased)
  if (x$degenerate) cat("Degenerate fit: see fit$diagnostics and ?is_degenerate\n")
  invisible(x)
}

#' @rdname cmoe_fit-methods
#' @export
coef.cmoe_fit <- function(object, ...) cmoe_coef(check_cmoe_fit(object)$params)

#' @rdname cmoe_fit-methods
#' @export
vcov.cmoe_fit <- function(object, ...) {
  object <- check_cmoe_fit(object)
  parts <- cmoe_covariance(object)
  names <- names(cmoe_coef(object$params))
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

# The observed information, computed where the fit's EM ran (centred and
# scaled data, see cmoe_frame()) so that it is as well conditioned in any
# units, and the Jacobian of the map to the user's parameters. `internal`
# is NULL when lambda sits at its bound or the information is not positive
# definite; `identified` marks the parameters that are not aliased slopes.
cmoe_covariance <- function(fit) {
  frame <- cmoe_frame(fit$x, fit$y, fit$logf0, fit$params$expert)
  d <- ncol(fit$x)
  k <- length(frame$kept)
  identified <- !(seq_len(d + 3) %in% (frame$aliased + 1))
  jacobian <- matrix(0, d + 3, k + 3)
  jacobian[1, 1] <- 1
  sx <- frame$x_scale[frame$kept]
  jacobian[cbind(frame$kept + 1, seq_len(k) + 1)] <- frame$y_scale / sx
  jacobian[d + 2, seq_len(k) + 1] <- -frame$y_scale * frame$x_center[frame$kept] / sx
  jacobian[d + 2, k + 2] <- frame$y_scale
  jacobian[d + 3, k + 3] <- frame$y_scale^2
  parts <- list(jacobian = jacobian, internal = NULL, identified = identified)
  if (fit$diagnostics$lambda_at_bound) return(parts)
  p <- to_internal(frame, fit$params)
  theta <- c(p$lambda, p$eta, p$nu)
  gradient <- function(th) {
    colSums(cmoe_scores(frame$u, frame$v, frame$logf0, fit$params$expert, th))
  }
  q <- length(theta)
  step <- 1e-5 * pmax(abs(theta), 0.1)
  step[1] <- min(step[1], theta[1] / 2, (1 - theta[1]) / 2)
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

# Per-observation gradient of log p(y | x) in theta = (lambda, a, b, nu),
# given log f0 at the data.
cmoe_scores <- function(x, y, logf0, expert, theta) {
  d <- ncol(x)
  lambda <- theta[1]
  eta <- theta[seq_len(d + 1) + 1]
  nu <- theta[d + 3]
  params <- list(lambda = lambda, eta = eta, nu = nu, expert = expert)
  w <- cmoe_evaluate(x, y, logf0, params)$posterior
  h <- expert_mean(expert, eta, x)
  r <- y - h
  slope <- switch(expert, linear = 1, sigmoid = h * (1 - h), tanh = 1 - h^2)
  out <- cbind(w / lambda - (1 - w) / (1 - lambda),
               (w * r / nu * slope) * cbind(x, 1),
               w * (r * (r / nu) - 1) / (2 * nu))
  colnames(out) <- c("lambda", eta_names(d), "nu")
  out
}

# Aliased slopes, held at 0, are not free parameters (as lm() counts them).
cmoe_loglik <- function(fit) {
  structure(fit$loglik, df = ncol(fit$x) + 3L - length(fit$aliased), nobs = nrow(fit$x),
            class = "logLik")
}

cmoe_degenerate <- function(fit) {
  diag <- fit$diagnostics
  diag$lambda_at_bound || diag$nu_floor_hits > 0 || diag$prompt_empty > 0 ||
    diag$nonfinite
}

#' @rdname cmoe_fit-methods
#' @export
logLik.cmoe_fit <- function(object, ...) cmoe_loglik(check_cmoe_fit(object))

#' @rdname cmoe_fit-methods
#' @export
nobs.cmoe_fit <- function(object, ...) nrow(check_cmoe_fit(object)$x)

#' @rdname cmoe_fit-methods
#' @export
fitted.cmoe_fit <- function(object, ...) predict(object, type = "mean")

#' @rdname cmoe_fit-methods
#' @export
residuals.cmoe_fit <- function(object, ...) {
  object <- check_cmoe_fit(object)
  object$y - cmoe_mean(object, object$x, "object")
}

#' @rdname cmoe_fit-methods
#' @export
simulate.cmoe_fit <- function(object, nsim = 1, seed = NULL, ...) {
  object <- check_cmoe_fit(object)
  seed <- check_rng_seed(seed)
  n <- nrow(object$x)
  simulate_responses(nsim, seed, function() {
    rcmoe(n, object$params, object$pretrained, x = object$x)$y
  })
}

#' Predictions from a fitted contaminated mixture of experts
#'
#' @param object A `cmoe_fit` object.
#' @param newdata Covariates: a matrix with \eqn{d} columns (or a vector when
#'   \eqn{d = 1}). Missing: the observed covariates (and responses).
#' @param type `"mean"`: the conditional mean
#'   \eqn{(1 - \lambda) E_{f_0}(y | x) + \lambda h(a^\top x + b)}{(1 - lambda) E_f0(y | x) + lambda h(a'x + b)};
#'   `"prompt"`: the prompt expert's mean \eqn{h(a^\top x + b)}{h(a'x + b)};
#'   `"pretrained"`: the mean of \eqn{f_0}{f0} (its location);
#'   `"posterior"`: the posterior probability that \eqn{(x, y)} came from
#'   the prompt; `"density"`: the conditional density \eqn{p(y | x)}.
#' @param y Responses for `"posterior"` and `"density"`, one per row of
#'   `newdata`.
#' @param ... Unused.
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
#' @export
predict.cmoe_fit <- function(object, newdata,
                             type = c("mean", "prompt", "pretrained", "posterior", "density"),
                             y = NULL, ...) {
  object <- check_cmoe_fit(object)
  type <- tryCatch(match.arg(type), error = function(e) {
    stop_arg("type", "must be one of \"mean\", \"prompt\", \"pretrained\", \"posterior\" ",
             "or \"density\".")
  })
  if (missing(newdata) || is.null(newdata)) {
    x <- object$x
    x_arg <- "object"
    if (is.null(y)) y <- object$y
  } else {
    x <- as_covariates(newdata, "newdata", ncol(object$x))
    x_arg <- "newdata"
  }
  p <- object$params
  switch(type,
    mean = cmoe_mean(object, x, x_arg),
    prompt = finite_prediction(expert_mean(p$expert, p$eta, x), x_arg, "prompt's mean"),
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
}

# (1 - lambda) E f0(y | x) + lambda h(a'x + b).
cmoe_mean <- function(fit, x, x_arg) {
  p <- fit$params
  finite_prediction((1 - p$lambda) * pretrained_mean(fit$pretrained, x, x_arg) +
                      p$lambda * expert_mean(p$expert, p$eta, x), x_arg, "mean")
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
#' Panel 1: the data against the first covariate (\eqn{d = 1}) or against
#' the prompt's index \eqn{a^\top x + b}{a'x + b} (\eqn{d > 1}), coloured by
#' the posterior probability of the prompt (grey: pre-trained, red:
#' prompt), with the prompt's mean curve (and, for \eqn{d = 1}, the
#' pre-trained model's). Panel 2: the log-likelihood trace over EM
#' iterations.
#'
#' @param x A `cmoe_fit` object.
#' @param which Panels to draw, a subset of `1:2`.
#' @param ... Graphical parameters for each panel's plot, e.g. `main`, `xlab`
#'   or `las`; they override the defaults.
#' @return `x`, invisibly.
#' @examples
#' set.seed(1)
#' f0 <- pretrained_model("laplace", eta0 = c(2, 0), nu0 = 1)
#' sim <- rcmoe(1000, cmoe_params(0.3, c(-1, 1), 0.5), f0)
#' plot(fit_cmoe(sim$x, sim$y, f0))
#' @export
plot.cmoe_fit <- function(x, which = 1:2, ...) {
  fit <- check_cmoe_fit(x, "x")
  if (!is.numeric(which) || length(which) == 0 || any(!which %in% 1:2)) {
    stop_arg("which", "must be a subset of 1:2.")
  }
  if (length(which) > 1) {
    old <- graphics::par(mfrow = c(1, length(which)))
    on.exit(graphics::par(old))
  }
  p <- fit$params
  d <- ncol(fit$x)
  if (1 %in% which) {
    index <- if (d == 1) fit$x[, 1] else drop(fit$x %*% p$eta[seq_len(d)]) + p$eta[d + 1]
    ramp <- grDevices::colorRamp(c("grey60", "red3"))
    cols <- grDevices::rgb(ramp(fit$posterior), alpha = 110, maxColorValue = 255)
    plot_panel(index, fit$y, list(col = cols, pch = 16, cex = 0.5, ylab = "y",
                                  xlab = if (d == 1) "x" else "prompt index a'x + b",
                                  main = "Data and experts"), ...)
    # a weighted mean of the ends, which cannot overflow as their difference can
    weight <- seq(0, 1, length.out = 200)
    grid <- min(index) * (1 - weight) + max(index) * weight
    if (d == 1) {
      graphics::lines(grid, expert_mean(p$expert, p$eta, matrix(grid)), col = "red3", lwd = 2)
      if (fit$pretrained$family != "user" || !is.null(fit$pretrained$mean)) {
        graphics::lines(grid, pretrained_mean(fit$pretrained, matrix(grid)), col = "grey30",
                        lwd = 2, lty = 2)
      }
    } else {
      graphics::lines(grid, expert_value(p$expert, grid), col = "red3", lwd = 2)
    }
  }
  if (2 %in% which) plot_loglik_trace(fit$loglik_trace, ...)
  invisible(x)
}
