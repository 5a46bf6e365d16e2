#' Standard errors and confidence intervals of a Gaussian-gated mixture of experts
#'
#' `vcov()` and `confint()` for a [fit_gmoe()] fit; `summary()` shows the
#' same standard errors and intervals (see [gmoe_fit-methods]).
#'
#' **Parameters.** One entry per free parameter of `coef(fit)`, component by
#' component: the weight \eqn{\pi_j}, the gate mean \eqn{c_j}, the distinct
#' entries of the gate covariance \eqn{\Gamma_j} (the upper triangle, row by
#' row: `Gamma11`, `Gamma12`, `Gamma22` for \eqn{d = 2}), the slopes
#' \eqn{a_j}, the intercept \eqn{b_j} and the variance \eqn{\nu_j}. Each is
#' named `"<row>:<column>"` after the row and column of `coef(fit)` that
#' hold it, such as `"comp2:nu"`.
#'
#' **Covariance.** The inverse of the observed information, the negative
#' Hessian of the joint log-likelihood of \eqn{(x, y)} at the estimate,
#' computed analytically (not by numerical differences) in the
#' parametrisation in which every point is a valid GMoE: log-ratios of the
#' weights to the last one, \eqn{c_j}, the triangular factor \eqn{R_j} of the
#' gate precision \eqn{\Gamma_j^{-1} = R_j^\top R_j}{Gamma_j^-1 = R_j' R_j}
#' with its diagonal as logs, \eqn{a_j}, \eqn{b_j} and \eqn{\log \nu_j}{log nu_j}.
#' `vcov()` reports it on the **natural scale** of `coef()` by the delta
#' method, \eqn{J V J^\top}{J V J'} with \eqn{J} the exact Jacobian of the
#' map; its block of the weights is singular (they sum to one). Because the
#' likelihood is the joint one, the standard errors treat the covariates as
#' random, as they are in the model.
#'
#' **Wald intervals** are computed on a scale on which they respect the
#' parameter space, then mapped back: the weights on the logit scale
#' (\eqn{\mathrm{logit}\, \pi_j \pm z\, \mathrm{se}(\pi_j) / \{\pi_j (1 - \pi_j)\}}{logit(pi_j) +- z se(pi_j) / (pi_j (1 - pi_j))}),
#' so both ends lie in (0, 1); the variances \eqn{\nu_j} and the diagonal
#' of \eqn{\Gamma_j} on the log scale, so both ends are positive; the
#' others (\eqn{c}, off-diagonal \eqn{\Gamma}, \eqn{a}, \eqn{b}) on the
#' natural scale. With \eqn{k = 1} the weight is 1, with standard error 0.
#'
#' **When there are none.** Where the observed information is singular or
#' nearly so (its correlation form has a condition number above
#' \eqn{10^{10}}: typically an over-fitted mixture, whose likelihood is flat
#' in some direction) or the fit is degenerate (a bound of the parameter
#' space is active or a component collapsed, see [is_degenerate()]; the
#' Wald theory does not hold on the boundary), the standard errors,
#' covariances and Wald intervals are `NA`, with a warning saying why. A fit
#' that did not converge gets a warning: its standard errors are those of a
#' point that is not a maximum.
#'
#' **Bootstrap** (`method = "bootstrap"`): `B` refits of the fit's procedure
#' (its `control`, from the fit's estimate as start) on data drawn from the
#' fitted joint model ([rgmoe()], `type = "parametric"`) or resampled pairs
#' \eqn{(x_i, y_i)} (`type = "nonparametric"`). The refits' components are
#' matched to the fit's (label switching) by the one-to-one assignment that
#' minimises the summed distance between atoms,
#' \eqn{\|c_i - c_j\| + \|\Gamma_i - \Gamma_j\|_F + \|a_i - a_j\| + |b_i - b_j| + |\nu_i - \nu_j|},
#' in the standardised units of the fit's data, found by searching all
#' \eqn{k!} assignments (so \eqn{k \le 7}). The intervals are percentile
#' intervals, which respect the parameter space. Refits that fail are left
#' out, with a warning saying how many. The refits run through
#' [future.apply::future_lapply()] on whatever [future::plan()] is set,
#' each with its own L'Ecuyer-CMRG stream (stream \eqn{b} of a seed drawn
#' from R's generator, as in [gmoe_study()]), so [set.seed()] before
#' `confint()` gives the same intervals under every plan, and a larger `B`
#' keeps the first refits.
#'
#' @param object A `gmoe_fit` object.
#' @param parm Parameters: names (see Parameters) or positions in the
#'   vector of `vcov()`'s rows; all by default.
#' @param level Confidence level, in (0, 1).
#' @param method `"wald"` (from the observed information) or `"bootstrap"`.
#' @param B Number of bootstrap refits (only for `method = "bootstrap"`).
#' @param type `"parametric"` or `"nonparametric"` bootstrap (only for
#'   `method = "bootstrap"`).
#' @param x For `print`: the result of `confint(method = "bootstrap")`.
#' @param digits Number of significant digits to print.
#' @param ... Not used: any argument given here is an error (for `print`,
#'   ignored).
#' @return `vcov`: a symmetric matrix with the parameter names above.
#'   `confint`: a matrix with one row per parameter and columns for the
#'   lower and upper ends. For `method = "bootstrap"` it has class
#'   `gmoe_confint` and attribute `"bootstrap"`: a list with `type`, `B`,
#'   `failed` (the number of refits left out), `se` (the bootstrap standard
#'   errors, the standard deviations of the refits' estimates) and
#'   `estimates` (one row per successful refit).
#' @references Efron, B. and Tibshirani, R. J. (1993). An Introduction to
#'   the Bootstrap. Chapman & Hall.
#'
#'   McLachlan, G. J. and Peel, D. (2000). Finite Mixture Models, section
#'   2.15 (standard errors from the information matrix and by the
#'   bootstrap). Wiley.
#' @seealso [fit_gmoe()], [summary.gmoe_fit()], [predict.gmoe_fit()].
#' @examples
#' set.seed(1)
#' truth <- gmoe_params(pi = c(0.4, 0.6), c = c(-1, 1), Gamma = c(0.3, 0.3),
#'                      a = c(1, -1), b = c(0, 1), nu = c(0.1, 0.2))
#' sim <- rgmoe(1000, truth)
#' fit <- fit_gmoe(sim$x, sim$y, k = 2, init = truth)
#' sqrt(diag(vcov(fit)))
#' confint(fit)
#' confint(fit, c("comp1:pi", "comp2:nu"), level = 0.9)
#' # a small parametric bootstrap (use B >= 199 in practice)
#' confint(fit, "comp2:nu", method = "bootstrap", B = 20)
#' @name gmoe_fit-uncertainty
NULL

#' @rdname gmoe_fit-uncertainty
#' @export
vcov.gmoe_fit <- function(object, ...) {
  object <- check_gmoe_fit(object)
  stop_unused_args("vcov.gmoe_fit()", ...)
  cov <- gmoe_covariance(object)
  warn_covariance(cov)
  variance <- diag(cov$natural)
  beyond <- !is.na(cov$se) & (!is.finite(variance) | (variance == 0 & cov$se > 0))
  if (any(beyond)) {
    stop_arg("object", "has a variance of ",
             paste0("`", rownames(cov$natural)[beyond], "`", collapse = ", "),
             " beyond the range of a double (x or y in extreme units); summary() and confint() ",
             "give the standard errors, or refit with x or y in other units.")
  }
  cov$natural
}

#' @rdname gmoe_fit-uncertainty
#' @export
confint.gmoe_fit <- function(object, parm, level = 0.95, method = c("wald", "bootstrap"),
                             B = 199, type = c("parametric", "nonparametric"), ...) {
  object <- check_gmoe_fit(object)
  stop_unused_args("confint.gmoe_fit()", ...)
  level <- check_level(level)
  method <- match_choice(method, c("wald", "bootstrap"), "method")
  if (method == "wald") {
    if (!missing(B)) stop_arg("B", "is only used by method = \"bootstrap\".")
    if (!missing(type)) stop_arg("type", "is only used by method = \"bootstrap\".")
  }
  names <- gmoe_coef_names(object)
  parm <- check_parm(parm, names)
  if (method == "wald") {
    cov <- gmoe_covariance(object)
    warn_covariance(cov)
    ends <- gmoe_wald_intervals(object, cov$se, level)
    return(ends[parm, , drop = FALSE])
  }
  B <- check_count(B, "B", min = 2)
  type <- match_choice(type, c("parametric", "nonparametric"), "type")
  boot <- gmoe_bootstrap(object, B, type)
  probs <- c(1 - level, 1 + level) / 2
  ends <- t(apply(boot$estimates, 2, stats::quantile, probs = probs, names = FALSE))
  dimnames(ends) <- list(names, interval_columns(level))
  structure(ends[parm, , drop = FALSE], bootstrap = boot, class = "gmoe_confint")
}

#' @rdname gmoe_fit-uncertainty
#' @export
print.gmoe_confint <- function(x, digits = max(3L, getOption("digits") - 3L), ...) {
  boot <- attr(x, "bootstrap")
  print(matrix(unclass(x), nrow(x), dimnames = dimnames(x)), digits = digits)
  cat(sprintf("Percentile intervals from %d %s bootstrap refits%s.\n", boot$B - boot$failed,
              boot$type, if (boot$failed > 0) sprintf(" (%d failed, left out)", boot$failed)
              else ""))
  invisible(x)
}

# Positions of `parm` among `names` (all when missing).
check_parm <- function(parm, names) {
  if (missing(parm)) return(seq_along(names))
  if (is.character(parm) && length(parm) > 0 && all(parm %in% names)) return(match(parm, names))
  if (is.numeric(parm) && length(parm) > 0 && all(parm %in% seq_along(names))) return(parm)
  stop_arg("parm", "must name parameters (", paste(utils::head(names, 6), collapse = ", "),
           if (length(names) > 6) ", ...", "; see rownames(vcov(object))) or give their ",
           "positions, 1 to ", length(names), ".")
}

interval_columns <- function(level) sprintf("%g %%", 100 * c(1 - level, 1 + level) / 2)

# ---- Natural-scale parameters --------------------------------------------------
# The free parameters of coef(fit), component-major: pi, c, the upper
# triangle of Gamma row by row, a, b, nu. Their layout in the coef() table:
# `columns` indexes the table's columns, `kind` says what each entry is.

gmoe_natural_layout <- function(d) {
  gamma_at <- which(upper.tri(diag(d), diag = TRUE) & TRUE, arr.ind = TRUE)
  gamma_at <- gamma_at[order(gamma_at[, 1], gamma_at[, 2]), , drop = FALSE]
  columns <- c(1, 1 + seq_len(d), 1 + d + (gamma_at[, 1] - 1) * d + gamma_at[, 2],
               1 + d + d * d + seq_len(d), 2 + 2 * d + d * d, 3 + 2 * d + d * d)
  kind <- c("pi", rep("c", d), ifelse(gamma_at[, 1] == gamma_at[, 2], "Gamma_diag", "Gamma_off"),
            rep("a", d), "b", "nu")
  list(columns = columns, kind = kind, gamma_at = gamma_at)
}

# "comp1:pi", ... from the row and column names of coef(fit), so that the
# names follow those of coef() whatever they are.
gmoe_coef_names <- function(fit) {
  tab <- coef(fit)
  lay <- gmoe_natural_layout(ncol(fit$params$c))
  as.vector(t(outer(rownames(tab), colnames(tab)[lay$columns], paste, sep = ":")))
}

gmoe_natural_values <- function(params) {
  lay <- gmoe_natural_layout(ncol(params$c))
  as.vector(t(unclass(coef(params))[, lay$columns, drop = FALSE]))
}

gmoe_natural_kinds <- function(fit) {
  rep(gmoe_natural_layout(ncol(fit$params$c))$kind, length(fit$params$pi))
}

# d natural / d theta, theta the parametrisation of gmoe_information(): the
# weights through the softmax of the log-ratios, Gamma_j = (R_j' R_j)^-1 so
# dGamma = -Gamma (dR' R + R' dR) Gamma, nu = exp(log nu).
gmoe_natural_jacobian <- function(params) {
  k <- length(params$pi)
  d <- ncol(params$c)
  lay <- gmoe_natural_layout(d)
  q <- d * (d + 1) / 2
  block_theta <- 2 * d + q + 2
  block_nat <- block_theta + 1
  jac <- matrix(0, k * block_nat, k - 1 + k * block_theta)
  p <- params$pi
  tri <- which(lower.tri(diag(d), diag = TRUE), arr.ind = TRUE)
  tri <- tri[order(tri[, 2], tri[, 1]), , drop = FALSE]  # column by column, as theta
  for (j in seq_len(k)) {
    row <- (j - 1) * block_nat
    col <- k - 1 + (j - 1) * block_theta
    if (k > 1) jac[row + 1, seq_len(k - 1)] <- p[j] * ((seq_len(k - 1) == j) - p[-k])
    eye <- function(m) diag(1, m)
    jac[row + 1 + seq_len(d), col + seq_len(d)] <- eye(d)
    G <- matrix(params$Gamma[, , j], d, d)
    R <- solve(t(chol(G)))
    for (t_idx in seq_len(q)) {
      l <- tri[t_idx, 1]
      m <- tri[t_idx, 2]
      E <- matrix(0, d, d)
      E[l, m] <- if (l == m) R[l, l] else 1
      dG <- -G %*% (crossprod(E, R) + crossprod(R, E)) %*% G
      jac[row + 1 + d + seq_len(q), col + d + t_idx] <- dG[lay$gamma_at]
    }
    jac[row + 1 + d + q + seq_len(d), col + d + q + seq_len(d)] <- eye(d)
    jac[row + 2 + 2 * d + q, col + 2 * d + q + 1] <- 1
    jac[row + 3 + 2 * d + q, col + 2 * d + q + 2] <- params$nu[j]
  }
  jac
}

# The covariance of the natural-scale parameters: the inverse observed
# information, computed where the fit ran (standardised data, so it is as
# well conditioned in any units), carried to the natural scale there by
# the delta method and then to the data's units by the linear map of
# gmoe_units_map(). `se` holds the standard errors, computed row by row so
# that one a double can hold is returned even where its square is not;
# `natural` the covariance matrix (entries may overflow in extreme units);
# both NA with a `reason` when there is no covariance.
gmoe_covariance <- function(fit) {
  names <- gmoe_coef_names(fit)
  q <- length(names)
  out <- list(reason = NULL, converged = fit$converged, se = rep(NA_real_, q),
              natural = matrix(NA_real_, q, q, dimnames = list(names, names)))
  if (is_degenerate(fit)) {
    out$reason <- paste0("the fit is degenerate (", paste(degeneracy_causes(fit), collapse = "; "),
                         "); the Wald theory does not hold for a degenerate fit")
    return(out)
  }
  pass <- gmoe_information_in_units(fit)
  info <- -pass$info$hessian
  s <- sqrt(diag(info))
  if (any(!is.finite(info)) || any(!is.finite(s)) || any(s <= 0)) {
    out$reason <- "the observed information is not positive definite"
    return(out)
  }
  corr <- info / outer(s, s)
  ev <- eigen((corr + t(corr)) / 2, symmetric = TRUE, only.values = TRUE)$values
  if (min(ev) <= 1e-10 * max(ev)) {
    out$reason <- paste0("the observed information is ",
                         if (min(ev) <= 0) "not positive definite" else "nearly singular",
                         " (as in an over-fitted mixture, whose likelihood is flat in some ",
                         "direction)")
    return(out)
  }
  theta_cov <- chol2inv(chol((corr + t(corr)) / 2)) / outer(s, s)
  jac <- gmoe_natural_jacobian(pass$params)
  parts <- list(jacobian = gmoe_units_map(pass$units, length(fit$params$pi)),
                internal = jac %*% theta_cov %*% t(jac), identified = rep(TRUE, q))
  out$se <- stats::setNames(cmoe_standard_errors(parts), names)
  natural <- parts$jacobian %*% parts$internal %*% t(parts$jacobian)
  out$natural[] <- (natural + t(natural)) / 2
  out
}

# The natural-scale parameters in the data's units as a linear function of
# those in standard units (plus constants): c = m_x + s_x c_u,
# Gamma_lm = s_l s_m Gamma_u,lm, a_l = (s_y / s_l) a_u,l,
# b = m_y + s_y b_u - sum_l a_l m_x,l, nu = s_y^2 nu_u.
gmoe_units_map <- function(units, k) {
  sx <- units$x_scale
  sy <- units$y_scale
  d <- length(sx)
  lay <- gmoe_natural_layout(d)
  q <- nrow(lay$gamma_at)
  ia <- 1 + d + q + seq_len(d)
  ib <- 2 + 2 * d + q
  one <- diag(c(1, sx, sx[lay$gamma_at[, 1]] * sx[lay$gamma_at[, 2]], sy / sx, sy, sy * sy))
  one[ib, ia] <- -sy / sx * units$x_centre
  block <- nrow(one)
  map <- matrix(0, k * block, k * block)
  for (j in seq_len(k)) map[(j - 1) * block + seq_len(block), (j - 1) * block + seq_len(block)] <- one
  map
}

warn_covariance <- function(cov) {
  if (!is.null(cov$reason)) {
    warning("standard errors are NA: ", cov$reason, ".", call. = FALSE)
  } else if (!cov$converged) {
    warning("the fit did not converge: its standard errors are those of a point that is not ",
            "a maximum of the likelihood.", call. = FALSE)
  }
}

# Wald intervals on the scales of ?gmoe_fit-uncertainty: logit for weights,
# log for variances, natural for the rest.
gmoe_wald_intervals <- function(fit, se, level) {
  est <- gmoe_natural_values(fit$params)
  kind <- gmoe_natural_kinds(fit)
  z <- stats::qnorm((1 + level) / 2)
  ends <- cbind(est - z * se, est + z * se)
  logged <- kind %in% c("nu", "Gamma_diag")
  ends[logged, ] <- est[logged] * exp(outer(se[logged] / est[logged], c(-z, z)))
  weight <- kind == "pi" & est < 1
  if (any(weight)) {
    half <- outer(se[weight] / (est[weight] * (1 - est[weight])), c(-z, z))
    ends[weight, ] <- stats::plogis(stats::qlogis(est[weight]) + half)
  }
  ends[kind == "pi" & est == 1, ] <- 1
  dimnames(ends) <- list(gmoe_coef_names(fit), interval_columns(level))
  ends
}

gmoe_interval_kinds <- function(fit) {
  kind <- gmoe_natural_kinds(fit)
  c(pi = "Wald, logit scale", c = "Wald", Gamma_diag = "Wald, log scale", Gamma_off = "Wald",
    a = "Wald", b = "Wald", nu = "Wald, log scale")[kind]
}
