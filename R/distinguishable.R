#' Is the prompt distinguishable from the pre-trained model?
#'
#' The condition under which the prompt of a contaminated mixture of experts
#' is estimated at the parametric rate uniformly (Yan et al. 2025): no
#' non-trivial linear combination of \eqn{f_0}{f0}, the Gaussian prompt
#' density and its first derivatives in \eqn{(\eta, \nu)} vanishes. In
#' practice:
#' \itemize{
#'   \item a non-Gaussian \eqn{f_0}{f0} (Laplace, Student) is distinguishable
#'     from a Gaussian prompt whatever the expert structures (a Student
#'     \eqn{f_0}{f0} with many degrees of freedom is close to Gaussian, and
#'     the reason says so);
#'   \item a Gaussian \eqn{f_0}{f0} is not distinguishable when its mean
#'     function \eqn{h_0(a_0^\top x + b_0)}{h0(a0'x + b0)} is itself a prompt
#'     mean \eqn{h(a^\top x + b)}{h(a'x + b)} for some \eqn{(a, b)}: the same
#'     expert structure, or a constant \eqn{f_0}{f0} mean (\eqn{a_0 = 0}) in
#'     the range of \eqn{h}. Then as \eqn{(\eta, \nu) \to (\eta_0, \nu_0)}{(eta, nu) -> (eta0, nu0)}
#'     the prompt merges into \eqn{f_0}{f0};
#'   \item a Gaussian \eqn{f_0}{f0} with a different, non-constant expert
#'     structure (e.g. tanh pre-trained, linear prompt) is distinguishable:
#'     the structure restores it.
#' }
#' For a user's log-density the answer cannot be read off the family and is
#' `NA`.
#'
#' A prompt expert without intercept (`intercept = FALSE`) reproduces a
#' Gaussian \eqn{f_0}{f0} of its own structure only if \eqn{b_0 = 0}{b0 = 0}
#' (and a constant \eqn{f_0}{f0} mean only if it is \eqn{h(0)}). The same
#' condition governs the sigmoid-gated model (Yan et al. 2025b), where it
#' decides whether every parameter is estimated at the parametric rate or
#' \eqn{\exp(\tau)}{exp(tau)} at \eqn{n^{-1/2} \Delta^{-2}} and
#' \eqn{(\beta, \eta, \nu)}{(beta, eta, nu)} at \eqn{n^{-1/2} \Delta^{-1}}
#' (see [cmoe_loss()]); `gate` only names the model in the reason.
#'
#' @param pretrained A [pretrained_model()].
#' @param expert The prompt's expert structure: `"linear"`, `"sigmoid"` or
#'   `"tanh"`.
#' @param gate `"constant"` or `"sigmoid"`: the prompt's weight (see
#'   [cmoe_params()]).
#' @param intercept `TRUE` if the prompt expert has an intercept.
#' @return `TRUE`, `FALSE` or `NA`, of class `cmoe_distinguishability`, with
#'   the reason in attribute `"reason"` (printed).
#' @references Yan, F., Nguyen, H., Le, D., Akbarian, P. and Ho, N. (2025a).
#'   Understanding expert structures on minimax parameter estimation in
#'   contaminated mixture of experts. AISTATS 2025.
#'
#'   Yan, F., Nguyen, H., Le, D., Akbarian, P., Ho, N. and Rinaldo, A.
#'   (2025b). On minimax estimation of parameters in softmax-contaminated
#'   mixture of experts. NeurIPS 2025, arXiv:2505.18455.
#' @seealso [cmoe_loss()], [cmoe_study()].
#' @examples
#' distinguishable(pretrained_model("laplace", eta0 = c(2, 0), nu0 = 1), "linear")
#' distinguishable(pretrained_model("gaussian", eta0 = c(2, 0), nu0 = 1), "linear")
#' distinguishable(pretrained_model("gaussian", "tanh", eta0 = c(2, 0), nu0 = 1), "linear")
#' isTRUE(distinguishable(pretrained_model("gaussian", eta0 = c(2, 0), nu0 = 1), "tanh"))
#' # the sigmoid-gated setting of Yan et al. (2025b): tanh(eta'x) on both sides
#' f0 <- pretrained_model("gaussian", "tanh", eta0 = c(1, 0, 0), nu0 = 0.001)
#' distinguishable(f0, "tanh", gate = "sigmoid", intercept = FALSE)
#' @export
distinguishable <- function(pretrained, expert = "linear", gate = "constant", intercept = TRUE) {
  pretrained <- check_pretrained(pretrained)
  expert <- check_expert(expert, "expert")
  gate <- check_gate(gate, "gate")
  check_flag(intercept, "intercept")
  model <- if (gate == "sigmoid") " (sigmoid gate)" else ""
  verdict <- function(value, ...) {
    structure(value, reason = paste0(..., model), class = "cmoe_distinguishability")
  }
  family <- pretrained$family
  if (family == "user") {
    return(verdict(NA, "f0 is a user's log-density: distinguishability depends on its ",
                   "form and cannot be decided from the family."))
  }
  if (family != "gaussian") {
    close <- family == "student" && pretrained$df > 30
    return(verdict(TRUE, "f0 is ", family, ", not Gaussian: no linear combination of f0, the ",
                   "Gaussian prompt density and its derivatives vanishes",
                   if (close) sprintf(" (but with df = %g f0 is close to Gaussian, so expect merging-like behaviour at practical sample sizes)", pretrained$df),
                   "."))
  }
  d <- length(pretrained$eta0) - 1
  slopes <- pretrained$eta0[seq_len(d)]
  structure_f0 <- pretrained$expert
  b0 <- pretrained$eta0[[d + 1]]
  if (structure_f0 == expert && (intercept || b0 == 0)) {
    return(verdict(FALSE, "f0 is Gaussian with the prompt's own (", expert, ") expert ",
                   "structure: as (eta, nu) -> (eta0, nu0) the prompt merges into f0."))
  }
  if (all(slopes == 0)) {
    level <- expert_value(structure_f0, b0)
    inside <- if (!intercept) {
      level == expert_value(expert, 0)
    } else {
      switch(expert, linear = TRUE, sigmoid = level > 0 && level < 1,
             tanh = level > -1 && level < 1)
    }
    if (inside) {
      return(verdict(FALSE, "f0 is Gaussian with a constant mean (", format(level),
                     "), which a ", expert, " prompt with zero slopes reproduces: ",
                     "the prompt can merge into f0."))
    }
  }
  if (structure_f0 == expert) {
    return(verdict(TRUE, "f0 is Gaussian with the prompt's (", expert, ") structure but the ",
                   "intercept b0 = ", format(b0), ", which a prompt without intercept cannot ",
                   "reproduce: distinguishable."))
  }
  verdict(TRUE, "f0 is Gaussian but its ", structure_f0, " expert is not a ", expert,
          " expert: the different expert structure restores distinguishability.")
}

#' @export
print.cmoe_distinguishability <- function(x, ...) {
  check_cmoe_distinguishability(x, "x")
  cat(if (is.na(x)) "Undetermined" else if (x) "Distinguishable" else "Not distinguishable",
      "\n", attr(x, "reason"), "\n", sep = "")
  invisible(x)
}
