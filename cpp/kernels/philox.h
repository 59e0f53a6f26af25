// cpp/kernels/philox.h — the counter-based generator behind every random op: Philox4x32-10
// (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11), plus the conversions of
// its 32-bit words to uniform floats. A draw is a pure function of (key, counter), so values do
// not depend on how the work is split over threads.
#pragma once
#include <cstdint>

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
};

// Uniform in [0, 1) with 24 random bits (exact in float32).
inline float unit24(uint32_t w) { return float(w >> 8) * (1.0f / 16777216.0f); }
// Uniform in [0, 1) with 53 random bits (exact in float64).
inline double unit53(uint32_t a, uint32_t b) {
  return double((uint64_t(a >> 5) << 26) | (b >> 6)) * (1.0 / 9007199254740992.0);
}

}  // namespace keras_cpp
