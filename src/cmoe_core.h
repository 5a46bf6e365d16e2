// Numerical core of the contaminated mixture of experts
//   p(y | x) = (1 - s(x)) f0(y | x) + s(x) phi(y; h(x'a + b), nu),
// with a constant prompt weight s(x) = lambda or the sigmoid gate
// s(x) = 1 / (1 + exp(-(beta'x + tau))), and an expert with or without the
// intercept b.
// f0 is frozen, so the core only ever sees log f0 at the data, computed once
// by the caller. Plain C++ on Eigen: nothing here knows about R.
#ifndef MOERATES_CMOE_CORE_H
#define MOERATES_CMOE_CORE_H

#include <Eigen/Dense>
#include <vector>

namespace moerates {

enum class Expert { Linear, Sigmoid, Tanh };

// The model's shape: the expert's function, whether it has an intercept,
// and whether the prompt's weight is the sigmoid gate (else constant).
struct CmoeStructure {
  Expert expert;
  bool intercept;
  bool gated;
};

// eta = (a_1, ..., a_d, b): the intercept comes last, as in a'x + b, and is
// absent for an expert without one. gate = (beta_1, ..., beta_d, tau) for
// the sigmoid gate (empty for a constant weight, which is lambda; lambda is
// not used by a gated model).
struct CmoeParams {
  double lambda;
  Eigen::VectorXd eta;
  double nu;
  Eigen::VectorXd gate;
};

struct CmoeBounds {
  double lambda;  // lambda is kept in [lambda, 1 - lambda]
  double nu;      // smallest nu allowed
  double gate;    // every coordinate of the sigmoid gate is kept in [-gate, gate]
};

// What the likelihood weighs and holds: case weights c_i (empty: all 1), so
// that the objective is sum c_i log p(y_i | x_i), and a lambda held fixed
// (0: lambda is estimated), for the profile likelihood of lambda.
struct CmoeWeighting {
  Eigen::Ref<const Eigen::VectorXd> case_weights;
  double fixed_lambda;
};

struct CmoeDiagnostics {
  int lambda_bound_hits = 0;  // M-steps in which lambda was clamped
  int gate_stalls = 0;        // gate M-steps in which no Newton step raised the objective
  int gate_bound_hits = 0;    // gate M-steps that ended with a coordinate on its bound
  int nu_floor_hits = 0;      // M-steps in which nu was floored
  int prompt_empty = 0;       // M-steps with no prompt weight: (eta, nu) kept
  int decreases = 0;          // log-likelihood drops beyond rounding
  int squarem_fallbacks = 0;  // SQUAREM cycles that kept the plain EM step
  bool nonfinite = false;     // a step gave a non-finite likelihood
};

struct CmoeResult {
  CmoeParams params;
  std::vector<double> loglik;  // at the start and after every iteration
  Eigen::VectorXd posterior;   // P(prompt | x_i, y_i) at the returned params
  int iterations;
  bool converged;
  CmoeDiagnostics diag;
};

// EM from `start`: at most max_iter iterations (plain EM steps, or SQUAREM
// cycles of three EM steps when `accelerate`); stops when the last gain in
// log-likelihood and Aitken's estimate of the gain still to come are both
// below tol * (1 + |l_t|) (never when tol = 0). With case weights every
// observation's responsibility is multiplied by its weight in the M-step,
// lambda is the weighted mean posterior, and the log-likelihood reported is
// the weighted one (so whole-number weights give the fit of the data with
// rows repeated).
// A nonlinear expert's M-step takes at most mstep_iter Levenberg-Marquardt
// steps, each accepted only if it lowers the weighted residual sum of
// squares; the sigmoid gate's M-step (a weighted logistic regression with
// the posteriors as soft labels) at most mstep_iter Newton steps, each
// halved until it does not lower that concave objective. So the
// log-likelihood never decreases. With avx2 (only where
// detail::avx2_supported()) the exponentials use the AVX2 and FMA code.
CmoeResult cmoe_em(const Eigen::Ref<const Eigen::MatrixXd>& x,
                   const Eigen::Ref<const Eigen::VectorXd>& y,
                   const Eigen::Ref<const Eigen::VectorXd>& logf0, const CmoeStructure& model,
                   const CmoeParams& start, int max_iter, double tol, int mstep_iter,
                   bool accelerate, const CmoeBounds& bounds, const CmoeWeighting& weighting,
                   bool avx2);

// Per-observation log p(y | x) and posterior prompt probabilities at p.
double cmoe_log_density(const Eigen::Ref<const Eigen::MatrixXd>& x,
                        const Eigen::Ref<const Eigen::VectorXd>& y,
                        const Eigen::Ref<const Eigen::VectorXd>& logf0, const CmoeStructure& model,
                        const CmoeParams& p, Eigen::Ref<Eigen::VectorXd> logdens,
                        Eigen::Ref<Eigen::VectorXd> posterior, bool avx2);

// One M-step from given prompt weights w (turns weights into a start); the
// expert starts from start.eta and the gate from start.gate. lambda is set
// to the (case-weighted) mean of w, within bounds.
CmoeParams cmoe_m_step(const Eigen::Ref<const Eigen::MatrixXd>& x,
                       const Eigen::Ref<const Eigen::VectorXd>& y,
                       const Eigen::Ref<const Eigen::VectorXd>& w, const CmoeStructure& model,
                       const CmoeParams& start, int mstep_iter, const CmoeBounds& bounds,
                       const Eigen::Ref<const Eigen::VectorXd>& case_weights, bool avx2);

}  // namespace moerates

#endif
