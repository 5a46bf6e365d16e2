// Thin Rcpp layer over gmoe_core: converts R objects, checks the shapes the
// core relies on, and lets Rcpp turn any C++ exception into an R error. The
// R callers validate every argument first and reword what still fails here
// (see gmoe_cpp() in R/validate.R), so these messages are for developers.
#include <RcppEigen.h>

#include <cmath>
#include <string>

#include "gmoe_core.h"
#include "gmoe_fit.h"
#include "gmoe_newton.h"

using moerates::GmoeParams;

namespace {

Eigen::Map<const Eigen::MatrixXd> as_map(const Rcpp::NumericMatrix& m) {
  return Eigen::Map<const Eigen::MatrixXd>(m.begin(), m.nrow(), m.ncol());
}

Eigen::Map<const Eigen::VectorXd> as_map(const Rcpp::NumericVector& v) {
  return Eigen::Map<const Eigen::VectorXd>(v.begin(), v.size());
}

void require(bool ok, const std::string& what) {
  if (!ok) throw std::invalid_argument(what);
}

// The AVX2 code only where asked for and where the processor runs it.
bool use_avx2(bool requested) { return requested && moerates::detail::avx2_supported(); }

GmoeParams params_from_list(const Rcpp::List& p, int d) {
  const Rcpp::NumericVector pi = p["pi"], b = p["b"], nu = p["nu"];
  const Rcpp::NumericMatrix c = p["c"], a = p["a"];
  const Rcpp::NumericVector gamma = p["Gamma"];
  const int k = pi.size();
  require(k >= 1, "no components");
  require(c.nrow() == k && c.ncol() == d, "c must be k x d");
  require(a.nrow() == k && a.ncol() == d, "a must be k x d");
  require(gamma.size() == d * d * k, "Gamma must be d x d x k");
  require(b.size() == k && nu.size() == k, "b and nu must have length k");
  GmoeParams out(k, d);
  out.pi = as_map(pi);
  out.c = as_map(c);
  out.a = as_map(a);
  out.Gamma = Eigen::Map<const Eigen::MatrixXd>(gamma.begin(), d, d * k);
  out.b = as_map(b);
  out.nu = as_map(nu);
  return out;
}

Rcpp::List params_to_list(const GmoeParams& p) {
  const int k = p.k(), d = p.d();
  Rcpp::NumericVector gamma(p.Gamma.data(), p.Gamma.data() + p.Gamma.size());
  gamma.attr("dim") = Rcpp::IntegerVector::create(d, d, k);
  Rcpp::List out = Rcpp::List::create(
      Rcpp::Named("pi") = Rcpp::wrap(p.pi), Rcpp::Named("c") = Rcpp::wrap(p.c),
      Rcpp::Named("Gamma") = gamma, Rcpp::Named("a") = Rcpp::wrap(p.a),
      Rcpp::Named("b") = Rcpp::wrap(p.b), Rcpp::Named("nu") = Rcpp::wrap(p.nu));
  out.attr("class") = "gmoe_params";
  return out;
}

Rcpp::NumericMatrix matrix_to_r(const Eigen::MatrixXd& m) {
  Rcpp::NumericMatrix out(m.rows(), m.cols());
  std::copy(m.data(), m.data() + m.size(), out.begin());
  return out;
}

// The bounds in the units of the fit, as fit_gmoe() maps them (see
// gmoe_bounds_in_units() in R/bounds-gmoe.R).
moerates::Bounds bounds_from(const Rcpp::List& b, int d) {
  const Rcpp::NumericVector gamma = b["gamma"], a_max = b["a_max"], b_shift = b["b_shift"];
  const double nu = b["nu"], weight = b["weight"], b_lo = b["b_lo"], b_hi = b["b_hi"];
  require(gamma.size() == d && a_max.size() == d && b_shift.size() == d,
          "gamma, a_max and b_shift must have length d");
  moerates::Bounds out;
  out.gamma = as_map(gamma);
  out.a_max = as_map(a_max);
  out.b_shift = as_map(b_shift);
  out.nu = nu;
  out.weight = weight;
  out.b_lo = b_lo;
  out.b_hi = b_hi;
  require((out.gamma.array() > 0).all() && nu > 0 && weight > 0 && (out.a_max.array() > 0).all() &&
              b_lo < b_hi,
          "bounds must be positive and b_lo < b_hi");
  return out;
}

Rcpp::DataFrame activity_to_r(const moerates::BoundActivity& act) {
  auto col = [](const Eigen::Array<bool, Eigen::Dynamic, 1>& v) {
    return Rcpp::LogicalVector(v.data(), v.data() + v.size());
  };
  return Rcpp::DataFrame::create(
      Rcpp::Named("component") = Rcpp::seq_len(act.weight.size()),
      Rcpp::Named("weight") = col(act.weight), Rcpp::Named("gamma") = col(act.gamma),
      Rcpp::Named("nu") = col(act.nu), Rcpp::Named("a") = col(act.a),
      Rcpp::Named("b") = col(act.b));
}

}  // namespace

// [[Rcpp::export(.gmoe_fit_cpp)]]
Rcpp::List gmoe_fit_cpp(const Rcpp::NumericMatrix& x, const Rcpp::NumericVector& y,
                        const Rcpp::List& start, int max_iter, double tol,
                        const std::string& scheme, int threads, bool avx2,
                        const Rcpp::List& bounds) {
  require(y.size() == x.nrow(), "y must have one value per row of x");
  require(max_iter >= 0 && tol >= 0, "max_iter and tol must be non-negative");
  require(threads >= 1, "threads must be positive");
  require(scheme == "newton" || scheme == "squarem" || scheme == "none",
          "scheme must be newton, squarem or none");
  const GmoeParams p0 = params_from_list(start, x.ncol());
  const auto xm = as_map(x);
  const auto ym = as_map(y);
  moerates::FitOptions options;
  options.max_iter = max_iter;
  options.tol = tol;
  options.scheme = scheme == "newton" ? moerates::Scheme::kNewton
                   : scheme == "squarem" ? moerates::Scheme::kSquarem
                                         : moerates::Scheme::kEm;
  options.threads = threads;
  options.avx2 = use_avx2(avx2);
  const moerates::EmResult res = moerates::gmoe_fit(xm, ym, p0, options, bounds_from(bounds, x.ncol()));
  // An unusable start has no responsibilities; the caller reports it.
  const bool usable = std::isfinite(res.loglik.front());
  return Rcpp::List::create(
      Rcpp::Named("params") = params_to_list(res.params),
      Rcpp::Named("resp") = usable ? matrix_to_r(moerates::posterior(xm, y.begin(), res.params,
                                                                     false, options.avx2))
                                   : Rcpp::NumericMatrix(0, 0),
      Rcpp::Named("loglik") = Rcpp::wrap(res.loglik),
      Rcpp::Named("iterations") = res.iterations,
      Rcpp::Named("converged") = res.converged,
      Rcpp::Named("remaining") = res.remaining,
      Rcpp::Named("gamma_floor_hits") = Rcpp::wrap(res.diag.gamma_floor_hits),
      Rcpp::Named("nu_floor_hits") = Rcpp::wrap(res.diag.nu_floor_hits),
      Rcpp::Named("collapsed_at") = Rcpp::wrap(res.diag.collapsed_at),
      Rcpp::Named("bounds") = activity_to_r(res.active),
      Rcpp::Named("decreases") = res.diag.decreases,
      Rcpp::Named("squarem_fallbacks") = res.diag.squarem_fallbacks,
      Rcpp::Named("passes") = res.diag.passes,
      Rcpp::Named("information_passes") = res.diag.information_passes,
      Rcpp::Named("newton_steps") = res.diag.newton_steps,
      Rcpp::Named("nonfinite") = res.diag.nonfinite,
      Rcpp::Named("kernels") = options.avx2 ? "avx2" : "portable");
}

// Log-likelihood, score and Hessian at `params` in the parametrisation of
// ThetaLayout (gmoe_newton.h), every weight free.
// [[Rcpp::export(.gmoe_information_cpp)]]
Rcpp::List gmoe_information_cpp(const Rcpp::NumericMatrix& x, const Rcpp::NumericVector& y,
                                const Rcpp::List& params, int threads, bool avx2) {
  require(y.size() == x.nrow(), "y must have one value per row of x");
  require(threads >= 1, "threads must be positive");
  const GmoeParams p = params_from_list(params, x.ncol());
  const moerates::ThetaLayout layout(p.k(), p.d(), std::vector<bool>(p.k(), true));
  const moerates::Information info =
      moerates::information(as_map(x), as_map(y), p, layout, threads, use_avx2(avx2));
  // the score again, from the E-step's statistics (what the Newton phase uses)
  moerates::ComponentStats stats(p, use_avx2(avx2));
  moerates::e_step(as_map(x), as_map(y), p, stats, threads);
  return Rcpp::List::create(Rcpp::Named("loglik") = info.loglik,
                            Rcpp::Named("theta") = Rcpp::wrap(layout.pack(p)),
                            Rcpp::Named("score") = Rcpp::wrap(info.score),
                            Rcpp::Named("score_em") =
                                Rcpp::wrap(moerates::score_from_stats(stats, p, layout)),
                            Rcpp::Named("hessian") = matrix_to_r(info.hessian));
}

// theta (ThetaLayout, every weight free) of GMoE parameters.
// [[Rcpp::export(.gmoe_pack_cpp)]]
Rcpp::NumericVector gmoe_pack_cpp(const Rcpp::List& params) {
  const Rcpp::NumericMatrix c = params["c"];
  const GmoeParams p = params_from_list(params, c.ncol());
  const moerates::ThetaLayout layout(p.k(), p.d(), std::vector<bool>(p.k(), true));
  return Rcpp::wrap(layout.pack(p));
}

// GMoE parameters from theta (ThetaLayout, every weight free).
// [[Rcpp::export(.gmoe_unpack_cpp)]]
Rcpp::List gmoe_unpack_cpp(const Rcpp::NumericVector& theta, const Rcpp::List& like) {
  const Rcpp::NumericMatrix c = like["c"];
  const GmoeParams p = params_from_list(like, c.ncol());
  const moerates::ThetaLayout layout(p.k(), p.d(), std::vector<bool>(p.k(), true));
  require(theta.size() == layout.size(), "theta has the wrong length");
  return params_to_list(layout.unpack(as_map(theta), p));
}

// One M-step from given responsibilities (turns a hard partition into a
// start); `current` supplies the atoms of components given no weight.
// [[Rcpp::export(.gmoe_mstep_cpp)]]
Rcpp::List gmoe_mstep_cpp(const Rcpp::NumericMatrix& x, const Rcpp::NumericVector& y,
                          const Rcpp::NumericMatrix& resp, const Rcpp::List& current,
                          const Rcpp::List& bounds, bool avx2) {
  require(y.size() == x.nrow() && resp.nrow() == x.nrow(),
          "x, y and resp must have the same number of rows");
  GmoeParams p = params_from_list(current, x.ncol());
  require(resp.ncol() == p.k(), "resp must have k columns");
  moerates::ComponentStats stats(p, use_avx2(avx2));
  moerates::accumulate(as_map(x), as_map(y), as_map(resp), stats);
  moerates::EmDiagnostics diag(p.k());
  moerates::m_step(stats, x.nrow(), bounds_from(bounds, x.ncol()), 1, p, diag);
  return params_to_list(p);
}

// "joint": log p(x, y) per row; "conditional": log p(y | x); "gate": the
// n x k matrix of log gate probabilities log g_j(x).
// [[Rcpp::export(.gmoe_log_density_cpp)]]
SEXP gmoe_log_density_cpp(const Rcpp::NumericMatrix& x, const Rcpp::NumericVector& y,
                          const Rcpp::List& params, const std::string& what, bool avx2) {
  const GmoeParams p = params_from_list(params, x.ncol());
  const auto xm = as_map(x);
  const bool simd = use_avx2(avx2);
  if (what == "gate") return matrix_to_r(moerates::posterior(xm, nullptr, p, true, simd));
  require(y.size() == x.nrow(), "y must have one value per row of x");
  if (what == "conditional") return Rcpp::wrap(moerates::log_conditional(xm, y.begin(), p, simd));
  require(what == "joint", "what must be joint, conditional or gate");
  return Rcpp::wrap(moerates::log_density(xm, y.begin(), p, simd));
}

// Whether this build and this processor can run the AVX2 and FMA code.
// [[Rcpp::export(.avx2_supported_cpp)]]
bool avx2_supported_cpp() { return moerates::detail::avx2_supported(); }
