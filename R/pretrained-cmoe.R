#' The frozen pre-trained model of a contaminated mixture of experts
#'
#' In the contaminated mixture of experts
#' \deqn{p(y | x) = (1 - \lambda) f_0(y | x) + \lambda\, \phi(y; h(x, \eta), \nu)}{p(y | x) = (1 - lambda) f0(y | x) + lambda phi(y; h(x, eta), nu)}
#' the pre-trained model \eqn{f_0}{f0} is known and never re-estimated.
#' `pretrained_model()` describes it, either from a family or as the user's
#' own log-density.
#'
#' **Families.** With location \eqn{\mu(x) = h_0(a_0^\top x + b_0)}{mu(x) = h0(a0'x + b0)}
#' (the expert structure `expert` with `eta0 = c(a0, b0)`) and scale
#' \eqn{s = \sqrt{\nu_0}}{s = sqrt(nu0)}:
#' \describe{
#'   \item{`"gaussian"`}{\eqn{y \sim N(\mu(x), \nu_0)}{y ~ N(mu(x), nu0)}: `nu0` is the variance;}
#'   \item{`"laplace"`}{density \eqn{\exp(-|y - \mu(x)| / s) / (2 s)}{exp(-|y - mu(x)| / s) / (2 s)}
#'     (variance \eqn{2 \nu_0}{2 nu0});}
#'   \item{`"student"`}{\eqn{(y - \mu(x)) / s}{(y - mu(x)) / s} has a Student t distribution
#'     with `df` degrees of freedom.}
#' }
#' In every family `nu0` is the squared scale.
#'
#' **Expert structures** (for \eqn{f_0}{f0} here and for the prompt in
#' [cmoe_params()] and [fit_cmoe()]): `"linear"`
#' \eqn{a^\top x + b}{a'x + b}, `"sigmoid"`
#' \eqn{1 / (1 + e^{-(a^\top x + b)})}{1 / (1 + exp(-(a'x + b)))} and `"tanh"`
#' \eqn{\tanh(a^\top x + b)}{tanh(a'x + b)}.
#'
#' **A user's own model.** `logdensity = function(x, y)` must return
#' \eqn{\log f_0(y_i | x_i)}{log f0(y_i | x_i)} for every row of the
#' \eqn{n \times d}{n x d} matrix `x` and every element of `y`, as a numeric
#' vector of length \eqn{n} (`-Inf` is allowed where \eqn{f_0 = 0}{f0 = 0};
#' `NA`, `NaN` and `+Inf` are not; an error inside it is reported as an
#' error of `logdensity`, with its own message). Because \eqn{f_0}{f0} is frozen,
#' [fit_cmoe()] calls it once per fit, so any R function serves without
#' slowing the EM. `simulate = function(x)` (one draw of \eqn{y} per row of
#' `x`) is needed only by [rcmoe()], and `mean = function(x)` (the mean of
#' \eqn{f_0(\cdot | x)}{f0(. | x)}) only by the fitted means of [predict.cmoe_fit()].
#'
#' @param family `"gaussian"`, `"laplace"` or `"student"`.
#' @param expert The expert structure of \eqn{f_0}{f0}: `"linear"`,
#'   `"sigmoid"` or `"tanh"`.
#' @param eta0 Expert parameters `c(a0, b0)`: \eqn{d} slopes, then the
#'   intercept.
#' @param nu0 Squared scale, a positive number (at least the smallest normal
#'   double, `.Machine$double.xmin`).
#' @param df Degrees of freedom of the Student family, a positive number;
#'   only for `family = "student"`.
#' @param logdensity A user's log-density `function(x, y)`, in place of
#'   `family`, `expert`, `eta0` and `nu0`.
#' @param simulate,mean Optional functions of `x` for a user's model (see
#'   Details).
#' @return An object of class `cmoe_pretrained`.
#' @seealso [fit_cmoe()], [distinguishable()], [rcmoe()].
#' @examples
#' f0 <- pretrained_model("laplace", eta0 = c(2, 0), nu0 = 1)
#' f0
#' pretrained_model("student", expert = "tanh", eta0 = c(1, 0.5), nu0 = 0.5, df = 3)
#'
#' # the same Gaussian model written by hand
#' own <- pretrained_model(logdensity = function(x, y) dnorm(y, 2 * x[, 1], 1, log = TRUE))
#' own
#' @export
pretrained_model <- function(family = c("gaussian", "laplace", "student"),
                             expert = "linear", eta0, nu0, df = NULL,
                             logdensity = NULL, simulate = NULL, mean = NULL) {
  if (!is.null(logdensity)) {
    if (!missing(eta0) || !missing(nu0) || !missing(family) || !is.null(df)) {
      stop_arg("logdensity", "replaces `family`, `expert`, `eta0`, `nu0` and `df`; ",
               "give either a family or a log-density, not both.")
    }
    check_function(logdensity, "logdensity", 2)
    if (!is.null(simulate)) check_function(simulate, "simulate", 1)
    if (!is.null(mean)) check_function(mean, "mean", 1)
    return(structure(list(family = "user", expert = NA_character_, eta0 = NULL,
                          nu0 = NULL, df = NULL, logdensity = logdensity,
                          simulate = simulate, mean = mean),
                     class = "cmoe_pretrained"))
  }
  if (!is.character(family) || !length(family) %in% c(1, 3) ||
      !all(family %in% c("gaussian", "laplace", "student"))) {
    stop_arg("family", "must be \"gaussian\", \"laplace\" or \"student\".")
  }
  family <- family[1]
  expert <- check_expert(expert, "expert")
  if (missing(eta0)) stop_arg("eta0", "is missing; expected c(a0, b0), the slopes then the intercept.")
  eta0 <- check_eta(eta0, "eta0")
  if (missing(nu0)) stop_arg("nu0", "is missing; expected the squared scale of the pre-trained model.")
  nu0 <- check_variance(nu0, "nu0")
  if (family == "student") {
    if (is.null(df)) stop_arg("df", "is needed by the Student family.")
    df <- check_positive(df, "df", len = 1)
  } else if (!is.null(df)) {
    stop_arg("df", "is only used by the Student family, not by \"", family, "\".")
  }
  if (!is.null(simulate) || !is.null(mean)) {
    stop_arg(if (is.null(simulate)) "mean" else "simulate",
             "is only for a user's `logdensity`; a family brings its own.")
  }
  structure(list(family = family, expert = expert, eta0 = eta0, nu0 = nu0, df = df),
            class = "cmoe_pretrained")
}

#' @export
print.cmoe_pretrained <- function(x, ...) {
  pre <- check_pretrained(x, "x")
  if (pre$family == "user") {
    cat("Pre-trained model: user log-density",
        if (is.null(pre$simulate)) "(no simulator)" else "with simulator", "\n")
    return(invisible(x))
  }
  cat(sprintf("Pre-trained model: %s%s, %s expert\n", pre$family,
              if (is.null(pre$df)) "" else sprintf(" (df = %g)", pre$df), pre$expert))
  cat("  eta0:", format(pre$eta0, digits = 4), "\n")
  cat("  nu0: ", format(pre$nu0, digits = 4), "\n")
  invisible(x)
}

eta_names <- function(d, intercept = TRUE) c(sprintf("a%d", seq_len(d)), if (intercept) "b")

expert_value <- function(expert, z) {
  switch(expert, linear = z, sigmoid = stats::plogis(z), tanh = tanh(z))
}

# h(a'x + b), or h(a'x) without the intercept, at every row of the
# covariate matrix x.
expert_mean <- function(expert, eta, x, intercept = TRUE) {
  d <- ncol(x)
  expert_value(expert, drop(x %*% eta[seq_len(d)]) + if (intercept) eta[[d + 1]] else 0)
}

pretrained_d <- function(pretrained) {
  if (pretrained$family == "user") NULL else length(pretrained$eta0) - 1
}

# log f0(y_i | x_i), checked: what every fit, density and loss is built on.
# `x_arg` names the covariates in messages (`x` or `newdata`).
pretrained_logdensity <- function(pretrained, x, y, x_arg = "x") {
  if (pretrained$family == "user") {
    value <- call_user(pretrained$logdensity, "logdensity", x, y)
    if (!is.numeric(value) || length(value) != length(y)) {
      stop_arg("logdensity", "must return one number per observation (", length(y),
               "), not ", if (is.numeric(value)) paste("length", length(value)) else class(value)[1], ".")
    }
    if (anyNA(value) || any(value == Inf)) {
      stop_arg("logdensity", "returned NA, NaN or +Inf; expected finite log-densities ",
               "(or -Inf where the density is 0).")
    }
    return(as.double(value))
  }
  location <- pretrained_location(pretrained, x, x_arg)
  scale <- sqrt(pretrained$nu0)
  switch(pretrained$family,
         gaussian = stats::dnorm(y, location, scale, log = TRUE),
         laplace = -log(2 * scale) - abs(y - location) / scale,
         student = stats::dt((y - location) / scale, pretrained$df, log = TRUE) - log(scale))
}

# h0(a0'x + b0). Infinite where a0'x + b0 overflows (f0 is then 0 at any y);
# terms overflowing in opposite directions leave no location at all.
pretrained_location <- function(pretrained, x, x_arg) {
  location <- expert_mean(pretrained$expert, pretrained$eta0, x)
  bad <- which(is.nan(location))
  if (length(bad) > 0) {
    stop_arg(x_arg, "has row(s) ", paste(utils::head(bad, 5), collapse = ", "),
             " at which the pre-trained model's a0'x + b0 overflows a double in opposite ",
             "directions; express x in smaller units (and eta0 with it).")
  }
  location
}

pretrained_draw <- function(pretrained, x) {
  n <- nrow(x)
  if (pretrained$family == "user") {
    if (is.null(pretrained$simulate)) {
      stop_arg("pretrained", "is a user log-density without `simulate`; give ",
               "pretrained_model(logdensity = , simulate = function(x) ...) to simulate from it.")
    }
    value <- call_user(pretrained$simulate, "simulate", x)
    if (!is.numeric(value) || length(value) != n || any(!is.finite(value))) {
      stop_arg("simulate", "must return one finite number per row of `x` (", n, ").")
    }
    return(as.double(value))
  }
  location <- pretrained_location(pretrained, x, "x")
  scale <- sqrt(pretrained$nu0)
  draw <- location + scale * switch(pretrained$family,
                                    gaussian = stats::rnorm(n),
                                    laplace = stats::rexp(n) - stats::rexp(n),
                                    student = stats::rt(n, pretrained$df))
  if (any(!is.finite(draw))) {
    stop_arg("pretrained", "drew values beyond the range of a double (its location, ",
             "scale or tails are too large to simulate from); express y in smaller units.")
  }
  draw
}

# E f0(. | x): the location for the symmetric families (the Student family
# has no mean for df <= 1, and the location is returned then too).
pretrained_mean <- function(pretrained, x, x_arg = "newdata") {
  if (pretrained$family != "user") return(pretrained_location(pretrained, x, x_arg))
  if (is.null(pretrained$mean)) {
    stop_arg("object", "was fitted with a user log-density without `mean`; give ",
             "pretrained_model(logdensity = , mean = function(x) ...) for fitted means.")
  }
  value <- call_user(pretrained$mean, "mean", x)
  if (!is.numeric(value) || length(value) != nrow(x) || any(!is.finite(value))) {
    stop_arg("mean", "must return one finite number per row of `x` (", nrow(x), ").")
  }
  as.double(value)
}

# Var f0(. | x), the same at every x: nu0 (Gaussian), 2 nu0 (Laplace),
# nu0 df / (df - 2) (Student, finite for df > 2 only).
pretrained_variance <- function(pretrained) {
  if (pretrained$family == "user") {
    stop_arg("type", "= \"pearson\" needs the variance of f0, which a user log-density ",
             "does not give; use type = \"response\".")
  }
  df <- pretrained$df
  if (pretrained$family == "student" && df <= 2) {
    stop_arg("type", "= \"pearson\" needs the variance of f0, which the Student family with ",
             "df = ", format(df), " <= 2 does not have; use type = \"response\".")
  }
  pretrained$nu0 * switch(pretrained$family, gaussian = 1, laplace = 2, student = df / (df - 2))
}
