#' Exponents of the Voronoi losses for over-fitted cells
#'
#' A Voronoi cell holding \eqn{m \ge 2} fitted atoms is over-fitted; the
#' parameters of its atoms converge more slowly, and the Voronoi losses raise
#' their distances to powers built from an exponent \eqn{r(m)}: the smallest
#' \eqn{r} for which a system of polynomial equations has no non-trivial
#' solution.
#'
#' `rbar()` is \eqn{\bar r(m)}{rbar(m)} of Ho and Nguyen (2016), used by
#' the Type I loss and, in the Type II loss, by over-fitted cells whose true
#' location is not zero. `rtilde()` is \eqn{\tilde r(m)}{rtilde(m)}, used
#' in the Type II loss by over-fitted cells whose true location
#' \eqn{c^*_j}{c*_j} is the zero vector; its values are those used by
#' Nguyen et al. (2024).
#'
#' Both are 1 for \eqn{m = 1} (an exactly fitted cell), 4 for \eqn{m = 2} and
#' 6 for \eqn{m = 3}. For \eqn{m \ge 4} the exponent is not known (the theory
#' only says it is at least 7), so `NA` is returned with a warning rather than
#' an invented value.
#'
#' @param m Cell sizes: whole numbers \eqn{\ge 1} (a vector).
#' @return A double vector as long as `m`, `NA` where \eqn{m \ge 4}.
#' @references Ho, N. and Nguyen, X. (2016). Convergence rates of parameter
#'   estimation for some weakly identifiable finite mixtures. *Annals of
#'   Statistics* 44(6), 2726-2755.
#'
#'   Nguyen, H., Nguyen, T., Nguyen, K. and Ho, N. (2024). Towards
#'   convergence rates for parameter estimation in Gaussian-gated mixture of
#'   experts. AISTATS 2024. arXiv:2305.07572.
#' @seealso [voronoi_loss()]
#' @examples
#' rbar(1:3)
#' rtilde(c(2, 3, 2))
#' # unknown for cells of four or more atoms
#' suppressWarnings(rbar(4))
#' @export
rbar <- function(m) overfit_exponent(m, "rbar")

#' @rdname rbar
#' @export
rtilde <- function(m) overfit_exponent(m, "rtilde")

# rbar and rtilde agree wherever they are known; they stay two functions
# because they answer two different polynomial systems and may part once
# larger cells are solved.
overfit_exponent <- function(m, name) {
  check_numeric(m, "m")
  if (any(m < 1 | m != round(m))) {
    stop_arg("m", "must hold cell sizes: whole numbers >= 1.")
  }
  out <- c(1, 4, 6)[pmin(m, 4)]
  if (anyNA(out)) {
    warning(sprintf(paste0("%s(m) is unknown for cells of 4 or more atoms ",
                           "(m = %s): the theory only says it is >= 7. ",
                           "Returning NA."),
                    name, paste(sort(unique(m[m >= 4])), collapse = ", ")),
            call. = FALSE)
  }
  out
}

#' Voronoi cells of a fitted mixing measure
#'
#' Assigns each fitted atom \eqn{\theta_i = (c_i, \Gamma_i, a_i, b_i,
#' \nu_i)} to its nearest true atom, under the distance
#' \deqn{\|c_i - c^*_j\| + \|\Gamma_i - \Gamma^*_j\|_F + \|a_i - a^*_j\| +
#' |b_i - b^*_j| + |\nu_i - \nu^*_j|}{||c_i - c*_j|| + ||Gamma_i - Gamma*_j||_F
#' + ||a_i - a*_j|| + |b_i - b*_j| + |nu_i - nu*_j|}
#' (Euclidean norms, Frobenius norm for \eqn{\Gamma}). The Voronoi cell
#' \eqn{A_j} is the set of fitted atoms whose nearest true atom is \eqn{j};
#' ties go to the lowest \eqn{j}. A cell with one atom is exactly fitted, a
#' cell with two or more is over-fitted, and a cell may be empty.
#'
#' @param estimate The fitted parameters: a `gmoe_params` object, or a
#'   `gmoe_fit` whose `params` element is one.
#' @param truth The true parameters: a `gmoe_params` object with the same
#'   number of covariates \eqn{d} as `estimate`.
#' @return An object of class `voronoi_cells`: a list with
#'   \describe{
#'     \item{`cell`}{integer, for each fitted atom the index of its true atom;}
#'     \item{`size`}{integer, for each true atom the number of fitted atoms in
#'       its cell (0 for an empty cell);}
#'     \item{`distance`}{the \eqn{k \times k^*}{k x k*} matrix of atom
#'       distances, fitted atoms in rows.}
#'   }
#' @seealso [voronoi_loss()]
#' @examples
#' truth <- gmoe_paper_truth(1)
#' est <- gmoe_params(pi = c(0.15, 0.15, 0.4, 0.3),
#'                    c = c(-0.12, -0.08, 0.1, 0.5),
#'                    Gamma = c(0.04, 0.045, 0.0175, 0.01),
#'                    a = truth$a[c(1, 1, 2, 3), ], b = truth$b[c(1, 1, 2, 3)],
#'                    nu = truth$nu[c(1, 1, 2, 3)])
#' vc <- voronoi_cells(est, truth)
#' vc
#' vc$size
#' @export
voronoi_cells <- function(estimate, truth) {
  estimate <- as_estimate_params(estimate)
  truth <- check_truth_params(truth, estimate)
  new_voronoi_cells(atom_gaps(estimate, truth))
}

#' @rdname voronoi_cells
#' @param x A `voronoi_cells` object.
#' @param digits Significant digits for the distances.
#' @param ... Passed to [print()] for the distance matrix.
#' @export
print.voronoi_cells <- function(x, digits = max(3L, getOption("digits") - 3L), ...) {
  ok <- is.list(x) && is.numeric(x$cell) && is.numeric(x$size) && is.matrix(x$distance) &&
    identical(dim(x$distance), c(length(x$cell), length(x$size)))
  if (!ok) stop_arg("x", "must be made by voronoi_cells().")
  k <- length(x$cell)
  ks <- length(x$size)
  cat(sprintf("Voronoi cells: %d fitted atom%s, %d true atom%s\n", k,
              if (k == 1) "" else "s", ks, if (ks == 1) "" else "s"))
  cat("cell of each fitted atom:", x$cell, "\n")
  cat("cell sizes:              ", x$size, "\n")
  cat("\ndistance (fitted atoms in rows, true atoms in columns):\n")
  print(x$distance, digits = digits, ...)
  invisible(x)
}

#' Voronoi loss between a fitted and a true mixing measure
#'
#' The Voronoi losses of Nguyen et al. (2024) measure how far a fitted
#' Gaussian-gated mixture of experts is from the truth, with each parameter
#' raised to the power that makes the loss scale like its estimation rate.
#'
#' With Voronoi cells \eqn{A_j} (see [voronoi_cells()]) and, for a fitted
#' atom \eqn{i \in A_j}{i in A_j}, the distances
#' \eqn{\Delta c = \|c_i - c^*_j\|}{dc = ||c_i - c*_j||},
#' \eqn{\Delta\Gamma = \|\Gamma_i - \Gamma^*_j\|_F}{dGamma = ||Gamma_i - Gamma*_j||_F},
#' \eqn{\Delta a = \|a_i - a^*_j\|}{da = ||a_i - a*_j||},
#' \eqn{\Delta b = |b_i - b^*_j|}{db = |b_i - b*_j|} and
#' \eqn{\Delta\nu = |\nu_i - \nu^*_j|}{dnu = |nu_i - nu*_j|}, the Type I
#' loss is
#' \deqn{D_I = \sum_{j: |A_j| = 1} \sum_{i \in A_j} \pi_i (\Delta c +
#'   \Delta\Gamma + \Delta a + \Delta b + \Delta\nu)
#'   + \sum_{j: |A_j| > 1} \sum_{i \in A_j} \pi_i (\Delta c^{r} +
#'   \Delta\Gamma^{r/2} + \Delta a^2 + \Delta b^{r} + \Delta\nu^{r/2})
#'   + \sum_j \Big| \sum_{i \in A_j} \pi_i - \pi^*_j \Big|}{D_I =
#'   sum_{j: |A_j| = 1} sum_{i in A_j} pi_i (dc + dGamma + da + db + dnu)
#'   + sum_{j: |A_j| > 1} sum_{i in A_j} pi_i (dc^r + dGamma^(r/2) + da^2 +
#'   db^r + dnu^(r/2)) + sum_j | sum_{i in A_j} pi_i - pi*_j |}
#' with \eqn{r = \bar r(|A_j|)}{r = rbar(|A_j|)} ([rbar()]). The last sum
#' runs over all true atoms, so an empty cell adds its whole true weight
#' \eqn{\pi^*_j}{pi*_j}.
#'
#' The Type II loss, for truths with some location \eqn{c^*_j}{c*_j} equal
#' to the zero vector, differs only in the over-fitted cells with
#' \eqn{c^*_j = 0}{c*_j = 0}: there \eqn{\Delta a^2}{da^2} becomes
#' \eqn{\Delta a^{r/2}}{da^(r/2)}, with
#' \eqn{r = \tilde r(|A_j|)}{r = rtilde(|A_j|)} ([rtilde()]). This function
#' uses \eqn{\tilde r}{rtilde} for all five terms of such a cell, as the
#' rates of that cell come from the polynomial system that defines
#' \eqn{\tilde r}{rtilde}; since \eqn{\bar r = \tilde r}{rbar = rtilde} for
#' every cell size where either is known, using \eqn{\bar r}{rbar} for the
#' other four terms would give the same values. For cells of two atoms
#' \eqn{r/2 = 2}, so Type I and Type II differ only through cells of three
#' atoms at \eqn{c^*_j = 0}{c*_j = 0}.
#'
#' A cell of four or more atoms has no known exponent: the loss is then `NA`,
#' with the warning from [rbar()] or [rtilde()].
#'
#' @inheritParams voronoi_cells
#' @param type `"I"`, `"II"`, or `"auto"` (the default): `"II"` when some
#'   true location \eqn{c^*_j} is exactly the zero vector, `"I"` otherwise.
#'   Type II with no zero location gives the same value as Type I.
#' @param detail `FALSE` (the default) for the loss alone, `TRUE` for its
#'   breakdown by atom and by cell.
#' @return With `detail = FALSE`, the loss: one number. With
#'   `detail = TRUE`, an object of class `voronoi_loss`, a list with
#'   \describe{
#'     \item{`total`}{the loss;}
#'     \item{`type`}{`"I"` or `"II"`, the loss computed;}
#'     \item{`atoms`}{a data frame with one row per fitted atom: `atom`,
#'       `cell`, `cell_size`, `pi`, the distances `dc`, `dGamma`, `da`, `db`,
#'       `dnu`, the powers they are raised to, `pow_c`, `pow_Gamma`, `pow_a`,
#'       `pow_b`, `pow_nu`, and `contribution`, \eqn{\pi_i} times the sum of
#'       the powered distances;}
#'     \item{`cells`}{a data frame with one row per true atom: `cell`,
#'       `size`, `weight` (summed fitted weight of the cell), `pi_true`,
#'       `weight_error`, the absolute difference of the two,
#'       `contribution`, the summed contributions of the cell's atoms (0 for
#'       an empty cell), and `term`, the cell's term of the loss:
#'       `contribution` plus `weight_error`.}
#'   }
#'   `total` is the sum of `atoms$contribution` and `cells$weight_error`,
#'   that is the sum of `cells$term`: the loss splits into one term per true
#'   atom. In an over-fitted cell the term is the weighted form
#'   \eqn{\sum_{i \in A_j} \pi_i (\Delta c^{r} + \dots)}{sum_{i in A_j}
#'   pi_i (dc^r + ...)} that the theory bounds, plus the cell's weight error.
#' @references Nguyen, H., Nguyen, T., Nguyen, K. and Ho, N. (2024). Towards
#'   convergence rates for parameter estimation in Gaussian-gated mixture of
#'   experts. AISTATS 2024. arXiv:2305.07572.
#' @seealso [voronoi_cells()], [rbar()], [gmoe_paper_truth()]
#' @examples
#' truth <- gmoe_paper_truth(2)  # c*_1 = 0: Type II
#' # three fitted atoms around the first true atom
#' j <- c(1, 1, 1, 2, 3)
#' est <- gmoe_params(pi = c(0.1, 0.1, 0.1, 0.4, 0.3),
#'                    c = c(-0.02, 0.03, 0, 0.1, 0.5),
#'                    Gamma = c(0.04, 0.045, 0.043, 0.0175, 0.01),
#'                    a = truth$a[j, ] + c(0.05, -0.1, 0.02, 0, 0),
#'                    b = truth$b[j], nu = truth$nu[j])
#' voronoi_loss(est, truth)
#' # Type I squares da where Type II raises it to r/2 = 3
#' voronoi_loss(est, truth, type = "I")
#' voronoi_loss(est, truth, detail = TRUE)
#' @export
voronoi_loss <- function(estimate, truth, type = c("auto", "I", "II"),
                         detail = FALSE) {
  estimate <- as_estimate_params(estimate)
  truth <- check_truth_params(truth, estimate)
  type <- tryCatch(match.arg(type), error = function(e) {
    stop_arg("type", "must be one of \"auto\", \"I\", \"II\".")
  })
  check_flag(detail, "detail")
  zero_c <- zero_locations(truth)
  if (type == "auto") type <- if (any(zero_c)) "II" else "I"

  gaps <- atom_gaps(estimate, truth)
  cells <- new_voronoi_cells(gaps)
  k <- length(cells$cell)
  ks <- length(cells$size)
  cell <- cells$cell
  at <- cbind(seq_len(k), cell)
  gap <- lapply(gaps, function(g) g[at])
  m <- cells$size[cell]

  over <- m > 1
  tilde <- over & type == "II" & zero_c[cell]
  r <- rep(1, k)
  if (any(over & !tilde)) r[over & !tilde] <- rbar(m[over & !tilde])
  if (any(tilde)) r[tilde] <- rtilde(m[tilde])
  pow_c <- r
  pow_Gamma <- ifelse(over, r / 2, 1)
  pow_a <- ifelse(tilde, r / 2, ifelse(over, 2, 1))

  contribution <- estimate$pi * (gap$c^pow_c + gap$Gamma^pow_Gamma +
                                   gap$a^pow_a + gap$b^pow_c +
                                   gap$nu^pow_Gamma)
  # 1^NA is 1 in R, so a unit distance would hide an unknown exponent.
  contribution[is.na(r)] <- NA_real_
  weight <- vapply(seq_len(ks), function(j) sum(estimate$pi[cell == j]),
                   numeric(1))
  weight_error <- abs(weight - truth$pi)
  total <- sum(contribution) + sum(weight_error)
  if (!detail) return(total)
  cell_contribution <- vapply(seq_len(ks), function(j) sum(contribution[cell == j]),
                              numeric(1))

  structure(list(
    total = total,
    type = type,
    atoms = data.frame(atom = seq_len(k), cell = cell, cell_size = m,
                       pi = estimate$pi, dc = gap$c, dGamma = gap$Gamma,
                       da = gap$a, db = gap$b, dnu = gap$nu,
                       pow_c = pow_c, pow_Gamma = pow_Gamma, pow_a = pow_a,
                       pow_b = pow_c, pow_nu = pow_Gamma,
                       contribution = contribution),
    cells = data.frame(cell = seq_len(ks), size = cells$size, weight = weight,
                       pi_true = truth$pi, weight_error = weight_error,
                       contribution = cell_contribution,
                       term = cell_contribution + weight_error)),
    class = "voronoi_loss")
}

#' @rdname voronoi_loss
#' @param x A `voronoi_loss` object.
#' @param digits Significant digits.
#' @param ... Unused.
#' @export
print.voronoi_loss <- function(x, digits = max(3L, getOption("digits") - 3L), ...) {
  ok <- is.list(x) && is.numeric(x$total) && length(x$total) == 1 &&
    (identical(x$type, "I") || identical(x$type, "II"))
  ok <- ok && is.data.frame(x$atoms) && is.data.frame(x$cells) &&
    is.numeric(x$atoms$contribution) && is.numeric(x$cells$weight_error)
  if (!ok) stop_arg("x", "must be made by voronoi_loss(detail = TRUE).")
  cat(sprintf("Voronoi loss (Type %s): %s\n", x$type,
              format(x$total, digits = digits)))
  cat(sprintf("  atoms: %s   weights: %s\n",
              format(sum(x$atoms$contribution), digits = digits),
              format(sum(x$cells$weight_error), digits = digits)))
  cat("\nBy fitted atom:\n")
  print(x$atoms, digits = digits, row.names = FALSE)
  cat("\nBy true atom (cell):\n")
  print(x$cells, digits = digits, row.names = FALSE)
  invisible(x)
}

# A fit contributes only its parameters, so only they are checked.
as_estimate_params <- function(estimate, arg = "estimate") {
  if (inherits(estimate, "gmoe_fit")) {
    if (!is.list(estimate)) stop_arg(arg, "must be a `gmoe_fit` made by fit_gmoe().")
    return(check_gmoe_params(estimate$params, paste0(arg, "$params")))
  }
  if (!inherits(estimate, "gmoe_params")) {
    stop_arg(arg, "must be a `gmoe_params` or `gmoe_fit` object, not ",
             class(estimate)[1], ".")
  }
  check_gmoe_params(estimate, arg)
}

check_truth_params <- function(truth, estimate) {
  truth <- check_gmoe_params(truth, "truth")
  if (ncol(truth$c) != ncol(estimate$c)) {
    stop_arg("truth", "must have as many covariates as `estimate` (d = ",
             ncol(estimate$c), "), not d = ", ncol(truth$c), ".")
  }
  truth
}

# Which true atoms sit at location c* = 0: they make a loss Type II.
zero_locations <- function(truth) rowSums(truth$c != 0) == 0

# The five parameter distances between every fitted and every true atom,
# each a k x k* matrix; Gamma is flattened so its Frobenius norm is a
# Euclidean norm of the flattened difference.
atom_gaps <- function(estimate, truth) {
  flat_gamma <- function(p) {
    d <- ncol(p$c)
    t(matrix(p$Gamma, d * d, length(p$pi)))
  }
  list(c = pair_norm(estimate$c, truth$c),
       Gamma = pair_norm(flat_gamma(estimate), flat_gamma(truth)),
       a = pair_norm(estimate$a, truth$a),
       b = abs(outer(estimate$b, truth$b, "-")),
       nu = abs(outer(estimate$nu, truth$nu, "-")))
}

# Euclidean norm of the difference of every row of A with every row of B,
# scaled by the largest coordinate difference so that squares of large
# parameters do not overflow.
pair_norm <- function(A, B) {
  diffs <- lapply(seq_len(ncol(A)), function(col) abs(outer(A[, col], B[, col], "-")))
  top <- Reduce(pmax, diffs)
  scale <- ifelse(top > 0 & is.finite(top), top, 1)
  top * sqrt(Reduce(`+`, lapply(diffs, function(g) (g / scale)^2)))
}

new_voronoi_cells <- function(gaps) {
  distance <- Reduce(`+`, gaps)
  dimnames(distance) <- list(paste0("fit", seq_len(nrow(distance))),
                             paste0("true", seq_len(ncol(distance))))
  # which.min takes the first minimum: ties go to the lowest true atom.
  cell <- apply(distance, 1, which.min)
  structure(list(cell = unname(as.integer(cell)),
                 size = tabulate(cell, nbins = ncol(distance)),
                 distance = distance),
            class = "voronoi_cells")
}
