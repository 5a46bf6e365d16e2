#' moerates: convergence rates of maximum likelihood in mixtures of experts
#'
#' Gaussian-gated mixtures of experts (GMoE): parameters
#' ([gmoe_params()], [gmoe_paper_truth()]), simulation ([rgmoe()]),
#' densities ([dgmoe()]), an EM fit in C++ ([fit_gmoe()], [gmoe_control()])
#' with S3 methods, and the Voronoi losses ([voronoi_loss()]) that measure
#' the distance between a fit and the truth.
#'
#' @keywords internal
#' @useDynLib moerates, .registration = TRUE
#' @importFrom Rcpp sourceCpp
#' @importFrom stats coef fitted logLik nobs predict residuals simulate
"_PACKAGE"

# ggplot2's pronoun for columns of the plotted data (autoplot.rate_study).
utils::globalVariables(".data")
