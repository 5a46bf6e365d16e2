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

# The candidate numbers of components of a model choice: distinct whole
# numbers from 1 to n - 1 (a fit needs fewer components than observations),
# returned sorted.
check_component_counts <- function(k, n, arg = "k") {
  if (!is.numeric(k) || length(k) < 1 || any(!is.finite(k)) || any(k != round(k)) ||
      any(k < 1)) {
    stop_arg(arg, "must be whole numbers >= 1 (numbers of components), such as 1:6.")
  }
  if (length(k) > n - 1) {
    stop_arg(arg, "has ", length(k), " values; with n = ", n, " observations at most ",
             n - 1, " distinct numbers of components (1 to n - 1) are possible.")
  }
  if (anyDuplicated(k)) {
    stop_arg(arg, "has the value(s) ", paste(unique(k[duplicated(k)]), collapse = ", "),
             " more than once; give each number of components once.")
  }
  if (max(k) >= n) {
    stop_arg(arg, "must be smaller than the number of observations (", n, "), not ",
             max(k), ".")
  }
  sort(as.integer(k))
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
  check_na_action(fit$na.action, part("na.action"))
  fit
}

# The rows a formula fit left out, as model.frame() records them: NULL, or
# row numbers of class "omit" or "exclude" (na.action(), naprint(),
# napredict() and naresid() read the class).
check_na_action <- function(na_action, arg) {
  if (is.null(na_action)) return(invisible())
  if (!inherits(na_action, c("omit", "exclude")) || !is.numeric(na_action) ||
      length(na_action) == 0 || anyNA(na_action) || any(na_action < 1) ||
      any(na_action != round(na_action)) || anyDuplicated(na_action)) {
    stop_arg(arg, "must be NULL or the distinct row numbers left out, of class \"omit\" or ",
             "\"exclude\", as model.frame() records them.")
  }
  invisible()
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

# ---- Contaminated mixture of experts ----
# One checker per object a user can build and then edit by hand
# (cmoe_params, cmoe_pretrained, cmoe_control, cmoe_fit, cmoe_scenario,
# cmoe_distinguishability). Every function that takes such an object passes
# it through its checker, which rebuilds it with its constructor: an edited
# object gets the constructor's own message, prefixed by the argument the
# user passed, before anything reaches C++.

expert_names <- c("linear", "sigmoid", "tanh")

check_expert <- function(expert, arg) {
  if (!is.character(expert) || length(expert) != 1 || !expert %in% expert_names) {
    stop_arg(arg, "must be one of \"linear\", \"sigmoid\" or \"tanh\", not ",
             deparse(expert)[1], ".")
  }
  expert
}

check_gate <- function(gate, arg) {
  if (!is.character(gate) || length(gate) != 1 || !gate %in% c("constant", "sigmoid")) {
    stop_arg(arg, "must be \"constant\" or \"sigmoid\", not ", deparse(gate)[1], ".")
  }
  gate
}

# eta = c(a, b) for d >= 1 covariates, or a alone without the intercept.
check_eta <- function(eta, arg, intercept = TRUE) {
  eta <- check_numeric(eta, arg)
  if (length(eta) < 1 + intercept) {
    stop_arg(arg, if (intercept) "must hold d >= 1 slopes and an intercept (length >= 2)"
             else "must hold d >= 1 slopes (no intercept)", ", not length ", length(eta), ".")
  }
  stats::setNames(as.double(eta), eta_names(length(eta) - intercept, intercept))
}

# A variance or squared scale: positive, and large enough that 1 / (2 nu)
# is a double (below it the Gaussian kernel is 0 * Inf).
check_variance <- function(nu, arg) {
  nu <- check_positive(nu, arg, len = 1)
  if (nu < .Machine$double.xmin) {
    stop_arg(arg, "must be at least ", format(.Machine$double.xmin, digits = 3),
             " (the smallest normal double), not ", format(nu), ".")
  }
  nu
}

rebuild <- function(arg, expr) {
  tryCatch(expr, error = function(e) {
    stop_arg(arg, "holds invalid contents: ", conditionMessage(e))
  })
}

# A list with only the fields of its class (a misspelt field would
# otherwise be ignored without a word) and all the required ones.
check_fields <- function(object, allowed, required, arg, what) {
  if (!is.list(object)) {
    stop_arg(arg, "is not a list as a ", what, " is, but a ", typeof(object), ".")
  }
  fields <- names(object)
  if (is.null(fields)) fields <- character(0)
  if (length(fields) != length(object) || any(!nzchar(fields))) {
    stop_arg(arg, "has unnamed fields; a ", what, " has ",
             paste0("`", allowed, "`", collapse = ", "), ".")
  }
  unknown <- fields[!fields %in% allowed]
  if (length(unknown) > 0) {
    stop_arg(arg, "has unknown field(s) ", paste0("`", unknown, "`", collapse = ", "),
             "; a ", what, " has ", paste0("`", allowed, "`", collapse = ", "), ".")
  }
  missing <- required[!required %in% fields]
  if (length(missing) > 0) {
    stop_arg(arg, "lacks the field(s) ", paste0("`", missing, "`", collapse = ", "),
             " of a ", what, ".")
  }
  object
}

check_cmoe_params <- function(params, arg = "params") {
  if (!inherits(params, "cmoe_params")) {
    stop_arg(arg, "must be a `cmoe_params` object (see ?cmoe_params), not ",
             class(params)[1], ".")
  }
  # objects saved by moerates < 0.5.0 hold only the constant gate's fields
  fields <- c("lambda", "eta", "nu", "expert", "gate", "beta", "tau", "intercept")
  constant <- !is.list(params) || is.null(params$gate) || identical(params$gate, "constant")
  check_fields(params, fields, c(if (constant) "lambda", "eta", "nu", "expert"), arg,
               "cmoe_params object")
  rebuild(arg, cmoe_params(params$lambda, params$eta, params$nu, params$expert,
                           if (is.null(params$gate)) "constant" else params$gate,
                           params$beta, params$tau,
                           if (is.null(params$intercept)) TRUE else params$intercept))
}

check_pretrained <- function(pretrained, arg = "pretrained") {
  if (!inherits(pretrained, "cmoe_pretrained")) {
    stop_arg(arg, "must be made by pretrained_model(), not a ", class(pretrained)[1], ".")
  }
  what <- "pretrained_model() object"
  if (identical(pretrained$family, "user")) {
    check_fields(pretrained, c("family", "expert", "eta0", "nu0", "df", "logdensity",
                               "simulate", "mean"), c("family", "logdensity"), arg, what)
    unused <- c("eta0", "nu0", "df")[!vapply(pretrained[c("eta0", "nu0", "df")],
                                            is.null, logical(1))]
    if (length(unused) > 0) {
      stop_arg(arg, "is a user log-density but holds `", unused[1], "`, which only a ",
               "family uses; give either a family or a log-density.")
    }
    return(rebuild(arg, pretrained_model(logdensity = pretrained$logdensity,
                                         simulate = pretrained$simulate,
                                         mean = pretrained$mean)))
  }
  check_fields(pretrained, c("family", "expert", "eta0", "nu0", "df"),
               c("family", "expert", "eta0", "nu0"), arg, what)
  rebuild(arg, pretrained_model(pretrained$family, pretrained$expert, pretrained$eta0,
                                pretrained$nu0, pretrained$df))
}

# A field left out (as by an object saved before the field existed) takes
# its documented default.
check_cmoe_control <- function(control, arg = "control") {
  if (!inherits(control, "cmoe_control")) {
    stop_arg(arg, "must be made by cmoe_control(), not a ", class(control)[1], ".")
  }
  check_fields(control, names(formals(cmoe_control)), character(0), arg,
               "cmoe_control() object")
  rebuild(arg, do.call(cmoe_control, unclass(control)))
}

# A fit is checked part by part, and then as a whole: its posterior must be
# that of its parameters at its data, so a fit whose parameters, data or
# pre-trained model were changed by hand is not mistaken for a fit.
check_cmoe_fit <- function(fit, arg = "object") {
  if (!inherits(fit, "cmoe_fit")) {
    stop_arg(arg, "must be a fit made by fit_cmoe(), not a ", class(fit)[1], ".")
  }
  parts <- c("params", "loglik", "loglik_trace", "iterations", "converged", "posterior",
             "diagnostics", "x", "y", "logf0", "pretrained", "control")
  check_fields(fit, union(parts, names(fit)), parts, arg, "fit_cmoe() result")
  n <- NROW(fit$x)
  tryCatch({
    fit$params <- check_cmoe_params(fit$params, "params")
    fit$pretrained <- check_pretrained(fit$pretrained, "pretrained")
    fit$control <- check_cmoe_control(fit$control, "control")
    fit$x <- as_covariates(fit$x, "x", d = cmoe_d(fit$params))
    cmoe_dimension(fit$params, fit$pretrained)
    fit$y <- as_response(fit$y, n, "y")
    check_numeric(fit$logf0, "logf0", len = n, allow_na = TRUE)
    if (anyNA(fit$logf0) || any(fit$logf0 == Inf)) {
      stop_arg("logf0", "must hold finite values or -Inf.")
    }
    check_numeric(fit$posterior, "posterior", len = n)
    if (any(fit$posterior < 0 | fit$posterior > 1)) stop_arg("posterior", "must lie in [0, 1].")
    aliased <- if (is.null(fit$aliased)) integer(0) else fit$aliased
    if (!is.numeric(aliased) || any(!aliased %in% seq_len(ncol(fit$x))) ||
        any(fit$params$eta[aliased] != 0)) {
      stop_arg("aliased", "must list covariates whose prompt slopes are 0.")
    }
    fit$aliased <- stats::setNames(as.integer(aliased), column_labels(fit$x)[aliased])
    fit$weights <- check_case_weights(fit$weights, n)
    # fits saved by moerates < 0.5.0 do not record how they started
    fit$n_starts <- if (is.null(fit$n_starts)) 1L else check_count(fit$n_starts, "n_starts")
    if (!is.null(fit$init)) fit$init <- check_cmoe_params(fit$init, "init")
    if (!is.null(fit$terms) && !inherits(fit$terms, "terms")) {
      stop_arg("terms", "must be NULL or the terms of the formula fitted.")
    }
    check_numeric(fit$loglik, "loglik", len = 1)
    check_numeric(fit$loglik_trace, "loglik_trace")
    check_count(fit$iterations, "iterations", min = 0)
    check_flag(fit$converged, "converged")
    diag <- fit$diagnostics
    flags <- c("lambda_at_bound", "gate_at_bound", "nonfinite")
    # fits saved by moerates < 0.5.0 have no gate
    if (is.null(diag$gate_stalls)) diag$gate_stalls <- 0L
    if (is.null(diag$gate_bound_hits)) diag$gate_bound_hits <- 0L
    if (is.null(diag$gate_at_bound)) diag$gate_at_bound <- FALSE
    fit$diagnostics <- diag
    counts <- c("lambda_bound_hits", "gate_stalls", "gate_bound_hits", "nu_floor_hits",
                "prompt_empty",
                "decreases", "squarem_fallbacks")
    check_fields(diag, union(c(flags, counts), names(diag)), c(flags, counts),
                 "diagnostics", "list of diagnostics")
    for (f in flags) check_flag(diag[[f]], paste0("diagnostics$", f))
    for (f in counts) check_count(diag[[f]], paste0("diagnostics$", f), min = 0)
  }, error = function(e) {
    stop_arg(arg, "is not a fit_cmoe() result as it stands: ", conditionMessage(e))
  })
  # An edited model, parameter or response changes log f0 or the posterior
  # at (almost) every row, so a few rows tell, in time independent of n.
  rows <- unique(round(seq(1, n, length.out = min(n, 32))))
  x_rows <- fit$x[rows, , drop = FALSE]
  if (fit$pretrained$family != "user" &&
      !isTRUE(all.equal(fit$logf0[rows], pretrained_logdensity(fit$pretrained, x_rows, fit$y[rows]),
                        tolerance = 1e-10))) {
    stop_arg(arg, "holds a log f0 that is not its pre-trained model's at its data: the model ",
             "or the data were edited. Refit with fit_cmoe().")
  }
  posterior <- cmoe_evaluate(x_rows, fit$y[rows], fit$logf0[rows], fit$params,
                             fit$pretrained, fit$control$kernels)$posterior
  if (!isTRUE(all(abs(posterior - fit$posterior[rows]) <= 1e-6)) ||
      !identical(fit$loglik, fit$loglik_trace[length(fit$loglik_trace)])) {
    stop_arg(arg, "holds parameters, data or a log-likelihood that are not those of one fit: ",
             "it was edited. Use dcmoe() to evaluate other parameters, or fit_cmoe(init = ) ",
             "to start from them.")
  }
  fit
}

# log f0 at the data: one value per observation, -Inf allowed (f0 = 0).
check_logf0 <- function(value, n, arg) {
  if (!is.numeric(value) || length(value) != n) {
    stop_arg(arg, "must return one number per observation (", n, "), not ",
             if (is.numeric(value)) paste("length", length(value)) else class(value)[1], ".")
  }
  if (anyNA(value) || any(value == Inf)) {
    stop_arg(arg, "returned NA, NaN or +Inf; expected finite log-densities ",
             "(or -Inf where the density is 0).")
  }
  as.double(value)
}

# A preset scenario is fully defined by its name and power; any other field
# that differs from the preset's was edited, and the theory printed with a
# study would no longer be that of its truth.
check_cmoe_scenario <- function(scenario, arg = "scenario") {
  if (!inherits(scenario, "cmoe_scenario")) {
    stop_arg(arg, "must be a scenario name or a `cmoe_scenario` object, not a ",
             class(scenario)[1], ".")
  }
  fields <- c("scenario", "pretrained", "truth", "power", "loss", "theory")
  check_fields(scenario, fields, fields, arg, "cmoe_scenario object")
  name <- scenario$scenario
  fixed <- is.character(name) && length(name) == 1 && !is.na(name) &&
    is.na(scenario_power_limit(name))
  preset <- rebuild(arg, cmoe_scenario(name, if (fixed) NULL else scenario$power))
  truth_at <- function(truth, n) {
    tryCatch(cmoe_coef(check_cmoe_params(truth(n))), error = function(e) NULL)
  }
  same <- c(
    pretrained = identical(unclass(scenario$pretrained), unclass(preset$pretrained)),
    truth = is.function(scenario$truth) &&
      identical(truth_at(scenario$truth, 100), truth_at(preset$truth, 100)) &&
      identical(truth_at(scenario$truth, 1e5), truth_at(preset$truth, 1e5)),
    power = identical(scenario$power, preset$power),
    loss = identical(scenario$loss, preset$loss),
    theory = identical(scenario$theory, preset$theory))
  if (!all(same)) {
    stop_arg(arg, "was edited: its `", names(same)[!same][1], "` is not that of the \"",
             preset$scenario, "\" scenario", if (preset$power > 0) sprintf(" with power %g", preset$power),
             ". Scenarios are the presets of cmoe_scenario(); for a design of your own, ",
             "give rate_study() your own simulate, fit and metrics functions.")
  }
  preset
}

check_cmoe_distinguishability <- function(x, arg = "x") {
  if (!is.logical(x) || length(x) != 1 || !is.character(attr(x, "reason")) ||
      length(attr(x, "reason")) != 1) {
    stop_arg(arg, "must be a result of distinguishable(): TRUE, FALSE or NA with a ",
             "reason.")
  }
  x
}

# Calls a function the user supplied through argument `arg`; an error
# inside it is reported under that name, with its own message.
call_user <- function(f, arg, ...) {
  tryCatch(f(...), error = function(e) {
    stop_arg(arg, "failed with the error: ", conditionMessage(e))
  })
}

# NULL, or one whole number as set.seed() takes it.
check_rng_seed <- function(seed, arg = "seed") {
  if (is.null(seed)) return(NULL)
  if (!is.numeric(seed) || length(seed) != 1 || !is.finite(seed) || seed != round(seed) ||
      abs(seed) > .Machine$integer.max) {
    stop_arg(arg, "must be NULL or a single whole number.")
  }
  seed
}

# NULL (no weights) or one positive finite case weight per observation.
check_case_weights <- function(weights, n, arg = "weights") {
  if (is.null(weights)) return(NULL)
  if (!is.numeric(weights) || !is.null(dim(weights)) || length(weights) != n) {
    stop_arg(arg, "must be NULL or a numeric vector with one weight per observation (", n,
             "), not ", if (is.numeric(weights)) paste("length", length(weights)) else class(weights)[1],
             ".")
  }
  if (any(!is.finite(weights)) || any(weights <= 0)) {
    stop_arg(arg, "must be positive and finite; leave observations out with `subset` ",
             "rather than giving them weight 0.")
  }
  as.double(weights)
}

# The names of `...` ("" for unnamed), without evaluating them.
dots_names <- function(...) {
  given <- names(substitute(list(...)))[-1]
  if (is.null(given)) rep("", ...length()) else given
}

# A method's `...` holds only what the generic passes on; any argument the
# method does not take is an error naming it, never silently dropped.
# `.caller` has a dot so that no user argument (`method =`) lands in it.
stop_unused_args <- function(.caller, ...) {
  if (...length() == 0) return(invisible())
  given <- dots_names(...)
  first <- if (!nzchar(given[1])) "..." else given[1]
  stop_arg(first, "is not an argument of ", .caller,
           if (...length() > 1) {
             paste0(" (nor are the other ", ...length() - 1, " extra argument(s))")
           },
           "; see its help page for the arguments it takes.")
}
