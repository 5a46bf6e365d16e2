#' moerates: convergence rates of maximum likelihood in mixtures of experts
#'
#' Gaussian-gated mixtures of experts (GMoE): parameters
#' ([gmoe_params()], [gmoe_paper_truth()]), simulation ([rgmoe()]),
#' densities ([dgmoe()]), an EM fit in C++ ([fit_gmoe()], [gmoe_control()])
#' with S3 methods, and the Voronoi losses ([voronoi_loss()]) that measure
#' the distance between a fit and the truth.
#'
#' Contaminated mixtures of experts, a frozen pre-trained model
#' ([pretrained_model()]) mixed with one trainable prompt expert
#' ([cmoe_params()]): simulation ([rcmoe()]), densities ([dcmoe()]), an EM
#' fit in C++ ([fit_cmoe()]), losses ([cmoe_loss()]) and
#' distinguishability ([distinguishable()]).
#'
#' Convergence-rate studies ([rate_study()], [gmoe_study()],
#' [cmoe_study()]) run on any 'future' backend, resume from checkpoints and
#' estimate log-log slopes ([rate_slopes()]).
#'
#' @keywords internal
#' @useDynLib moerates, .registration = TRUE
#' @importFrom Rcpp sourceCpp
#' @importFrom stats coef fitted logLik nobs predict residuals simulate vcov
"_PACKAGE"

# ggplot2's pronoun for columns of the plotted data (autoplot.rate_study).
utils::globalVariables(".data")
