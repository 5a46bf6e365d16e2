#' Predictions from a fitted Gaussian-gated mixture of experts
#'
#' The conditional law of \eqn{y} given \eqn{x} is the Gaussian mixture
#' \eqn{p(y | x) = \sum_i g_i(x) \phi(y; m_i(x), \nu_i)}{p(y | x) = sum_i g_i(x) phi(y; m_i(x), nu_i)}
#' with \eqn{m_i(x) = a_i^\top x + b_i}{m_i(x) = a_i'x + b_i}; `predict()`
#' gives its summaries at new covariates, and `residuals()` the residuals of
#' the fit.
#'
#' **Quantiles and prediction intervals** are those of the mixture itself,
#' not of a normal approximation (which is wrong where the experts
#' disagree: the law is then skewed or has several modes). The quantile
#' \eqn{q} at probability \eqn{p} solves \eqn{F(q | x) = p} for the mixture
#' CDF \eqn{F(q | x) = \sum_i g_i(x) \Phi((q - m_i(x)) / \sqrt{\nu_i})}{F(q | x) = sum_i g_i(x) Phi((q - m_i(x)) / sqrt(nu_i))},
#' found by bisection, for all rows at once, between the smallest and the
#' largest of the experts' own quantiles (which bracket it), to the
#' resolution of a double. The prediction interval at level \eqn{L} is the
#' equal-tailed one, between the quantiles \eqn{(1 - L) / 2} and
#' \eqn{(1 + L) / 2}; where the law has several modes it can contain a
#' region of low density between them. These intervals treat the
#' parameters as known (their estimation error is of order
#' \eqn{n^{-1/2}}{n^-1/2}, small beside the spread of \eqn{y} given
#' \eqn{x}); standard errors of predictions (`se.fit`) are not offered.
#'
#' @param object A `gmoe_fit` object.
#' @param newdata Covariates at which to predict: a matrix (or vector when
#'   \eqn{d = 1}) with \eqn{d} columns, or a data frame with the covariates
#'   of the formula for fits made through the formula interface (and, for
#'   `"posterior"` and `"density"`, possibly its response). Missing: the
#'   observed covariates (and responses).
#' @param type `"mean"`: the conditional mean
#'   \eqn{E(y | x) = \sum_i g_i(x) m_i(x)}{E(y | x) = sum_i g_i(x) m_i(x)};
#'   `"variance"`: the conditional variance
#'   \eqn{\mathrm{Var}(y | x) = \sum_i g_i(x) \{\nu_i + (m_i(x) - E(y | x))^2\}}{Var(y | x) = sum_i g_i(x) (nu_i + (m_i(x) - E(y | x))^2)};
#'   `"quantile"`: the conditional quantiles at `probs`; `"gate"`: the gate
#'   probabilities \eqn{g_i(x)}; `"component"`: the component with the
#'   largest gate probability; `"posterior"`: the posterior probability
#'   that \eqn{(x, y)} came from each component,
#'   \eqn{g_i(x) \phi(y; m_i(x), \nu_i) / p(y | x)}{g_i(x) phi(y; m_i(x), nu_i) / p(y | x)};
#'   `"density"`: the conditional density \eqn{p(y | x)} at `y`. For
#'   `residuals`: `"response"` (\eqn{y - E(y | x)}) or `"pearson"` (those
#'   divided by the conditional standard deviation
#'   \eqn{\mathrm{Var}(y | x)^{1/2}}{Var(y | x)^(1/2)}).
#' @param y Responses for `"posterior"` and `"density"` (only for those),
#'   one per row of `newdata`; for formula fits taken from `newdata` when it
#'   holds the response, and from the fit when `newdata` is missing.
#' @param probs Probabilities in (0, 1) for `type = "quantile"` (only).
#' @param interval `"none"` or `"prediction"`: with `type = "mean"`, a
#'   prediction interval for a new observation at each \eqn{x}.
#' @param level Level of the prediction interval, in (0, 1) (only with
#'   `interval = "prediction"`).
#' @param ... Not used: any argument given here (such as `se.fit`) is an
#'   error.
#' @return A numeric vector (`"mean"`, `"variance"`, `"density"`), an integer
#'   vector (`"component"`), a matrix with one column per component
#'   (`"gate"`, `"posterior"`), a matrix with one column per probability
#'   (`"quantile"`, columns named as by [stats::quantile()]), or, with
#'   `interval = "prediction"`, a matrix with columns `fit`, `lwr` and
#'   `upr`, as [stats::predict.lm()]. The gates are computed in log space
#'   with every distance scaled, so they are finite however far `newdata`
#'   lies from the data (there the component whose gate covariance is widest
#'   in that direction takes all the weight). Without `newdata`, a formula
#'   fit with `na.action = na.exclude` gets `NA` at the excluded rows.
#' @seealso [fit_gmoe()], [gmoe_fit-uncertainty] for the parameters'
#'   standard errors.
#' @examples
#' set.seed(1)
#' sim <- rgmoe(1000, gmoe_paper_truth(1))
#' fit <- fit_gmoe(sim$x, sim$y, k = 3)
#' grid <- seq(-0.3, 0.8, by = 0.1)
#' predict(fit, grid)
#' predict(fit, grid, type = "variance")
#' predict(fit, grid, type = "quantile", probs = c(0.05, 0.5, 0.95))
#' predict(fit, grid, interval = "prediction", level = 0.9)
#' round(predict(fit, grid, type = "gate"), 3)
#' predict(fit, grid, type = "component")
#' round(predict(fit, grid, type = "posterior", y = rep(0.2, length(grid))), 3)
#' predict(fit, grid, type = "density", y = rep(0.2, length(grid)))
#' head(residuals(fit, type = "pearson"))
#' @export
predict.gmoe_fit <- function(object, newdata,
                             type = c("mean", "variance", "quantile", "gate", "component",
                                      "posterior", "density"),
                             y = NULL, probs = c(0.1, 0.5, 0.9), interval = c("none", "prediction"),
                             level = 0.95, ...) {
  object <- check_gmoe_fit(object)
  stop_unused_args("predict.gmoe_fit()", ...)
  type <- match_choice(type, c("mean", "variance", "quantile", "gate", "component", "posterior",
                               "density"), "type")
  interval <- match_choice(interval, c("none", "prediction"), "interval")
  if (!is.null(y) && !type %in% c("posterior", "density")) {
    stop_arg("y", "is only used by type = \"posterior\" and \"density\", not \"", type, "\".")
  }
  if (!missing(probs) && type != "quantile") {
    stop_arg("probs", "is only used by type = \"quantile\", not \"", type, "\".")
  }
  if (interval != "none" && type != "mean") {
    stop_arg("interval", "is only used with type = \"mean\", not \"", type, "\".")
  }
  if (!missing(level) && interval == "none") {
    stop_arg("level", "is only used with interval = \"prediction\".")
  }
  if (type == "quantile") probs <- check_probabilities(probs, "probs")
  if (interval == "prediction") level <- check_level(level)
  observed <- missing(newdata) || is.null(newdata)
  input <- prediction_input(object, if (!observed) newdata, y, gmoe_categorical_reason)
  x <- input$x
  x_arg <- input$x_arg
  y <- input$y
  p <- object$params
  kernels <- object$diagnostics$kernels
  mixture <- function() conditional_mixture(x, p, kernels, "object")
  value <- switch(type,
    mean = {
      mix <- mixture()
      mu <- mixture_mean(mix)
      if (interval == "none") {
        mu
      } else {
        ends <- conditional_quantiles(mix, x_arg, c(1 - level, 1 + level) / 2)
        cbind(fit = mu, lwr = ends[, 1], upr = ends[, 2])
      }
    },
    variance = conditional_variance(mixture(), x_arg),
    quantile = {
      q <- conditional_quantiles(mixture(), x_arg, probs)
      colnames(q) <- paste0(formatC(100 * probs, format = "fg", width = 1, digits = 7), "%")
      q
    },
    gate = {
      g <- exp(gate_log_probs(x, p, kernels, "object"))
      colnames(g) <- paste0("comp", seq_len(ncol(g)))
      g
    },
    component = max.col(gate_log_probs(x, p, kernels, "object"), ties.method = "first"),
    posterior = {
      if (is.null(y)) stop_arg("y", "is needed for type = \"posterior\".")
      posterior_probabilities(mixture(), as_response(y, nrow(x)))
    },
    density = {
      if (is.null(y)) stop_arg("y", "is needed for type = \"density\".")
      exp(gmoe_cpp("object", .gmoe_log_density_cpp(x, as_response(y, nrow(x)), p,
                                                     "conditional", kernels == "avx2")))
    })
  if (observed) stats::napredict(object$na.action, value) else value
}

#' @rdname predict.gmoe_fit
#' @export
residuals.gmoe_fit <- function(object, type = c("response", "pearson"), ...) {
  object <- check_gmoe_fit(object)
  stop_unused_args("residuals.gmoe_fit()", ...)
  type <- match_choice(type, c("response", "pearson"), "type")
  mix <- conditional_mixture(object$x, object$params, object$diagnostics$kernels)
  value <- object$y - mixture_mean(mix)
  if (type == "pearson") value <- value / sqrt(conditional_variance(mix, "object"))
  stats::naresid(object$na.action, value)
}

check_probabilities <- function(probs, arg) {
  probs <- check_numeric(probs, arg)
  if (length(probs) == 0 || any(probs <= 0 | probs >= 1)) {
    stop_arg(arg, "must be probabilities strictly between 0 and 1.")
  }
  probs
}

# Var(y | x) of a conditional_mixture(): the experts' variances plus the
# spread of their means.
conditional_variance <- function(mix, x_arg) {
  mu <- mixture_mean(mix)
  spread <- (mix$means - mu)^2
  spread[mix$gates == 0] <- 0
  finite_prediction(rowSums(mix$gates * (mix$sd^2 + spread)), x_arg, "variance")
}

# Quantiles of the conditional mixture at each row of x, one column per
# probability: bisection on the mixture CDF, bracketed by the smallest and
# largest quantile of the experts with positive gate (the CDF, an average of
# theirs, is below p at the first and above it at the second).
conditional_quantiles <- function(mix, x_arg, probs) {
  active <- mix$gates > 0
  out <- vapply(probs, function(prob) {
    own <- mix$means + mix$sd * stats::qnorm(prob)
    lo <- row_min(ifelse(active, own, Inf))
    hi <- row_max(ifelse(active, own, -Inf))
    for (iter in seq_len(max_bisections)) {
      mid <- lo / 2 + hi / 2
      open <- mid > lo & mid < hi
      if (!any(open)) break
      below <- rowSums(mix$gates * stats::pnorm((mid - mix$means) / mix$sd)) < prob
      lo[open & below] <- mid[open & below]
      hi[open & !below] <- mid[open & !below]
    }
    hi
  }, numeric(nrow(mix$gates)))
  out <- matrix(out, nrow(mix$gates), length(probs))
  finite_prediction(out, x_arg, "quantile")
}

# Enough halvings to go from any bracket of doubles to adjacent doubles.
max_bisections <- 2200L

# apply(m, 1, min) and apply(m, 1, max), with the loop over the k columns
# rather than the n rows.
row_min <- function(m) do.call(pmin, matrix_columns(m))
row_max <- function(m) do.call(pmax, matrix_columns(m))
matrix_columns <- function(m) lapply(seq_len(ncol(m)), function(j) m[, j])

# P(component i | x, y), in log space. Where y is so far from every expert
# that every term underflows to -Inf, the limit: all the weight on the
# expert nearest in standard deviations.
posterior_probabilities <- function(mix, y) {
  z <- abs(y - mix$means) / mix$sd
  log_terms <- log(mix$gates) - log(mix$sd) - z^2 / 2
  top <- row_max(log_terms)
  lost <- which(top == -Inf)
  log_terms[lost, ] <- 0
  post <- exp(log_terms - ifelse(is.finite(top), top, 0))
  post[lost, ] <- 0
  nearest <- max.col(-ifelse(mix$gates > 0, z, Inf), ties.method = "first")
  post[cbind(lost, nearest[lost])] <- 1
  post <- post / rowSums(post)
  colnames(post) <- paste0("comp", seq_len(ncol(post)))
  post
}
