// exp of non-positive arguments, shared by the E-steps of both models, and
// whether the AVX2 + FMA code that the GMoE pass also uses can run here.
#ifndef MOERATES_FAST_EXP_H
#define MOERATES_FAST_EXP_H

#include <cmath>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

// On x86-64 with GCC or clang, a version with AVX2 and FMA is compiled
// besides the baseline (SSE2) one through a function attribute, and chosen
// at run time when the processor has them: the package stays portable and
// is built with R's own flags, yet uses four lanes and fused multiply-adds
// where they exist. Not on Windows, where GCC does not align the stack for
// 32-byte vectors (GCC bug 54412).
#if defined(__x86_64__) && defined(__SSE2__) && (defined(__GNUC__) || defined(__clang__)) && \
    !defined(_WIN32)
#define MOERATES_HAVE_AVX2 1
#define MOERATES_TARGET_AVX2 __attribute__((target("avx2,fma")))
#include <immintrin.h>
#endif

namespace moerates {
namespace detail {

#if defined(__SSE2__)
// exp(x) of two values x <= 0: x = k log 2 + r with |r| <= log(2) / 2,
// exp(r) by its Taylor polynomial of degree 13 (truncation below 1e-17
// relative) and 2^k put into the exponent bits. Within about two ulp of
// std::exp (a test compares responsibilities down to 1e-250); 0 below -708.
inline __m128d exp_nonpositive_pd(__m128d x0) {
  const __m128d lower = _mm_set1_pd(-708.0);
  const __m128d shifter = _mm_set1_pd(6755399441055744.0);  // 1.5 * 2^52
  const __m128d keep = _mm_cmpge_pd(x0, lower);
  const __m128d x = _mm_max_pd(x0, lower);
  // kd holds round(x / log 2) in its low mantissa bits.
  const __m128d kd = _mm_add_pd(_mm_mul_pd(x, _mm_set1_pd(1.4426950408889634)), shifter);
  const __m128d k = _mm_sub_pd(kd, shifter);
  const __m128d r = _mm_sub_pd(_mm_sub_pd(x, _mm_mul_pd(k, _mm_set1_pd(0.6931471803691238))),
                               _mm_mul_pd(k, _mm_set1_pd(1.9082149292705877e-10)));
  // Estrin's scheme: a short dependency chain, so consecutive pairs overlap.
  const auto pair = [&r](double c0, double c1) {
    return _mm_add_pd(_mm_set1_pd(c0), _mm_mul_pd(_mm_set1_pd(c1), r));
  };
  const auto mul_add = [](__m128d a, __m128d b, __m128d c) {
    return _mm_add_pd(a, _mm_mul_pd(b, c));
  };
  const __m128d r2 = _mm_mul_pd(r, r);
  const __m128d r4 = _mm_mul_pd(r2, r2);
  const __m128d r8 = _mm_mul_pd(r4, r4);
  const __m128d low = mul_add(pair(1.0, 1.0), r2, pair(0.5, 1.0 / 6.0));
  const __m128d mid = mul_add(pair(1.0 / 24.0, 1.0 / 120.0), r2, pair(1.0 / 720.0, 1.0 / 5040.0));
  const __m128d high = mul_add(mul_add(pair(1.0 / 40320.0, 1.0 / 362880.0), r2,
                               pair(1.0 / 3628800.0, 1.0 / 39916800.0)),
                           r4, pair(1.0 / 479001600.0, 1.0 / 6227020800.0));
  const __m128d p = mul_add(mul_add(low, r4, mid), r8, high);
  const __m128i bits =
      _mm_slli_epi64(_mm_add_epi64(_mm_castpd_si128(kd), _mm_set1_epi64x(1023)), 52);
  return _mm_and_pd(_mm_mul_pd(p, _mm_castsi128_pd(bits)), keep);
}
#endif

#if defined(MOERATES_HAVE_AVX2)
MOERATES_TARGET_AVX2 inline __m256d fma_pd(double a, __m256d b, double c) {
  return _mm256_fmadd_pd(_mm256_set1_pd(a), b, _mm256_set1_pd(c));
}

// exp_nonpositive_pd() on four values, with its multiply-adds fused (so
// within rounding of it, not equal to it).
MOERATES_TARGET_AVX2 inline __m256d exp_nonpositive_pd4(__m256d x0) {
  const __m256d lower = _mm256_set1_pd(-708.0);
  const __m256d shifter = _mm256_set1_pd(6755399441055744.0);
  const __m256d keep = _mm256_cmp_pd(x0, lower, _CMP_GE_OQ);
  const __m256d x = _mm256_max_pd(x0, lower);
  const __m256d kd = _mm256_fmadd_pd(x, _mm256_set1_pd(1.4426950408889634), shifter);
  const __m256d k = _mm256_sub_pd(kd, shifter);
  const __m256d r = _mm256_fnmadd_pd(
      k, _mm256_set1_pd(1.9082149292705877e-10),
      _mm256_fnmadd_pd(k, _mm256_set1_pd(0.6931471803691238), x));
  const __m256d r2 = _mm256_mul_pd(r, r);
  const __m256d r4 = _mm256_mul_pd(r2, r2);
  const __m256d r8 = _mm256_mul_pd(r4, r4);
  const __m256d low = _mm256_fmadd_pd(r2, fma_pd(1.0 / 6.0, r, 0.5), fma_pd(1.0, r, 1.0));
  const __m256d mid = _mm256_fmadd_pd(r2, fma_pd(1.0 / 5040.0, r, 1.0 / 720.0),
                                      fma_pd(1.0 / 120.0, r, 1.0 / 24.0));
  const __m256d high = _mm256_fmadd_pd(
      r4, fma_pd(1.0 / 6227020800.0, r, 1.0 / 479001600.0),
      _mm256_fmadd_pd(r2, fma_pd(1.0 / 39916800.0, r, 1.0 / 3628800.0),
                      fma_pd(1.0 / 362880.0, r, 1.0 / 40320.0)));
  const __m256d p = _mm256_fmadd_pd(r8, high, _mm256_fmadd_pd(r4, mid, low));
  const __m256i bits = _mm256_slli_epi64(
      _mm256_add_epi64(_mm256_castpd_si256(kd), _mm256_set1_epi64x(1023)), 52);
  return _mm256_and_pd(_mm256_mul_pd(p, _mm256_castsi256_pd(bits)), keep);
}

MOERATES_TARGET_AVX2 inline void exp_nonpositive_avx2(double* v, int n) {
  int i = 0;
  for (; i + 3 < n; i += 4) _mm256_storeu_pd(v + i, exp_nonpositive_pd4(_mm256_loadu_pd(v + i)));
  for (; i < n; ++i) v[i] = std::exp(v[i]);
}

inline bool cpu_has_avx2_fma() {
  static const bool has = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  }();
  return has;
}
#endif

// Whether this build and this processor can run the AVX2 paths. Each fit
// asks for them or not (its `kernels` control), so that one session can run
// both and a fit records which one it used.
inline bool avx2_supported() {
#if defined(MOERATES_HAVE_AVX2)
  return cpu_has_avx2_fma();
#else
  return false;
#endif
}

// exp(v) in place for v <= 0: the E-steps' largest cost, done four values
// at a time with `avx2` (which the caller has checked against
// avx2_supported()) and two where SSE2 is available.
inline void exp_nonpositive(double* v, int n, bool avx2) {
#if defined(MOERATES_HAVE_AVX2)
  if (avx2) {
    exp_nonpositive_avx2(v, n);
    return;
  }
#else
  (void)avx2;
#endif
  int i = 0;
#if defined(__SSE2__)
  for (; i + 1 < n; i += 2) _mm_storeu_pd(v + i, exp_nonpositive_pd(_mm_loadu_pd(v + i)));
#endif
  for (; i < n; ++i) v[i] = std::exp(v[i]);
}

}  // namespace detail
}  // namespace moerates

#endif
