// Our GEMM (each ISA's micro-kernels forced in turn, float32 and float64) against a naive
// triple loop over odd shapes, transposed operands, padded leading dimensions, the epilogue
// (accumulate, a strided addend, bias, relu), pre-packed B and the GEMV path; and the
// packed-weight cache.
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "doctest.h"
#include "keras_cpp/keras_cpp.h"
#include "kernels/gemm_cache.h"
#include "kernels/parallel.h"
#include "kernels/sgemm.h"

using namespace keras_cpp;

namespace {

template <class T>
struct Mat {  // a logical rows x cols matrix stored row-major or as a transpose, with padding
  int64_t rows, cols, ld;
  bool trans;
  std::vector<T> data;
  Mat(int64_t r, int64_t c, bool t, int64_t pad, uint32_t seed) : rows(r), cols(c), trans(t) {
    ld = (t ? r : c) + pad;
    data.assign(static_cast<size_t>((t ? c : r) * ld + 1), T(0));
    for (auto& x : data) { seed = seed * 1664525u + 1013904223u; x = static_cast<T>(seed >> 8) / T(16777216) - T(0.5); }
  }
  int64_t rs() const { return trans ? 1 : ld; }
  int64_t cs() const { return trans ? ld : 1; }
  T at(int64_t i, int64_t j) const { return data[i * rs() + j * cs()]; }
};

struct Opts {
  bool ta = false, tb = false, acc = false, bias = false, relu = false, prepack = false;
  bool add = false;  // start from a separate addend D with its own row stride (Epilogue::add)
  int64_t pad = 0;
};

// Runs C = epilogue(A*B) through blas::gemm (C padded to ldc, with a guard band that must stay
// untouched) and compares with a double-precision loop.
template <class T>
bool check_gemm(int64_t M, int64_t N, int64_t K, const Opts& o) {
  Mat<T> A(M, K, o.ta, o.pad, 7u + M), B(K, N, o.tb, o.pad * 2, 11u + N);
  const int64_t ldc = N + o.pad;
  const T guard = T(12345);
  std::vector<T> C(static_cast<size_t>(M * ldc + 8), guard), bias(static_cast<size_t>(N));
  for (int64_t j = 0; j < N; ++j) bias[j] = T(0.25) * static_cast<T>(j % 5) - T(0.5);
  if (o.acc)
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) C[i * ldc + j] = T(0.125) * static_cast<T>((i + 3 * j) % 7);
  // D sits in a wider buffer (row stride not N, like a slice of a (B, T, N) tensor); C keeps
  // the guard value so that reading C instead of D shows.
  const int64_t ldd = 3 * N + 5;
  std::vector<T> D(static_cast<size_t>(M * ldd));
  for (size_t t = 0; t < D.size(); ++t) D[t] = T(0.0625) * static_cast<T>(t % 11) - T(0.25);
  const std::vector<T> C0 = C;
  blas::Epilogue<T> ep;
  ep.accumulate = o.acc;
  if (o.add) { ep.add = D.data(); ep.ldd = ldd; }
  ep.bias = o.bias ? bias.data() : nullptr;
  ep.act = o.relu ? blas::Act::relu : blas::Act::none;
  if (o.prepack) {
    auto pb = blas::pack_b<T>(K, N, B.data.data(), B.rs(), B.cs());
    blas::gemm<T>(M, N, K, A.data.data(), A.rs(), A.cs(), *pb, C.data(), ldc, ep);
  } else {
    blas::gemm<T>(M, N, K, A.data.data(), A.rs(), A.cs(), B.data.data(), B.rs(), B.cs(), C.data(), ldc, ep);
  }
  const double tol = std::is_same_v<T, float> ? 1e-5 : 1e-12;
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < ldc; ++j) {
      const T got = C[i * ldc + j];
      if (j >= N) { if (got != guard) return false; continue; }  // padding must stay untouched
      double ref = o.acc ? double(C0[i * ldc + j]) : o.add ? double(D[i * ldd + j]) : 0.0, mag = std::fabs(ref);
      for (int64_t k = 0; k < K; ++k) { ref += double(A.at(i, k)) * B.at(k, j); mag += std::fabs(double(A.at(i, k)) * B.at(k, j)); }
      if (o.bias) { ref += bias[j]; mag += std::fabs(double(bias[j])); }
      if (o.relu && ref < 0) ref = 0;
      if (!(std::fabs(got - ref) <= tol * mag + tol)) return false;
    }
  for (size_t t = static_cast<size_t>(M * ldc); t < C.size(); ++t) if (C[t] != guard) return false;
  return true;
}

std::vector<blas::Isa> isas() {
  std::vector<blas::Isa> v{blas::Isa::avx2};
  if (blas::cpu_has(blas::Isa::avx512)) v.push_back(blas::Isa::avx512);
  return v;
}

std::string tname(float) { return "float32"; }
std::string tname(double) { return "float64"; }

// Every M, N, K from `sizes` with pseudo-random transposes, padding and epilogue.
template <class T>
void sweep_sizes(const std::vector<int64_t>& sizes, bool prepack) {
  for (blas::Isa isa : isas()) {
    blas::force_isa(isa);
    REQUIRE(blas::active_isa() == isa);
    int failures = 0, cases = 0;
    uint32_t h = 1;
    for (int64_t M : sizes)
      for (int64_t N : sizes)
        for (int64_t K : sizes) {
          h = h * 2654435761u + 97u;
          Opts o;
          o.ta = (h >> 7) & 1; o.tb = (h >> 9) & 1;
          o.pad = (h >> 11) % 3 == 0 ? 0 : (h >> 13) % 5 + 1;
          o.acc = (h >> 17) % 4 == 0; o.bias = (h >> 19) % 3 == 0; o.relu = (h >> 21) % 3 == 0;
          o.add = !o.acc && (h >> 23) % 4 == 0;
          o.prepack = prepack;
          ++cases;
          if (!check_gemm<T>(M, N, K, o) && ++failures <= 5)
            MESSAGE(std::string(blas::isa_name(isa)) << " " << tname(T()) << " mismatch M=" << M << " N=" << N << " K=" << K << " ta=" << o.ta
                                        << " tb=" << o.tb << " pad=" << o.pad << " acc=" << o.acc << " bias=" << o.bias
                                        << " relu=" << o.relu << " add=" << o.add << " prepack=" << prepack);
        }
    CHECK_MESSAGE(failures == 0, std::string(blas::isa_name(isa)) << " " << tname(T()) << ": " << failures << " of " << cases << " shapes wrong");
  }
  blas::reset_isa();
}

}  // namespace

TEST_CASE("gemm matches a naive product over odd shapes, transposes, leading dims and epilogues") {
  const std::vector<int64_t> sizes{1, 2, 3, 5, 6, 7, 11, 12, 13, 16, 17, 31, 32, 33, 47, 48, 49, 64, 65, 67};
  sweep_sizes<float>(sizes, false);
  sweep_sizes<double>({1, 2, 3, 4, 5, 7, 8, 9, 12, 13, 16, 17, 24, 25, 33}, false);
}

// C = D + A*B with D strided (Epilogue::add) on every M, N, K in {1, 7, 33} (GEMV, ragged
// tiles) and K = 600 (D read by the first k slice only), with every transpose and epilogue.
template <class T>
void sweep_addend() {
  for (blas::Isa isa : isas()) {
    blas::force_isa(isa);
    int failures = 0, cases = 0;
    for (int64_t M : {1, 7, 33})
      for (int64_t N : {1, 7, 33})
        for (int64_t K : {1, 7, 33, 600})
          for (int v = 0; v < 16; ++v) {
            Opts o;
            o.add = true;
            o.ta = v & 1; o.tb = (v >> 1) & 1; o.bias = (v >> 2) & 1; o.relu = v == 5 || v == 10;
            o.prepack = (v >> 3) & 1; o.pad = v % 3;
            ++cases;
            if (!check_gemm<T>(M, N, K, o) && ++failures <= 5)
              MESSAGE(std::string(blas::isa_name(isa)) << " " << tname(T()) << " addend mismatch M=" << M << " N=" << N
                                                       << " K=" << K << " v=" << v);
          }
    CHECK_MESSAGE(failures == 0, std::string(blas::isa_name(isa)) << " " << tname(T()) << ": " << failures << " of " << cases << " addend cases wrong");
  }
  blas::reset_isa();
}

TEST_CASE("gemm: a strided addend D (C = D + A*B) over odd sizes, k slices, GEMV and both ISAs") {
  sweep_addend<float>();
  sweep_addend<double>();
  Opts o;  // an LSTM step's shape: h (32, 256) U + the slice of x W
  o.add = o.bias = true;
  for (blas::Isa isa : isas()) {
    blas::force_isa(isa);
    CHECK(check_gemm<float>(32, 1024, 256, o));
    o.prepack = !o.prepack;
    CHECK(check_gemm<float>(32, 1024, 256, o));
  }
  blas::reset_isa();
}

TEST_CASE("gemm with a pre-packed B matches the naive product") {
  sweep_sizes<float>({1, 2, 7, 12, 13, 32, 33, 65}, true);
  sweep_sizes<double>({1, 3, 8, 13, 17, 33}, true);
}

// Shapes whose last column panel is ragged by 1-4 columns, A mostly row-major and B row-major
// (both read in place when small): the dot-product tail kernel, with every epilogue and, at
// K = 257 / 600, several k slices and masked k remainders.
template <class T>
void sweep_tails() {
  const std::vector<int64_t> sizes{1, 3, 4, 5, 7, 8, 9, 12, 15, 17, 33, 100, 257};
  for (blas::Isa isa : isas()) {
    blas::force_isa(isa);
    int failures = 0, cases = 0;
    uint32_t h = 5;
    for (int64_t M : sizes)
      for (int64_t N : sizes)
        for (int64_t K : {int64_t(1), int64_t(3), int64_t(16), int64_t(17), int64_t(64), int64_t(100), int64_t(257), int64_t(600)}) {
          h = h * 2654435761u + 97u;
          Opts o;
          o.ta = (h >> 7) % 4 == 0; o.tb = (h >> 9) % 4 == 0;
          o.pad = (h >> 11) % 3 == 0 ? 0 : (h >> 13) % 5 + 1;
          o.acc = (h >> 17) % 3 == 0; o.bias = (h >> 19) % 2 == 0; o.relu = (h >> 21) % 3 == 0;
          ++cases;
          if (!check_gemm<T>(M, N, K, o) && ++failures <= 5)
            MESSAGE(std::string(blas::isa_name(isa)) << " " << tname(T()) << " tail mismatch M=" << M << " N=" << N << " K=" << K << " ta=" << o.ta
                                        << " tb=" << o.tb << " pad=" << o.pad << " acc=" << o.acc << " bias=" << o.bias);
        }
    CHECK_MESSAGE(failures == 0, std::string(blas::isa_name(isa)) << " " << tname(T()) << ": " << failures << " of " << cases << " tail shapes wrong");
  }
  blas::reset_isa();
}

TEST_CASE("gemm: narrow column tails (1-4 columns past the last full panel) over both ISAs") {
  sweep_tails<float>();
  sweep_tails<double>();
}

template <class T>
void large_cases() {
  for (blas::Isa isa : isas()) {
    blas::force_isa(isa);
    for (int ta = 0; ta < 2; ++ta)
      for (int tb = 0; tb < 2; ++tb)
        for (int64_t pad : {0, 3}) {
          Opts o;
          o.ta = ta; o.tb = tb; o.pad = pad;
          CHECK_MESSAGE(check_gemm<T>(37, 45, 29, o), std::string(blas::isa_name(isa)) << " ta=" << ta << " tb=" << tb << " pad=" << pad);
          // K > kc (several k slices, accumulation), N > nc, threaded tiles, ragged edges.
          CHECK_MESSAGE(check_gemm<T>(131, 803, 421, o), std::string(blas::isa_name(isa)) << " large ta=" << ta << " tb=" << tb);
          o.bias = o.relu = true;
          o.acc = pad > 0;
          CHECK_MESSAGE(check_gemm<T>(257, 1100, 533, o), std::string(blas::isa_name(isa)) << " epilogue ta=" << ta << " tb=" << tb);
          o.prepack = true;
          CHECK_MESSAGE(check_gemm<T>(257, 1100, 533, o), std::string(blas::isa_name(isa)) << " prepacked ta=" << ta << " tb=" << tb);
        }
    Opts o;
    CHECK(check_gemm<T>(300, 70, 900, o));
    CHECK(check_gemm<T>(4099, 64, 64, o));   // tall-skinny: A read in place
    CHECK(check_gemm<T>(32, 1024, 256, o));  // an LSTM-shaped product: B read in place
    o.prepack = true;
    CHECK(check_gemm<T>(32, 1024, 256, o));
  }
  blas::reset_isa();
}

TEST_CASE("gemm: transposes, padding, epilogues and pre-packing on shapes crossing the cache blocks") {
  large_cases<float>();
  large_cases<double>();
}

TEST_CASE("gemm: the GEMV path (a vector operand) over strides and epilogues") {
  for (blas::Isa isa : isas()) {
    blas::force_isa(isa);
    for (int64_t n : {1, 2, 7, 16, 33, 100, 257, 513, 3000})  // 513: one past the 512-wide W of batch-1 Dense
      for (int64_t k : {1, 3, 7, 8, 17, 33, 64, 257, 300, 513})  // 257, 513: the 4-row k unroll's tail after many rows
        for (int t = 0; t < 4; ++t) {
          Opts o;
          o.ta = t & 1; o.tb = (t >> 1) & 1; o.pad = t;
          o.acc = t == 1; o.bias = t >= 2; o.relu = t == 3;
          CHECK_MESSAGE(check_gemm<float>(1, n, k, o), std::string(blas::isa_name(isa)) << " row vector n=" << n << " k=" << k << " t=" << t);
          CHECK_MESSAGE(check_gemm<float>(n, 1, k, o), std::string(blas::isa_name(isa)) << " column vector n=" << n << " k=" << k << " t=" << t);
          CHECK_MESSAGE(check_gemm<double>(1, n, k, o), std::string(blas::isa_name(isa)) << " f64 row vector n=" << n << " k=" << k);
          CHECK_MESSAGE(check_gemm<double>(n, 1, k, o), std::string(blas::isa_name(isa)) << " f64 column vector n=" << n << " k=" << k);
        }
  }
  blas::reset_isa();
}

TEST_CASE("gemm: K == 0 gives the epilogue of zero, empty M or N writes nothing, relu keeps NaN") {
  std::vector<float> c(12, 5.f), a(4, 1.f), b(4, 1.f), bias{1.f, -2.f, 3.f, -4.f};
  blas::sgemm(3, 4, 0, a.data(), 0, 1, b.data(), 4, 1, c.data(), 4);
  for (float x : c) CHECK(x == 0.f);
  blas::Epilogue<float> ep;
  ep.bias = bias.data();
  ep.act = blas::Act::relu;
  blas::gemm<float>(3, 4, 0, a.data(), 0, 1, b.data(), 4, 1, c.data(), 4, ep);
  for (int i = 0; i < 12; ++i) CHECK(c[i] == std::max(0.f, bias[i % 4]));
  std::vector<float> d(4, 5.f);
  blas::sgemm(0, 4, 3, a.data(), 3, 1, b.data(), 4, 1, d.data(), 4);
  blas::sgemm(2, 0, 3, a.data(), 3, 1, b.data(), 4, 1, d.data(), 4);
  for (float x : d) CHECK(x == 5.f);
  for (blas::Isa isa : isas()) {
    blas::force_isa(isa);
    for (int64_t M : {1, 5, 40}) {  // GEMV and GEMM paths
      std::vector<float> A(static_cast<size_t>(M * 3), 1.f), B(3 * 40, 1.f), C(static_cast<size_t>(M * 40), 0.f);
      A[0] = std::numeric_limits<float>::quiet_NaN();
      blas::Epilogue<float> r;
      r.act = blas::Act::relu;
      blas::gemm<float>(M, 40, 3, A.data(), 3, 1, B.data(), 40, 1, C.data(), 40, r);
      CHECK_MESSAGE(std::isnan(C[0]), std::string(blas::isa_name(isa)) << " M=" << M);
      if (M > 1) CHECK(C[40 * (M - 1) + 39] == 3.f);  // other rows do not see the NaN
      else CHECK(std::isnan(C[39]));
    }
  }
  blas::reset_isa();
}

TEST_CASE("gemm on 2 and 3 threads: a shared or pre-packed B packed in parallel pieces (k slices x panel groups)") {
  const int saved = get_num_threads();
  detail::set_backoff_enabled(false);  // the work must really split, even on a loaded machine
  for (int threads : {2, 3}) {
    set_num_threads(threads);
    for (blas::Isa isa : isas()) {
      blas::force_isa(isa);
      for (int tb = 0; tb < 2; ++tb) {
        Opts o;
        o.tb = tb;
        CHECK(check_gemm<float>(256, 256, 256, o));   // B shared by a 2-D tile grid
        CHECK(check_gemm<float>(784, 515, 128, o));   // dW-shaped, a ragged last panel group
        o.prepack = true;
        CHECK(check_gemm<float>(70, 1100, 533, o));   // two k slices x several panel groups
        CHECK(check_gemm<double>(70, 333, 801, o));
      }
    }
  }
  blas::reset_isa();
  set_num_threads(saved);
  detail::set_backoff_enabled(true);
}

TEST_CASE("gemm on 2 and 3 threads: A packed once for a tile grid of several columns (odd rows, transposes, epilogues)") {
  const int saved = get_num_threads();
  detail::set_backoff_enabled(false);  // the work must really split, even on a loaded machine
  // Each shape's grid has several tile columns whose tiles pack A: the shared packed copy, read
  // by tile rows of odd heights (the last one short), k slices (K > kc) and ragged column tails.
  const int64_t shapes[][3] = {{128, 784, 512}, {33, 1000, 257}, {257, 515, 300}, {128, 1024, 700}, {7, 2000, 300}, {100, 777, 129}};
  for (int threads : {2, 3}) {
    set_num_threads(threads);
    for (blas::Isa isa : isas()) {
      blas::force_isa(isa);
      int v = 0;
      for (const auto& sh : shapes)
        for (int ta = 0; ta < 2; ++ta)
          for (int tb = 0; tb < 2; ++tb, ++v) {
            Opts o;
            o.ta = ta; o.tb = tb; o.prepack = v % 3 == 0;
            o.pad = v % 4 == 1 ? 3 : 0;
            o.acc = v % 5 == 2; o.add = v % 5 == 3; o.bias = v % 2 == 0; o.relu = v % 3 == 1;
            CHECK_MESSAGE(check_gemm<float>(sh[0], sh[1], sh[2], o), threads << " threads " << blas::isa_name(isa) << " M=" << sh[0]
                                                                             << " N=" << sh[1] << " K=" << sh[2] << " ta=" << ta << " tb=" << tb);
          }
      CHECK(check_gemm<double>(129, 700, 301, Opts{}));
    }
  }
  blas::reset_isa();
  set_num_threads(saved);
  detail::set_backoff_enabled(true);
}

TEST_CASE("blocking follows the caches and the ISA") {
  const auto& cs = blas::cache_sizes();
  CHECK(cs.l1 >= 8 * 1024);
  CHECK(cs.l2 >= cs.l1);
  for (blas::Isa isa : isas())
    for (bool f64 : {false, true}) {
      blas::Blocking b = blas::blocking(isa, f64);
      CHECK(b.mr > 0);
      CHECK(b.nr > 0);
      CHECK(b.kc >= 128);
      CHECK(b.nc % b.nr == 0);
      CHECK(b.mc % b.mr == 0);
    }
}

TEST_CASE("the packed-weight cache hits while the storage lives and misses after it is replaced") {
  clear_packed_cache();
  Tensor w = Tensor::full({64, 48}, DType::float32, 0.5);
  auto p1 = cached_pack_b<float>(w, w.data<float>(), 64, 48, 48, 1);
  auto p2 = cached_pack_b<float>(w, w.data<float>(), 64, 48, 48, 1);
  CHECK(p1.get() == p2.get());
  CHECK(packed_cache_entries() == 1);
  auto pt = cached_pack_b<float>(w, w.data<float>(), 48, 64, 1, 48);  // the transposed view: its own entry
  CHECK(pt.get() != p1.get());
  CHECK(packed_cache_entries() == 2);
  Tensor w2 = w.clone();  // an update: new storage, same shape
  auto p3 = cached_pack_b<float>(w2, w2.data<float>(), 64, 48, 48, 1);
  CHECK(p3.get() != p1.get());
  w = Tensor();  // the old value is gone: its entries are dropped at the next insertion
  Tensor w3 = Tensor::full({8, 8}, DType::float32, 1.0);
  cached_pack_b<float>(w3, w3.data<float>(), 8, 8, 8, 1);
  CHECK(packed_cache_entries() == 2);  // w2's and w3's
  // Borrowed (caller) memory is never cached.
  float ext[16] = {};
  Tensor b(Storage::wrap(ext, sizeof(ext), [] {}, true), {4, 4}, {4, 1}, 0, DType::float32);
  CHECK(cached_pack_b<float>(b, ext, 4, 4, 4, 1).get() == nullptr);
  clear_packed_cache();
  CHECK(packed_cache_bytes() == 0);
}

TEST_CASE("a weight the function replaces every call after two products is not packed into the cache") {
  clear_packed_cache();
  Expr w = variable(Tensor::full({64, 48}, DType::float32, 0.5), "w");
  Expr x = placeholder({-1, 64}, DType::float32, "x");
  Expr y = dot(x, w);
  Expr back = dot(y, transpose(w));  // the second product with w (an input gradient's shape)
  Function train({x}, {back}, {{w, w * 0.5}});
  Tensor feed = Tensor::full({16, 64}, DType::float32, 1.0);
  auto out = train({feed});
  CHECK(out[0].item(0) == doctest::Approx(64 * 0.5 * 48 * 0.5));  // from the pre-call w
  train({feed});
  CHECK(packed_cache_entries() == 0);
  // Read four times per call, the packed form is worth keeping for the call.
  Function three({x}, {back + dot(dot(x, w), transpose(w))}, {{w, w * 0.5}});
  three({feed});
  CHECK(packed_cache_entries() >= 1);
  // A function that only reads w (inference) packs it once and keeps it across calls.
  clear_packed_cache();
  Function infer({x}, {y});
  auto a = infer({feed});
  CHECK(packed_cache_entries() == 1);
  auto b = infer({feed});
  CHECK(packed_cache_entries() == 1);
  CHECK(a[0].item(0) == doctest::Approx(b[0].item(0)));
  clear_packed_cache();
}
