#' Parameters of a contaminated mixture of experts
#'
#' The trainable part of
#' \deqn{p(y | x) = (1 - s(x)) f_0(y | x) + s(x)\, \phi(y; h(x, \eta), \nu)}{p(y | x) = (1 - s(x)) f0(y | x) + s(x) phi(y; h(x, eta), nu)}:
#' the prompt's weight \eqn{s(x)}, its expert parameters \eqn{\eta}{eta}
#' and its variance \eqn{\nu}. The frozen \eqn{f_0}{f0} is described by
#' [pretrained_model()].
#'
#' **Gates.** `gate = "constant"`: \eqn{s(x) = \lambda}{s(x) = lambda}
#' (Yan et al. 2025a). `gate = "sigmoid"`: the input-dependent gate
#' \eqn{s(x) = 1 / (1 + \exp(-(\beta^\top x + \tau)))}{s(x) = 1 / (1 + exp(-(beta'x + tau)))}
#' (Yan et al. 2025b), with `beta` and `tau` in place of `lambda`.
#'
#' **Experts.** \eqn{h(x, \eta) = h(a^\top x + b)}{h(x, eta) = h(a'x + b)}
#' with \eqn{\eta = (a, b)}{eta = (a, b)}, or, with `intercept = FALSE`,
#' \eqn{h(a^\top x)}{h(a'x)} with \eqn{\eta = a}{eta = a}. The rates of
#' the sigmoid-gated model when \eqn{f_0}{f0} and the prompt are not
#' distinguishable need a strongly identifiable expert such as
#' \eqn{\tanh(a^\top x)}{tanh(a'x)} without intercept.
#'
#' @param lambda Weight of the prompt, in \eqn{(0, 1)}, for
#'   `gate = "constant"`; not given for the sigmoid gate.
#' @param eta Expert parameters: `c(a, b)`, \eqn{d \ge 1}{d >= 1} slopes then
#'   the intercept, or the \eqn{d} slopes alone with `intercept = FALSE`.
#' @param nu Variance of the prompt expert, a positive number (at least the
#'   smallest normal double, `.Machine$double.xmin`).
#' @param expert Structure of the prompt expert: `"linear"`, `"sigmoid"` or
#'   `"tanh"` (see [pretrained_model()]).
#' @param gate `"constant"` or `"sigmoid"` (see Gates).
#' @param beta,tau Slopes (\eqn{d} of them) and intercept of the sigmoid
#'   gate; only for `gate = "sigmoid"`.
#' @param intercept `TRUE` (the default) if the expert has the intercept
#'   \eqn{b}.
#' @return An object of class `cmoe_params`: a list with `lambda` (`NULL`
#'   for the sigmoid gate), `eta` (named `a1, ..., ad, b`), `nu`, `expert`,
#'   `gate`, `beta` and `tau` (`NULL` for the constant gate) and `intercept`.
#' @references Yan, F., Nguyen, H., Le, D., Akbarian, P. and Ho, N. (2025a).
#'   Understanding expert structures on minimax parameter estimation in
#'   contaminated mixture of experts. AISTATS 2025.
#'
#'   Yan, F., Nguyen, H., Le, D., Akbarian, P., Ho, N. and Rinaldo, A.
#'   (2025b). On minimax estimation of parameters in softmax-contaminated
#'   mixture of experts. NeurIPS 2025, arXiv:2505.18455.
#' @seealso [rcmoe()], [dcmoe()], [fit_cmoe()], [cmoe_loss()].
#' @examples
#' truth <- cmoe_params(lambda = 0.3, eta = c(-1, 1), nu = 0.5)
#' truth
#' cmoe_params(0.2, eta = c(1, -2, 0), nu = 1, expert = "tanh")
#' # the sigmoid gate and a tanh expert without intercept
#' cmoe_params(eta = c(-1, 0), nu = 0.001, expert = "tanh", gate = "sigmoid",
#'             beta = c(1, 1) / sqrt(2), tau = 1, intercept = FALSE)
#' @export
cmoe_params <- function(lambda = NULL, eta, nu, expert = "linear", gate = "constant",
                        beta = NULL, tau = NULL, intercept = TRUE) {
  gate <- check_gate(gate, "gate")
  check_flag(intercept, "intercept")
  if (missing(eta)) stop_arg("eta", "is missing; expected the prompt expert's parameters.")
  if (missing(nu)) stop_arg("nu", "is missing; expected the prompt expert's variance.")
  eta <- check_eta(eta, "eta", intercept)
  d <- length(eta) - intercept
  nu <- check_variance(nu, "nu")
  expert <- check_expert(expert, "expert")
  if (gate == "constant") {
    if (!is.null(beta) || !is.null(tau)) {
      stop_arg(if (is.null(beta)) "tau" else "beta", "belongs to the sigmoid gate; ",
               "the constant gate has the weight `lambda` (or give gate = \"sigmoid\").")
    }
    if (is.null(lambda)) stop_arg("lambda", "is missing; the constant gate needs the prompt's weight.")
    lambda <- check_numeric(lambda, "lambda", len = 1)
    if (lambda <= 0 || lambda >= 1) {
      stop_arg("lambda", "must be strictly between 0 and 1, not ", format(lambda), ".")
    }
  } else {
    if (!is.null(lambda)) {
      stop_arg("lambda", "is the constant gate's weight; the sigmoid gate has `beta` and `tau`.")
    }
    if (is.null(beta)) stop_arg("beta", "is missing; the sigmoid gate needs d = ", d, " slope(s).")
    if (is.null(tau)) stop_arg("tau", "is missing; the sigmoid gate needs its intercept.")
    beta <- check_numeric(beta, "beta")
    if (length(beta) != d) {
      stop_arg("beta", "must hold one slope per covariate (d = ", d, ", as in `eta`), not ",
               length(beta), ".")
    }
    beta <- stats::setNames(as.double(beta), sprintf("beta%d", seq_len(d)))
    tau <- check_numeric(tau, "tau", len = 1)
  }
  structure(list(lambda = lambda, eta = eta, nu = nu, expert = expert, gate = gate,
                 beta = beta, tau = tau, intercept = intercept),
            class = "cmoe_params")
}

#' @export
print.cmoe_params <- function(x, digits = max(3L, getOption("digits") - 3L), ...) {
  p <- check_cmoe_params(x, "x")
  cat(sprintf("Contaminated MoE parameters: %s%s prompt expert%s, d = %d\n",
              if (p$gate == "sigmoid") "sigmoid gate, " else "", p$expert,
              if (p$intercept) "" else " without intercept", cmoe_d(p)))
  print(cmoe_coef(p), digits = digits)
  invisible(x)
}

# (lambda, a, b, nu), or (beta, tau, a, b, nu) for the sigmoid gate, as one
# named vector: the layout of coef() and of the standard errors.
cmoe_coef <- function(params) {
  c(cmoe_gate_coef(params), params$eta, nu = params$nu)
}

cmoe_gate_coef <- function(params) {
  if (params$gate == "constant") c(lambda = params$lambda) else c(params$beta, tau = params$tau)
}

# The number of covariates.
cmoe_d <- function(params) length(params$eta) - params$intercept

# h(x, eta) at every row of x.
prompt_mean <- function(params, x) expert_mean(params$expert, params$eta, x, params$intercept)

# The parameters as the C++ core takes them: `gate` (beta, tau), empty for
# the constant weight, and `lambda` (a placeholder for the sigmoid gate).
cmoe_core_params <- function(params) {
  list(lambda = if (params$gate == "constant") params$lambda else 0.5, eta = unname(params$eta),
       nu = params$nu, gate = if (params$gate == "constant") numeric(0) else
         unname(c(params$beta, params$tau)),
       intercept = params$intercept)
}

# The prompt's weight s(x) at every row of x.
cmoe_weight <- function(params, x) {
  if (params$gate == "constant") return(rep(params$lambda, nrow(x)))
  stats::plogis(drop(x %*% params$beta) + params$tau)
}

# The covariate dimension of params, checked against the pre-trained model.
cmoe_dimension <- function(params, pretrained, arg = "params") {
  d <- cmoe_d(params)
  d0 <- pretrained_d(pretrained)
  if (!is.null(d0) && d0 != d) {
    stop_arg(arg, "has d = ", d, " covariate(s) but `pretrained` has ",
             d0, " (eta0 of length ", d0 + 1, ").")
  }
  d
}
