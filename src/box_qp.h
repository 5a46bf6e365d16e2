// Box-constrained convex quadratic programmes of a few variables: the
// least-squares fit of an expert within bounds on its slope and intercept.
#ifndef MOERATES_BOX_QP_H
#define MOERATES_BOX_QP_H

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <vector>

namespace moerates {

// Minimises f(t) = t'Ht / 2 - h't over lo <= t <= hi (bounds may be
// infinite), H symmetric positive semidefinite, by a primal active-set
// method started from t, which is first clipped into the box and then
// overwritten with the solution. Each step moves to the minimiser of f over
// the current free variables (through a pseudo-inverse, so a singular H is
// no trouble: the smallest move is taken) or to the first bound on the way
// there, so f never increases; when no fixed variable's multiplier has the
// wrong sign, t is the exact minimiser. Small problems only: every step
// factorises the free block afresh.
inline void box_qp(const Eigen::MatrixXd& H, const Eigen::VectorXd& h, const Eigen::VectorXd& lo,
                   const Eigen::VectorXd& hi, Eigen::VectorXd& t) {
  const int m = static_cast<int>(t.size());
  std::vector<int> state(m);  // 0: free, -1: at lo, +1: at hi
  for (int i = 0; i < m; ++i) {
    t(i) = std::min(std::max(t(i), lo(i)), hi(i));
    state[i] = t(i) == lo(i) ? -1 : (t(i) == hi(i) ? 1 : 0);
  }
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig;
  // Multipliers below this are rounding: releasing such a variable would
  // only cycle.
  const double noise = 1e-13 * (h.cwiseAbs().maxCoeff() + H.cwiseAbs().maxCoeff() *
                                                              std::max(1.0, t.cwiseAbs().maxCoeff()));
  for (int iter = 0; iter < 20 * (m + 1); ++iter) {
    std::vector<int> free;
    for (int i = 0; i < m; ++i) {
      if (state[i] == 0) free.push_back(i);
    }
    const int nf = static_cast<int>(free.size());
    if (nf > 0) {
      const Eigen::VectorXd grad = H * t - h;
      Eigen::MatrixXd hf(nf, nf);
      Eigen::VectorXd gf(nf);
      for (int a = 0; a < nf; ++a) {
        gf(a) = grad(free[a]);
        for (int b = 0; b < nf; ++b) hf(a, b) = H(free[a], free[b]);
      }
      eig.compute(hf);
      const Eigen::VectorXd& lam = eig.eigenvalues();
      const double cut = 1e-12 * std::max(lam.cwiseAbs().maxCoeff(), 1e-300);
      Eigen::VectorXd coef = -(eig.eigenvectors().transpose() * gf);
      for (int a = 0; a < nf; ++a) coef(a) = lam(a) > cut ? coef(a) / lam(a) : 0.0;
      const Eigen::VectorXd step = eig.eigenvectors() * coef;
      double alpha = 1.0;
      int block = -1, side = 0;
      for (int a = 0; a < nf; ++a) {
        const int i = free[a];
        if (step(a) < 0 && std::isfinite(lo(i)) && t(i) + step(a) < lo(i)) {
          const double reach = (lo(i) - t(i)) / step(a);
          if (reach < alpha) alpha = reach, block = i, side = -1;
        } else if (step(a) > 0 && std::isfinite(hi(i)) && t(i) + step(a) > hi(i)) {
          const double reach = (hi(i) - t(i)) / step(a);
          if (reach < alpha) alpha = reach, block = i, side = 1;
        }
      }
      for (int a = 0; a < nf; ++a) {
        const int i = free[a];
        t(i) = std::min(std::max(t(i) + alpha * step(a), lo(i)), hi(i));
      }
      if (block >= 0) {
        t(block) = side < 0 ? lo(block) : hi(block);
        state[block] = side;
        continue;
      }
    }
    const Eigen::VectorXd grad = H * t - h;
    int worst = -1;
    double most = noise;
    for (int i = 0; i < m; ++i) {
      const double wrong = state[i] < 0 ? -grad(i) : (state[i] > 0 ? grad(i) : 0.0);
      if (wrong > most) most = wrong, worst = i;
    }
    if (worst < 0) return;
    state[worst] = 0;
  }
}

}  // namespace moerates

#endif
