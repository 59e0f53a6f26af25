// cpp/kernels/elementwise.cpp — the layout drivers of elementwise.h.
#include "kernels/elementwise.h"

#include <cstring>
#include <string>
#include <vector>

#include "keras_cpp/error.h"
#include "kernels/parallel.h"
#include "kernels/strided.h"
#include "kernels/strided_copy.h"

namespace keras_cpp {
namespace {

// Elements per thread chunk: cheap ops need large chunks to be worth a thread.
int64_t grain_for(int64_t cost) { return std::max<int64_t>(2048, 32768 / std::max<int64_t>(1, cost)); }

int64_t unary_cost(ew::UnaryOp op) {
  using U = ew::UnaryOp;
  switch (op) {
    case U::exp: case U::expm1: case U::log: case U::log1p: case U::tanh: case U::sigmoid: case U::softplus: return 8;
    case U::sin: case U::cos: return 16;
    default: return 1;
  }
}

int64_t binary_cost(ew::BinaryOp op) {
  using B = ew::BinaryOp;
  return op == B::pow ? 16 : op == B::mod || op == B::floordiv ? 4 : 1;
}

// True when the last axis longer than 1 has stride 1 or 0 (inner rows contiguous or one
// broadcast value), which the kernels take as they are.
bool inner_dense(const Tensor& t) {
  for (int i = t.ndim() - 1; i >= 0; --i)
    if (t.shape()[i] != 1) return t.strides()[i] == 1 || t.strides()[i] == 0;
  return true;
}

[[noreturn]] void unsupported(const char* what, DType t) {
  throw TypeError(std::string("[") + what + "] no kernel for dtype " + dtype_name(t));
}

// Per-thread scratch for batching short rows.
struct Scratch {
  std::vector<char> a, b;
};
Scratch& scratch() {
  thread_local Scratch s;
  return s;
}

// Offsets of row r (all axes but the last) of the collapsed operands.
template <int N>
void row_offsets(const Collapsed<N>& c, int64_t r, int64_t* off) {
  const int nd = static_cast<int>(c.shape.size());
  for (int k = 0; k < N; ++k) off[k] = 0;
  for (int d = nd - 2; d >= 0; --d) {
    int64_t idx = r % c.shape[d];
    r /= c.shape[d];
    for (int k = 0; k < N; ++k) off[k] += idx * c.strides[k][d];
  }
}

// Short rows: batch G rows into one call, expanding an operand that is not dense across rows
// (a broadcast row or a per-row value) into scratch; a row broadcast is expanded only once.
void binary_short_rows(ew::BinaryFn fn, const Collapsed<3>& c, const char* pa, const char* pb, char* po, int64_t es,
                       int64_t os, int64_t grain) {
  const int nd = static_cast<int>(c.shape.size());
  const int64_t inner = c.shape[nd - 1];
  int64_t rows = 1;
  for (int d = 0; d < nd - 1; ++d) rows *= c.shape[d];
  const int sa = c.strides[0][nd - 1] ? 1 : 0, sb = c.strides[1][nd - 1] ? 1 : 0;
  const int64_t G = std::max<int64_t>(1, 4096 / inner);
  auto dense_rows = [&](int k) {  // operand k steps by `inner` from row to row
    for (int d = 0; d < nd - 1; ++d) {
      int64_t want = inner;
      for (int e = d + 1; e < nd - 1; ++e) want *= c.shape[e];
      if (c.strides[k][d] != want || c.strides[k][nd - 1] != 1) return false;
    }
    return true;
  };
  auto same_row = [&](int k) {  // every row of operand k is the same (stride 0 on all outer axes)
    for (int d = 0; d < nd - 1; ++d)
      if (c.strides[k][d] != 0) return false;
    return true;
  };
  const bool da = dense_rows(0), db = dense_rows(1), ra = same_row(0), rb = same_row(1);
  parallel_for((rows + G - 1) / G, std::max<int64_t>(1, grain / (G * inner)), [&](int64_t g0, int64_t g1) {
    Scratch& sc = scratch();
    const size_t bytes = static_cast<size_t>(G * inner * es);
    if (sc.a.size() < bytes) sc.a.resize(bytes);
    if (sc.b.size() < bytes) sc.b.resize(bytes);
    bool a_ready = false, b_ready = false;
    int64_t off[3];
    for (int64_t g = g0; g < g1; ++g) {
      const int64_t r0 = g * G, m = std::min(G, rows - r0);
      row_offsets<3>(c, r0, off);
      const char* xa = pa + off[0] * es;
      const char* xb = pb + off[1] * es;
      char* xo = po + off[2] * os;
      auto expand = [&](int k, const char* base, int stride, std::vector<char>& buf, bool once, bool& ready) {
        if (once && ready) return;
        for (int64_t r = 0; r < (once ? G : m); ++r) {
          int64_t o3[3];
          row_offsets<3>(c, once ? 0 : r0 + r, o3);
          const char* src = base + o3[k] * es;
          char* dst = buf.data() + r * inner * es;
          if (stride) std::memcpy(dst, src, inner * es);
          else
            for (int64_t i = 0; i < inner; ++i) std::memcpy(dst + i * es, src, es);
        }
        ready = once;
      };
      if (!da) expand(0, pa, sa, sc.a, ra, a_ready);
      if (!db) expand(1, pb, sb, sc.b, rb, b_ready);
      fn(da ? xa : sc.a.data(), db ? xb : sc.b.data(), xo, m * inner, 1, 1);
    }
  });
}

// Panels of a contiguous output for operands that are not dense along their rows (a transposed
// view): each panel (about kPanel elements: axis k cut into runs of c, the axes after k whole) is
// gathered into per-thread scratch by the blocked strided copy while it is in L2, and the kernel
// then runs on it there, instead of materializing the whole operand in memory first. Panels much
// smaller read too little of each source row for the prefetchers.
constexpr int64_t kPanel = 32768;  // 128 KB of float32: measured best of 16K..256K, 1024^2 transposed
struct Panels {
  const Shape* shape = nullptr;
  int k = 0;
  int64_t inner = 1, c = 1, per = 1, count = 0;  // per = panels along axis k
};

Panels plan_panels(const Shape& s) {
  Panels P;
  P.shape = &s;
  const int nd = static_cast<int>(s.size());
  P.k = nd - 1;
  while (P.k > 0 && P.inner * s[P.k] <= kPanel) P.inner *= s[P.k--];
  P.c = std::max<int64_t>(1, std::min<int64_t>(s[P.k], kPanel / P.inner));
  P.per = (s[P.k] + P.c - 1) / P.c;
  int64_t outer = 1;
  for (int d = 0; d < P.k; ++d) outer *= s[d];
  P.count = outer * P.per;
  return P;
}

// Operand t (broadcast to the output's shape) over panel p: in place when that part of t is dense
// in the panel's order, else copied into buf. *m gets the panel's length along axis k.
const char* panel_src(const Tensor& t, const Panels& P, int64_t p, std::vector<char>& buf, int64_t es, int64_t* m) {
  const Shape& s = *P.shape;
  const int nd = static_cast<int>(s.size());
  int64_t rem = p / P.per, off = 0;
  const int64_t j0 = (p % P.per) * P.c;
  for (int d = P.k - 1; d >= 0; --d) {
    off += (rem % s[d]) * t.strides()[d];
    rem /= s[d];
  }
  off += j0 * t.strides()[P.k];
  *m = std::min(P.c, s[P.k] - j0);
  const char* base = static_cast<const char*>(t.raw()) + off * es;
  Shape sub(s.begin() + P.k, s.end()), ss(t.strides().begin() + P.k, t.strides().end());
  sub[0] = *m;
  const Shape ds = contiguous_strides(sub);
  bool dense = true;
  for (int d = 0; d < nd - P.k; ++d) dense = dense && (sub[d] == 1 || ss[d] == ds[d]);
  if (dense) return base;
  const size_t bytes = static_cast<size_t>(*m * P.inner * es);
  if (buf.size() < bytes) buf.resize(bytes);
  strided_copy(base, ss, buf.data(), ds, sub, static_cast<size_t>(es));
  return buf.data();
}

void binary_panels(ew::BinaryFn fn, const Tensor& a, const Tensor& b, Tensor& out, int64_t grain) {
  const Panels P = plan_panels(out.shape());
  const int64_t es = static_cast<int64_t>(dtype_size(a.dtype())), os = static_cast<int64_t>(dtype_size(out.dtype()));
  const bool sa = a.numel() != 1, sb = b.numel() != 1;  // one value: the kernel broadcasts it
  parallel_for(P.count, std::max<int64_t>(1, grain / (P.c * P.inner)), [&](int64_t p0, int64_t p1) {
    Scratch& sc = scratch();
    for (int64_t p = p0; p < p1; ++p) {
      int64_t m = 0;
      const char* pa = sa ? panel_src(a, P, p, sc.a, es, &m) : static_cast<const char*>(a.raw());
      const char* pb = sb ? panel_src(b, P, p, sc.b, es, &m) : static_cast<const char*>(b.raw());
      if (!sa && !sb) m = std::min(P.c, (*P.shape)[P.k] - (p % P.per) * P.c);
      char* po = static_cast<char*>(out.raw()) + (p / P.per * (*P.shape)[P.k] + p % P.per * P.c) * P.inner * os;
      fn(pa, pb, po, m * P.inner, sa, sb);
    }
  });
}

void unary_panels(ew::UnaryFn fn, const Tensor& x, Tensor& out, int64_t grain) {
  const Panels P = plan_panels(out.shape());
  const int64_t es = static_cast<int64_t>(dtype_size(x.dtype())), os = static_cast<int64_t>(dtype_size(out.dtype()));
  parallel_for(P.count, std::max<int64_t>(1, grain / (P.c * P.inner)), [&](int64_t p0, int64_t p1) {
    Scratch& sc = scratch();
    for (int64_t p = p0; p < p1; ++p) {
      int64_t m = 0;
      const char* px = panel_src(x, P, p, sc.a, es, &m);
      fn(px, static_cast<char*>(out.raw()) + (p / P.per * (*P.shape)[P.k] + p % P.per * P.c) * P.inner * os, m * P.inner);
    }
  });
}

}  // namespace

void unary_apply(ew::UnaryOp op, const Tensor& x0, Tensor& out) {
  ew::UnaryFn fn = ew::unary(op, x0.dtype());
  if (!fn) unsupported("elementwise", x0.dtype());
  const int64_t n = x0.numel();
  if (n == 0) return;
  const int64_t es = static_cast<int64_t>(dtype_size(x0.dtype())), os = static_cast<int64_t>(dtype_size(out.dtype()));
  const int64_t grain = grain_for(unary_cost(op));
  Tensor x = x0;
  if (!x.is_contiguous()) {
    Collapsed<2> c = collapse<2>(x.shape(), {&x.strides(), &out.strides()});
    const int nd = static_cast<int>(c.shape.size());
    const int64_t inner = c.shape[nd - 1];
    if (c.strides[0][nd - 1] == 1 && inner >= 256) {  // long dense rows of a strided view
      const char* px = static_cast<const char*>(x.raw());
      char* po = static_cast<char*>(out.raw());
      parallel_for(n / inner, std::max<int64_t>(1, grain / inner), [&](int64_t r0, int64_t r1) {
        int64_t off[2];
        for (int64_t r = r0; r < r1; ++r) {
          row_offsets<2>(c, r, off);
          fn(px + off[0] * es, po + off[1] * os, inner);
        }
      });
      return;
    }
    if (out.is_contiguous()) return unary_panels(fn, x, out, grain);
    x = x.contiguous();
  }
  const char* px = static_cast<const char*>(x.raw());
  char* po = static_cast<char*>(out.raw());
  ew::UnaryFn nt = n * os >= ew::kStreamBytes ? ew::unary_stream(op, x.dtype()) : nullptr;
  if (nt) {
    parallel_for(n, grain, [&](int64_t b, int64_t e) {
      nt(px + b * es, po + b * os, e - b);
      ew::stream_fence();
    });
    return;
  }
  parallel_for(n, grain, [&](int64_t b, int64_t e) { fn(px + b * es, po + b * os, e - b); });
}

void binary_apply(ew::BinaryOp op, const Tensor& a0, const Tensor& b0, Tensor& out) {
  ew::BinaryFn fn = ew::binary(op, a0.dtype());
  if (!fn) unsupported("elementwise", a0.dtype());
  const int64_t n = out.numel();
  if (n == 0) return;
  // The common case: operands laid out like out (same numel, contiguous) or one value; they go
  // to the kernel as they are, with no broadcast views or collapsed strides built (small calls).
  auto flat = [n](const Tensor& t) { return (t.numel() == n || t.numel() == 1) && t.is_contiguous(); };
  if (out.is_contiguous() && flat(a0) && flat(b0)) {
    const int sa = a0.numel() == n ? 1 : 0, sb = b0.numel() == n ? 1 : 0;
    const int64_t es = static_cast<int64_t>(dtype_size(a0.dtype())), os = static_cast<int64_t>(dtype_size(out.dtype()));
    const char* pa = static_cast<const char*>(a0.raw());
    const char* pb = static_cast<const char*>(b0.raw());
    char* po = static_cast<char*>(out.raw());
    ew::BinaryFn nt = n * os >= ew::kStreamBytes ? ew::binary_stream(op, a0.dtype()) : nullptr;
    parallel_for(n, grain_for(binary_cost(op)), [&](int64_t s, int64_t e) {
      if (!nt) return fn(pa + s * sa * es, pb + s * sb * es, po + s * os, e - s, sa, sb);
      nt(pa + s * sa * es, pb + s * sb * es, po + s * os, e - s, sa, sb);
      ew::stream_fence();
    });
    return;
  }
  if (out.is_contiguous() && (!inner_dense(a0) || !inner_dense(b0))) {
    const Tensor a = a0.numel() == 1 ? a0 : a0.broadcast_to(out.shape());
    const Tensor b = b0.numel() == 1 ? b0 : b0.broadcast_to(out.shape());
    binary_panels(fn, a, b, out, grain_for(binary_cost(op)));
    return;
  }
  // Each operand's inner rows dense (or broadcast) before broadcasting to the output's shape.
  Tensor a = (inner_dense(a0) ? a0 : a0.contiguous()).broadcast_to(out.shape());
  Tensor b = (inner_dense(b0) ? b0 : b0.contiguous()).broadcast_to(out.shape());
  const int64_t es = static_cast<int64_t>(dtype_size(a.dtype())), os = static_cast<int64_t>(dtype_size(out.dtype()));
  const int64_t grain = grain_for(binary_cost(op));
  Collapsed<3> c = collapse<3>(out.shape(), {&a.strides(), &b.strides(), &out.strides()});
  const int nd = static_cast<int>(c.shape.size());
  const int64_t inner = c.shape[nd - 1], rows = n / inner;
  const int sa = c.strides[0][nd - 1] ? 1 : 0, sb = c.strides[1][nd - 1] ? 1 : 0;
  const char* pa = static_cast<const char*>(a.raw());
  const char* pb = static_cast<const char*>(b.raw());
  char* po = static_cast<char*>(out.raw());
  if (rows == 1) {
    parallel_for(inner, grain, [&](int64_t s, int64_t e) { fn(pa + s * sa * es, pb + s * sb * es, po + s * os, e - s, sa, sb); });
    return;
  }
  if (inner >= 256) {
    // A large output (x * row over 16 MiB, say) streams its rows past the caches, as the dense path does.
    ew::BinaryFn nt = n * os >= ew::kStreamBytes ? ew::binary_stream(op, a0.dtype()) : nullptr;
    ew::BinaryFn f = nt ? nt : fn;
    parallel_for(rows, std::max<int64_t>(1, grain / inner), [&](int64_t r0, int64_t r1) {
      int64_t off[3];
      for (int64_t r = r0; r < r1; ++r) {
        row_offsets<3>(c, r, off);
        f(pa + off[0] * es, pb + off[1] * es, po + off[2] * os, inner, sa, sb);
      }
      if (nt) ew::stream_fence();
    });
    return;
  }
  binary_short_rows(fn, c, pa, pb, po, es, os, grain);
}

}  // namespace keras_cpp
