// cpp/kernels/fused_chain.cpp — chain_f32 (fused_chain.h).
#include "kernels/fused_chain.h"

#if defined(__AVX2__)
#include <immintrin.h>
#endif

#include "kernels/ew.h"

namespace keras_cpp {
namespace fused {

namespace {
using B = ew::BinaryOp;

inline float op1(uint8_t c, float a, float b) {
  switch (static_cast<B>(c)) {
    case B::add: return a + b;
    case B::subtract: return a - b;
    default: return a * b;
  }
}

#if defined(__AVX2__)
constexpr int kU = 8;  // vectors per step: each link's op is picked once per 64 elements

template <B OP>
inline __m256 op8(__m256 a, __m256 b) {
  if constexpr (OP == B::add) return _mm256_add_ps(a, b);
  else if constexpr (OP == B::subtract) return _mm256_sub_ps(a, b);
  else return _mm256_mul_ps(a, b);
}

// v[u] = op(v[u], w[u]) or op(w[u], v[u]) for the kU vectors at element i.
template <B OP>
inline void link8(__m256* v, const ChainRef& r, int64_t i, bool prev_first) {
  if (r.s == 0) {
    const __m256 w = _mm256_set1_ps(*r.p);
    if (prev_first)
      for (int u = 0; u < kU; ++u) v[u] = op8<OP>(v[u], w);
    else
      for (int u = 0; u < kU; ++u) v[u] = op8<OP>(w, v[u]);
    return;
  }
  const float* p = r.p + i;
  if (prev_first)
    for (int u = 0; u < kU; ++u) v[u] = op8<OP>(v[u], _mm256_loadu_ps(p + 8 * u));
  else
    for (int u = 0; u < kU; ++u) v[u] = op8<OP>(_mm256_loadu_ps(p + 8 * u), v[u]);
}

inline void link8(uint8_t c, __m256* v, const ChainRef& r, int64_t i, bool prev_first) {
  switch (static_cast<B>(c)) {
    case B::add: return link8<B::add>(v, r, i, prev_first);
    case B::subtract: return link8<B::subtract>(v, r, i, prev_first);
    default: return link8<B::multiply>(v, r, i, prev_first);
  }
}
#endif
}  // namespace

bool chain_op(uint8_t code) {
  const B op = static_cast<B>(code);
  return op == B::add || op == B::subtract || op == B::multiply;
}

bool chain_f32(const ChainLink* links, int nlinks, ChainRef x0, const ChainRef* y, float* dst, int64_t n) {
#if defined(__AVX2__)
  int64_t i = 0;
  for (; i + 8 * kU <= n; i += 8 * kU) {
    __m256 v[kU];
    if (x0.s == 0) {
      for (int u = 0; u < kU; ++u) v[u] = _mm256_set1_ps(*x0.p);
    } else {
      for (int u = 0; u < kU; ++u) v[u] = _mm256_loadu_ps(x0.p + i + 8 * u);
    }
    link8(links[0].code, v, y[0], i, true);
    for (int j = 1; j < nlinks; ++j) link8(links[j].code, v, y[j], i, links[j].prev_first);
    for (int u = 0; u < kU; ++u) _mm256_storeu_ps(dst + i + 8 * u, v[u]);
  }
  for (; i < n; ++i) {
    float v = op1(links[0].code, x0.p[i * x0.s], y[0].p[i * y[0].s]);
    for (int j = 1; j < nlinks; ++j) {
      const float w = y[j].p[i * y[j].s];
      v = links[j].prev_first ? op1(links[j].code, v, w) : op1(links[j].code, w, v);
    }
    dst[i] = v;
  }
  return true;
#else
  (void)links, (void)nlinks, (void)x0, (void)y, (void)dst, (void)n;
  return false;
#endif
}

}  // namespace fused
}  // namespace keras_cpp
