// cpp/kernels/strided_copy.cpp — strided_copy (see strided_copy.h): a loop nest over the collapsed axes in the
// destination's order, with a special leaf for each common layout.
#include "kernels/strided_copy.h"

#include <algorithm>
#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "kernels/cpu_isa.h"
#include "kernels/ew.h"
#include "kernels/parallel.h"

namespace keras_cpp {
namespace {

constexpr int kMaxDims = 16;

struct Nest {
  int nd = 0;
  int64_t n[kMaxDims];
  int64_t ss[kMaxDims], ds[kMaxDims];  // element strides
  bool contig[kMaxDims];               // dst is dense from this axis inward
  bool transpose = false;              // the last two axes: src stride 1 on nd-2, dst stride 1 on nd-1
  bool stream = false;                 // a large copy: reversed rows use non-temporal stores
  bool stream_rows = false;            // ... and dense rows, unless a broadcast axis reads blocks back (tile)
  size_t es = 1;
};

// ---- rows: the innermost axis
template <class E>
void row_t(const char* s, char* d, int64_t n, int64_t ss, int64_t ds) {
  const E* p = reinterpret_cast<const E*>(s);
  E* q = reinterpret_cast<E*>(d);
  if (ds == 1) {
    if (ss == 0) {
      const E v = *p;
      for (int64_t i = 0; i < n; ++i) q[i] = v;
    } else if (ss == -1) {
      for (int64_t i = 0; i < n; ++i) q[i] = p[-i];
    } else {
      for (int64_t i = 0; i < n; ++i) q[i] = p[i * ss];
    }
  } else {
    for (int64_t i = 0; i < n; ++i) q[i * ds] = p[i * ss];
  }
}

#if defined(__AVX2__)
// q[i] = p[-i] for 4- or 8-byte elements, the 64-byte aligned middle of q written with
// non-temporal stores from its end down, so that the source is read upwards: a copy beyond the
// caches then moves a third less data (no read of each destination line before it is written),
// and the prefetchers follow the ascending reads (standalone, 4096 rows of 1024 float32 on the
// Zen 4: 3.6-4.3 ms plain, 1.6-2.0 ms streamed reading down, 0.86-0.96 ms streamed reading up).
// The caller fences (ew::stream_fence).
template <class E>
void reverse_row_stream(const E* p, E* q, int64_t n) {
  static_assert(sizeof(E) == 4 || sizeof(E) == 8, "4- or 8-byte elements");
  constexpr int64_t L = 32 / sizeof(E);  // elements per 256-bit vector
  const uintptr_t a = reinterpret_cast<uintptr_t>(q);
  const int64_t head = a % sizeof(E) ? n : std::min<int64_t>(n, (64 - a % 64) % 64 / sizeof(E));
  const int64_t end = head + (n - head) / (2 * L) * (2 * L);  // [head, end) streams
  for (int64_t i = n - 1; i >= end; --i) q[i] = p[-i];
  auto rev = [](const E* src) {  // the L elements ending at src, reversed
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src - (L - 1)));
    if constexpr (sizeof(E) == 4) return _mm256_permutevar8x32_epi32(v, _mm256_setr_epi32(7, 6, 5, 4, 3, 2, 1, 0));
    else return _mm256_permute4x64_epi64(v, 0x1B);
  };
  for (int64_t i = end - 2 * L; i >= head; i -= 2 * L) {
    const __m256i v1 = rev(p - i - L), v0 = rev(p - i);
    _mm256_stream_si256(reinterpret_cast<__m256i*>(q + i + L), v1);
    _mm256_stream_si256(reinterpret_cast<__m256i*>(q + i), v0);
  }
  for (int64_t i = head - 1; i >= 0; --i) q[i] = p[-i];
}

// memcpy with the 64-byte-aligned middle of d written by non-temporal stores: a copy beyond the
// caches then skips the read of each destination line (pad of (16,56,56,64) float32 by 1: its
// 14 KiB rows went through memcpy's cached stores). The caller fences.
void copy_row_stream(const char* s, char* d, int64_t n) {
  const int64_t head = std::min<int64_t>(n, static_cast<int64_t>((64 - reinterpret_cast<uintptr_t>(d) % 64) % 64));
  const int64_t end = head + (n - head) / 64 * 64;
  std::memcpy(d, s, static_cast<size_t>(head));
  for (int64_t i = head; i < end; i += 64) {
    const __m256i v0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(s + i));
    const __m256i v1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(s + i + 32));
    _mm256_stream_si256(reinterpret_cast<__m256i*>(d + i), v0);
    _mm256_stream_si256(reinterpret_cast<__m256i*>(d + i + 32), v1);
  }
  std::memcpy(d + end, s + end, static_cast<size_t>(n - end));
}
#endif

void row(const Nest& N, const char* s, char* d, int64_t n, int64_t ss, int64_t ds) {
  if (ss == 1 && ds == 1) {
#if defined(__AVX2__)
    if (N.stream_rows && n * static_cast<int64_t>(N.es) >= 1024) {
      copy_row_stream(s, d, n * static_cast<int64_t>(N.es));
      return;
    }
#endif
    std::memcpy(d, s, n * N.es);
    return;
  }
#if defined(__AVX2__)
  if (N.stream && ss == -1 && ds == 1 && (N.es == 4 || N.es == 8)) {
    if (N.es == 4) reverse_row_stream(reinterpret_cast<const uint32_t*>(s), reinterpret_cast<uint32_t*>(d), n);
    else reverse_row_stream(reinterpret_cast<const uint64_t*>(s), reinterpret_cast<uint64_t*>(d), n);
    return;
  }
#endif
  switch (N.es) {
    case 1: row_t<uint8_t>(s, d, n, ss, ds); break;
    case 2: row_t<uint16_t>(s, d, n, ss, ds); break;
    case 4: row_t<uint32_t>(s, d, n, ss, ds); break;
    default: row_t<uint64_t>(s, d, n, ss, ds); break;
  }
}

// ---- 2-D transpose: d[i * dr + j] = s[i + j * sc] for i < R, j < C.
#if defined(__AVX2__)
inline void tr8x8(const float* s, int64_t sc, float* d, int64_t dr) {
  __m256 r0 = _mm256_loadu_ps(s), r1 = _mm256_loadu_ps(s + sc), r2 = _mm256_loadu_ps(s + 2 * sc),
         r3 = _mm256_loadu_ps(s + 3 * sc), r4 = _mm256_loadu_ps(s + 4 * sc), r5 = _mm256_loadu_ps(s + 5 * sc),
         r6 = _mm256_loadu_ps(s + 6 * sc), r7 = _mm256_loadu_ps(s + 7 * sc);
  __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1), t2 = _mm256_unpacklo_ps(r2, r3),
         t3 = _mm256_unpackhi_ps(r2, r3), t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5),
         t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
  __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE), u2 = _mm256_shuffle_ps(t1, t3, 0x44),
         u3 = _mm256_shuffle_ps(t1, t3, 0xEE), u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE),
         u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
  _mm256_storeu_ps(d, _mm256_permute2f128_ps(u0, u4, 0x20));
  _mm256_storeu_ps(d + dr, _mm256_permute2f128_ps(u1, u5, 0x20));
  _mm256_storeu_ps(d + 2 * dr, _mm256_permute2f128_ps(u2, u6, 0x20));
  _mm256_storeu_ps(d + 3 * dr, _mm256_permute2f128_ps(u3, u7, 0x20));
  _mm256_storeu_ps(d + 4 * dr, _mm256_permute2f128_ps(u0, u4, 0x31));
  _mm256_storeu_ps(d + 5 * dr, _mm256_permute2f128_ps(u1, u5, 0x31));
  _mm256_storeu_ps(d + 6 * dr, _mm256_permute2f128_ps(u2, u6, 0x31));
  _mm256_storeu_ps(d + 7 * dr, _mm256_permute2f128_ps(u3, u7, 0x31));
}
#endif

#if defined(__AVX2__)
// Two 8 x 8 transposes side by side along the source rows: each 64-byte source line is read
// whole by one call. With 8 x 8 alone the second half of a line came back a tile row later,
// after its L1 set (rows 4 KiB apart share one) had been refilled by the tile's other rows.
inline void tr8x16(const float* s, int64_t sc, float* d, int64_t dr) {
  tr8x8(s, sc, d, dr);
  tr8x8(s + 8, sc, d + 8 * dr, dr);
}
#endif

#if defined(__GNUC__) && defined(__x86_64__)
#define KERAS_CPP_TR16 1
// 16 x 16 with AVX-512 (chosen at run time): each source and destination cache line is read or
// written whole, once, so rows a power-of-two stride apart (one L1 set) are never read twice.
#if !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"  // GCC 12 flags _mm512_undefined_ps inside the unpack intrinsics
#endif
__attribute__((target("avx512f"))) void tr16x16(const float* s, int64_t sc, float* d, int64_t dr) {
  __m512 r[16], t[16];
#pragma GCC unroll 16
  for (int k = 0; k < 16; ++k) r[k] = _mm512_loadu_ps(s + k * sc);
#pragma GCC unroll 8
  for (int m = 0; m < 8; ++m) {  // per 128-bit lane: a0 b0 a1 b1 / a2 b2 a3 b3
    t[2 * m] = _mm512_unpacklo_ps(r[2 * m], r[2 * m + 1]);
    t[2 * m + 1] = _mm512_unpackhi_ps(r[2 * m], r[2 * m + 1]);
  }
#pragma GCC unroll 4
  for (int g = 0; g < 4; ++g) {  // u[4g + q], lane L: column 4L + q of rows 4g..4g+3
    const __m512 *a = t + 4 * g;
    r[4 * g] = _mm512_shuffle_ps(a[0], a[2], 0x44);
    r[4 * g + 1] = _mm512_shuffle_ps(a[0], a[2], 0xEE);
    r[4 * g + 2] = _mm512_shuffle_ps(a[1], a[3], 0x44);
    r[4 * g + 3] = _mm512_shuffle_ps(a[1], a[3], 0xEE);
  }
#pragma GCC unroll 4
  for (int q = 0; q < 4; ++q) {  // gather lane L of the four row groups: destination row 4L + q
    const __m512 x0 = _mm512_shuffle_f32x4(r[q], r[4 + q], 0x44), x1 = _mm512_shuffle_f32x4(r[q], r[4 + q], 0xEE);
    const __m512 y0 = _mm512_shuffle_f32x4(r[8 + q], r[12 + q], 0x44), y1 = _mm512_shuffle_f32x4(r[8 + q], r[12 + q], 0xEE);
    _mm512_storeu_ps(d + q * dr, _mm512_shuffle_f32x4(x0, y0, 0x88));
    _mm512_storeu_ps(d + (4 + q) * dr, _mm512_shuffle_f32x4(x0, y0, 0xDD));
    _mm512_storeu_ps(d + (8 + q) * dr, _mm512_shuffle_f32x4(x1, y1, 0x88));
    _mm512_storeu_ps(d + (12 + q) * dr, _mm512_shuffle_f32x4(x1, y1, 0xDD));
  }
}

#if !defined(__clang__)
#pragma GCC diagnostic pop
#endif

bool use_tr16() {
  static const bool on = cpu_avx512() && !env_wants_avx2();
  return on;
}
#endif

// Destination rows [i, i1) of a tile in groups of TI, each TJ columns at a time by register transposes `tr`
// (columns past the last whole group one by one); returns the first row not done.
template <int TI, int TJ, class E, class Tr>
int64_t register_tiles(Tr tr, const E* s, E* d, int64_t i, int64_t i1, int64_t j0, int64_t j1, int64_t sc, int64_t dr) {
  for (; i + TI <= i1; i += TI) {
    int64_t j = j0;
    for (; j + TJ <= j1; j += TJ) tr(reinterpret_cast<const float*>(s + i + j * sc), sc, reinterpret_cast<float*>(d + i * dr + j), dr);
    for (; j < j1; ++j)
      for (int64_t k = i; k < i + TI; ++k) d[k * dr + j] = s[k + j * sc];
  }
  return i;
}

// Tiles of 128 x 128 (16 x 16 or 8 x 8 register transposes inside), a band of 128 destination
// rows at a time: a tile's 128 source rows and 128 destination line runs (64 KiB each for float32)
// stay in L2 even when the row stride is a power of two, and the band's pages stay in the TLB.
// Measured in the library on the Zen 4 (1024^2 float32, thread CPU time, load 5-7): 390-430 us
// against 440-545 us for the earlier 32 x 32 tiles in 256-row panels; 4096x1024 2.5-2.8 ms
// against 2.8-4.0 ms (64 x 64 tiles and 1024-row panels were within the noise of this).
template <class E>
void transpose_t(const char* sv, char* dv, int64_t R, int64_t C, int64_t sc, int64_t dr) {
  const E* s = reinterpret_cast<const E*>(sv);
  E* d = reinterpret_cast<E*>(dv);
  constexpr int64_t B = 128;
  for (int64_t i0 = 0; i0 < R; i0 += B) {
    const int64_t i1 = std::min(R, i0 + B);
    for (int64_t j0 = 0; j0 < C; j0 += B) {
      const int64_t j1 = std::min(C, j0 + B);
      int64_t i = i0;
#if defined(KERAS_CPP_TR16)
      if constexpr (sizeof(E) == 4)
        if (use_tr16()) i = register_tiles<16, 16>(tr16x16, s, d, i, i1, j0, j1, sc, dr);
#endif
#if defined(__AVX2__)
      if constexpr (sizeof(E) == 4) {
        i = register_tiles<16, 8>(tr8x16, s, d, i, i1, j0, j1, sc, dr);
        i = register_tiles<8, 8>(tr8x8, s, d, i, i1, j0, j1, sc, dr);
      }
#endif
      for (; i < i1; ++i)
        for (int64_t j = j0; j < j1; ++j) d[i * dr + j] = s[i + j * sc];
    }
  }
}

void transpose2d(const Nest& N, const char* s, char* d) {
  const int a = N.nd - 2, b = N.nd - 1;
  switch (N.es) {
    case 1: transpose_t<uint8_t>(s, d, N.n[a], N.n[b], N.ss[b], N.ds[a]); break;
    case 2: transpose_t<uint16_t>(s, d, N.n[a], N.n[b], N.ss[b], N.ds[a]); break;
    case 4: transpose_t<uint32_t>(s, d, N.n[a], N.n[b], N.ss[b], N.ds[a]); break;
    default: transpose_t<uint64_t>(s, d, N.n[a], N.n[b], N.ss[b], N.ds[a]); break;
  }
}

// Copy axes [k, nd) from s to d (byte pointers).
void copy_from(const Nest& N, int k, const char* s, char* d) {
  const int last = N.nd - 1;
  if (k == last) return row(N, s, d, N.n[k], N.ss[k], N.ds[k]);
  if (k == last - 1 && N.transpose) return transpose2d(N, s, d);
  const int64_t sstep = N.ss[k] * static_cast<int64_t>(N.es), dstep = N.ds[k] * static_cast<int64_t>(N.es);
  if (N.ss[k] == 0 && N.contig[k]) {
    // Every index along k receives the same block: write it once, then double it with memcpy.
    copy_from(N, k + 1, s, d);
    int64_t have = 1;
    while (have < N.n[k]) {
      const int64_t c = std::min(have, N.n[k] - have);
      std::memcpy(d + have * dstep, d, c * dstep);
      have += c;
    }
    return;
  }
  for (int64_t i = 0; i < N.n[k]; ++i) copy_from(N, k + 1, s + i * sstep, d + i * dstep);
}

Nest plan(const Shape& shape, const Shape& sst, const Shape& dst, size_t es) {
  Nest N;
  N.es = es;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == 1) continue;
    if (N.nd > 0 && N.ss[N.nd - 1] == sst[i] * shape[i] && N.ds[N.nd - 1] == dst[i] * shape[i]) {
      N.n[N.nd - 1] *= shape[i];
      N.ss[N.nd - 1] = sst[i];
      N.ds[N.nd - 1] = dst[i];
      continue;
    }
    N.n[N.nd] = shape[i];
    N.ss[N.nd] = sst[i];
    N.ds[N.nd] = dst[i];
    ++N.nd;
  }
  if (N.nd == 0) {
    N.n[0] = 1;
    N.ss[0] = N.ds[0] = 1;
    N.nd = 1;
  }
  const int last = N.nd - 1;
  // Transposed pair: dst is dense along the last axis but src is not, and src is dense along
  // another axis; move that axis next to the last one (loop order does not change the result).
  if (N.nd >= 2 && N.ds[last] == 1 && N.ss[last] != 1 && N.ss[last] != 0 && N.n[last] >= 8) {
    for (int k = last - 1; k >= 0; --k) {
      if (N.ss[k] != 1 || N.n[k] < 8) continue;
      int64_t n = N.n[k], s = N.ss[k], d = N.ds[k];
      for (int j = k; j < last - 1; ++j) {
        N.n[j] = N.n[j + 1];
        N.ss[j] = N.ss[j + 1];
        N.ds[j] = N.ds[j + 1];
      }
      N.n[last - 1] = n;
      N.ss[last - 1] = s;
      N.ds[last - 1] = d;
      N.transpose = true;
      break;
    }
  }
  int64_t dense = 1;
  bool ok = true;
  for (int k = last; k >= 0; --k) {
    ok = ok && N.ds[k] == dense && !(N.transpose && k >= last - 1);
    N.contig[k] = ok;
    dense *= N.n[k];
  }
  return N;
}

}  // namespace

void strided_copy(const void* src, const Shape& src_strides, void* dst, const Shape& dst_strides, const Shape& shape,
                  size_t elem_size) {
  int64_t total = shape_numel(shape);
  if (total <= 0) return;
  if (static_cast<int>(shape.size()) > kMaxDims) {
    // Deeper than any Keras tensor: an element-by-element walk keeps it correct.
    const char* s = static_cast<const char*>(src);
    char* d = static_cast<char*>(dst);
    for (int64_t f = 0; f < total; ++f) {
      int64_t rem = f, so = 0, dof = 0;
      for (int i = static_cast<int>(shape.size()) - 1; i >= 0; --i) {
        int64_t idx = rem % shape[i];
        rem /= shape[i];
        so += idx * src_strides[i];
        dof += idx * dst_strides[i];
      }
      std::memcpy(d + dof * static_cast<int64_t>(elem_size), s + so * static_cast<int64_t>(elem_size), elem_size);
    }
    return;
  }
  Nest N = plan(shape, src_strides, dst_strides, elem_size);
  const char* s = static_cast<const char*>(src);
  char* d = static_cast<char*>(dst);
  const int64_t es = static_cast<int64_t>(elem_size);
  // Threads over the outer axes (as many as give >= 16 pieces, keeping the leaf layouts intact).
  // An inner broadcast axis is left to copy_from (one block, doubled by memcpy); the outermost
  // one may be split, each piece copying the block from the source (np.tile's outer repeats).
  int split = 0;
  int64_t pieces = 1;
  const int leaf = N.transpose ? N.nd - 2 : N.nd - 1;
  while (split < leaf && pieces < 16 && !(split > 0 && N.ss[split] == 0 && N.contig[split])) pieces *= N.n[split++];
  const int64_t bytes = total * es;
  N.stream = bytes >= ew::kStreamBytes;
  // copy_from doubles a broadcast axis's block with memcpy from the output: streamed rows would be
  // read back from memory (tile 2-4x slower).
  N.stream_rows = N.stream && std::none_of(N.ss, N.ss + N.nd, [](int64_t v) { return v == 0; });
  if (bytes < (int64_t(1) << 18)) {
    copy_from(N, 0, s, d);
    return;
  }
  if (N.nd == 1) {  // one long row (a flat copy or fill): split it
    parallel_for(N.n[0], std::max<int64_t>(1, (int64_t(1) << 17) / es), [&](int64_t b, int64_t e) {
      row(N, s + b * N.ss[0] * es, d + b * N.ds[0] * es, e - b, N.ss[0], N.ds[0]);
      if (N.stream) ew::stream_fence();
    });
    return;
  }
  if (split == 0 || pieces < 2) {
    copy_from(N, 0, s, d);
    if (N.stream) ew::stream_fence();
    return;
  }
  const int64_t grain = std::max<int64_t>(1, ((int64_t(1) << 17) * pieces) / bytes);
  parallel_for(pieces, grain, [&](int64_t p0, int64_t p1) {
    for (int64_t p = p0; p < p1; ++p) {
      int64_t rem = p, so = 0, dof = 0;
      for (int k = split - 1; k >= 0; --k) {
        int64_t idx = rem % N.n[k];
        rem /= N.n[k];
        so += idx * N.ss[k];
        dof += idx * N.ds[k];
      }
      copy_from(N, split, s + so * es, d + dof * es);
    }
    if (N.stream) ew::stream_fence();
  });
}

// memcpy of one row of a concatenation, inline for 32 B to 4 KiB: the library call and its size
// dispatch cost about as much as moving a 1 KiB row that is in the caches (3 x (1024, 256) float32
// joined on the last axis: 3072 calls).
inline void copy_row(char* d, const char* s, int64_t n) {
#if defined(__AVX2__)
  if (n >= 32 && n <= 4096) {
    auto ld = [s](int64_t i) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(s + i)); };
    auto st = [d](int64_t i, __m256i v) { _mm256_storeu_si256(reinterpret_cast<__m256i*>(d + i), v); };
    int64_t i = 0;
    for (; i + 128 <= n; i += 128) {
      const __m256i a = ld(i), b = ld(i + 32), c = ld(i + 64), e = ld(i + 96);
      st(i, a);
      st(i + 32, b);
      st(i + 64, c);
      st(i + 96, e);
    }
    for (; i + 32 <= n; i += 32) st(i, ld(i));
    if (i < n) st(n - 32, ld(n - 32));  // the last 32 bytes, overlapping what is done
    return;
  }
#endif
  std::memcpy(d, s, static_cast<size_t>(n));
}

void concat_rows(const void* const* srcs, const int64_t* row_bytes, int nsrc, void* dst, int64_t rows) {
  int64_t out_row = 0;
  for (int k = 0; k < nsrc; ++k) out_row += row_bytes[k];
  if (rows <= 0 || out_row <= 0) return;
  parallel_for(rows, std::max<int64_t>(1, (int64_t(1) << 17) / out_row), [&](int64_t r0, int64_t r1) {
    char* d = static_cast<char*>(dst) + r0 * out_row;
    for (int64_t r = r0; r < r1; ++r)
      for (int k = 0; k < nsrc; ++k) {
        copy_row(d, static_cast<const char*>(srcs[k]) + r * row_bytes[k], row_bytes[k]);
        d += row_bytes[k];
      }
  });
}

}  // namespace keras_cpp
