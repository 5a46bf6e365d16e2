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
#' obtained by central differences of its analytic gradient. Standard errors
#' are `NA` when \eqn{\lambda} sits at its bound or the information is not
#' positive definite (a flat likelihood, as when the prompt merges into
#' \eqn{f_0}{f0}); a Wald interval for \eqn{\lambda} near 0 or 1 is a poor
#' guide in any case.
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
  cat("Contaminated mixture of experts fitted by EM\n")
  cat(sprintf("  pre-trained: %s; prompt expert: %s; n = %d, d = %d\n",
              pretrained_label(x$pretrained), x$params$expert, nrow(x$x), ncol(x$x)))
  print(coef(x), digits = digits)
  cat(sprintf("  log-likelihood %s after %d %s%s\n",
              format(x$loglik, digits = 10), x$iterations, iteration_unit(x$control),
              if (x$converged) ", converged" else ", not converged"))
  if (is_degenerate(x)) cat("  degenerate fit: see fit$diagnostics and ?is_degenerate\n")
  invisible(x)
}

iteration_unit <- function(control) {
  if (control$accelerate == "squarem") "SQUAREM cycle(s) of 3 EM steps" else "EM iteration(s)"
}

pretrained_label <- function(pretrained) {
  if (pretrained$family == "user") return("user log-density")
  sprintf("%s with %s expert", pretrained$family, pretrained$expert)
}

#' @rdname cmoe_fit-methods
#' @export
summary.cmoe_fit <- function(object, level = 0.95, ...) {
  level <- check_numeric(level, "level", len = 1)
  if (level <= 0 || level >= 1) stop_arg("level", "must be in (0, 1).")
  est <- coef(object)
  se <- sqrt(pmax(diag(vcov(object)), 0))
  z <- stats::qnorm((1 + level) / 2)
  table <- data.frame(estimate = est, std_error = se, lower = est - z * se,
                      upper = est + z * se)
  structure(list(call = object$call, pretrained = object$pretrained,
                 expert = object$params$expert, coefficients = table, level = level,
                 loglik = logLik(object), iterations = object$iterations,
                 unit = iteration_unit(object$control),
                 converged = object$converged, degenerate = is_degenerate(object)),
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
  if (x$degenerate) cat("Degenerate fit: see fit$diagnostics and ?is_degenerate\n")
  invisible(x)
}

#' @rdname cmoe_fit-methods
#' @export
coef.cmoe_fit <- function(object, ...) cmoe_coef(object$params)

#' @rdname cmoe_fit-methods
#' @export
vcov.cmoe_fit <- function(object, ...) {
  theta <- coef(object)
  p <- length(theta)
  empty <- matrix(NA_real_, p, p, dimnames = list(names(theta), names(theta)))
  if (object$diagnostics$lambda_at_bound) return(empty)
  gradient <- function(th) colSums(cmoe_scores(object, th))
  step <- 1e-5 * pmax(abs(theta), 0.1)
  step[1] <- min(step[1], theta[1] / 2, (1 - theta[1]) / 2)
  hessian <- vapply(seq_len(p), function(j) {
    e <- replace(numeric(p), j, step[j])
    (gradient(theta + e) - gradient(theta - e)) / (2 * step[j])
  }, numeric(p))
  info <- -(hessian + t(hessian)) / 2
  chol_info <- tryCatch(chol(info), error = function(e) NULL)
  if (is.null(chol_info)) return(empty)
  out <- chol2inv(chol_info)
  dimnames(out) <- dimnames(empty)
  out
}

# Per-observation gradient of log p(y | x) in theta = (lambda, a, b, nu).
cmoe_scores <- function(fit, theta) {
  d <- ncol(fit$x)
  lambda <- theta[1]
  eta <- theta[seq_len(d + 1) + 1]
  nu <- theta[d + 3]
  params <- list(lambda = lambda, eta = eta, nu = nu, expert = fit$params$expert)
  w <- cmoe_evaluate(fit$x, fit$y, fit$logf0, params)$posterior
  h <- expert_mean(params$expert, eta, fit$x)
  r <- fit$y - h
  slope <- switch(params$expert, linear = 1, sigmoid = h * (1 - h), tanh = 1 - h^2)
  out <- cbind(w / lambda - (1 - w) / (1 - lambda),
               (w * r / nu * slope) * cbind(fit$x, 1),
               w * (r^2 / (2 * nu^2) - 1 / (2 * nu)))
  colnames(out) <- c("lambda", eta_names(d), "nu")
  out
}

#' @rdname cmoe_fit-methods
#' @export
logLik.cmoe_fit <- function(object, ...) {
  structure(object$loglik, df = ncol(object$x) + 3L, nobs = nrow(object$x),
            class = "logLik")
}

#' @rdname cmoe_fit-methods
#' @export
nobs.cmoe_fit <- function(object, ...) nrow(object$x)

#' @rdname cmoe_fit-methods
#' @export
fitted.cmoe_fit <- function(object, ...) predict(object, type = "mean")

#' @rdname cmoe_fit-methods
#' @export
residuals.cmoe_fit <- function(object, ...) object$y - fitted(object)

#' @rdname cmoe_fit-methods
#' @export
simulate.cmoe_fit <- function(object, nsim = 1, seed = NULL, ...) {
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
  type <- match.arg(type)
  if (missing(newdata) || is.null(newdata)) {
    x <- object$x
    if (is.null(y)) y <- object$y
  } else {
    x <- as_covariates(newdata, "newdata", ncol(object$x))
  }
  p <- object$params
  switch(type,
    mean = (1 - p$lambda) * pretrained_mean(object$pretrained, x) +
      p$lambda * expert_mean(p$expert, p$eta, x),
    prompt = expert_mean(p$expert, p$eta, x),
    pretrained = pretrained_mean(object$pretrained, x),
    posterior = ,
    density = {
      if (is.null(y)) stop_arg("y", "is needed for type = \"", type, "\".")
      y <- as_response(y, nrow(x))
      ev <- cmoe_evaluate(x, y, pretrained_logdensity(object$pretrained, x, y), p)
      if (type == "density") exp(ev$logdens) else ev$posterior
    })
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
  if (!is.numeric(which) || length(which) == 0 || any(!which %in% 1:2)) {
    stop_arg("which", "must be a subset of 1:2.")
  }
  if (length(which) > 1) {
    old <- graphics::par(mfrow = c(1, length(which)))
    on.exit(graphics::par(old))
  }
  p <- x$params
  d <- ncol(x$x)
  if (1 %in% which) {
    index <- if (d == 1) x$x[, 1] else drop(x$x %*% p$eta[seq_len(d)]) + p$eta[d + 1]
    ramp <- grDevices::colorRamp(c("grey60", "red3"))
    cols <- grDevices::rgb(ramp(x$posterior), alpha = 110, maxColorValue = 255)
    plot_panel(index, x$y, list(col = cols, pch = 16, cex = 0.5, ylab = "y",
                                xlab = if (d == 1) "x" else "prompt index a'x + b",
                                main = "Data and experts"), ...)
    grid <- seq(min(index), max(index), length.out = 200)
    if (d == 1) {
      graphics::lines(grid, expert_mean(p$expert, p$eta, matrix(grid)), col = "red3", lwd = 2)
      if (x$pretrained$family != "user" || !is.null(x$pretrained$mean)) {
        graphics::lines(grid, pretrained_mean(x$pretrained, matrix(grid)), col = "grey30",
                        lwd = 2, lty = 2)
      }
    } else {
      graphics::lines(grid, expert_value(p$expert, grid), col = "red3", lwd = 2)
    }
  }
  if (2 %in% which) plot_loglik_trace(x$loglik_trace, ...)
  invisible(x)
}
