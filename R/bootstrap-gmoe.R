# The bootstrap of a GMoE fit (see ?gmoe_fit-uncertainty): B refits from
# the fit's estimate on parametric or resampled data, each on its own
# L'Ecuyer-CMRG stream (the streams of the rate studies, study_seeds()), so
# the result depends on R's generator before the call and on nothing else
# (not on the future plan). Each refit's components are matched to the
# fit's before its natural-scale parameters are kept.
gmoe_bootstrap <- function(fit, B, type) {
  k <- length(fit$params$pi)
  if (k > max_matched_components) {
    stop_arg("object", "has k = ", k, " components; the bootstrap matches components by ",
             "searching all k! assignments, which it does for k <= ", max_matched_components,
             ".")
  }
  n <- nrow(fit$x)
  seed <- sample.int(.Machine$integer.max, 1)
  seeds <- study_seeds(seed, data.frame(n = n, rep = seq_len(B), occurrence = 1L))
  params <- fit$params
  control <- fit$control
  x <- fit$x
  y <- fit$y
  units <- standard_units(x, y)
  reference <- params_to_units(params, units)
  perms <- all_permutations(k)
  progress <- progressr::progressor(steps = B)
  replicate <- function(b) {
    on.exit(progress())
    data <- if (type == "parametric") {
      rgmoe(n, params)
    } else {
      rows <- sample.int(n, n, replace = TRUE)
      list(x = x[rows, , drop = FALSE], y = y[rows])
    }
    refit <- tryCatch(
      suppressWarnings(fit_gmoe(data$x, data$y, k, init = params, control = control)),
      error = function(e) NULL)
    if (is.null(refit)) return(NULL)
    order <- match_components(params_to_units(refit$params, units), reference, perms)
    gmoe_natural_values(permute_components(refit$params, order))
  }
  runs <- with_rng_restored(future.apply::future_lapply(
    seq_len(B), replicate, future.seed = seeds, future.packages = "moerates"))
  ok <- !vapply(runs, is.null, logical(1))
  if (sum(ok) < 2) {
    stop_arg("object", "gave fewer than two successful bootstrap refits out of ", B, ".")
  }
  if (!all(ok)) {
    warning(sprintf("%d of %d bootstrap refits failed and are left out.", sum(!ok), B),
            call. = FALSE)
  }
  estimates <- do.call(rbind, runs[ok])
  colnames(estimates) <- gmoe_coef_names(fit)
  list(type = type, B = B, failed = sum(!ok), se = apply(estimates, 2, stats::sd),
       estimates = estimates)
}

max_matched_components <- 7L

# Every permutation of 1..k, one per row.
all_permutations <- function(k) {
  if (k == 1) return(matrix(1L, 1, 1))
  smaller <- all_permutations(k - 1)
  do.call(rbind, lapply(seq_len(k), function(first) {
    unname(cbind(first, matrix(setdiff(seq_len(k), first)[smaller], nrow(smaller))))
  }))
}

# The order of `p`'s components that best matches `reference`'s: the
# permutation minimising the summed atom distance of DESIGN's Voronoi
# losses (both in the same standardised units).
match_components <- function(p, reference, perms) {
  k <- length(p$pi)
  # cost[i, j]: distance of p's atom i to reference's atom j
  cost <- Reduce(`+`, atom_gaps(p, reference))
  # perms[r, j] is the component of p put in reference position j
  total <- rowSums(matrix(cost[cbind(as.vector(perms), rep(seq_len(k), each = nrow(perms)))],
                          nrow(perms)))
  perms[which.min(total), ]
}

permute_components <- function(p, order) {
  new_gmoe_params(p$pi[order], p$c[order, , drop = FALSE], p$Gamma[, , order, drop = FALSE],
                  p$a[order, , drop = FALSE], p$b[order], p$nu[order])
}
