#' Parameters of a Gaussian-gated mixture of experts
#'
#' Builds a validated parameter set for a \eqn{k}-component Gaussian-gated
#' mixture of experts (GMoE) on covariates \eqn{x \in R^d} and a response
#' \eqn{y}, with joint density
#' \deqn{p(x, y) = \sum_i \pi_i \phi_d(x; c_i, \Gamma_i) \phi(y; a_i^\top x + b_i, \nu_i).}
#'
#' The layout follows mclust: `c` and `a` are \eqn{k \times d}{k x d} matrices
#' (one row per component), `Gamma` is a \eqn{d \times d \times k}{d x d x k}
#' array. For \eqn{d = 1} plain vectors of length \eqn{k} are accepted for `c`,
#' `Gamma` and `a`; for \eqn{k = 1} a \eqn{d \times d}{d x d} matrix is
#' accepted for `Gamma`.
#'
#' @param pi Mixing weights: \eqn{k} positive numbers summing to one (to
#'   within `1e-8`; they are then rescaled to sum exactly to one).
#' @param c Gate locations, \eqn{k \times d}{k x d}.
#' @param Gamma Gate covariances, \eqn{d \times d \times k}{d x d x k}, each
#'   symmetric (to within `1e-10` relative to its largest entry) and
#'   positive definite (its Cholesky factorisation succeeds).
#' @param a Expert slopes, \eqn{k \times d}{k x d}.
#' @param b Expert intercepts, length \eqn{k}.
#' @param nu Expert variances, length \eqn{k}, at least
#'   `.Machine$double.xmin` (the smallest normal double, about `2.2e-308`).
#' @return An object of class `gmoe_params`: a list with elements `pi`, `c`,
#'   `Gamma`, `a`, `b`, `nu` in the layout above.
#' @seealso [gmoe_paper_truth()] for the published settings, [rgmoe()],
#'   [dgmoe()], [fit_gmoe()].
#' @examples
#' p <- gmoe_params(pi = c(0.4, 0.6), c = c(-1, 1), Gamma = c(0.5, 0.5),
#'                  a = c(1, -1), b = c(0, 0.5), nu = c(0.1, 0.2))
#' p
#' # d = 2: matrices and an array
#' p2 <- gmoe_params(pi = c(0.5, 0.5), c = rbind(c(0, 0), c(1, 1)),
#'                   Gamma = array(diag(2), c(2, 2, 2)),
#'                   a = rbind(c(1, 0), c(0, 1)), b = c(0, 1), nu = c(1, 1))
#' p2$Gamma[, , 2]
#' @export
gmoe_params <- function(pi, c, Gamma, a, b, nu) {
  pi <- check_numeric(pi, "pi")
  k <- length(pi)
  if (k < 1) stop_arg("pi", "must have at least one weight.")
  if (any(pi <= 0)) stop_arg("pi", "must be strictly positive.")
  if (abs(sum(pi) - 1) > 1e-8) {
    stop_arg("pi", "must sum to 1, not ", format(sum(pi), digits = 10), ".")
  }
  c <- as_component_matrix(c, "c", k)
  d <- ncol(c)
  a <- as_component_matrix(a, "a", k, d)
  Gamma <- as_covariance_array(Gamma, "Gamma", k, d)
  b <- check_numeric(b, "b", len = k)
  nu <- check_positive(nu, "nu", len = k)
  if (any(nu < .Machine$double.xmin)) {
    stop_arg("nu", "must be at least .Machine$double.xmin (", format(.Machine$double.xmin),
             "), the smallest normal double.")
  }
  new_gmoe_params(pi / sum(pi), c, Gamma, a, b, nu)
}

# Trusted constructor: the C++ fit and the internal helpers build parameter
# sets that are valid by construction.
new_gmoe_params <- function(pi, c, Gamma, a, b, nu) {
  k <- length(pi)
  d <- ncol(c)
  structure(
    list(pi = as.double(pi),
         c = matrix(as.double(c), k, d),
         Gamma = array(as.double(Gamma), c(d, d, k)),
         a = matrix(as.double(a), k, d),
         b = as.double(b),
         nu = as.double(nu)),
    class = "gmoe_params")
}

as_component_matrix <- function(x, arg, k, d = NULL) {
  if (is.data.frame(x)) x <- as.matrix(x)
  if (!is.numeric(x)) stop_arg(arg, "must be numeric, not ", class(x)[1], ".")
  if (is.null(dim(x))) {
    if (length(x) == k && (is.null(d) || d == 1)) {
      x <- matrix(x, k, 1)
    } else if (k == 1 && (is.null(d) || length(x) == d)) {
      x <- matrix(x, 1, length(x))
    } else {
      stop_arg(arg, "must be a k x d matrix (k = ", k,
               " components); a vector is accepted only when d = 1 or k = 1.")
    }
  }
  if (length(dim(x)) != 2 || nrow(x) != k) {
    stop_arg(arg, "must have one row per component (k = ", k, "), not ",
             if (length(dim(x)) == 2) nrow(x) else "a 3-d array", ".")
  }
  if (!is.null(d) && ncol(x) != d) {
    stop_arg(arg, "must have d = ", d, " columns, as `c` has, not ", ncol(x), ".")
  }
  if (ncol(x) < 1) stop_arg(arg, "must have at least one column.")
  if (any(!is.finite(x))) stop_arg(arg, "must contain only finite values.")
  unname(x)
}

as_covariance_array <- function(G, arg, k, d) {
  if (!is.numeric(G)) stop_arg(arg, "must be numeric, not ", class(G)[1], ".")
  dims <- dim(G)
  if (is.null(dims) && d == 1 && length(G) == k) {
    G <- array(G, c(1, 1, k))
  } else if (length(dims) == 2 && k == 1 && all(dims == d)) {
    G <- array(G, c(d, d, 1))
  } else if (!identical(as.integer(dims), as.integer(c(d, d, k)))) {
    stop_arg(arg, "must be a d x d x k array (", d, " x ", d, " x ", k,
             ")", if (d == 1) " or a vector of length k" else "", ".")
  }
  if (any(!is.finite(G))) stop_arg(arg, "must contain only finite values.")
  for (j in seq_len(k)) {
    S <- G[, , j]
    dim(S) <- c(d, d)
    # relative: the test must not depend on the units of x
    if (max(abs(S - t(S))) > 1e-10 * max(abs(S))) {
      stop_arg(arg, "must hold symmetric matrices; component ", j, " is not.")
    }
    if (!positive_definite(S)) {
      ev <- eigen(S, symmetric = TRUE, only.values = TRUE)$values
      rounding <- 10 * d * .Machine$double.eps * max(abs(ev))
      stop_arg(arg, "must hold positive definite matrices; component ", j,
               if (min(ev) > -rounding) " is numerically singular" else
                 paste0(" has smallest eigenvalue ", format(min(ev), digits = 4)), ".")
    }
  }
  unname(G)
}

# Positive definite to working precision, whatever the units of each
# covariate: the correlation matrix (which does not depend on them) has no
# eigenvalue below a few rounding errors, and the Cholesky factorisation
# that the C++ kernels take succeeds.
positive_definite <- function(S) {
  v <- diag(S)
  if (!all(v > 0)) return(FALSE)
  corr <- S / sqrt(v) / rep(sqrt(v), each = nrow(S))
  ev <- eigen(corr, symmetric = TRUE, only.values = TRUE)$values
  if (!(min(ev) > 10 * nrow(S) * .Machine$double.eps)) return(FALSE)
  R <- tryCatch(chol(S), error = function(e) NULL)
  !is.null(R) && all(is.finite(R)) && all(diag(R) > 0)
}

#' @export
print.gmoe_params <- function(x, digits = max(3L, getOption("digits") - 3L), ...) {
  x <- check_gmoe_params(x, "x")
  k <- length(x$pi)
  d <- ncol(x$c)
  cat(sprintf("Gaussian-gated mixture of experts: k = %d component%s, d = %d covariate%s\n\n",
              k, if (k == 1) "" else "s", d, if (d == 1) "" else "s"))
  print(coef(x), digits = digits, ...)
  invisible(x)
}

#' Parameters as a table
#'
#' One row per component, in the column layout of the published estimates:
#' `pi`, `c1..cd`, `Gamma11, Gamma12, ..., Gammadd` (row by row), `a1..ad`,
#' `b`, `nu`.
#'
#' @param object A `gmoe_params` or `gmoe_fit` object.
#' @param ... Unused.
#' @return A numeric matrix with one row per component.
#' @examples
#' coef(gmoe_paper_truth(3))
#' @export
coef.gmoe_params <- function(object, ...) {
  object <- check_gmoe_params(object, "object")
  k <- length(object$pi)
  d <- ncol(object$c)
  gam <- matrix(aperm(object$Gamma, c(2, 1, 3)), k, d * d, byrow = TRUE)
  out <- cbind(object$pi, object$c, gam, object$a, object$b, object$nu)
  dimnames(out) <- list(paste0("comp", seq_len(k)),
                        unlist(param_columns(d), use.names = FALSE))
  out
}

# Column names of the parameter table for d covariates, by parameter:
# numbered (c1, Gamma12, a2), or named after the covariates where `x` (the
# covariates, d columns) has distinct column names (c_wt, Gamma_wt_hp,
# a_hp); Gamma is written row by row.
param_columns <- function(d, x = matrix(0, 0, d)) {
  list(pi = "pi", c = coefficient_names("c", x), Gamma = coefficient_names("Gamma", x, TRUE),
       a = coefficient_names("a", x), b = "b", nu = "nu")
}

#' Parameters from a table
#'
#' The inverse of [coef.gmoe_params()]: builds a `gmoe_params` object from a
#' matrix or data frame with one row per component and the columns `pi`,
#' `c1..cd`, `Gamma11, Gamma12, ..., Gammadd` (row by row), `a1..ad`, `b`,
#' `nu`, the layout of the published estimates. Other columns are ignored,
#' and so are `c`, `Gamma` and `a` columns that are entirely `NA` (as when
#' d = 1 and d = 2 fits share one table). The parameters are checked as
#' [gmoe_params()] checks them; an error names the table.
#'
#' @param table A matrix or data frame in the layout above.
#' @return A `gmoe_params` object (validated by [gmoe_params()]).
#' @examples
#' tab <- coef(gmoe_paper_truth(3))
#' all.equal(gmoe_params_from_table(tab), gmoe_paper_truth(3))
#' @export
gmoe_params_from_table <- function(table) {
  if (!is.data.frame(table) && !is.matrix(table)) {
    stop_arg("table", "must be a matrix or a data frame, not ", class(table)[1], ".")
  }
  table <- as.data.frame(table)
  loc <- grep("^c[0-9]+$", names(table), value = TRUE)
  d <- sum(vapply(table[loc], function(v) !all(is.na(v)), logical(1)))
  cols <- param_columns(d)
  need <- unlist(cols, use.names = FALSE)
  missing_cols <- setdiff(need, names(table))
  if (d == 0 || length(missing_cols)) {
    stop_arg("table", "must have the columns ", paste(need, collapse = ", "),
             if (d > 0) paste0("; missing: ", paste(missing_cols, collapse = ", ")), ".")
  }
  numeric_cols <- vapply(table[need], is.numeric, logical(1))
  if (!all(numeric_cols)) {
    stop_arg("table", "must have numeric parameter columns; ",
             paste(need[!numeric_cols], collapse = ", "), " are not.")
  }
  Gamma <- array(t(as.matrix(table[cols$Gamma])), c(d, d, nrow(table)))
  rebuild("table", gmoe_params(table$pi, as.matrix(table[cols$c]), aperm(Gamma, c(2, 1, 3)),
                               as.matrix(table[cols$a]), table$b, table$nu))
}

#' Published true parameters of the Gaussian-gated MoE rate study
#'
#' The four true mixing measures of the simulation study in Nguyen et al.
#' (2024), with \eqn{k^* = 3} components and weights (0.3, 0.4, 0.3), built
#' from the exact expressions the authors ran.
#'
#' | model | d | type | c (each coordinate) |
#' |---|---|---|---|
#' | 1 | 1 | I  | -0.1, 0.1, 0.5 |
#' | 2 | 1 | II |  0,   0.1, 0.5 |
#' | 3 | 2 | I  | -0.1, 0.1, 0.5 |
#' | 4 | 2 | II |  0,   0.1, 0.5 |
#'
#' @param model One of 1, 2, 3, 4.
#' @return A `gmoe_params` object.
#' @references Nguyen, H., Nguyen, T., Nguyen, K. and Ho, N. (2024). Towards
#'   convergence rates for parameter estimation in Gaussian-gated mixture of
#'   experts. AISTATS 2024. arXiv:2305.07572.
#' @examples
#' gmoe_paper_truth(1)
#' gmoe_paper_truth(4)$c
#' @export
gmoe_paper_truth <- function(model) {
  if (!is.numeric(model) || length(model) != 1 || !(model %in% 1:4)) {
    stop_arg("model", "must be one of 1, 2, 3, 4.")
  }
  d <- if (model <= 2) 1L else 2L
  type2 <- model %in% c(2, 4)
  c0 <- if (type2) c(0, 0.1, 0.5) else c(-0.1, 0.1, 0.5)
  gam <- c(0.042824, 0.0175, 0.01)
  a0 <- c(0.017324 / 0.042824, -0.0125 / 0.0175, 0)
  b0 <- if (type2) {
    c(0.3, -0.4 + 0.0125 / 0.0175 * 0.1, 0.2)
  } else {
    c(0.3 + 0.017324 / 0.042824 * 0.1, -0.4 + 0.0125 / 0.0175 * 0.1, 0.2)
  }
  nu0 <- if (type2) {
    c(0.0081759 - 0.017324 / 0.042824 * 0.017324,
      0.0175 + 0.0125 / 0.0175 * 0.0125, 0.0175)
  } else {
    c(0.0081759 + 0.017324 / 0.042824 * 0.1 * 0.017324,
      0.0175 + 0.0125 / 0.0175 * 0.0125, 0.0175)
  }
  Gamma <- array(0, c(d, d, 3))
  for (j in 1:3) Gamma[, , j] <- diag(gam[j], d)
  new_gmoe_params(c(0.3, 0.4, 0.3), matrix(c0, 3, d), Gamma,
                  matrix(a0, 3, d), b0, nu0)
}

#' Convert between GMoE parameters and a joint Gaussian mixture
#'
#' Each GMoE component is one Gaussian on \eqn{z = (x, y)} with mean
#' \eqn{(c, a^\top c + b)} and covariance
#' \eqn{[\Gamma, \Gamma a; a^\top \Gamma, \nu + a^\top \Gamma a]}; the map is a
#' bijection, so a GMoE is an unconstrained ("VVV") Gaussian mixture on
#' `cbind(x, y)`. These functions convert both ways, in mclust's layout
#' (`mean` is \eqn{(d+1) \times k}{(d+1) x k}, `sigma` is
#' \eqn{(d+1) \times (d+1) \times k}{(d+1) x (d+1) x k}).
#'
#' @param params A `gmoe_params` object.
#' @param pro,mean,sigma Mixing proportions (positive, summing to one), means
#'   and covariances (symmetric positive definite) of a Gaussian mixture on
#'   \eqn{(x, y)}, the response last.
#' @return `gmoe_to_joint()`: a list with `pro`, `mean`, `sigma`.
#'   `gmoe_from_joint()`: a `gmoe_params` object.
#' @examples
#' p <- gmoe_paper_truth(3)
#' j <- gmoe_to_joint(p)
#' all.equal(gmoe_from_joint(j$pro, j$mean, j$sigma), p)
#' @export
gmoe_to_joint <- function(params) {
  params <- check_gmoe_params(params)
  k <- length(params$pi)
  d <- ncol(params$c)
  mean <- matrix(0, d + 1, k)
  sigma <- array(0, c(d + 1, d + 1, k))
  for (j in seq_len(k)) {
    G <- params$Gamma[, , j]
    dim(G) <- c(d, d)
    a <- params$a[j, ]
    Ga <- drop(G %*% a)
    mean[, j] <- c(params$c[j, ], sum(a * params$c[j, ]) + params$b[j])
    sigma[, , j] <- rbind(cbind(G, Ga), c(Ga, params$nu[j] + sum(a * Ga)))
  }
  if (any(!is.finite(mean)) || any(!is.finite(sigma))) {
    stop_arg("params", "has a joint mean or covariance of (x, y) beyond the largest double.")
  }
  list(pro = params$pi, mean = mean, sigma = sigma)
}

#' @rdname gmoe_to_joint
#' @export
gmoe_from_joint <- function(pro, mean, sigma) {
  if (!is.numeric(mean) || length(dim(mean)) > 2) {
    stop_arg("mean", "must be a numeric (d + 1) x k matrix, one column per component.")
  }
  mean <- as.matrix(mean)
  check_numeric(mean, "mean")
  p <- nrow(mean)
  k <- ncol(mean)
  if (p < 2) stop_arg("mean", "must have at least two rows (covariates and response).")
  if (k < 1) stop_arg("mean", "must have at least one column (component).")
  if (!is.numeric(sigma) || !identical(as.integer(dim(sigma)), as.integer(c(p, p, k)))) {
    stop_arg("sigma", "must be a numeric ", p, " x ", p, " x ", k, " array.")
  }
  check_numeric(sigma, "sigma")
  pro <- check_positive(pro, "pro", len = k)
  if (abs(sum(pro) - 1) > 1e-8) {
    stop_arg("pro", "must sum to 1, not ", format(sum(pro), digits = 10), ".")
  }
  for (j in seq_len(k)) {
    S <- sigma[, , j]
    if (max(abs(S - t(S))) > 1e-10 * max(abs(S)) || !positive_definite(S)) {
      stop_arg("sigma", "must hold symmetric positive definite matrices; component ", j,
               " is not.")
    }
  }
  d <- p - 1
  ix <- seq_len(d)
  Gamma <- array(0, c(d, d, k))
  a <- matrix(0, k, d)
  b <- nu <- numeric(k)
  for (j in seq_len(k)) {
    S <- sigma[, , j]
    Sxx <- S[ix, ix, drop = FALSE]
    # through the Cholesky factor: no test of the condition number, which
    # covariates on very different scales would fail
    R <- chol(Sxx)
    aj <- backsolve(R, forwardsolve(t(R), S[ix, p]))
    Gamma[, , j] <- Sxx
    a[j, ] <- aj
    b[j] <- mean[p, j] - sum(aj * mean[ix, j])
    nu[j] <- S[p, p] - sum(S[ix, p] * aj)
  }
  rebuild("sigma", gmoe_params(pro, t(mean[ix, , drop = FALSE]), Gamma, a, b, nu))
}

# mclust's VVV EM on cbind(x, y) from a GMoE start, mapped back to GMoE
# parameters: the oracle of the tests and the benchmarks. With tol = 0,
# exactly `iters` iterations; with tol > 0, mclust's own rule (relative
# log-likelihood change <= tol) within at most `iters` iterations.
# `params` is NULL when mclust ends at a non-finite log-likelihood.
mclust_em_gmoe <- function(x, y, start, iters, tol = 0) {
  j <- gmoe_to_joint(start)
  p <- nrow(j$mean)
  k <- ncol(j$mean)
  chols <- array(vapply(seq_len(k), function(g) chol(j$sigma[, , g]), numeric(p * p)),
                 c(p, p, k))
  control <- if (tol > 0) {
    mclust::emControl(tol = c(tol, sqrt(.Machine$double.eps)),
                      itmax = c(iters, .Machine$integer.max))
  } else {
    mclust::emControl(tol = c(0, 0), itmax = iters)
  }
  fit <- mclust::emVVV(cbind(x, y),
                       parameters = list(pro = j$pro, mean = j$mean,
                                         variance = list(modelName = "VVV", d = p, G = k,
                                                         sigma = j$sigma, cholsigma = chols)),
                       control = control, warn = FALSE)
  finite <- is.finite(fit$loglik)
  list(params = if (finite) gmoe_from_joint(fit$parameters$pro, fit$parameters$mean,
                                            fit$parameters$variance$sigma),
       loglik = fit$loglik,
       iterations = as.integer(abs(attr(fit, "info")[["iterations"]])),
       hit_max = identical(attr(fit, "returnCode"), 1))
}
