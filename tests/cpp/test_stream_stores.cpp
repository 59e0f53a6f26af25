// The non-temporal-store kernels (ew::unary_stream / binary_stream) and the drivers that pick them
// for outputs of at least ew::kStreamBytes: each ISA's table forced in turn, output addresses at
// every element offset from a 64-byte boundary (the plainly stored head), odd tails, broadcast
// operands; results must be bit-identical to the plain kernels' and nothing written outside.
#include <cstring>
#include <vector>

#include "doctest.h"
#include "keras_cpp/config.h"
#include "keras_cpp/tensor.h"
#include "kernels/elementwise.h"
#include "kernels/fused_ew.h"
#include "kernels/strided_copy.h"
#include "kernels/ew.h"

using namespace keras_cpp;
using ew::BinaryOp;
using ew::Isa;
using ew::UnaryOp;

namespace {

std::vector<Isa> isas() {
  std::vector<Isa> v{Isa::avx2};
  if (ew::cpu_has(Isa::avx512)) v.push_back(Isa::avx512);
  return v;
}

struct ForceIsa {
  explicit ForceIsa(Isa i) { ew::force_isa(i); }
  ~ForceIsa() { ew::reset_isa(); }
};

const UnaryOp kStreamUnary[] = {UnaryOp::abs,      UnaryOp::negative, UnaryOp::square, UnaryOp::sqrt,
                                UnaryOp::softsign, UnaryOp::relu,     UnaryOp::sign,   UnaryOp::round};
const BinaryOp kStreamBinary[] = {BinaryOp::add,     BinaryOp::subtract, BinaryOp::multiply,
                                  BinaryOp::divide,  BinaryOp::maximum,  BinaryOp::minimum};
const int64_t kLens[] = {0, 1, 5, 15, 16, 17, 31, 32, 33, 47, 64, 65, 129, 1000, 4099};

template <class T>
std::vector<T> values(int64_t n, uint32_t seed) {
  std::vector<T> v(n);
  for (int64_t i = 0; i < n; ++i) {
    seed = seed * 1664525u + 1013904223u;
    v[i] = static_cast<T>(static_cast<int32_t>(seed >> 8) / 65536.0 - 128.0);  // signs, fractions, ties
  }
  if (n > 3) v[3] = T(0) / T(0);  // a NaN (max/min/relu keep it)
  return v;
}

// Stream kernel into buffer position `off` (elements from a 64-byte boundary) vs the plain kernel.
template <class T, class Run>
void compare_at(int64_t n, int64_t off, Run run) {
  const T guard = T(-777);
  const int64_t line = 64 / static_cast<int64_t>(sizeof(T));
  std::vector<T> a(n + off + 3 * line, guard), b(n + off + 3 * line, guard);
  auto at = [&](std::vector<T>& v) {  // one line in, then `off` past the next 64-byte boundary
    return v.data() + line + ((64 - reinterpret_cast<uintptr_t>(v.data()) % 64) % 64) / sizeof(T) + off;
  };
  T* pa = at(a);
  T* pb = at(b);
  run(pa, pb, n);
  ew::stream_fence();
  CHECK(std::memcmp(pa - 1, pb - 1, (n + 2) * sizeof(T)) == 0);  // incl. one guard on each side
  CHECK(pb[-1] == guard);
  CHECK(pb[n] == guard);
}

template <class T>
void check_kernels(DType dt) {
  for (Isa isa : isas()) {
    ForceIsa f(isa);
    for (int64_t n : kLens)
      for (int64_t off = 0; off < 64 / static_cast<int64_t>(sizeof(T)); off += 3) {
        const std::vector<T> x = values<T>(n + 1, 11u + static_cast<uint32_t>(n)), y = values<T>(n + 1, 5u);
        for (UnaryOp op : kStreamUnary) {
          ew::UnaryFn plain = ew::unary(op, dt), nt = ew::unary_stream(op, dt);
          REQUIRE(static_cast<bool>(nt));
          compare_at<T>(n, off, [&](T* o0, T* o1, int64_t m) { plain(x.data(), o0, m), nt(x.data(), o1, m); });
        }
        for (BinaryOp op : kStreamBinary) {
          ew::BinaryFn plain = ew::binary(op, dt), nt = ew::binary_stream(op, dt);
          REQUIRE(static_cast<bool>(nt));
          for (int sa = 0; sa < 2; ++sa)
            for (int sb = 0; sb < 2; ++sb)
              compare_at<T>(n, off, [&](T* o0, T* o1, int64_t m) {
                plain(x.data() + 1, y.data(), o0, m, sa, sb);  // x + 1: an input not aligned like the output
                nt(x.data() + 1, y.data(), o1, m, sa, sb);
              });
        }
      }
  }
}

// A contiguous output view `off` elements into its storage, large enough for the streaming path.
Tensor big_out(const Shape& s, int64_t off) {
  Tensor base = Tensor::empty({shape_numel(s) + off}, DType::float32);
  return Tensor(base.storage(), s, contiguous_strides(s), off, DType::float32);
}
Tensor big_out(int64_t n, int64_t off) { return big_out(Shape{n}, off); }

Tensor filled(const Shape& s, uint32_t seed) {
  Tensor t = Tensor::empty(s, DType::float32);
  const std::vector<float> v = values<float>(t.numel(), seed);
  std::memcpy(t.raw(), v.data(), v.size() * 4);
  return t;
}

fused::Instr ins(fused::Kind k, uint8_t code, int a, int b = fused::kNoArg) {
  fused::Instr i;
  i.kind = k;
  i.code = code;
  i.dtype = i.out = DType::float32;
  i.arg[0] = a;
  i.arg[1] = b;
  return i;
}

}  // namespace

TEST_CASE("stream kernels match the plain kernels (float32)") { check_kernels<float>(DType::float32); }
TEST_CASE("stream kernels match the plain kernels (float64)") { check_kernels<double>(DType::float64); }

TEST_CASE("drivers stream large outputs with the same results, 1 and 2 threads") {
  const int64_t n = ew::kStreamBytes / 4 + 37;  // past the threshold, an odd tail
  const std::vector<float> xv = values<float>(n, 3u), yv = values<float>(n, 9u);
  Tensor x = Tensor::empty({n}, DType::float32), y = Tensor::empty({n}, DType::float32);
  std::memcpy(x.raw(), xv.data(), n * 4);
  std::memcpy(y.raw(), yv.data(), n * 4);
  const int threads = get_num_threads();
  for (Isa isa : isas())
    for (int nt : {1, 2})
      for (int64_t off : {0, 5}) {
        ForceIsa f(isa);
        set_num_threads(nt);
        Tensor o = big_out(n, off);
        binary_apply(BinaryOp::maximum, x, y, o);
        std::vector<float> want(n);
        ew::binary(BinaryOp::maximum, DType::float32)(xv.data(), yv.data(), want.data(), n, 1, 1);
        CHECK(std::memcmp(o.raw(), want.data(), n * 4) == 0);
        unary_apply(UnaryOp::relu, x, o);
        ew::unary(UnaryOp::relu, DType::float32)(xv.data(), want.data(), n);
        CHECK(std::memcmp(o.raw(), want.data(), n * 4) == 0);
      }
  set_num_threads(threads);
}

TEST_CASE("a large reversed copy (streamed rows) gives the reversed rows") {
  // Rows of odd length, the destination starting off a 64-byte boundary, 4- and 8-byte elements;
  // past kStreamBytes in all, so the non-temporal row copy runs (1 and 2 threads).
  const int threads = get_num_threads();
  for (int64_t es : {4, 8})
    for (int nt : {1, 2}) {
      set_num_threads(nt);
      const int64_t cols = 1027, rows = ew::kStreamBytes / (cols * es) + 3, n = rows * cols, off = 3;
      std::vector<unsigned char> src(n * es), dst((n + off + 1) * es, 0xAB);
      for (int64_t i = 0; i < n * es; ++i) src[i] = static_cast<unsigned char>(i * 131 + i / 7);
      // Source element (r, c) read at (r, cols - 1 - c): row stride cols, column stride -1.
      strided_copy(src.data() + (cols - 1) * es, {cols, -1}, dst.data() + off * es, {cols, 1}, {rows, cols},
                   static_cast<size_t>(es));
      bool ok = true;
      for (int64_t r = 0; r < rows && ok; ++r)
        for (int64_t c = 0; c < cols && ok; ++c)
          ok = std::memcmp(&dst[(off + r * cols + c) * es], &src[(r * cols + cols - 1 - c) * es], es) == 0;
      CHECK(ok);
      CHECK(dst[off * es - 1] == 0xAB);
      CHECK(dst[(off + n) * es] == 0xAB);
    }
  set_num_threads(threads);
}

TEST_CASE("a fused chain with a large output (streamed last op) matches the unfused kernels") {
  // relu(a * x + b) and a * x + b, rows of odd length broadcast a and b; the output view starts
  // off a 64-byte boundary. The unfused drivers' streaming is checked above against plain kernels.
  const int64_t cols = 1027, rows = ew::kStreamBytes / (cols * 4) + 2;
  Tensor x = filled({rows, cols}, 1u), a = filled({cols}, 2u), b = filled({cols}, 3u);
  const int threads = get_num_threads();
  for (Isa isa : isas())
    for (int nt : {1, 2})
      for (bool relu : {true, false}) {
        ForceIsa f(isa);
        set_num_threads(nt);
        fused::Program p;
        p.ninputs = 3;
        p.code.push_back(ins(fused::Kind::binary, uint8_t(BinaryOp::multiply), fused::input_arg(1), fused::input_arg(0)));
        p.code.push_back(ins(fused::Kind::binary, uint8_t(BinaryOp::add), 0, fused::input_arg(2)));
        if (relu) p.code.push_back(ins(fused::Kind::unary, uint8_t(UnaryOp::relu), 1));
        p.prepare();
        Tensor out = big_out({rows, cols}, 5);
        fused::run(p, {x, a, b}, out);
        Tensor t0 = Tensor::empty({rows, cols}, DType::float32), t1 = Tensor::empty({rows, cols}, DType::float32);
        binary_apply(BinaryOp::multiply, a, x, t0);
        binary_apply(BinaryOp::add, t0, b, t1);
        if (relu) unary_apply(UnaryOp::relu, t1, t0);
        CHECK(std::memcmp(out.raw(), (relu ? t0 : t1).raw(), rows * cols * 4) == 0);
      }
  set_num_threads(threads);
}
