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
#' @param nu Variance of the prompt expert, a positive number (at least the
#'   smallest normal double, `.Machine$double.xmin`).
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
  nu <- check_variance(nu, "nu")
  expert <- check_expert(expert, "expert")
  structure(list(lambda = lambda, eta = eta, nu = nu, expert = expert),
            class = "cmoe_params")
}

#' @export
print.cmoe_params <- function(x, digits = max(3L, getOption("digits") - 3L), ...) {
  p <- check_cmoe_params(x, "x")
  cat(sprintf("Contaminated MoE parameters: %s prompt expert, d = %d\n",
              p$expert, length(p$eta) - 1))
  print(cmoe_coef(p), digits = digits)
  invisible(x)
}

# (lambda, a, b, nu) as one named vector: the layout of coef() and of the
# standard errors.
cmoe_coef <- function(params) {
  c(lambda = params$lambda, params$eta, nu = params$nu)
}

# The covariate dimension of params, checked against the pre-trained model.
cmoe_dimension <- function(params, pretrained, arg = "params") {
  d <- length(params$eta) - 1
  d0 <- pretrained_d(pretrained)
  if (!is.null(d0) && d0 != d) {
    stop_arg(arg, "has d = ", d, " covariate(s) but `pretrained` has ",
             d0, " (eta0 of length ", d0 + 1, ").")
  }
  d
}
