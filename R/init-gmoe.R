#' The published near-truth start
#'
#' The starting values of the published GMoE simulation study: each of the
#' \eqn{k} fitted atoms is assigned to a true atom, uniformly at random and
#' redrawn until every true atom has at least one (or as fixed by `split`);
#' an atom assigned to true atom \eqn{s} gets weight \eqn{\pi^*_s} divided by
#' the number of atoms assigned to \eqn{s}; \eqn{c}, \eqn{a} and \eqn{b} are
#' the truth plus \eqn{N(0, 0.005^2 n^{-0.166})} noise; \eqn{\Gamma} and
#' \eqn{\nu} are the truth plus the absolute value of
#' \eqn{N(0, 0.0005^2 n^{-0.5})} noise on the diagonal. The noise shrinks with
#' the sample size \eqn{n} as in the authors' code.
#'
#' @param truth A [gmoe_params()] object with \eqn{k^*} atoms.
#' @param k Number of fitted atoms, \eqn{k \ge k^*}.
#' @param n Sample size that sets the size of the perturbations.
#' @param split Optional: how many fitted atoms start near each true atom, a
#'   vector of \eqn{k^*} whole numbers \eqn{\ge 1} summing to \eqn{k} (for
#'   example `c(2, 1, 1)`); `NULL` draws the assignment at random.
#' @return A `gmoe_params` object; its attribute `"true_atom"` gives the true
#'   atom each fitted atom started from.
#' @examples
#' set.seed(1)
#' start <- init_near_truth(gmoe_paper_truth(1), k = 4, n = 1000)
#' start
#' attr(start, "true_atom")
#' init_near_truth(gmoe_paper_truth(1), k = 5, n = 1000, split = c(3, 1, 1))
#' @export
init_near_truth <- function(truth, k, n, split = NULL) {
  truth <- check_gmoe_params(truth, "truth")
  kstar <- length(truth$pi)
  k <- check_count(k, "k")
  if (k < kstar) {
    stop_arg("k", "must be at least the number of true atoms (", kstar, ").")
  }
  n <- check_positive(n, "n", len = 1)
  if (is.null(split)) {
    repeat {
      atom <- sample.int(kstar, k, replace = TRUE)
      if (all(tabulate(atom, kstar) > 0)) break
    }
  } else {
    atom <- rep(seq_len(kstar), check_split(split, kstar, k))
  }
  d <- ncol(truth$c)
  sd_loc <- 0.005 * n^-0.083
  sd_scale <- 0.0005 * n^-0.25
  perturb <- function(m) m + stats::rnorm(length(m), sd = sd_loc)
  c <- perturb(truth$c[atom, , drop = FALSE])
  Gamma <- truth$Gamma[, , atom, drop = FALSE]
  for (i in seq_len(k)) {
    Gamma[, , i] <- Gamma[, , i] + diag(abs(stats::rnorm(d, sd = sd_scale)), d)
  }
  a <- perturb(truth$a[atom, , drop = FALSE])
  b <- perturb(truth$b[atom])
  nu <- truth$nu[atom] + abs(stats::rnorm(k, sd = sd_scale))
  pi <- truth$pi[atom] / tabulate(atom, kstar)[atom]
  out <- new_gmoe_params(pi / sum(pi), c, Gamma, a, b, nu)
  attr(out, "true_atom") <- atom
  out
}

# Starts of fit_gmoe(), from its standardised data: a hard partition of the
# observations turned into parameters by one M-step.
start_from_partition <- function(x, y, cluster, k, bounds, avx2) {
  resp <- matrix(0, nrow(x), k)
  resp[cbind(seq_len(nrow(x)), cluster)] <- 1
  .gmoe_mstep_cpp(x, y, resp, pooled_params(x, y, k), bounds, avx2)
}

# One atom fitted to all the data, repeated k times: what a component that
# receives no observations keeps.
pooled_params <- function(x, y, k) {
  d <- ncol(x)
  fit <- stats::lm.fit(cbind(1, x), y)
  new_gmoe_params(rep(1 / k, k), matrix(colMeans(x), k, d, byrow = TRUE),
                  array(stats::cov(x), c(d, d, k)),
                  matrix(fit$coefficients[-1], k, d, byrow = TRUE),
                  rep(fit$coefficients[1], k),
                  rep(max(mean(fit$residuals^2), .Machine$double.eps), k))
}

start_kmeans <- function(x, y, k, bounds, avx2) {
  z <- cbind(x, y)
  km <- tryCatch(stats::kmeans(z, centers = k, iter.max = 100),
                 error = function(e) {
                   stop_arg("k", "is too large for k-means to find ", k,
                            " clusters in these data (", conditionMessage(e), ").")
                 })
  start_from_partition(x, y, km$cluster, k, bounds, avx2)
}

start_random <- function(x, y, k, bounds, avx2) {
  z <- cbind(x, y)
  centres <- z[sample.int(nrow(z), k), , drop = FALSE]
  d2 <- vapply(seq_len(k), function(j) colSums((t(z) - centres[j, ])^2),
               numeric(nrow(z)))
  start_from_partition(x, y, max.col(-matrix(d2, nrow(z)), ties.method = "first"),
                       k, bounds, avx2)
}

check_split <- function(split, kstar, k) {
  if (!is.numeric(split) || length(split) != kstar || any(!is.finite(split)) ||
      any(split < 1) || any(split != round(split)) || sum(split) != k) {
    stop_arg("split", "must be ", kstar, " whole numbers >= 1 summing to k = ", k, ".")
  }
  as.integer(split)
}
