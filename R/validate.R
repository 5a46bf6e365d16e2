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

check_count <- function(x, arg, min = 1) {
  if (!is.numeric(x) || length(x) != 1 || !is.finite(x) || x != round(x) ||
      x < min) {
    stop_arg(arg, "must be a single whole number >= ", min, ".")
  }
  as.integer(x)
}

check_flag <- function(x, arg) {
  if (!is.logical(x) || length(x) != 1 || is.na(x)) {
    stop_arg(arg, "must be TRUE or FALSE.")
  }
  x
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
