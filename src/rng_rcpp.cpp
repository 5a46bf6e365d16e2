// Thin Rcpp layer over rng_streams.h: R's .Random.seed holds the six state
// words as signed integers; they are the unsigned words modulo 2^32.
#include <Rcpp.h>

#include <cstdint>

#include "rng_streams.h"

// [[Rcpp::export(.rng_stream_cpp)]]
Rcpp::IntegerVector rng_stream_cpp(const Rcpp::IntegerVector& random_seed, double stream,
                                   double substream) {
  if (random_seed.size() != 7 || stream < 0 || substream < 0 || stream > 9.0e15 ||
      substream > 9.0e15) {
    Rcpp::stop("a L'Ecuyer-CMRG .Random.seed and non-negative stream indices are needed");
  }
  moerates::State6 seed{};
  for (int i = 0; i < 6; ++i) {
    seed[i] = static_cast<std::uint32_t>(random_seed[i + 1]);
  }
  const moerates::State6 out = moerates::mrg32k3a_jump(
      seed, static_cast<std::uint64_t>(stream), static_cast<std::uint64_t>(substream));
  Rcpp::IntegerVector res(7);
  res[0] = random_seed[0];
  for (int i = 0; i < 6; ++i) {
    res[i + 1] = static_cast<std::int32_t>(static_cast<std::uint32_t>(out[i]));
  }
  return res;
}
