// SQUAREM (Varadhan and Roland 2008, scheme S3) for any EM map, shared by
// both models. A `Map` provides:
//   double evaluate(const Params& p)  E-step at p, returns its log-likelihood;
//   double em_step(Params& p)         p <- F(p) from the E-step last done at p,
//                                     returns the log-likelihood at the new p
//                                     with its E-step done;
//   Eigen::VectorXd to_free(const Params& p) and Params from_free(phi):
//     a parametrisation in which every vector is a valid parameter, so that
//     a jump never leaves the parameter space.
#ifndef MOERATES_SQUAREM_H
#define MOERATES_SQUAREM_H

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>

namespace moerates {

// One cycle from p, whose E-step is done: two EM steps, then a jump along
// them and an EM step from the jump. The jump's EM step is kept if it ends
// at least as high as p; otherwise the step length is halved towards the
// plain steps (alpha = -1 lands on the second EM step, whose own EM step
// cannot end lower), and after a few halvings the second EM step is kept
// (`fallbacks` counted). So the log-likelihood never decreases. Returns the
// log-likelihood at the new p, whose E-step is done; a non-finite value
// means an EM step failed and p is unchanged. `em_gain` is set to the gain
// of the first, plain EM step from p: the change by which plain EM would
// judge p converged.
template <class Map, class Params>
double squarem_cycle(Map& map, Params& p, double ll0, int& fallbacks, double& em_gain) {
  const Eigen::VectorXd phi0 = map.to_free(p);
  Params p1 = p;
  const double ll1 = map.em_step(p1);
  if (!std::isfinite(ll1)) return ll1;
  em_gain = ll1 - ll0;
  Params p2 = p1;
  const double ll2 = map.em_step(p2);
  if (!std::isfinite(ll2)) return ll2;
  const Eigen::VectorXd phi1 = map.to_free(p1);
  const Eigen::VectorXd r = phi1 - phi0;
  const Eigen::VectorXd v = map.to_free(p2) - phi1 - r;
  const double v_norm = v.norm();
  if (v_norm > 0 && std::isfinite(v_norm)) {
    double alpha = std::min(-r.norm() / v_norm, -1.0);
    for (int attempt = 0; attempt < 4 && alpha < -1.0; ++attempt) {
      Params jump = map.from_free(phi0 - 2.0 * alpha * r + alpha * alpha * v);
      if (std::isfinite(map.evaluate(jump))) {
        const double ll3 = map.em_step(jump);
        if (std::isfinite(ll3) && ll3 >= ll0) {
          p = jump;
          return ll3;
        }
      }
      alpha = (alpha - 1.0) / 2.0;
    }
    ++fallbacks;
    map.evaluate(p2);
  }
  p = p2;
  return ll2;
}

}  // namespace moerates

#endif
