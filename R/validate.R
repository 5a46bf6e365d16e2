# Argument checks shared by the public functions. Each check names the
# argument, says what was wrong and what is expected, and returns the
# cleaned value so callers validate once, at the public boundary.

stop_arg <- function(arg, ...) {
  stop(sprintf("`%s` %s", arg, paste0(...)), call. = FALSE)
}

check_numeric <- function(x, arg, len = NULL, allow_na = FALSE) {
  if (is.null(x)) stop_arg(arg, "is missing; expected a numeric vector.")
  if (!is.numeric(x) || is.complex(x)) {
    stop_arg(arg, "must be numeric, not ", class(x)[1], ".")
  }
  if (!is.null(len) && length(x) != len) {
    stop_arg(arg, "must have length ", len, ", not ", length(x), ".")
  }
  if (!allow_na && any(!is.finite(x))) {
    stop_arg(arg, "must contain only finite values (no NA, NaN or Inf).")
  }
  x
}

check_positive <- function(x, arg, len = NULL) {
  x <- check_numeric(x, arg, len)
  if (any(x <= 0)) stop_arg(arg, "must be strictly positive.")
  x
}

# Whole numbers up to .Machine$integer.max, the largest count R's integers
# (and the C++ code) hold.
check_count <- function(x, arg, min = 1) {
  if (!is.numeric(x) || length(x) != 1 || !is.finite(x) || x != round(x) ||
      x < min) {
    stop_arg(arg, "must be a single whole number >= ", min, ".")
  }
  if (x > .Machine$integer.max) {
    stop_arg(arg, "must be at most ", .Machine$integer.max, " (the largest integer), not ",
             format(x), ".")
  }
  as.integer(x)
}

check_flag <- function(x, arg) {
  if (!is.logical(x) || length(x) != 1 || is.na(x)) {
    stop_arg(arg, "must be TRUE or FALSE.")
  }
  x
}

# ---- Gaussian-gated MoE objects -------------------------------------------
# The class alone is not enough: an object edited by hand (fit$params$pi[1]
# <- 2, ctl$accelerate <- "Squarem") is rebuilt by its constructor, so that it
# gets the constructor's error, naming the argument it came in through,
# before its contents reach C++.

check_gmoe_params <- function(params, arg = "params") {
  if (!inherits(params, "gmoe_params") || !is.list(params)) {
    stop_arg(arg, "must be a `gmoe_params` object (see ?gmoe_params), not ",
             class(params)[1], ".")
  }
  out <- rebuild(arg, gmoe_params(params$pi, params$c, params$Gamma, params$a, params$b,
                                  params$nu))
  # attributes such as init_near_truth()'s "true_atom" travel with the start
  extra <- setdiff(names(attributes(params)), c("names", "class"))
  attributes(out)[extra] <- attributes(params)[extra]
  out
}

check_gmoe_control <- function(control, arg = "control") {
  if (!inherits(control, "gmoe_control") || !is.list(control)) {
    stop_arg(arg, "must be made by gmoe_control(), not a ", class(control)[1], ".")
  }
  settings <- names(formals(gmoe_control))
  # objects saved by moerates < 0.5.0 have no `kernels`: they get the default
  if (is.null(control$kernels)) control$kernels <- getOption("moerates.kernels", "auto")
  # and their relative floors and collapse threshold instead of `bounds`
  if (is.null(control$bounds) && !is.null(control$var_floor) && !is.null(control$min_weight)) {
    control$bounds <- rebuild(arg, gmoe_bounds(var_floor = control$var_floor,
                                               weight_min = control$min_weight))
    control$var_floor <- NULL
    control$min_weight <- NULL
  }
  unknown <- setdiff(names(control), settings)
  if (length(unknown) || is.null(names(control))) {
    stop_arg(arg, "has unknown setting(s) ", paste0("`", unknown, "`", collapse = ", "),
             "; gmoe_control() has ", paste0("`", settings, "`", collapse = ", "), ".")
  }
  missing_settings <- setdiff(settings, names(control))
  if (length(missing_settings)) {
    stop_arg(arg, "lacks the setting(s) ", paste0("`", missing_settings, "`", collapse = ", "),
             "; make it with gmoe_control().")
  }
  rebuild(arg, do.call(gmoe_control, unclass(control)[settings]))
}

# Every part of a fit that its methods read is checked; the messages name
# the part, as in `object$params`.
check_gmoe_fit <- function(fit, arg = "object") {
  if (!inherits(fit, "gmoe_fit") || !is.list(fit)) {
    stop_arg(arg, "must be a `gmoe_fit` object (made by fit_gmoe()), not ",
             class(fit)[1], ".")
  }
  part <- function(name) paste0(arg, "$", name)
  fit$params <- check_gmoe_params(fit$params, part("params"))
  k <- length(fit$params$pi)
  fit$x <- as_covariates(fit$x, part("x"), d = ncol(fit$params$c))
  n <- nrow(fit$x)
  fit$y <- as_response(fit$y, n, part("y"))
  check_numeric(fit$loglik, part("loglik"), len = 1)
  trace <- check_numeric(fit$loglik_trace, part("loglik_trace"))
  if (length(trace) < 1) stop_arg(part("loglik_trace"), "must hold at least the start's log-likelihood.")
  fit$iterations <- check_count(fit$iterations, part("iterations"), min = 0)
  check_flag(fit$converged, part("converged"))
  r <- fit$responsibilities
  if (!is.matrix(r) || !is.numeric(r) || !identical(dim(r), c(n, k)) || any(!is.finite(r)) ||
      any(r < 0 | r > 1)) {
    stop_arg(part("responsibilities"), "must be an n x k matrix (", n, " x ", k,
             ") of probabilities.")
  }
  fit$diagnostics <- check_gmoe_diagnostics(fit$diagnostics, k, part("diagnostics"))
  fit$control <- check_gmoe_control(fit$control, part("control"))
  if (!is.null(fit$terms) && !inherits(fit$terms, "terms")) {
    stop_arg(part("terms"), "must be NULL or the terms of the formula fitted.")
  }
  fit
}

check_gmoe_diagnostics <- function(diag, k, arg) {
  need <- c("component", "size", "gamma_floored", "nu_floored", "collapsed_at")
  comp <- diag$components
  ok <- is.list(diag) && is.data.frame(comp) && nrow(comp) == k && all(need %in% names(comp)) &&
    all(vapply(comp[need], is.numeric, logical(1))) &&
    all(is.finite(unlist(comp[setdiff(need, "collapsed_at")])))
  if (!ok) {
    stop_arg(arg, "must hold `components`, a data frame with one row per component (k = ", k,
             ") and numeric columns ", paste(need, collapse = ", "), ".")
  }
  check_count(diag$decreases, paste0(arg, "$decreases"), min = 0)
  check_flag(diag$nonfinite, paste0(arg, "$nonfinite"))
  # fits saved by moerates < 0.5.0 do not record their path
  if (is.null(diag$kernels)) diag$kernels <- "portable"
  if (!identical(diag$kernels, "avx2") && !identical(diag$kernels, "portable")) {
    stop_arg(paste0(arg, "$kernels"), "must be \"avx2\" or \"portable\".")
  }
  diag
}

# What the C++ core still refuses in validated input (a covariance that
# passes R's tests but that the core's factorisation finds numerically
# singular), reported naming the argument that supplied it.
gmoe_cpp <- function(arg, expr) {
  tryCatch(expr, error = function(e) {
    stop_arg(arg, "cannot be used: ", conditionMessage(e), ".")
  })
}

# Covariates as an n x d double matrix; a vector is one covariate.
as_covariates <- function(x, arg = "x", d = NULL) {
  if (is.data.frame(x)) {
    ok <- vapply(x, is.numeric, logical(1))
    if (!all(ok)) {
      stop_arg(arg, "must have numeric columns only; column(s) ",
               paste(names(x)[!ok], collapse = ", "), " are not.")
    }
    x <- as.matrix(x)
  }
  if (is.null(dim(x))) {
    check_numeric(x, arg)
    x <- matrix(x, ncol = 1)
  }
  if (length(dim(x)) != 2) stop_arg(arg, "must be a vector or a matrix.")
  if (!is.numeric(x)) stop_arg(arg, "must be numeric, not ", typeof(x), ".")
  if (nrow(x) < 1 || ncol(x) < 1) stop_arg(arg, "must have at least one row and one column.")
  if (any(!is.finite(x))) {
    stop_arg(arg, "must contain only finite values (no NA, NaN or Inf).")
  }
  if (!is.null(d) && ncol(x) != d) {
    stop_arg(arg, "must have ", d, " column(s) (one per covariate), not ",
             ncol(x), ".")
  }
  storage.mode(x) <- "double"
  x
}

as_response <- function(y, n, arg = "y") {
  if (is.matrix(y) && ncol(y) == 1) y <- drop(y)
  if (!is.null(dim(y))) stop_arg(arg, "must be a numeric vector.")
  check_numeric(y, arg)
  if (length(y) != n) {
    stop_arg(arg, "must have one value per row of `x` (", n, "), not ",
             length(y), ".")
  }
  as.double(y)
}
