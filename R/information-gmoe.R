# The score and observed information of a GMoE fit, in the data's units.
#
# gmoe_information(fit) returns, at fit$params and the fit's data:
#   loglik   the log-likelihood (equal to fit$loglik);
#   theta    the parameters in the unconstrained parametrisation below, named;
#   score    d loglik / d theta;
#   hessian  d^2 loglik / d theta d theta' (the observed information is its
#            negative).
# The parametrisation (the one the Newton steps of fit_gmoe() take, see
# src/gmoe_newton.h), for k components and d covariates:
#   alpha[j]   = log(pi_j / pi_k), j = 1..k-1;
#   then for each component j, in this order:
#   c[j,l]     the gate means, l = 1..d;
#   R[j,l,m]   the lower-triangular factor with positive diagonal of the gate
#              precision, Gamma_j^-1 = R_j' R_j (R_j = L_j^-1, L_j the
#              Cholesky factor of Gamma_j), column by column (m = 1..d,
#              l = m..d), its diagonal entries as logs, named logR[j,l,l];
#   a[j,l], b[j], log_nu[j].
# Every theta is a valid parameter, and per observation the log term of
# component j is log pi_j + sum_l log R_j,ll - |R_j (x - c_j)|^2 / 2
# - log(nu_j) / 2 - (y - a_j'x - b_j)^2 / (2 nu_j) + constant, so the
# derivatives are simple. They are computed in C++ on the fit's standardised
# data in one pass and mapped to the data's units exactly: theta in the
# data's units is an affine function theta = J theta_u + t of theta in
# standard units, so score = J^-T score_u and hessian = J^-T hessian_u J^-1.
# vcov.gmoe_fit() (R/vcov-gmoe.R) inverts the information in standard units
# (gmoe_information_in_units()), where it is well conditioned in any units,
# and carries it to coef()'s parameters by the delta method.
gmoe_information <- function(fit) {
  fit <- check_gmoe_fit(fit, "fit")
  in_units <- gmoe_information_in_units(fit)
  units <- in_units$units
  info <- in_units$info
  k <- length(fit$params$pi)
  d <- ncol(fit$params$c)
  jac <- theta_jacobian(units, k, d)
  inv <- solve(jac)
  names <- theta_names(k, d)
  theta <- gmoe_cpp("fit", .gmoe_pack_cpp(fit$params))
  score <- drop(crossprod(inv, info$score))
  hessian <- crossprod(inv, info$hessian %*% inv)
  hessian <- (hessian + t(hessian)) / 2
  dimnames(hessian) <- list(names, names)
  list(loglik = info$loglik - nrow(fit$x) * units$log_jacobian,
       theta = stats::setNames(theta, names),
       score = stats::setNames(score, names),
       hessian = hessian)
}

# The information pass on the fit's standardised data: `units`, the
# parameters there (`params`) and the pass's `info` (loglik, score, hessian
# in theta_u). Its numbers are near 1 in any units, which is where the
# covariance is computed (see gmoe_covariance()).
gmoe_information_in_units <- function(fit) {
  units <- standard_units(fit$x, fit$y)
  p_u <- params_to_units(fit$params, units)
  info <- gmoe_cpp("fit", .gmoe_information_cpp(units$x, units$y, p_u, fit$control$threads,
                                                fit$diagnostics$kernels == "avx2"))
  list(units = units, params = p_u, info = info)
}

# d theta / d theta_u between the parametrisation in the data's units and in
# standard units (see params_to_units()): constant, block diagonal by
# component after the identity on alpha.
theta_jacobian <- function(units, k, d) {
  sx <- units$x_scale
  sy <- units$y_scale
  block <- 2 * d + d * (d + 1) / 2 + 2
  one <- diag(block)
  at <- 0
  for (l in seq_len(d)) one[at + l, at + l] <- sx[l]
  at <- d
  for (m in seq_len(d)) {
    for (l in m:d) {
      at <- at + 1
      # R = R_u S^-1: off-diagonal entries scale by 1 / s_m, log-diagonal shifts
      if (l != m) one[at, at] <- 1 / sx[m]
    }
  }
  ia <- at + seq_len(d)
  ib <- at + d + 1
  one[cbind(ia, ia)] <- sy / sx
  # b = y_c + s_y b_u - sum_l (s_y / s_l) x_c,l a_u,l
  one[ib, ia] <- -sy / sx * units$x_centre
  one[ib, ib] <- sy
  jac <- diag(k - 1 + k * block)
  for (j in seq_len(k)) {
    idx <- k - 1 + (j - 1) * block + seq_len(block)
    jac[idx, idx] <- one
  }
  jac
}

theta_names <- function(k, d) {
  comp <- function(j) {
    r <- character(0)
    for (m in seq_len(d)) {
      for (l in m:d) {
        r <- c(r, if (l == m) sprintf("logR[%d,%d,%d]", j, l, l) else sprintf("R[%d,%d,%d]", j, l, m))
      }
    }
    c(sprintf("c[%d,%d]", j, seq_len(d)), r, sprintf("a[%d,%d]", j, seq_len(d)),
      sprintf("b[%d]", j), sprintf("log_nu[%d]", j))
  }
  c(if (k > 1) sprintf("alpha[%d]", seq_len(k - 1)), unlist(lapply(seq_len(k), comp)))
}
