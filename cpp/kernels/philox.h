// cpp/kernels/philox.h — the counter-based generator behind every random op: Philox4x32-10
// (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11), plus the conversions of
// its 32-bit words to uniform floats. A draw is a pure function of (key, counter), so values do
// not depend on how the work is split over threads.
#pragma once
#include <cstdint>
#if defined(__AVX2__)
#include <immintrin.h>
#endif

namespace keras_cpp {

struct Philox4x32 {
  uint32_t key[2];

  // Encrypt one 128-bit counter into four random 32-bit words.
  void block(const uint32_t ctr[4], uint32_t out[4]) const {
    uint32_t c0 = ctr[0], c1 = ctr[1], c2 = ctr[2], c3 = ctr[3];
    uint32_t k0 = key[0], k1 = key[1];
    for (int r = 0; r < 10; ++r) {
      if (r) { k0 += 0x9E3779B9u; k1 += 0xBB67AE85u; }
      uint64_t p0 = uint64_t(0xD2511F53u) * c0, p1 = uint64_t(0xCD9E8D57u) * c2;
      uint32_t hi0 = uint32_t(p0 >> 32), lo0 = uint32_t(p0), hi1 = uint32_t(p1 >> 32), lo1 = uint32_t(p1);
      c0 = hi1 ^ c1 ^ k0;
      c1 = lo1;
      c2 = hi0 ^ c3 ^ k1;
      c3 = lo0;
    }
    out[0] = c0; out[1] = c1; out[2] = c2; out[3] = c3;
  }

  // Eight blocks at once, the same words as block(): ctr[k][i] is word k of block i's counter,
  // out[4 * i + k] word k of its result. The AVX2 path runs the eight rounds in parallel lanes.
  void block8(const uint32_t ctr[4][8], uint32_t out[32]) const {
#if defined(__AVX2__)
    __m256i c0 = load(ctr[0]), c1 = load(ctr[1]), c2 = load(ctr[2]), c3 = load(ctr[3]);
    const __m256i m0 = _mm256_set1_epi32(int(0xD2511F53u)), m1 = _mm256_set1_epi32(int(0xCD9E8D57u));
    uint32_t k0 = key[0], k1 = key[1];
    for (int r = 0; r < 10; ++r) {
      if (r) { k0 += 0x9E3779B9u; k1 += 0xBB67AE85u; }
      __m256i hi0, lo0, hi1, lo1;
      mulhilo(c0, m0, hi0, lo0);
      mulhilo(c2, m1, hi1, lo1);
      c0 = _mm256_xor_si256(_mm256_xor_si256(hi1, c1), _mm256_set1_epi32(int(k0)));
      c1 = lo1;
      c2 = _mm256_xor_si256(_mm256_xor_si256(hi0, c3), _mm256_set1_epi32(int(k1)));
      c3 = lo0;
    }
    // 4x8 transpose: lane i of c0..c3 becomes out[4i .. 4i+3].
    __m256i t0 = _mm256_unpacklo_epi32(c0, c1), t1 = _mm256_unpackhi_epi32(c0, c1);
    __m256i t2 = _mm256_unpacklo_epi32(c2, c3), t3 = _mm256_unpackhi_epi32(c2, c3);
    __m256i u0 = _mm256_unpacklo_epi64(t0, t2), u1 = _mm256_unpackhi_epi64(t0, t2);  // blocks 0|4, 1|5
    __m256i u2 = _mm256_unpacklo_epi64(t1, t3), u3 = _mm256_unpackhi_epi64(t1, t3);  // blocks 2|6, 3|7
    auto* o = reinterpret_cast<__m256i*>(out);
    _mm256_storeu_si256(o + 0, _mm256_permute2x128_si256(u0, u1, 0x20));
    _mm256_storeu_si256(o + 1, _mm256_permute2x128_si256(u2, u3, 0x20));
    _mm256_storeu_si256(o + 2, _mm256_permute2x128_si256(u0, u1, 0x31));
    _mm256_storeu_si256(o + 3, _mm256_permute2x128_si256(u2, u3, 0x31));
#else
    for (int i = 0; i < 8; ++i) {
      uint32_t c[4] = {ctr[0][i], ctr[1][i], ctr[2][i], ctr[3][i]};
      block(c, out + 4 * i);
    }
#endif
  }

 private:
#if defined(__AVX2__)
  static __m256i load(const uint32_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
  // 32x32 -> 64-bit products of all eight lanes, split into high and low words.
  static void mulhilo(__m256i a, __m256i m, __m256i& hi, __m256i& lo) {
    __m256i ev = _mm256_mul_epu32(a, m), od = _mm256_mul_epu32(_mm256_srli_epi64(a, 32), m);
    lo = _mm256_blend_epi32(ev, _mm256_slli_epi64(od, 32), 0xAA);
    hi = _mm256_blend_epi32(_mm256_srli_epi64(ev, 32), od, 0xAA);
  }
#endif
};

// Uniform in [0, 1) with 24 random bits (exact in float32).
inline float unit24(uint32_t w) { return float(w >> 8) * (1.0f / 16777216.0f); }
// Uniform in [0, 1) with 53 random bits (exact in float64).
inline double unit53(uint32_t a, uint32_t b) {
  return double((uint64_t(a >> 5) << 26) | (b >> 6)) * (1.0 / 9007199254740992.0);
}

}  // namespace keras_cpp
