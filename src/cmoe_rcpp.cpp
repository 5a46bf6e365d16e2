// Thin Rcpp layer over cmoe_core: converts R objects, checks the shapes the
// core relies on, and lets Rcpp turn any C++ exception into an R error.
// `avx2` asks for the AVX2 exponentials, used only where the processor runs
// them (R's kernel_path() resolves the `kernels` control into it).
#include <RcppEigen.h>

#include <stdexcept>
#include <string>

#include "cmoe_core.h"
#include "fast_exp.h"

using moerates::CmoeParams;

namespace {

void require(bool ok, const std::string& what) {
  if (!ok) throw std::invalid_argument("internal: " + what);
}

moerates::Expert expert_from(const std::string& name) {
  if (name == "linear") return moerates::Expert::Linear;
  if (name == "sigmoid") return moerates::Expert::Sigmoid;
  if (name == "tanh") return moerates::Expert::Tanh;
  throw std::invalid_argument("internal: unknown expert " + name);
}

// Internal parameters: list(lambda, eta, nu, gate, intercept), gate empty
// for a constant weight (then lambda in (0, 1)), else (beta, tau).
CmoeParams params_from(const Rcpp::List& p, int d) {
  const double lambda = Rcpp::as<double>(p["lambda"]);
  const double nu = Rcpp::as<double>(p["nu"]);
  const Eigen::VectorXd eta = Rcpp::as<Eigen::VectorXd>(p["eta"]);
  const Eigen::VectorXd gate = Rcpp::as<Eigen::VectorXd>(p["gate"]);
  const bool intercept = Rcpp::as<bool>(p["intercept"]);
  require(eta.size() == d + (intercept ? 1 : 0), "eta must have length d (+ 1 with intercept)");
  require(gate.size() == 0 || (gate.size() == d + 1 && gate.allFinite()),
          "gate must be empty or (beta, tau)");
  require(gate.size() > 0 || (lambda > 0 && lambda < 1), "lambda must be in (0, 1)");
  require(nu > 0 && std::isfinite(nu), "nu must be positive");
  return CmoeParams{lambda, eta, nu, gate};
}

moerates::CmoeStructure structure_from(const std::string& expert, const Rcpp::List& p) {
  return moerates::CmoeStructure{expert_from(expert), Rcpp::as<bool>(p["intercept"]),
                                 Rcpp::as<Eigen::VectorXd>(p["gate"]).size() > 0};
}

Rcpp::List params_to(const CmoeParams& p, bool intercept) {
  return Rcpp::List::create(Rcpp::Named("lambda") = p.lambda,
                            Rcpp::Named("eta") = Rcpp::wrap(p.eta),
                            Rcpp::Named("nu") = p.nu,
                            Rcpp::Named("gate") = Rcpp::wrap(p.gate),
                            Rcpp::Named("intercept") = intercept);
}

void check_case_weights(const Eigen::Ref<const Eigen::VectorXd>& w, Eigen::Index n) {
  require(w.size() == 0 || (w.size() == n && (w.array() > 0).all() && w.allFinite()),
          "case weights must be empty or one positive weight per observation");
}

bool use_avx2(bool requested) { return requested && moerates::detail::avx2_supported(); }

moerates::CmoeBounds bounds_from(const Rcpp::NumericVector& b) {
  require(b.size() == 3, "bounds must be (lambda, nu, gate)");
  require(b[0] > 0 && b[0] < 0.5 && b[1] > 0 && b[2] > 0, "bounds out of range");
  return moerates::CmoeBounds{b[0], b[1], b[2]};
}

}  // namespace

// `case_weights`: empty for an unweighted fit, else one positive weight per
// observation; `fixed_lambda`: 0 to estimate lambda, else its held value.
// [[Rcpp::export(.cmoe_em_cpp)]]
Rcpp::List cmoe_em_cpp(const Eigen::Map<Eigen::MatrixXd>& x, const Eigen::Map<Eigen::VectorXd>& y,
                       const Eigen::Map<Eigen::VectorXd>& logf0, const std::string& expert,
                       const Rcpp::List& start, int max_iter, double tol, int mstep_iter,
                       bool accelerate, const Rcpp::NumericVector& bounds,
                       const Eigen::Map<Eigen::VectorXd>& case_weights, double fixed_lambda,
                       bool avx2) {
  require(y.size() == x.rows() && logf0.size() == x.rows(),
          "x, y and logf0 must have one entry per observation");
  require(max_iter >= 0 && tol >= 0 && mstep_iter >= 1, "bad iteration settings");
  check_case_weights(case_weights, x.rows());
  require(fixed_lambda >= 0 && fixed_lambda < 1, "fixed_lambda must be in [0, 1)");
  const moerates::CmoeStructure model = structure_from(expert, start);
  require(!model.gated || fixed_lambda == 0, "a gated model has no lambda to hold");
  const moerates::CmoeResult res =
      moerates::cmoe_em(x, y, logf0, model, params_from(start, x.cols()),
                        max_iter, tol, mstep_iter, accelerate, bounds_from(bounds),
                        moerates::CmoeWeighting{case_weights, fixed_lambda}, use_avx2(avx2));
  return Rcpp::List::create(
      Rcpp::Named("params") = params_to(res.params, model.intercept),
      Rcpp::Named("loglik") = Rcpp::wrap(res.loglik),
      Rcpp::Named("posterior") = Rcpp::wrap(res.posterior),
      Rcpp::Named("iterations") = res.iterations,
      Rcpp::Named("converged") = res.converged,
      Rcpp::Named("lambda_bound_hits") = res.diag.lambda_bound_hits,
      Rcpp::Named("gate_stalls") = res.diag.gate_stalls,
      Rcpp::Named("gate_bound_hits") = res.diag.gate_bound_hits,
      Rcpp::Named("nu_floor_hits") = res.diag.nu_floor_hits,
      Rcpp::Named("prompt_empty") = res.diag.prompt_empty,
      Rcpp::Named("decreases") = res.diag.decreases,
      Rcpp::Named("squarem_fallbacks") = res.diag.squarem_fallbacks,
      Rcpp::Named("nonfinite") = res.diag.nonfinite,
      Rcpp::Named("kernels") = use_avx2(avx2) ? "avx2" : "portable");
}

// Per-row log p(y | x) and posterior prompt probabilities.
// [[Rcpp::export(.cmoe_log_density_cpp)]]
Rcpp::List cmoe_log_density_cpp(const Eigen::Map<Eigen::MatrixXd>& x,
                                const Eigen::Map<Eigen::VectorXd>& y,
                                const Eigen::Map<Eigen::VectorXd>& logf0,
                                const std::string& expert, const Rcpp::List& params,
                                bool avx2) {
  require(y.size() == x.rows() && logf0.size() == x.rows(),
          "x, y and logf0 must have one entry per observation");
  Eigen::VectorXd logdens(x.rows()), posterior(x.rows());
  moerates::cmoe_log_density(x, y, logf0, structure_from(expert, params),
                             params_from(params, x.cols()),
                             logdens, posterior, use_avx2(avx2));
  return Rcpp::List::create(Rcpp::Named("logdens") = Rcpp::wrap(logdens),
                            Rcpp::Named("posterior") = Rcpp::wrap(posterior));
}

// One M-step from given prompt weights; the expert's iterations start at
// start$eta.
// [[Rcpp::export(.cmoe_mstep_cpp)]]
Rcpp::List cmoe_mstep_cpp(const Eigen::Map<Eigen::MatrixXd>& x, const Eigen::Map<Eigen::VectorXd>& y,
                          const Eigen::Map<Eigen::VectorXd>& w, const std::string& expert,
                          const Rcpp::List& start, int mstep_iter,
                          const Rcpp::NumericVector& bounds,
                          const Eigen::Map<Eigen::VectorXd>& case_weights, bool avx2) {
  require(y.size() == x.rows() && w.size() == x.rows(),
          "x, y and w must have one entry per observation");
  require(mstep_iter >= 1, "mstep_iter must be positive");
  check_case_weights(case_weights, x.rows());
  const moerates::CmoeStructure model = structure_from(expert, start);
  return params_to(moerates::cmoe_m_step(x, y, w, model, params_from(start, x.cols()),
                                         mstep_iter, bounds_from(bounds), case_weights,
                                         use_avx2(avx2)),
                   model.intercept);
}
