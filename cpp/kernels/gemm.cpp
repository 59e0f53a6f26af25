// cpp/kernels/gemm.cpp — the sgemm driver: C is cut into tiles (tasks) claimed by the threads of
// parallel_for; each task loops over K in KC slices, packs its slice of B (kc x tn, kept in L2)
// and of A (tm x kc) into per-thread buffers, and runs the micro-kernel over MR x NR blocks.
// Also the AVX2 6x16 micro-kernel (the build's x86-64-v3 baseline) and the run-time ISA choice.
#include "kernels/sgemm.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>

#include "kernels/parallel.h"

#if defined(__AVX2__)
#include <immintrin.h>
#endif

namespace keras_cpp {
namespace blas {
namespace {

#if defined(__AVX2__) && defined(__FMA__)
constexpr int MR2 = 6, NR2 = 16;  // 12 ymm accumulators + 2 B loads + 1 broadcast

void kernel_6x16(int64_t kc, const float* ap, const float* bp, float* c, int64_t ldc, bool accumulate) {
  __m256 acc[MR2][2];
#pragma GCC unroll 6
  for (int r = 0; r < MR2; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
  for (int64_t p = 0; p < kc; ++p) {
    __m256 b0 = _mm256_load_ps(bp), b1 = _mm256_load_ps(bp + 8);
#pragma GCC unroll 6
    for (int r = 0; r < MR2; ++r) {
      __m256 a = _mm256_broadcast_ss(ap + r);
      acc[r][0] = _mm256_fmadd_ps(a, b0, acc[r][0]);
      acc[r][1] = _mm256_fmadd_ps(a, b1, acc[r][1]);
    }
    ap += MR2;
    bp += NR2;
  }
#pragma GCC unroll 6
  for (int r = 0; r < MR2; ++r) {
    float* cr = c + r * ldc;
    if (accumulate) {
      acc[r][0] = _mm256_add_ps(acc[r][0], _mm256_loadu_ps(cr));
      acc[r][1] = _mm256_add_ps(acc[r][1], _mm256_loadu_ps(cr + 8));
    }
    _mm256_storeu_ps(cr, acc[r][0]);
    _mm256_storeu_ps(cr + 8, acc[r][1]);
  }
}
MicroKernel avx2_kernel() { return {MR2, NR2, kernel_6x16}; }
constexpr bool kHaveAvx2 = true;
#else
// Portable fallback for builds without AVX2 (plain loops the compiler vectorises).
void kernel_4x8(int64_t kc, const float* ap, const float* bp, float* c, int64_t ldc, bool accumulate) {
  float acc[4][8] = {};
  for (int64_t p = 0; p < kc; ++p, ap += 4, bp += 8)
    for (int r = 0; r < 4; ++r)
      for (int j = 0; j < 8; ++j) acc[r][j] += ap[r] * bp[j];
  for (int r = 0; r < 4; ++r)
    for (int j = 0; j < 8; ++j) c[r * ldc + j] = (accumulate ? c[r * ldc + j] : 0.f) + acc[r][j];
}
MicroKernel avx2_kernel() { return {4, 8, kernel_4x8}; }
constexpr bool kHaveAvx2 = false;
#endif

bool cpu_avx512() {
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
  return avx512_compiled() && __builtin_cpu_supports("avx512f");  // also checks the OS saves zmm
#else
  return false;
#endif
}

Isa auto_isa() {
  static const Isa isa = cpu_avx512() ? Isa::avx512 : Isa::avx2;
  return isa;
}
std::atomic<int> g_forced{-1};

constexpr int64_t KC = 384;       // k slice: an A micro-panel (MR x KC) stays in L1
constexpr int64_t NC_MAX = 768;   // tile width: the packed B slice (KC x tn) stays in L2
constexpr int64_t MC_MAX = 1536;  // tile height bound (packing buffer size)

// A 64-byte aligned scratch buffer per thread, grown on demand and kept for the next call.
struct Scratch {
  float* p = nullptr;
  size_t n = 0;
  float* get(size_t need) {
    if (need > n) {
      std::free(p);
      n = (need + 15) / 16 * 16;
      p = static_cast<float*>(std::aligned_alloc(64, n * sizeof(float)));
      if (!p) { n = 0; throw std::bad_alloc(); }
    }
    return p;
  }
  ~Scratch() { std::free(p); }
};
thread_local Scratch t_apack, t_bpack;

#if defined(__AVX2__)
// v[i] (8 floats of stream i) -> v[j] = element j of every stream, in stream order.
inline void transpose8(__m256 v[8]) {
  __m256 t[8], s[8];
  for (int i = 0; i < 8; i += 2) { t[i] = _mm256_unpacklo_ps(v[i], v[i + 1]); t[i + 1] = _mm256_unpackhi_ps(v[i], v[i + 1]); }
  for (int i = 0; i < 8; i += 4) {
    s[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44); s[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xEE);
    s[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44); s[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
  }
  for (int i = 0; i < 4; ++i) { v[i] = _mm256_permute2f128_ps(s[i], s[i + 4], 0x20); v[i + 4] = _mm256_permute2f128_ps(s[i], s[i + 4], 0x31); }
}
#endif

// dst[p*W + r] = src[r*stride + p] for r < w, p < kc, zeros for w <= r < W: w contiguous streams
// interleaved (8x8 register transposes where AVX2 is there). Packs row-major A and transposed B.
void interleave(const float* src, int64_t stride, int w, int W, int64_t kc, float* dst) {
  int r0 = 0;
#if defined(__AVX2__)
  for (; r0 + 8 <= w; r0 += 8) {
    int64_t p = 0;
    for (; p + 8 <= kc; p += 8) {
      __m256 v[8];
      for (int i = 0; i < 8; ++i) v[i] = _mm256_loadu_ps(src + (r0 + i) * stride + p);
      transpose8(v);
      for (int i = 0; i < 8; ++i) _mm256_storeu_ps(dst + (p + i) * W + r0, v[i]);
    }
    for (; p < kc; ++p)
      for (int i = 0; i < 8; ++i) dst[p * W + r0 + i] = src[(r0 + i) * stride + p];
  }
#endif
  for (; r0 < w; ++r0)
    for (int64_t p = 0; p < kc; ++p) dst[p * W + r0] = src[r0 * stride + p];
  for (int r = w; r < W; ++r)
    for (int64_t p = 0; p < kc; ++p) dst[p * W + r] = 0.f;
}

// Pack the m x kc block at `a` (element (i,p) at a[i*rs + p*cs]) into ceil(m/MR) panels, each kc
// groups of MR consecutive rows (zero-padded past m): what the micro-kernel broadcasts from.
void pack_a(const float* a, int64_t rs, int64_t cs, int64_t m, int64_t kc, int MR, float* dst) {
  for (int64_t i0 = 0; i0 < m; i0 += MR, dst += MR * kc) {
    const int mr = static_cast<int>(std::min<int64_t>(MR, m - i0));
    const float* src = a + i0 * rs;
    if (cs == 1) {              // rows contiguous in k
      interleave(src, rs, mr, MR, kc, dst);
    } else if (rs == 1) {       // columns contiguous in i (a transposed view): copy runs of mr
      for (int64_t p = 0; p < kc; ++p) {
        std::memcpy(dst + p * MR, src + p * cs, mr * sizeof(float));
        for (int r = mr; r < MR; ++r) dst[p * MR + r] = 0.f;
      }
    } else {
      for (int64_t p = 0; p < kc; ++p)
        for (int r = 0; r < MR; ++r) dst[p * MR + r] = r < mr ? src[r * rs + p * cs] : 0.f;
    }
  }
}

// Pack the kc x n block at `b` (element (p,j) at b[p*rs + j*cs]) into ceil(n/NR) panels of kc
// rows of NR values (zero-padded past n): what the micro-kernel loads as vectors.
void pack_b(const float* b, int64_t rs, int64_t cs, int64_t kc, int64_t n, int NR, float* dst) {
  for (int64_t j0 = 0; j0 < n; j0 += NR, dst += NR * kc) {
    const int nr = static_cast<int>(std::min<int64_t>(NR, n - j0));
    const float* src = b + j0 * cs;
    if (cs == 1) {
      for (int64_t p = 0; p < kc; ++p) {
        std::memcpy(dst + p * NR, src + p * rs, nr * sizeof(float));
        for (int j = nr; j < NR; ++j) dst[p * NR + j] = 0.f;
      }
    } else if (rs == 1) {  // a transposed view: each column is contiguous in k
      interleave(src, cs, nr, NR, kc, dst);
    } else {
      for (int64_t p = 0; p < kc; ++p)
        for (int j = 0; j < NR; ++j) dst[p * NR + j] = j < nr ? src[p * rs + j * cs] : 0.f;
    }
  }
}

struct Problem {
  int64_t M, N, K;
  const float* a; int64_t rsa, csa;
  const float* b; int64_t rsb, csb;
  float* c; int64_t ldc;
};

// One tile of C: rows [i0, i1), columns [j0, j1), the whole K.
void run_tile(const Problem& P, const MicroKernel& uk, int64_t i0, int64_t i1, int64_t j0, int64_t j1) {
  const int MR = uk.mr, NR = uk.nr;
  const int64_t m = i1 - i0, n = j1 - j0;
  const int64_t mp = (m + MR - 1) / MR * MR, np = (n + NR - 1) / NR * NR;
  const int64_t kcmax = std::min(KC, P.K);
  float* ap = t_apack.get(mp * kcmax);
  float* bp = t_bpack.get(np * kcmax);
  alignas(64) float edge[16 * 32];
  for (int64_t pc = 0; pc < P.K; pc += KC) {
    const int64_t kc = std::min(KC, P.K - pc);
    const bool acc = pc > 0;
    pack_b(P.b + pc * P.rsb + j0 * P.csb, P.rsb, P.csb, kc, n, NR, bp);
    pack_a(P.a + i0 * P.rsa + pc * P.csa, P.rsa, P.csa, m, kc, MR, ap);
    for (int64_t ir = 0; ir < m; ir += MR) {
      const float* apanel = ap + ir * kc;
      const int64_t mr = std::min<int64_t>(MR, m - ir);
      for (int64_t jr = 0; jr < n; jr += NR) {
        const float* bpanel = bp + jr * kc;
        float* cblk = P.c + (i0 + ir) * P.ldc + j0 + jr;
        const int64_t nr = std::min<int64_t>(NR, n - jr);
        if (mr == MR && nr == NR) { uk.run(kc, apanel, bpanel, cblk, P.ldc, acc); continue; }
        uk.run(kc, apanel, bpanel, edge, NR, false);  // edge block: compute in full, copy the part
        for (int64_t r = 0; r < mr; ++r)
          for (int64_t j = 0; j < nr; ++j)
            cblk[r * P.ldc + j] = (acc ? cblk[r * P.ldc + j] : 0.f) + edge[r * NR + j];
      }
    }
  }
}

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
int64_t round_up(int64_t a, int64_t b) { return ceil_div(a, b) * b; }

}  // namespace

bool cpu_has(Isa isa) { return isa == Isa::avx2 ? true : cpu_avx512(); }
Isa active_isa() {
  int f = g_forced.load(std::memory_order_relaxed);
  return f >= 0 ? static_cast<Isa>(f) : auto_isa();
}
void force_isa(Isa isa) { g_forced.store(cpu_has(isa) ? static_cast<int>(isa) : -1); }
void reset_isa() { g_forced.store(-1); }

void sgemm(int64_t M, int64_t N, int64_t K, const float* a, int64_t rsa, int64_t csa, const float* b,
           int64_t rsb, int64_t csb, float* c, int64_t ldc) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {
    for (int64_t i = 0; i < M; ++i) std::fill(c + i * ldc, c + i * ldc + N, 0.f);
    return;
  }
  (void)kHaveAvx2;
  const MicroKernel uk = active_isa() == Isa::avx512 ? avx512_kernel() : avx2_kernel();
  const Problem P{M, N, K, a, rsa, csa, b, rsb, csb, c, ldc};
  // Tiles: as large as the caches allow (less re-packing), but enough of them (~4 per thread)
  // that a thread descheduled by a busy machine leaves work the others can take.
  const double flops = 2.0 * M * N * K;
  const int64_t target = (flops >= 4e6 && num_threads() > 1) ? 4 * num_threads() : 1;
  int64_t pn = ceil_div(N, NC_MAX);
  int64_t pm = std::max<int64_t>(ceil_div(M, MC_MAX), std::min(ceil_div(target, pn), std::max<int64_t>(1, M / (4 * uk.mr))));
  if (pm * pn < target) pn = std::max(pn, std::min(ceil_div(target, pm), std::max<int64_t>(1, N / (2 * uk.nr))));
  const int64_t tm = round_up(ceil_div(M, pm), uk.mr), tn = round_up(ceil_div(N, pn), uk.nr);
  const int64_t gm = ceil_div(M, tm), gn = ceil_div(N, tn);
  auto tiles = [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      int64_t bi = t / gn, bj = t % gn;
      run_tile(P, uk, bi * tm, std::min(M, (bi + 1) * tm), bj * tn, std::min(N, (bj + 1) * tn));
    }
  };
  if (gm * gn > 1) parallel_for(gm * gn, 1, tiles);
  else tiles(0, 1);
}

}  // namespace blas
}  // namespace keras_cpp
