#' Parameters of a contaminated mixture of experts
#'
#' The trainable part of
#' \deqn{p(y | x) = (1 - \lambda) f_0(y | x) + \lambda\, \phi(y; h(a^\top x + b), \nu)}{p(y | x) = (1 - lambda) f0(y | x) + lambda phi(y; h(a'x + b), nu)}:
#' the prompt's weight \eqn{\lambda}, its expert parameters
#' \eqn{\eta = (a, b)}{eta = (a, b)} and its variance \eqn{\nu}. The frozen
#' \eqn{f_0}{f0} is described by [pretrained_model()].
#'
#' @param lambda Weight of the prompt, in \eqn{(0, 1)}.
#' @param eta Expert parameters `c(a, b)`: \eqn{d \ge 1}{d >= 1} slopes, then
#'   the intercept.
#' @param nu Variance of the prompt expert, a positive number.
#' @param expert Structure of the prompt expert: `"linear"`, `"sigmoid"` or
#'   `"tanh"` (see [pretrained_model()]).
#' @return An object of class `cmoe_params`: a list with `lambda`, `eta`
#'   (named `a1, ..., ad, b`), `nu` and `expert`.
#' @seealso [rcmoe()], [dcmoe()], [fit_cmoe()], [cmoe_loss()].
#' @examples
#' truth <- cmoe_params(lambda = 0.3, eta = c(-1, 1), nu = 0.5)
#' truth
#' cmoe_params(0.2, eta = c(1, -2, 0), nu = 1, expert = "tanh")
#' @export
cmoe_params <- function(lambda, eta, nu, expert = "linear") {
  lambda <- check_numeric(lambda, "lambda", len = 1)
  if (lambda <= 0 || lambda >= 1) {
    stop_arg("lambda", "must be strictly between 0 and 1, not ", format(lambda), ".")
  }
  eta <- check_eta(eta, "eta")
  nu <- check_positive(nu, "nu", len = 1)
  expert <- check_expert(expert, "expert")
  structure(list(lambda = lambda, eta = eta, nu = nu, expert = expert),
            class = "cmoe_params")
}

#' @export
print.cmoe_params <- function(x, digits = max(3L, getOption("digits") - 3L), ...) {
  cat(sprintf("Contaminated MoE parameters: %s prompt expert, d = %d\n",
              x$expert, length(x$eta) - 1))
  print(cmoe_coef(x), digits = digits)
  invisible(x)
}

# (lambda, a, b, nu) as one named vector: the layout of coef() and of the
# standard errors.
cmoe_coef <- function(params) {
  c(lambda = params$lambda, params$eta, nu = params$nu)
}

# The class alone is not enough: an object edited by hand (p$lambda <- 0)
# is rebuilt, so that its contents are checked before they reach C++.
check_cmoe_params <- function(params, arg = "params") {
  if (!inherits(params, "cmoe_params")) {
    stop_arg(arg, "must be a `cmoe_params` object (see ?cmoe_params), not ",
             class(params)[1], ".")
  }
  rebuild(arg, cmoe_params(params$lambda, params$eta, params$nu, params$expert))
}

rebuild <- function(arg, expr) {
  tryCatch(expr, error = function(e) {
    stop_arg(arg, "holds invalid contents: ", conditionMessage(e))
  })
}

# The covariate dimension of params, checked against the pre-trained model.
cmoe_dimension <- function(params, pretrained) {
  d <- length(params$eta) - 1
  d0 <- pretrained_d(pretrained)
  if (!is.null(d0) && d0 != d) {
    stop_arg("params", "has d = ", d, " covariate(s) but the pre-trained model has ",
             d0, " (eta0 of length ", d0 + 1, ").")
  }
  d
}
