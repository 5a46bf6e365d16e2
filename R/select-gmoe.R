#' Choosing the number of experts of a Gaussian-gated mixture of experts
#'
#' `fit_gmoe(x, y, k = 1:6)` (or `fit_gmoe(y ~ x1 + x2, data, k = 1:6)`)
#' fits a Gaussian-gated mixture of experts for every number of components
#' in `k` and chooses among them by the Bayesian information criterion, as
#' `mclust::Mclust(G = 1:6)` and `flexmix::stepFlexmix(k = 1:6)` do for
#' their models. It returns an object of class `gmoe_selection`.
#'
#' **Starts.** Every \eqn{k > 1} is fitted from `n_starts` starts of `init`
#' (`"kmeans"` or `"random"`, see [fit_gmoe()]) and, where \eqn{k - 1} is
#' also a candidate, from \eqn{k - 1} warm starts: the fit kept for
#' \eqn{k - 1} with one of its components split in two along the principal
#' axis of its joint covariance of \eqn{(x, y)} (the two means half a
#' standard deviation either side along that axis, the variance along it
#' reduced accordingly, the weight halved; a split that leaves the parameter
#' space is not used). So the log-likelihood kept for \eqn{k} is at least
#' that of a fit which continues the \eqn{k - 1} fit, and the table's
#' log-likelihoods rarely decrease in \eqn{k}. \eqn{k = 1} has a single
#' maximum and is fitted once. The likelihood of a mixture has many local
#' maxima: more starts (`n_starts = 5`, say) make the choice more reliable,
#' at a proportional cost. Every random start goes through R's generator, so
#' `set.seed()` reproduces the selection.
#'
#' **Degenerate fits.** The likelihood of a Gaussian mixture is unbounded:
#' a component can sit on a handful of observations with a variance that
#' goes to zero. Such fits have a high log-likelihood and, often, the
#' smallest BIC, yet they describe a few points, not a population
#' (McLachlan and Peel 2000, section 3.10, call them spurious). mclust
#' reports singular fits as missing BIC values and never chooses them; here
#' a fit is degenerate, and is never chosen, when [is_degenerate()] says so
#' (a variance or a gate-covariance eigenvalue at its floor, a weight at its
#' minimum or another bound of [gmoe_bounds()] active, a collapsed
#' component, a non-finite step) or when a component rests on fewer
#' observations (its summed responsibility) than it has parameters
#' (\eqn{2d + d(d+1)/2 + 2}: its gate mean and covariance, its slopes,
#' intercept and variance). For each \eqn{k} the fit kept is the one with
#' the highest log-likelihood among the starts whose fit is not degenerate,
#' or, when every start's fit is degenerate, the highest of all, marked
#' degenerate with the reason. When some \eqn{k} are set aside one
#' [message()] names them and says why; when the chosen \eqn{k} is the
#' largest tried, a warning says that a larger \eqn{k} may be better (as
#' mclust warns).
#'
#' **Criteria.** The BIC follows the convention of [stats::BIC()]: smaller
#' is better, \eqn{\mathrm{BIC} = -2 \log L + \mathrm{df} \log n}, with
#' \eqn{\log L} the joint log-likelihood of \eqn{(x, y)} that the fit
#' maximises and \eqn{\mathrm{df} = (k - 1) + k (2d + d(d+1)/2 + 2)}; each
#' row of the table equals `BIC()` of that fit. (mclust reports
#' \eqn{2 \log L - \mathrm{df} \log n}, larger is better: the same
#' criterion with the opposite sign.) The integrated completed likelihood
#' of Biernacki, Celeux and Govaert (2000) adds the entropy of the
#' classification, \eqn{\mathrm{ICL} = \mathrm{BIC} - 2 \sum_i \log
#' z_{i \hat\jmath(i)}}{ICL = BIC - 2 sum_i log z[i, j(i)]}, with \eqn{z} the
#' responsibilities and \eqn{\hat\jmath(i)}{j(i)} the most likely component
#' of observation \eqn{i}: it penalises components that overlap, and
#' favours fewer, well-separated experts. The choice is by BIC; the ICL is
#' reported beside it.
#'
#' **Methods.** `selected_fit(x)` returns the chosen fit, a `gmoe_fit`, and
#' `selected_fit(x, k = 4)` the fit kept for another \eqn{k}; `coef()`,
#' `logLik()`, `nobs()`, `fitted()`, `residuals()` and `predict()` of a
#' selection are those of its chosen fit. `print()` shows the table,
#' `summary()` the table and the summary of the chosen fit, `plot()` the
#' criteria and the log-likelihood against \eqn{k}.
#'
#' @param x,object A `gmoe_selection` object, made by [fit_gmoe()] with
#'   several values of `k`.
#' @param k `NULL` for the chosen fit, or one of the numbers of components
#'   fitted.
#' @param digits Number of significant digits to print.
#' @param which Panels to draw: `1`, the BIC and ICL against \eqn{k};
#'   `2`, the log-likelihood against \eqn{k}.
#' @param ... For `plot()`: graphical parameters for the panels (such as
#'   `cex` or `las`; labels such as `main` only when one panel is drawn);
#'   for the other methods, arguments of the chosen fit's method (such as
#'   `newdata` of [predict.gmoe_fit()] or `type` of `logLik()`).
#' @return `fit_gmoe()` with several `k`: an object of class
#'   `gmoe_selection`, a list with `table` (a data frame with one row per
#'   \eqn{k}: `k`, `logLik`, `df`, `BIC`, `ICL`, `converged`, `degenerate`
#'   and `reason`, the reason it is degenerate or `""`), `fits` (the fit
#'   kept for each \eqn{k}, named by \eqn{k}), `k` (the chosen \eqn{k},
#'   `NA` when every fit is degenerate), `warnings` (the warnings of the
#'   fits, such as collapsed components, by \eqn{k}; they are recorded
#'   rather than shown, their content is in `reason`) and `call`.
#'   `selected_fit()`: a `gmoe_fit`. `plot()`: `x`, invisibly.
#' @references Schwarz, G. (1978). Estimating the dimension of a model.
#'   Annals of Statistics 6, 461-464.
#'
#'   Biernacki, C., Celeux, G. and Govaert, G. (2000). Assessing a mixture
#'   model for clustering with the integrated completed likelihood. IEEE
#'   Transactions on Pattern Analysis and Machine Intelligence 22, 719-725.
#'
#'   McLachlan, G. J. and Peel, D. (2000). Finite Mixture Models. Wiley.
#'
#'   Fraley, C. and Raftery, A. E. (2002). Model-based clustering,
#'   discriminant analysis, and density estimation. Journal of the American
#'   Statistical Association 97, 611-631.
#' @seealso [fit_gmoe()], [is_degenerate()], [gmoe_bounds()].
#' @examples
#' set.seed(1)
#' sim <- rgmoe(1000, gmoe_paper_truth(1))
#' sel <- fit_gmoe(sim$x, sim$y, k = 1:4)
#' sel
#' plot(sel)
#' fit <- selected_fit(sel)
#' coef(fit)
#' BIC(selected_fit(sel, k = 2)) # the table's BIC for k = 2
#'
#' # real data through the formula interface
#' sel <- fit_gmoe(waiting ~ eruptions, data = faithful, k = 1:3)
#' sel$table
#' @name gmoe_selection
NULL

# fit_gmoe() with several k: the fits, the table and the choice.
select_gmoe <- function(x, y, k, init, n_starts, control, verbose, call) {
  x <- as_covariates(x, "x")
  y <- as_response(y, nrow(x))
  k <- check_component_counts(k, nrow(x))
  if (!is.character(init) || length(init) != 1 || !init %in% c("kmeans", "random")) {
    stop_arg("init", "must be \"kmeans\" or \"random\" when `k` has several values (a ",
             "gmoe_params start has one number of components).")
  }
  n_starts <- check_count(n_starts, "n_starts")
  control <- check_gmoe_control(control)
  check_flag(verbose, "verbose")
  fits <- vector("list", length(k))
  warns <- vector("list", length(k))
  rows <- vector("list", length(k))
  for (i in seq_along(k)) {
    previous <- if (i > 1 && k[i - 1] == k[i] - 1) fits[[i - 1]]
    kept <- fit_candidates(x, y, k[i], init, n_starts, control, previous)
    fits[[i]] <- kept$fit
    warns[[i]] <- kept$warnings
    rows[[i]] <- selection_row(kept$fit, kept$reason)
    if (verbose) {
      message(sprintf("k = %d: log-likelihood %.4f, BIC %.2f, best of %d start(s)%s", k[i],
                      rows[[i]]$logLik, rows[[i]]$BIC, kept$starts,
                      if (nzchar(kept$reason)) paste0("; degenerate: ", kept$reason) else ""))
    }
  }
  table <- do.call(rbind, rows)
  names(fits) <- names(warns) <- k
  ok <- !table$degenerate
  chosen <- if (any(ok)) table$k[ok][which.min(table$BIC[ok])] else NA_integer_
  set_aside <- table[table$degenerate, , drop = FALSE]
  if (nrow(set_aside) > 0 && any(ok)) {
    message("Set aside as degenerate, never chosen: ",
            paste0("k = ", set_aside$k, " (", set_aside$reason, ")", collapse = "; "), ".")
  }
  if (!any(ok)) {
    warning("Every fit is degenerate (", paste0("k = ", set_aside$k, ": ", set_aside$reason,
                                                collapse = "; "),
            "); no k is chosen. Try smaller k, or inspect the fits with selected_fit(x, k = ).",
            call. = FALSE)
  } else if (chosen == max(k)) {
    warning("The chosen k = ", chosen, " is the largest tried; a larger k may be better. ",
            "Try a longer `k`.", call. = FALSE)
  }
  structure(list(table = table, fits = fits, k = chosen, warnings = warns, call = call),
            class = "gmoe_selection")
}

# Every start for one k, each fit's warnings recorded (its diagnostics hold
# what they say); kept: the best fit that is not degenerate, else the best.
fit_candidates <- function(x, y, k, init, n_starts, control, previous) {
  starts <- rep(list(init), if (k == 1) 1 else n_starts)
  if (!is.null(previous)) starts <- c(starts, split_starts(previous, x, y, control))
  runs <- lapply(starts, function(start) {
    caught <- character(0)
    fit <- withCallingHandlers(
      fit_gmoe.default(x, y, k, init = start, control = control),
      warning = function(w) {
        caught <<- c(caught, conditionMessage(w))
        invokeRestart("muffleWarning")
      })
    list(fit = fit, warnings = caught, reason = degeneracy_reason(fit))
  })
  loglik <- vapply(runs, function(r) r$fit$loglik, numeric(1))
  sound <- vapply(runs, function(r) !nzchar(r$reason), logical(1))
  best <- if (any(sound)) which(sound)[which.max(loglik[sound])] else which.max(loglik)
  c(runs[[best]], starts = length(runs))
}

# Why is_degenerate(fit) is TRUE, one phrase per cause (none when it is
# FALSE): the bounds active at the end, collapsed components, a non-finite
# step; a fit saved before 0.5.0 records no final bounds, only that a
# variance floor was applied.
degeneracy_causes <- function(fit) {
  comp <- fit$diagnostics$components
  parts <- character(0)
  active <- active_bounds_text(fit)
  if (!is.null(active)) parts <- c(parts, paste0("at a bound (", active, ")"))
  collapsed <- which(!is.na(comp$collapsed_at))
  if (length(collapsed)) {
    parts <- c(parts, paste0("component", if (length(collapsed) > 1) "s" else "", " ",
                             paste(collapsed, collapse = ", "), " collapsed"))
  }
  if (isTRUE(fit$diagnostics$nonfinite)) parts <- c(parts, "a step was non-finite")
  if (!length(parts) && is_degenerate(fit)) {
    parts <- "on a bound of the parameter space (a variance floor was applied)"
  }
  parts
}

# Why a fit cannot be chosen, or "": the causes of is_degenerate(), and
# components resting on fewer observations than they have parameters.
degeneracy_reason <- function(fit) {
  comp <- fit$diagnostics$components
  d <- ncol(fit$x)
  per_component <- 2 * d + d * (d + 1) / 2 + 2
  parts <- degeneracy_causes(fit)
  small <- which(comp$size < per_component & is.na(comp$collapsed_at))
  if (length(small)) {
    one <- length(small) == 1
    parts <- c(parts, sprintf(
      "component%s %s rest%s on %s observations, fewer than the %d parameters of a component",
      if (one) "" else "s", paste(small, collapse = ", "), if (one) "s" else "",
      paste(sprintf("%.1f", comp$size[small]), collapse = ", "), per_component))
  }
  paste(parts, collapse = "; ")
}

selection_row <- function(fit, reason) {
  ll <- logLik(fit)
  z <- fit$responsibilities
  top <- z[cbind(seq_len(nrow(z)), max.col(z, ties.method = "first"))]
  bic <- stats::BIC(ll)
  data.frame(k = length(fit$params$pi), logLik = as.numeric(ll), df = attr(ll, "df"),
             BIC = bic, ICL = bic - 2 * sum(log(top)), converged = fit$converged,
             degenerate = nzchar(reason), reason = reason, stringsAsFactors = FALSE)
}

# Starts for k + 1 components from a k-component fit: each of its
# components in turn split along the principal axis of its joint covariance
# of (x, y) (in the data's standardised units, so that the axis does not
# depend on the units), the splits that leave the parameter space (or that
# a double cannot hold) left out.
split_starts <- function(fit, x, y, control) {
  joint <- gmoe_to_joint(fit$params)
  k <- length(joint$pro)
  p <- nrow(joint$mean)
  scale <- c(apply(x, 2, stats::sd), stats::sd(y))
  units <- standard_units(x, y)
  bounds <- gmoe_bounds_in_units(control$bounds, units, k + 1)
  starts <- lapply(seq_len(k), function(j) {
    S <- joint$sigma[, , j]
    axis <- eigen(S / outer(scale, scale), symmetric = TRUE)
    shift <- scale * axis$vectors[, 1] * sqrt(axis$values[1]) / 2
    half <- S - tcrossprod(shift)
    half <- (half + t(half)) / 2
    sigma <- array(c(joint$sigma[, , -j], half, half), c(p, p, k + 1))
    mean <- cbind(joint$mean[, -j, drop = FALSE], joint$mean[, j] - shift,
                  joint$mean[, j] + shift)
    # a component at a variance floor far below the data's scale can leave
    # halves that are not positive definite to working precision: no start
    start <- tryCatch(gmoe_from_joint(c(joint$pro[-j], joint$pro[j] / c(2, 2)), mean, sigma),
                      error = function(e) NULL)
    if (!is.null(start) && is.null(bounds_violation(params_to_units(start, units), bounds))) start
  })
  Filter(Negate(is.null), starts)
}

check_gmoe_selection <- function(x, arg = "x") {
  ok <- inherits(x, "gmoe_selection") && is.list(x) && is.data.frame(x$table) &&
    is.list(x$fits) && length(x$fits) == nrow(x$table) && length(x$k) == 1
  if (!ok) {
    stop_arg(arg, "must be a `gmoe_selection` object, made by fit_gmoe() with several ",
             "values of `k`.")
  }
  x
}

#' @rdname gmoe_selection
#' @export
selected_fit <- function(x, k = NULL) {
  x <- check_gmoe_selection(x)
  if (is.null(k)) {
    if (is.na(x$k)) {
      stop_arg("x", "has no chosen fit: every fit is degenerate (see x$table); give `k` to ",
               "get one of them.")
    }
    k <- x$k
  } else if (!is.numeric(k) || length(k) != 1 || !k %in% x$table$k) {
    stop_arg("k", "must be one of the numbers of components fitted: ",
             paste(x$table$k, collapse = ", "), ".")
  }
  fit <- check_gmoe_fit(x$fits[[as.character(k)]], paste0("x$fits$`", k, "`"))
  # what a formula method attached to the selection (terms, na.action)
  # belongs to every fit
  own <- c("table", "fits", "k", "warnings", "call")
  attached <- setdiff(names(x), own)
  fit[attached] <- x[attached]
  if (is.call(x$call)) {
    fit$call <- x$call
    fit$call$k <- as.integer(k)
  }
  fit
}

#' @rdname gmoe_selection
#' @export
print.gmoe_selection <- function(x, digits = max(3L, getOption("digits") - 3L), ...) {
  x <- check_gmoe_selection(x)
  tab <- x$table
  first <- x$fits[[1]]
  # as many decimals as `digits` significant digits give the largest value
  decimals <- max(1L, digits - ceiling(log10(max(abs(c(tab$BIC, tab$ICL)), 1))) + 1L)
  cat(sprintf("Number of experts k of a Gaussian-gated mixture of experts, chosen by BIC: %s\n",
              sprintf("n = %d, d = %d", nrow(first$x), ncol(first$x))))
  cat("BIC = -2 logLik + df log(n), as stats::BIC(): smaller is better;",
      "ICL = BIC + 2 x classification entropy.\n\n")
  shown <- data.frame(k = tab$k,
                      logLik = formatC(tab$logLik, format = "f", digits = decimals),
                      df = tab$df,
                      BIC = formatC(tab$BIC, format = "f", digits = decimals),
                      ICL = formatC(tab$ICL, format = "f", digits = decimals),
                      converged = ifelse(tab$converged, "yes", "no"),
                      degenerate = ifelse(tab$degenerate, "yes", "no"),
                      " " = ifelse(!is.na(x$k) & tab$k == x$k, "<- chosen", ""),
                      check.names = FALSE)
  print(shown, row.names = FALSE, right = TRUE)
  aside <- tab[tab$degenerate, , drop = FALSE]
  if (nrow(aside) > 0) {
    cat("\nSet aside as degenerate:\n")
    cat(paste0("  k = ", aside$k, ": ", aside$reason, "\n"), sep = "")
  }
  if (is.na(x$k)) {
    cat("\nNo k chosen: every fit is degenerate.\n")
  } else {
    cat(sprintf("\nChosen: k = %d, the smallest BIC among the fits that are not degenerate%s.\n",
                x$k, if (x$k == max(tab$k) && nrow(tab) > 1) " (the largest k tried)" else ""))
    cat("selected_fit(x) returns it; selected_fit(x, k = ) the fit of another k.\n")
  }
  invisible(x)
}

#' @rdname gmoe_selection
#' @export
summary.gmoe_selection <- function(object, ...) {
  object <- check_gmoe_selection(object, "object")
  structure(list(selection = object,
                 fit = if (!is.na(object$k)) summary(selected_fit(object))),
            class = "summary.gmoe_selection")
}

#' @export
print.summary.gmoe_selection <- function(x, ...) {
  print(x$selection, ...)
  if (!is.null(x$fit)) {
    cat("\nThe chosen fit:\n")
    print(x$fit, ...)
  }
  invisible(x)
}

#' @rdname gmoe_selection
#' @export
coef.gmoe_selection <- function(object, ...) coef(selected_fit(object), ...)

#' @rdname gmoe_selection
#' @export
logLik.gmoe_selection <- function(object, ...) logLik(selected_fit(object), ...)

#' @rdname gmoe_selection
#' @export
nobs.gmoe_selection <- function(object, ...) nobs(selected_fit(object), ...)

#' @rdname gmoe_selection
#' @export
fitted.gmoe_selection <- function(object, ...) fitted(selected_fit(object), ...)

#' @rdname gmoe_selection
#' @export
residuals.gmoe_selection <- function(object, ...) residuals(selected_fit(object), ...)

#' @rdname gmoe_selection
#' @export
predict.gmoe_selection <- function(object, ...) stats::predict(selected_fit(object), ...)

#' @rdname gmoe_selection
#' @export
vcov.gmoe_selection <- function(object, ...) stats::vcov(selected_fit(object), ...)

#' @rdname gmoe_selection
#' @export
confint.gmoe_selection <- function(object, ...) stats::confint(selected_fit(object), ...)

#' @rdname gmoe_selection
#' @export
plot.gmoe_selection <- function(x, which = 1:2, ...) {
  x <- check_gmoe_selection(x)
  if (!is.numeric(which) || length(which) < 1 || any(!which %in% 1:2) || anyDuplicated(which)) {
    stop_arg("which", "must be 1 (BIC and ICL), 2 (log-likelihood) or 1:2.")
  }
  labels <- intersect(c("main", "xlab", "ylab"), names(list(...)))
  if (length(which) > 1 && length(labels)) {
    stop_arg(labels[1], "would label both panels; draw one panel at a time ",
             "(plot(x, which = 1, ", labels[1], " = ...)).")
  }
  if (length(which) > 1) {
    old <- graphics::par(mfrow = c(1, length(which)))
    on.exit(graphics::par(old))
  }
  tab <- x$table
  for (panel in which) {
    if (panel == 1) {
      selection_panel(tab, list(BIC = tab$BIC, ICL = tab$ICL), x$k,
                      list(main = "Information criteria against k",
                           ylab = "criterion (smaller is better)"), "topright", ...)
    } else {
      selection_panel(tab, list(`log-likelihood` = tab$logLik), x$k,
                      list(main = "Log-likelihood against k",
                           ylab = "joint log-likelihood of (x, y)"), "bottomright", ...)
    }
  }
  invisible(x)
}

# One panel of plot.gmoe_selection(): each series against k, degenerate k
# crossed out in grey, the chosen k marked by a vertical line and a ring.
selection_panel <- function(tab, series, chosen, labels, legend_at, ...) {
  cols <- c("#1b6ca8", "#d95f02")[seq_along(series)]
  pchs <- c(19, 17)[seq_along(series)]
  # room for the legend above (or below) the points, which it must not hide
  span <- range(unlist(series))
  room <- 0.45 * diff(span) + (diff(span) == 0)
  ylim <- if (legend_at == "topright") span + c(0, room) else span - c(room, 0)
  args <- utils::modifyList(c(list(x = range(tab$k), y = ylim, type = "n",
                                   xlab = "number of experts k", xaxt = "n"), labels),
                            list(...))
  do.call(graphics::plot, args)
  graphics::axis(1, at = tab$k)
  if (!is.na(chosen)) graphics::abline(v = chosen, lty = 2, col = "grey40")
  bad <- tab$degenerate
  for (s in seq_along(series)) {
    v <- series[[s]]
    graphics::lines(tab$k, v, col = cols[s], lwd = 1.5)
    graphics::points(tab$k[!bad], v[!bad], pch = pchs[s], col = cols[s], cex = 1.3)
    graphics::points(tab$k[bad], v[bad], pch = 4, col = "grey45", cex = 1.6, lwd = 2)
    if (!is.na(chosen)) {
      graphics::points(chosen, v[tab$k == chosen], pch = 1, cex = 2.6, lwd = 2, col = "black")
    }
  }
  legend <- names(series)
  col <- cols
  pch <- pchs
  lty <- rep(1, length(series))
  if (any(bad)) {
    legend <- c(legend, "degenerate (set aside)")
    col <- c(col, "grey45")
    pch <- c(pch, 4)
    lty <- c(lty, NA)
  }
  if (!is.na(chosen)) {
    legend <- c(legend, paste0("chosen: k = ", chosen))
    col <- c(col, "black")
    pch <- c(pch, 1)
    lty <- c(lty, 2)
  }
  graphics::legend(legend_at, legend = legend, col = col, pch = pch, lty = lty,
                   bg = "white", cex = 0.85)
}
