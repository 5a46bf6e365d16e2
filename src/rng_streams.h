// Jump-ahead for L'Ecuyer's MRG32k3a, the generator behind R's
// "L'Ecuyer-CMRG" kind and parallel::nextRNGStream(). A state advanced by
// A^(s 2^127 + t 2^76) starts stream s, substream t, counted from the seed:
// every (stream, substream) pair gets its own block of 2^76 draws, so a run
// keyed by (replication, design point) keeps its draws when the design
// grows. Transition matrices from L'Ecuyer, Simard, Chen and Kelton (2002),
// Operations Research 50(6), 1073-1075.
#ifndef MOERATES_RNG_STREAMS_H
#define MOERATES_RNG_STREAMS_H

#include <array>
#include <cstdint>

namespace moerates {

using Mat3 = std::array<std::array<std::uint64_t, 3>, 3>;
using State6 = std::array<std::uint64_t, 6>;

inline Mat3 mat_mul_mod(const Mat3& a, const Mat3& b, std::uint64_t m) {
  Mat3 c{};
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) {
      std::uint64_t s = 0;
      // each product is below 2^64 and each reduced term below 2^32
      for (int k = 0; k < 3; ++k) s += (a[i][k] * b[k][j]) % m;
      c[i][j] = s % m;
    }
  }
  return c;
}

inline Mat3 mat_pow_mod(Mat3 a, std::uint64_t e, std::uint64_t m) {
  Mat3 r{};
  for (int i = 0; i < 3; ++i) r[i][i] = 1;
  while (e > 0) {
    if (e & 1u) r = mat_mul_mod(r, a, m);
    a = mat_mul_mod(a, a, m);
    e >>= 1;
  }
  return r;
}

inline std::array<std::uint64_t, 3> mat_vec_mod(const Mat3& a, const std::uint64_t* v,
                                                std::uint64_t m) {
  std::array<std::uint64_t, 3> out{};
  for (int i = 0; i < 3; ++i) {
    std::uint64_t s = 0;
    for (int k = 0; k < 3; ++k) s += (a[i][k] * v[k]) % m;
    out[i] = s % m;
  }
  return out;
}

// The state of stream `stream`, substream `substream` from `seed` (the six
// state words of R's .Random.seed[2:7], as unsigned values).
inline State6 mrg32k3a_jump(const State6& seed, std::uint64_t stream, std::uint64_t substream) {
  constexpr std::uint64_t m1 = 4294967087ULL, m2 = 4294944443ULL;
  constexpr Mat3 a1p76{{{82758667ULL, 1871391091ULL, 4127413238ULL},
                        {3672831523ULL, 69195019ULL, 1871391091ULL},
                        {3672091415ULL, 3528743235ULL, 69195019ULL}}};
  constexpr Mat3 a2p76{{{1511326704ULL, 3759209742ULL, 1610795712ULL},
                        {4292754251ULL, 1511326704ULL, 3889917532ULL},
                        {3859662829ULL, 4292754251ULL, 3708466080ULL}}};
  constexpr Mat3 a1p127{{{2427906178ULL, 3580155704ULL, 949770784ULL},
                         {226153695ULL, 1230515664ULL, 3580155704ULL},
                         {1988835001ULL, 986791581ULL, 1230515664ULL}}};
  constexpr Mat3 a2p127{{{1464411153ULL, 277697599ULL, 1610723613ULL},
                         {32183930ULL, 1464411153ULL, 1022607788ULL},
                         {2824425944ULL, 32183930ULL, 2093834863ULL}}};
  const Mat3 j1 = mat_mul_mod(mat_pow_mod(a1p127, stream, m1),
                              mat_pow_mod(a1p76, substream, m1), m1);
  const Mat3 j2 = mat_mul_mod(mat_pow_mod(a2p127, stream, m2),
                              mat_pow_mod(a2p76, substream, m2), m2);
  const auto x = mat_vec_mod(j1, seed.data(), m1);
  const auto y = mat_vec_mod(j2, seed.data() + 3, m2);
  return State6{x[0], x[1], x[2], y[0], y[1], y[2]};
}

}  // namespace moerates

#endif  // MOERATES_RNG_STREAMS_H
