#' Simulate from a contaminated mixture of experts
#'
#' Draws \eqn{y_i} from
#' \eqn{(1 - s(x_i)) f_0(y | x_i) + s(x_i)\, \phi(y; h(x_i, \eta), \nu)}{(1 - s(x_i)) f0(y | x_i) + s(x_i) phi(y; h(x_i, eta), nu)}:
#' each observation comes from the prompt with probability \eqn{s(x_i)}
#' (\eqn{\lambda}, or the sigmoid gate: see [cmoe_params()]),
#' otherwise from the pre-trained model. The covariates are
#' \eqn{x_i \sim N(0, I_d)}{x_i ~ N(0, I_d)} unless given. All randomness
#' comes from R's generator, so [set.seed()] reproduces the draw.
#'
#' @param n Number of observations, a whole number >= 1.
#' @param params A [cmoe_params()] object.
#' @param pretrained A [pretrained_model()]; a user's model needs its
#'   `simulate` function.
#' @param x Optional covariates: an \eqn{n \times d}{n x d} matrix (or a
#'   vector when \eqn{d = 1}).
#' @return A list with `x` (an \eqn{n \times d}{n x d} matrix with columns
#'   `x1, ..., xd`), `y` and `prompt` (`TRUE` for the observations drawn
#'   from the prompt).
#' @seealso [dcmoe()], [fit_cmoe()].
#' @examples
#' set.seed(1)
#' f0 <- pretrained_model("laplace", eta0 = c(2, 0), nu0 = 1)
#' sim <- rcmoe(500, cmoe_params(0.3, c(-1, 1), 0.5), f0)
#' mean(sim$prompt)
#' plot(sim$x, sim$y, col = 1 + sim$prompt)
#' # the sigmoid gate: the prompt takes over as x grows
#' gated <- cmoe_params(eta = c(-1, 1), nu = 0.5, gate = "sigmoid", beta = 3, tau = 0)
#' sim <- rcmoe(500, gated, f0)
#' tapply(sim$prompt, sim$x[, 1] > 0, mean)
#' @export
rcmoe <- function(n, params, pretrained, x = NULL) {
  n <- check_count(n, "n")
  params <- check_cmoe_params(params)
  pretrained <- check_pretrained(pretrained)
  d <- cmoe_dimension(params, pretrained)
  if (is.null(x)) {
    x <- matrix(stats::rnorm(n * d), n, d)
  } else {
    x <- as_covariates(x, "x", d = d)
    if (nrow(x) != n) stop_arg("x", "must have n = ", n, " rows, not ", nrow(x), ".")
  }
  colnames(x) <- paste0("x", seq_len(d))
  prompt <- stats::runif(n) < cmoe_weight(params, x)
  y <- pretrained_draw(pretrained, x)
  y_prompt <- prompt_mean(params, x) + sqrt(params$nu) * stats::rnorm(n)
  y[prompt] <- y_prompt[prompt]
  if (any(!is.finite(y_prompt[prompt]))) {
    stop_arg("params", "drew values beyond the range of a double (its mean a'x + b or ",
             "variance is too large at these covariates); express y in smaller units.")
  }
  list(x = x, y = y, prompt = prompt)
}
