// cpp/kernels/gemm.cpp — the GEMM driver: ISA choice, cache-sized blocking, the tile plan over
// threads, and the per-tile loop nest (k slices of kc; B blocks of kc x nc kept in L2, packed or
// pre-packed; A micro-panels packed into L1 as they are first used, or read in place when little
// reused), plus the GEMV path for vector operands. Packing lives in gemm_pack.h.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <stdexcept>

#include "kernels/gemm_kernels.h"
#include "kernels/gemm_pack.h"
#include "kernels/parallel.h"

namespace keras_cpp {
namespace blas {
namespace {

using detail::KernelSet;
using detail::UkArgs;

bool can_run_avx512() { return detail::avx512_compiled() && cpu_avx512(); }

Isa auto_isa() {
  static const Isa isa = !env_wants_avx2() && can_run_avx512() ? Isa::avx512 : Isa::avx2;
  return isa;
}
std::atomic<int> g_forced{-1};

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
int64_t round_up(int64_t a, int64_t b) { return ceil_div(a, b) * b; }

// A 64-byte aligned scratch buffer per thread, grown on demand and kept for the next call.
struct Scratch {
  void* p = nullptr;
  size_t n = 0;
  template <class T>
  T* get(size_t count) {
    const size_t need = (count * sizeof(T) + 63) / 64 * 64;
    if (need > n) {
      std::free(p);
      p = std::aligned_alloc(64, need);
      n = p ? need : 0;
      if (!p) throw std::bad_alloc();
    }
    return static_cast<T*>(p);
  }
  ~Scratch() { std::free(p); }
};
thread_local Scratch t_apack, t_bpack, t_shared_b, t_shared_a;

template <class T>
struct Problem {
  const KernelSet<T>* ks;
  int64_t M, N, K;
  const T* a;
  int64_t rsa, csa;
  const T* b;
  int64_t rsb, csb;
  const PackedB<T>* pb;  // B pre-packed (then b is unused)
  T* c;
  int64_t ldc;
  Epilogue<T> ep;
  int64_t kc, nc;
  const T* apk = nullptr;  // A packed once for all tiles (pack_a_shared), or null
};

// Rows of block b of nblk near-equal blocks over m rows: [first, first + count). A micro-kernel
// with few rows runs far below peak, so 50 rows are 5 x 10 rather than 4 x 12 + 2.
struct RowBlock { int64_t first; int count; };
inline RowBlock row_block(int64_t m, int64_t nblk, int64_t b) {
  const int64_t first = m * b / nblk;
  return RowBlock{first, static_cast<int>(m * (b + 1) / nblk - first)};
}

// The shared packed A: tile row bi (rows [bi*tm, ...)) at bi*tm*K; within it, k slice pc at
// nblk*MR*pc and block b of that slice at b*MR*kcs (nblk: the tile row's row blocks).
template <class T>
int64_t shared_a_offset(const Problem<T>& P, int64_t i0, int64_t m, int64_t pc, int64_t kcs, int64_t b) {
  const int MR = P.ks->mr;
  return i0 * P.K + ceil_div(m, MR) * MR * pc + b * MR * kcs;
}
template <class T>
const T* shared_a_panel(const Problem<T>& P, int64_t i0, int64_t m, int64_t pc, int64_t kcs, int64_t b) {
  return P.apk + shared_a_offset(P, i0, m, pc, kcs, b);
}

size_t packed_count(int64_t K, int64_t N, int nr) { return static_cast<size_t>(std::max<int64_t>(1, K * round_up(N, nr))); }

// Pack all of B into pb (its data already allocated), in parallel over k slices and groups of
// panels: a shared B is packed before any tile starts, and a 256^3 or dW-shaped product has one
// k slice, so packing by slices alone left the other threads idle for that time.
template <class T>
void pack_b_into(PackedB<T>& pb, int64_t K, int64_t N, const T* b, int64_t rsb, int64_t csb, Isa isa, const Blocking& bl) {
  pb.K = K; pb.N = N; pb.kc = bl.kc; pb.nr = bl.nr; pb.isa = isa;
  const int64_t slices = ceil_div(K, bl.kc), panels = ceil_div(N, bl.nr);
  // Groups of panels of >= ~16K elements each; split only with 4 or more groups (grain 2).
  const int64_t per_group = std::clamp<int64_t>(ceil_div(int64_t(1) << 14, std::min(K, bl.kc) * bl.nr), 1, panels);
  const int64_t groups = ceil_div(panels, per_group);
  parallel_for(slices * groups, 2, [&](int64_t u0, int64_t u1) {
    for (int64_t u = u0; u < u1; ++u) {
      const int64_t pc = u / groups * bl.kc, j = u % groups * per_group * bl.nr;
      pack_b_panels(b + pc * rsb + j * csb, rsb, csb, std::min(bl.kc, K - pc), std::min(N - j, per_group * bl.nr), bl.nr,
                    const_cast<T*>(pb.panel(pc, j)));
    }
  });
}

// An operand is read in place (no packing) when its layout has a unit stride the micro-kernel can
// take and few micro-panels of the other operand use it: then packing costs more than it saves.
// (Measured: for blocks that fit in L1/L2, packing and reading in place cost about the same.)
// A row block is read in place by up to 4 B panels: packing it was 13% of an AVX2 4096x64 @ 64x64
// (4 panels of 16). B stays at 3 A blocks: a B read in place by 4 blocks of 10 rows, with rows
// 8 KB apart (40x512 @ 512x2048), ran at 2/3 of the packed speed (its rows alias in L1).
constexpr int64_t kInPlaceReuseA = 4, kInPlaceReuseB = 3;

// How a tile of m x n reads A: in place row-major (unit k stride) when few B panels use it or
// it is small (the tile's rows stay in L1, batched GEMMs) and its rows do not alias in L1 (4 KB
// apart); in place column-major when few panels use it; else packed into micro-panels.
struct AMode { bool row, col; };
template <class T>
AMode a_mode(const Problem<T>& P, int64_t m, int64_t n) {
  const int64_t kcmax = std::min(P.kc, P.K);
  const bool few = ceil_div(n, P.ks->nr) <= kInPlaceReuseA;
  const bool small_a = m * kcmax * int64_t(sizeof(T)) <= (int64_t(32) << 10) && (P.rsa * int64_t(sizeof(T))) % 4096 != 0;
  const bool row = P.csa == 1 && (few || small_a);
  return AMode{row, !row && P.rsa == 1 && few};
}


// Pack the kc x n block of B at (pc, jc) into buf, or point at it in place / in the pre-packed
// copy; returns the panel base and k stride, and whether panel j is read through `buf` instead.
template <class T>
struct BBlock {
  const T* base;   // panel jr at base + jr * step
  int64_t step, ks;
  const T* edge = nullptr;  // a packed copy of the last partial panel (in-place mode only)
  int edge_ks = 0;          // its width: NR, or NR / 2 when the half-width kernel runs it;
  bool dot = false;         // or its <= 4 columns as rows of kcs (edge_ks = kcs) for dot_tail
};

// Cache lines of a block of `rows` rows of `bytes` each, `stride` bytes apart, prefetched into
// L2 a few at a time.
struct Lines {
  const char* base = nullptr;
  int64_t per_row = 0, stride = 0, rows = 0;
  Lines() = default;
  Lines(const void* p, int64_t bytes, int64_t st, int64_t r) : base(static_cast<const char*>(p)), per_row((bytes + 63) / 64), stride(st), rows(r) {}
  int64_t total() const { return per_row * rows; }
  // One division a call, not one per line: a 64-bit divide costs as much as ~20 FMAs, and with
  // a small k (K = 64) a micro-kernel call is short enough for per-line divides to matter.
  void fetch(int64_t first, int64_t count) const {
    const int64_t e = std::min(first + count, total());
    if (first >= e) return;
    int64_t r = first / per_row, c = first - r * per_row;
    for (int64_t l = first; l < e; ++l) {
      __builtin_prefetch(base + r * stride + c * 64, 0, 2);
      if (++c == per_row) { c = 0; ++r; }
    }
  }
};

template <class T>
BBlock<T> b_block(const Problem<T>& P, int64_t pc, int64_t kcs, int64_t jc, int64_t n, int64_t m, bool a_row, T* buf) {
  const int NR = P.ks->nr;
  if (P.pb) return {P.pb->panel(pc, jc), kcs, NR};
  const T* src = P.b + pc * P.rsb + jc * P.csb;
  // In place when few A panels use it, or when the whole block is small (it stays in L1/L2 either
  // way, and packing it would cost as much as the products: small batched GEMMs) and its rows do
  // not alias in L1 (4 KB apart).
  const bool small = kcs * n * int64_t(sizeof(T)) <= (int64_t(32) << 10) && (P.rsb * int64_t(sizeof(T))) % 4096 != 0;
  if (P.csb == 1 && (ceil_div(m, P.ks->mr) <= kInPlaceReuseB || small)) {
    // row-major B in place; the ragged end is packed
    BBlock<T> r{src, 1, P.rsb};
    if (n % NR) {
      const int64_t j = n / NR * NR;
      r.edge = buf;
      if (a_row && n - j <= 4) {  // a narrow tail with A in place: dot products along k
        r.dot = true;
        r.edge_ks = static_cast<int>(kcs);
        for (int64_t p = 0; p < kcs; ++p)
          for (int64_t jj = j; jj < n; ++jj) buf[(jj - j) * kcs + p] = src[p * P.rsb + jj];
        return r;
      }
      r.edge_ks = 2 * (n - j) <= NR ? NR / 2 : NR;
      pack_b_panels(src + j, P.rsb, P.csb, kcs, n - j, r.edge_ks, buf);
    }
    return r;
  }
  pack_b_panels(src, P.rsb, P.csb, kcs, n, NR, buf);
  return {buf, kcs, NR};
}

// One tile of C: rows [i0, i1), columns [j0, j1), the whole K.
template <class T>
void run_tile(const Problem<T>& P, int64_t i0, int64_t i1, int64_t j0, int64_t j1) {
  const KernelSet<T>& ks = *P.ks;
  const int MR = ks.mr, NR = ks.nr;
  const int64_t m = i1 - i0, n = j1 - j0, kcmax = std::min(P.kc, P.K), ncmax = std::min(P.nc, round_up(n, NR));
  const AMode am = a_mode(P, m, n);  // (a shared packed A is used whatever the tile's shape)
  const bool a_row = !P.apk && am.row, a_col = !P.apk && am.col;
  const bool multi_jc = n > P.nc;  // A panels are reused across B blocks: keep the packed A block
  T* abuf = (a_row || a_col || P.apk) ? nullptr : t_apack.get<T>((multi_jc ? round_up(m, MR) : MR) * kcmax);
  T* bbuf = P.pb ? nullptr : t_bpack.get<T>(ncmax * kcmax);
  UkArgs<T> g{};
  g.ldc = P.ldc;
  g.ldd = P.ep.ldd;
  for (int64_t pc = 0; pc < P.K; pc += P.kc) {
    const int64_t kcs = std::min(P.kc, P.K - pc);
    const bool last = pc + kcs >= P.K;
    g.kc = kcs;
    g.load_c = pc > 0 || P.ep.accumulate || P.ep.add;
    const bool from_d = pc == 0 && !P.ep.accumulate && P.ep.add;  // this slice starts from D
    g.act = last ? P.ep.act : Act::none;
    const T* a_slice = P.a + i0 * P.rsa + pc * P.csa;
    for (int64_t jc = j0; jc < j1; jc += P.nc) {
      const int64_t nb = std::min(P.nc, j1 - jc);
      const BBlock<T> bb = b_block(P, pc, kcs, jc, nb, m, a_row, bbuf);
      // Row blocks of near-equal size (row_block). Block b's packed panel sits at slot b.
      const int64_t nblk = ceil_div(m, MR);
      for (int64_t b = 0; b < nblk; ++b) {
        const RowBlock rb = row_block(m, nblk, b);
        const int64_t ir = rb.first;
        const int mr = rb.count;
        const int64_t next = ir + mr, next_mr = b + 1 < nblk ? row_block(m, nblk, b + 1).count : 0;
        if (P.apk) {
          g.a = shared_a_panel(P, i0, m, pc, kcs, b); g.a_rs = 1; g.a_ks = MR;
        } else if (a_row) {
          g.a = a_slice + ir * P.rsa; g.a_rs = P.rsa; g.a_ks = 1;
        } else if (a_col) {
          g.a = a_slice + ir; g.a_rs = 1; g.a_ks = P.csa;
        } else {
          T* panel = abuf + (multi_jc ? b * MR * kcs : 0);
          if (!multi_jc || jc == j0) pack_a_panel(a_slice + ir * P.rsa, P.rsa, P.csa, mr, MR, kcs, panel);
          g.a = panel; g.a_rs = 1; g.a_ks = MR;
        }
        auto fns = a_row ? ks.row : ks.col;
        T* crow = P.c + (i0 + ir) * P.ldc + jc;
        const T* drow = from_d ? P.ep.add + (i0 + ir) * P.ep.ldd + jc : nullptr;
        // The next A panel (packed, or the rows it will be packed from) is fetched into L2
        // while this one runs, a few lines per micro-kernel call.
        Lines pf{};
        if (next < m) {
          if (P.apk) pf = Lines(shared_a_panel(P, i0, m, pc, kcs, b + 1), MR * kcs * int64_t(sizeof(T)), 0, 1);
          else if (multi_jc && jc > j0) pf = Lines(abuf + (b + 1) * MR * kcs, MR * kcs * int64_t(sizeof(T)), 0, 1);
          else if (P.csa == 1) pf = Lines(a_slice + next * P.rsa, kcs * int64_t(sizeof(T)), P.rsa * int64_t(sizeof(T)), next_mr);
        }
        const int64_t per_call = ceil_div(pf.total(), ceil_div(nb, NR));
        int64_t next_line = 0;
        for (int64_t jr = 0; jr < nb; jr += NR) {
          pf.fetch(next_line, per_call);
          next_line += per_call;
          g.nr = static_cast<int>(std::min<int64_t>(NR, nb - jr));
          const bool edge = bb.edge && g.nr < NR;
          g.b = edge ? bb.edge : bb.base + jr * bb.step;
          g.b_ks = edge ? bb.edge_ks : bb.ks;
          g.c = crow + jr;
          g.d = drow ? drow + jr : nullptr;
          g.bias = last && P.ep.bias ? P.ep.bias + jc + jr : nullptr;
          if (edge && bb.dot) ks.dot_tail(g, mr);
          else fns[2 * g.nr <= NR][mr - 1](g);
        }
      }
    }
  }
}

// The tile grid: enough tiles (2-4 per thread) that a thread descheduled by a busy machine leaves
// work the others can take, shaped by a cost model in flop units: each tile column touches all of
// A once and each tile row all of B (packing ~30 an element, reading in place ~20, reading a
// shared packed copy ~6), a fixed cost per tile, and the imbalance of the last wave.
struct Grid {
  int64_t tm, tn, gm, gn;
  bool share_b;  // pack B once for all tiles before they start
};

// Pack all of A into P.apk's layout (shared_a_offset) for tiles of height tm, in parallel over
// (tile row, k slice, row block) panels: each tile column then reads the one packed copy, where
// packing per tile packed A once per tile column (a 128x512 @ 512x784 over a 2x4 grid: 4 times).
template <class T>
void pack_a_shared(const Problem<T>& P, int64_t tm, int64_t gm, T* dst) {
  const int MR = P.ks->mr;
  const int64_t slices = ceil_div(P.K, P.kc), per_row = tm / MR;
  parallel_for(gm * slices * per_row, 4, [&](int64_t u0, int64_t u1) {
    for (int64_t u = u0; u < u1; ++u) {
      const int64_t bi = u / (slices * per_row), s = u / per_row % slices, b = u % per_row;
      const int64_t i0 = bi * tm, m = std::min(P.M, i0 + tm) - i0, nblk = ceil_div(m, MR);
      if (b >= nblk) continue;
      const int64_t pc = s * P.kc, kcs = std::min(P.kc, P.K - pc);
      const RowBlock rb = row_block(m, nblk, b);
      pack_a_panel(P.a + (i0 + rb.first) * P.rsa + pc * P.csa, P.rsa, P.csa, rb.count, MR, kcs,
                   dst + shared_a_offset(P, i0, m, pc, kcs, b));
    }
  });
}

Grid plan_grid(int64_t M, int64_t N, int64_t K, int MR, int NR, const Blocking& bl, bool b_packed, bool b_rowmajor) {
  const int nt = threads_now();
  const double flops = 2.0 * M * N * K;
  if ((nt == 1 || flops < 4e6) && (N <= bl.nc || M <= bl.mc))  // one tile: nothing to weigh
    return Grid{round_up(M, MR), round_up(N, NR), 1, 1, false};
  int64_t min_tiles = 1;
  if (nt > 1 && flops >= 4e6) min_tiles = std::clamp<int64_t>(static_cast<int64_t>(flops / 2e6), nt, 4 * nt);
  const int64_t max_gm = ceil_div(M, MR), max_gn = ceil_div(N, NR), gm_min = N > bl.nc ? ceil_div(M, bl.mc) : 1;
  Grid best{round_up(M, MR), round_up(N, NR), 1, 1, false};
  double best_cost = 1e300;
  for (int64_t gn = 1; gn <= std::min(max_gn, 4 * min_tiles); ++gn) {
    const int64_t lo = std::min(max_gm, std::max(gm_min, ceil_div(min_tiles, gn)));
    for (int64_t gm = lo; gm <= std::min(max_gm, std::max(lo, ceil_div(4 * min_tiles, gn))); ++gm) {
      const int64_t tm = round_up(ceil_div(M, gm), MR), tn = round_up(ceil_div(N, gn), NR);
      const int64_t am = ceil_div(M, tm), an = ceil_div(N, tn), tiles = am * an;
      const bool a_in_place = ceil_div(std::min(tn, N), NR) <= kInPlaceReuseA;
      const bool b_in_place = b_rowmajor && ceil_div(std::min(tm, M), MR) <= kInPlaceReuseB;
      const bool share = !b_packed && !b_in_place && am > 1;
      // A packed by several tile columns is packed once, before the tiles (run_problem).
      const double touch_a = a_in_place ? double(an) * M * K * 20 : an > 1 ? double(an) * M * K * 6 + 30.0 * M * K : 30.0 * M * K;
      const double touch_b = b_packed || share ? double(am) * K * N * 6 + (share ? 30.0 * K * N : 0)
                                               : double(am) * K * N * (b_in_place ? 20 : 30);
      const int64_t used = std::min<int64_t>(nt, tiles);
      const double waves = double(ceil_div(tiles, used)) * used / tiles;
      double cost = (flops + touch_a + touch_b + 2e4 * tiles) * waves / used;
      if (tiles < min_tiles) cost *= 1.25;  // fewer tiles than wanted: less slack under load
      if (cost < best_cost) { best_cost = cost; best = Grid{tm, tn, am, an, share}; }
    }
  }
  return best;
}

template <class T>
void run_problem(Problem<T>& P) {
  const KernelSet<T>& ks = *P.ks;
  const Blocking bl = blocking(active_isa(), sizeof(T) == 8);
  const Grid G = plan_grid(P.M, P.N, P.K, ks.mr, ks.nr, bl, P.pb != nullptr, P.csb == 1);
  const int64_t ntiles = G.gm * G.gn;
  PackedB<T> shared;
  if (G.share_b) {  // into the caller's scratch; the tiles then only read it
    shared.data = std::unique_ptr<T[], void (*)(void*)>(t_shared_b.get<T>(packed_count(P.K, P.N, ks.nr)), [](void*) {});
    pack_b_into(shared, P.K, P.N, P.b, P.rsb, P.csb, active_isa(), bl);
    P.pb = &shared;
  }
  const AMode am = a_mode(P, std::min(G.tm, P.M), std::min(G.tn, P.N));
  if (G.gn > 1 && !am.row && !am.col) {
    T* apk = t_shared_a.get<T>(static_cast<size_t>(G.gm * G.tm * P.K));
    pack_a_shared(P, G.tm, G.gm, apk);
    P.apk = apk;
  }
  // Threaded, the tiles go column by column: parallel_for gives the caller the first chunks and a
  // worker the last, so each thread keeps its own columns of B in its own cache call after call
  // (and of a shared B with one k slice, the part it packed itself).
  const bool by_columns = ntiles > 1 && threads_now() > 1;
  auto tiles = [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t bi = by_columns ? t % G.gm : t / G.gn, bj = by_columns ? t / G.gm : t % G.gn;
      run_tile(P, bi * G.tm, std::min(P.M, (bi + 1) * G.tm), bj * G.tn, std::min(P.N, (bj + 1) * G.tn));
    }
  };
  if (by_columns) parallel_for(ntiles, 1, tiles);
  else tiles(0, ntiles);
  P.pb = nullptr;
  P.apk = nullptr;
}

// C = epilogue(0): K == 0.
template <class T>
void epilogue_only(int64_t M, int64_t N, T* c, int64_t ldc, const Epilogue<T>& ep) {
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      const T start = ep.accumulate ? c[i * ldc + j] : ep.add ? ep.add[i * ep.ldd + j] : T(0);
      T v = start + (ep.bias ? ep.bias[j] : T(0));
      c[i * ldc + j] = ep.act == Act::relu ? (v < T(0) ? T(0) : v) : v;
    }
}

// Bias and activation over a vector y (stride inc) after a GEMV; bias index = j * bstep.
template <class T>
void vec_epilogue(int64_t n, T* y, int64_t inc, const Epilogue<T>& ep, int64_t bstep) {
  if (!ep.bias && ep.act == Act::none) return;
  for (int64_t j = 0; j < n; ++j) {
    T v = y[j * inc] + (ep.bias ? ep.bias[j * bstep] : T(0));
    y[j * inc] = ep.act == Act::relu && v < T(0) ? T(0) : v;  // NaN stays NaN
  }
}

// y (n values, stride incy) = x (k values, stride incx) times the k x n matrix B(p, j) =
// b[p*rs + j*cs] with one unit stride; threaded over column blocks when large.
template <class T>
void gemv(const KernelSet<T>& ks, int64_t k, int64_t n, const T* x, int64_t incx, const T* b, int64_t rs, int64_t cs,
          T* y, int64_t incy, const Epilogue<T>& ep, int64_t bstep) {
  T* xbuf = nullptr;
  if (incx != 1) {
    xbuf = t_apack.get<T>(k);
    for (int64_t p = 0; p < k; ++p) xbuf[p] = x[p * incx];
    x = xbuf;
  }
  const bool axpy = cs == 1 && (incy == 1 || rs != 1);
  T* ybuf = axpy && incy != 1 ? t_bpack.get<T>(n) : nullptr;
  const int64_t grain = std::max<int64_t>(64, (int64_t(1) << 16) / std::max<int64_t>(1, k));
  parallel_for(n, grain, [&](int64_t j0, int64_t j1) {
    if (axpy) {
      T* yy = ybuf ? ybuf + j0 : y + j0;
      if (ybuf && ep.accumulate) for (int64_t j = j0; j < j1; ++j) ybuf[j] = y[j * incy];
      ks.gemv_axpy(k, j1 - j0, x, b + j0, rs, yy, ep.accumulate);
      if (ybuf) for (int64_t j = j0; j < j1; ++j) y[j * incy] = ybuf[j];
    } else {
      ks.gemv_dot(k, j1 - j0, x, b + j0 * cs, cs, y + j0 * incy, incy, ep.accumulate);
    }
    vec_epilogue(j1 - j0, y + j0 * incy, incy, Epilogue<T>{false, ep.bias ? ep.bias + j0 * bstep : nullptr, ep.act}, bstep);
  });
}

// C = D for a vector C (n values, stride inc; D's stride dinc), so that the GEMV accumulates.
template <class T>
void copy_addend(int64_t n, const T* d, int64_t dinc, T* c, int64_t inc) {
  if (d == c && dinc == inc) return;
  for (int64_t j = 0; j < n; ++j) c[j * inc] = d[j * dinc];
}

template <class T>
bool try_gemv(const KernelSet<T>& ks, int64_t M, int64_t N, int64_t K, const T* a, int64_t rsa, int64_t csa, const T* b,
              int64_t rsb, int64_t csb, T* c, int64_t ldc, Epilogue<T> ep) {
  const bool row = M == 1 && (csb == 1 || rsb == 1), col = !row && N == 1 && (csa == 1 || rsa == 1);
  if ((row || col) && ep.add && !ep.accumulate) {  // a vector addend: copied, then accumulated
    if (row) copy_addend(N, ep.add, int64_t(1), c, int64_t(1));
    else copy_addend(M, ep.add, ep.ldd, c, ldc);
    ep.accumulate = true;
  }
  if (row) {  // row vector times matrix
    gemv(ks, K, N, a, csa, b, rsb, csb, c, 1, ep, 1);
    return true;
  }
  if (col) {  // matrix times column vector: the transposed problem
    gemv(ks, K, M, b, rsb, a, csa, rsa, c, ldc, ep, 0);
    return true;
  }
  return false;
}

}  // namespace

namespace detail {
template <class T>
const KernelSet<T>& kernels_for(Isa isa) {
  if constexpr (std::is_same_v<T, float>) {
    // The AVX-512 set is built only on a CPU that has it: building it runs code of the
    // -mavx512f translation unit, which may hold AVX-512 instructions (SIGILL elsewhere).
    static const KernelSet<float> k2 = avx2_kernels_f32(), k5 = can_run_avx512() ? avx512_kernels_f32() : KernelSet<float>{};
    return isa == Isa::avx512 ? k5 : k2;
  } else {
    static const KernelSet<double> k2 = avx2_kernels_f64(), k5 = can_run_avx512() ? avx512_kernels_f64() : KernelSet<double>{};
    return isa == Isa::avx512 ? k5 : k2;
  }
}
template const KernelSet<float>& kernels_for<float>(Isa);
template const KernelSet<double>& kernels_for<double>(Isa);
}  // namespace detail

bool cpu_has(Isa isa) { return isa == Isa::avx2 || can_run_avx512(); }
Isa active_isa() {
  int f = g_forced.load(std::memory_order_relaxed);
  return f >= 0 ? static_cast<Isa>(f) : auto_isa();
}
void force_isa(Isa isa) { g_forced.store(cpu_has(isa) ? static_cast<int>(isa) : -1); }
void reset_isa() { g_forced.store(-1); }

double fma_peak(Isa isa, double seconds) {
  if (!cpu_has(isa)) return 0.0;
  return isa == Isa::avx512 ? detail::fma_peak_avx512(seconds) : detail::fma_peak_avx2(seconds);
}

Blocking blocking(Isa isa, bool f64) {
  const int mr = f64 ? detail::kernels_for<double>(isa).mr : detail::kernels_for<float>(isa).mr;
  const int nr = f64 ? detail::kernels_for<double>(isa).nr : detail::kernels_for<float>(isa).nr;
  const int64_t es = f64 ? 8 : 4;
  const CacheSizes& cs = cache_sizes();
  Blocking b;
  b.mr = mr;
  b.nr = nr;
  // kc: an A micro-panel (mr x kc) takes ~40% of L1, leaving room for the B panel streaming past.
  b.kc = std::clamp<int64_t>(cs.l1 * 2 / 5 / (mr * es) / 16 * 16, 128, 512);
  // nc: the packed B block (kc x nc) takes ~half of L2.
  b.nc = std::max<int64_t>(nr, cs.l2 / 2 / (b.kc * es) / nr * nr);
  // mc: the packed A block of a tile (mc x kc) within a few MB of L3.
  b.mc = std::max<int64_t>(mr, std::min<int64_t>(std::max<int64_t>(cs.l3 / 4, int64_t(1) << 20), int64_t(4) << 20) / (b.kc * es) / mr * mr);
  return b;
}

template <class T>
size_t PackedB<T>::bytes() const { return static_cast<size_t>(K * round_up(N, nr)) * sizeof(T); }

template <class T>
std::shared_ptr<const PackedB<T>> pack_b(int64_t K, int64_t N, const T* b, int64_t rsb, int64_t csb, int64_t kc) {
  const Isa isa = active_isa();
  Blocking bl = blocking(isa, sizeof(T) == 8);
  if (kc > 0) bl.kc = std::min(kc, std::max<int64_t>(K, 1));
  auto pb = std::make_shared<PackedB<T>>();
  const size_t bytes = (packed_count(K, N, bl.nr) * sizeof(T) + 63) / 64 * 64;
  pb->data = std::unique_ptr<T[], void (*)(void*)>(static_cast<T*>(std::aligned_alloc(64, bytes)), std::free);
  if (!pb->data) throw std::bad_alloc();
  pack_b_into(*pb, K, N, b, rsb, csb, isa, bl);
  return pb;
}

template <class T>
void gemm(int64_t M, int64_t N, int64_t K, const T* a, int64_t rsa, int64_t csa, const T* b, int64_t rsb, int64_t csb, T* c,
          int64_t ldc, const Epilogue<T>& ep) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) return epilogue_only(M, N, c, ldc, ep);
  const Isa isa = active_isa();
  const KernelSet<T>& ks = detail::kernels_for<T>(isa);
  if (try_gemv(ks, M, N, K, a, rsa, csa, b, rsb, csb, c, ldc, ep)) return;
  const Blocking bl = blocking(isa, sizeof(T) == 8);
  Problem<T> P{&ks, M, N, K, a, rsa, csa, b, rsb, csb, nullptr, c, ldc, ep, bl.kc, bl.nc};
  run_problem(P);
}

template <class T>
void gemm(int64_t M, int64_t N, int64_t K, const T* a, int64_t rsa, int64_t csa, const PackedB<T>& b, T* c, int64_t ldc,
          const Epilogue<T>& ep) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) return epilogue_only(M, N, c, ldc, ep);
  const Isa isa = active_isa();
  if (b.isa != isa || b.K != K || b.N != N) throw std::invalid_argument("blas::gemm: packed B does not fit this product");
  const KernelSet<T>& ks = detail::kernels_for<T>(isa);
  Problem<T> P{&ks, M, N, K, a, rsa, csa, nullptr, 0, 0, &b, c, ldc, ep, b.kc, blocking(isa, sizeof(T) == 8).nc};
  run_problem(P);
}

#define KERAS_CPP_GEMM_INSTANTIATE(T)                                                                                 \
  template struct PackedB<T>;                                                                                         \
  template std::shared_ptr<const PackedB<T>> pack_b<T>(int64_t, int64_t, const T*, int64_t, int64_t, int64_t);        \
  template void gemm<T>(int64_t, int64_t, int64_t, const T*, int64_t, int64_t, const T*, int64_t, int64_t, T*, int64_t, \
                        const Epilogue<T>&);                                                                          \
  template void gemm<T>(int64_t, int64_t, int64_t, const T*, int64_t, int64_t, const PackedB<T>&, T*, int64_t,        \
                        const Epilogue<T>&);
KERAS_CPP_GEMM_INSTANTIATE(float)
KERAS_CPP_GEMM_INSTANTIATE(double)

}  // namespace blas
}  // namespace keras_cpp
