# Formula interfaces of the fits, shared by the models: one way to turn
# `fit_*(y ~ x1 + x2, data, subset, weights, na.action)` into a covariate
# matrix and a response, one way to read new data for predict(), and one
# way to name coefficients after the covariates.
#
# A formula method calls
#   frame <- formula_frame(match.call(), parent.frame(), why)
# with its own match.call() (its formula argument named `x`, as in the
# generics fit_gmoe(x, ...) and fit_cmoe(x, ...)) and hands frame$x,
# frame$y and frame$weights to its default method, then stores frame$terms
# (for predict() on new data) and frame$na_action (as `na.action`, as lm()
# does, for stats::na.action(), naresid() and napredict()). `why` finishes
# the refusal of a categorical covariate with the model's reason.

# The model frame evaluated as lm() evaluates it: `subset` and `weights` are
# looked up in `data`, then in the formula's environment; `na.action` is
# that of the call, else getOption("na.action") (factory-fresh na.omit).
formula_frame <- function(call, env, why) {
  args <- c("x", "data", "subset", "weights", "na.action")
  mf <- call[c(1L, match(args, names(call), 0L))]
  names(mf)[names(mf) == "x"] <- "formula"
  mf[[1L]] <- quote(stats::model.frame)
  frame <- tryCatch(eval(mf, env), error = function(e) {
    msg <- conditionMessage(e)
    if (grepl("'weights'", msg, fixed = TRUE)) {
      stop_arg("weights", "must be a numeric vector: ", msg, ".")
    }
    if (grepl("missing values", msg, fixed = TRUE)) {
      stop_arg("na.action", "refused the data: ", msg, " (na.action = na.omit drops ",
               "incomplete rows).")
    }
    stop_arg("data", "and the formula do not give a model frame: ", msg, ".")
  })
  terms <- attr(frame, "terms")
  if (attr(terms, "response") == 0) {
    stop_arg("x", "must be a formula with a response, such as y ~ x1 + x2.")
  }
  if (attr(terms, "intercept") == 0) {
    stop_arg("x", "removes the intercept (`- 1` or `+ 0`); every expert has its own ",
             "intercept b, so the formula must keep it.")
  }
  if (!is.null(attr(terms, "offset"))) {
    stop_arg("x", "has an offset(), for which the model has no place; subtract it from ",
             "the response instead.")
  }
  y <- stats::model.response(frame)
  response <- deparse(attr(terms, "variables")[[2]], width.cutoff = 500L)[1]
  if (!is.numeric(y) || !is.null(dim(y))) {
    stop_arg("x", "has the response `", response, "`, which must be one numeric variable, not ",
             class(y)[1], ".")
  }
  check_numeric_covariates(frame, setdiff(names(frame), c(names(frame)[1], "(weights)")),
                           "x", why)
  covariates <- covariate_matrix(terms, frame)
  if (ncol(covariates) == 0) stop_arg("x", "must name at least one covariate.")
  weights <- stats::model.weights(frame)
  if (!is.null(weights) && (!is.numeric(weights) || !is.null(dim(weights)))) {
    stop_arg("weights", "must be a numeric vector, not ", class(weights)[1], ".")
  }
  list(x = covariates, y = as.vector(y), weights = weights, terms = terms,
       na_action = attr(frame, "na.action"), response = response)
}

# lm()'s "(2 observations deleted due to missingness)" for a formula fit
# that left rows out, else "".
missing_note <- function(fit, indent) {
  if (is.null(fit$na.action)) return("")
  sprintf("%s(%s)\n", indent, stats::naprint(fit$na.action))
}

# Covariates of new data through the terms of a formula fit (with their
# data-dependent bases, such as poly(), as fitted); rows with missing values
# are refused, as at the fit's own data.
formula_newdata <- function(terms, newdata, d, why, arg = "newdata") {
  tt <- stats::delete.response(terms)
  frame <- tryCatch(stats::model.frame(tt, newdata, na.action = stats::na.pass),
                    error = function(e) {
                      stop_arg(arg, "must hold every covariate of the formula (",
                               conditionMessage(e), ").")
                    })
  check_numeric_covariates(frame, names(frame), arg, why)
  x <- covariate_matrix(tt, frame)
  rownames(x) <- NULL
  as_covariates(x, arg, d)
}

# The response of a formula fit in new data, or NULL where it is absent.
formula_response <- function(terms, newdata) {
  variables <- attr(terms, "variables")
  name <- all.vars(variables[[2]])
  if (!is.data.frame(newdata) || !all(name %in% names(newdata))) return(NULL)
  eval(variables[[2]], newdata, environment(terms))
}

# Factors, characters and logicals would be dummy-coded by model.matrix()
# into columns the models do not treat as categories.
check_numeric_covariates <- function(frame, columns, arg, why) {
  categorical <- columns[vapply(frame[columns], function(v) {
    is.factor(v) || is.character(v) || is.logical(v)
  }, logical(1))]
  if (length(categorical) > 0) {
    kinds <- vapply(frame[categorical], function(v) {
      if (is.factor(v)) "factor" else typeof(v)
    }, character(1))
    stop_arg(arg, "has categorical covariate(s) ",
             paste0("`", categorical, "` (", kinds, ")", collapse = ", "), ": ", why)
  }
}

covariate_matrix <- function(terms, frame) {
  x <- stats::model.matrix(terms, frame)
  x <- x[, colnames(x) != "(Intercept)", drop = FALSE]
  attr(x, "assign") <- NULL
  x
}

# Names of a coefficient that has one entry per covariate: `prefix` and the
# covariate's name (a_wt, a_hp) where every column has a distinct name, else
# `prefix` and the column's number (a1, a2). With `second`, one entry per
# pair of covariates, row by row (Gamma_wt_wt, Gamma_wt_hp, ...; Gamma11,
# Gamma12, ...).
coefficient_names <- function(prefix, x, second = FALSE) {
  labels <- covariate_labels(x)
  named <- !is.null(labels)
  if (!named) labels <- as.character(seq_len(ncol(x)))
  if (second) {
    labels <- paste0(rep(labels, each = length(labels)), if (named) "_", labels)
  }
  paste0(prefix, if (named) "_", labels)
}

# The covariates' names (the columns of x), or NULL where a column has no
# name or two share one.
covariate_labels <- function(x) {
  labels <- colnames(x)
  if (is.null(labels) || anyNA(labels) || !all(nzchar(labels)) || anyDuplicated(labels)) {
    return(NULL)
  }
  labels
}

# The covariates (and responses, where known) a predict() method works on:
# the fit's own without `newdata`, a formula fit's model frame of a data
# frame, else a matrix or vector; `x_arg` names where the covariates came
# from for the messages.
prediction_input <- function(object, newdata, y, why) {
  d <- ncol(object$x)
  if (is.null(newdata)) {
    return(list(x = object$x, y = if (is.null(y)) object$y else y, x_arg = "object"))
  }
  if (!is.null(object$terms) && is.data.frame(newdata)) {
    x <- formula_newdata(object$terms, newdata, d, why)
    if (is.null(y)) y <- formula_response(object$terms, newdata)
  } else {
    x <- as_covariates(newdata, "newdata", d)
  }
  list(x = x, y = y, x_arg = "newdata")
}
