// The sgemm kernels (each micro-kernel forced in turn) against a naive triple loop over odd shapes,
// transposed operands and padded leading dimensions.
#include <atomic>
#include <cmath>
#include <stdexcept>
#include <thread>
#include <vector>

#include "doctest.h"
#include "kernels/sgemm.h"
#include "kernels/parallel.h"

using namespace keras_cpp;

namespace {

struct Mat {  // a logical rows x cols matrix stored row-major or as a transpose, with padding
  int64_t rows, cols, ld;
  bool trans;
  std::vector<float> data;
  Mat(int64_t r, int64_t c, bool t, int64_t pad, uint32_t seed) : rows(r), cols(c), trans(t) {
    ld = (t ? r : c) + pad;
    data.assign(static_cast<size_t>((t ? c : r) * ld + 1), 0.f);
    for (auto& x : data) { seed = seed * 1664525u + 1013904223u; x = static_cast<float>(seed >> 8) / 16777216.f - 0.5f; }
  }
  int64_t rs() const { return trans ? 1 : ld; }
  int64_t cs() const { return trans ? ld : 1; }
  float at(int64_t i, int64_t j) const { return data[i * rs() + j * cs()]; }
};

// Runs C = A*B through sgemm (C padded to ldc, with a guard band checked untouched) and compares.
bool check_gemm(int64_t M, int64_t N, int64_t K, bool ta, bool tb, int64_t pad) {
  Mat A(M, K, ta, pad, 7u + M), B(K, N, tb, pad * 2, 11u + N);
  const int64_t ldc = N + pad;
  std::vector<float> C(static_cast<size_t>(M * ldc + 8), 12345.f);
  blas::sgemm(M, N, K, A.data.data(), A.rs(), A.cs(), B.data.data(), B.rs(), B.cs(), C.data(), ldc);
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < ldc; ++j) {
      float got = C[i * ldc + j];
      if (j >= N) { if (got != 12345.f) return false; continue; }  // padding must stay untouched
      double ref = 0, mag = 0;
      for (int64_t k = 0; k < K; ++k) { ref += double(A.at(i, k)) * B.at(k, j); mag += std::fabs(double(A.at(i, k)) * B.at(k, j)); }
      if (std::fabs(got - ref) > 1e-5 * mag + 1e-6) return false;
    }
  for (size_t t = static_cast<size_t>(M * ldc); t < C.size(); ++t) if (C[t] != 12345.f) return false;
  return true;
}

std::vector<blas::Isa> isas() {
  std::vector<blas::Isa> v{blas::Isa::avx2};
  if (blas::cpu_has(blas::Isa::avx512)) v.push_back(blas::Isa::avx512);
  return v;
}

const char* isa_name(blas::Isa i) { return i == blas::Isa::avx512 ? "avx512" : "avx2"; }

}  // namespace

TEST_CASE("sgemm matches a naive product over odd shapes, transposes and leading dims") {
  const int64_t sizes[] = {1, 2, 3, 5, 6, 7, 11, 12, 13, 16, 17, 31, 32, 33, 47, 48, 49, 64, 65, 67};
  for (blas::Isa isa : isas()) {
    blas::force_isa(isa);
    REQUIRE(blas::active_isa() == isa);
    int failures = 0, cases = 0;
    uint32_t h = 1;
    for (int64_t M : sizes)
      for (int64_t N : sizes)
        for (int64_t K : sizes) {
          h = h * 2654435761u + 97u;
          bool ta = (h >> 7) & 1, tb = (h >> 9) & 1;
          int64_t pad = (h >> 11) % 3 == 0 ? 0 : (h >> 13) % 5 + 1;
          ++cases;
          if (!check_gemm(M, N, K, ta, tb, pad)) {
            if (++failures <= 5) MESSAGE(isa_name(isa) << " mismatch M=" << M << " N=" << N << " K=" << K << " ta=" << ta << " tb=" << tb << " pad=" << pad);
          }
        }
    CHECK_MESSAGE(failures == 0, isa_name(isa) << ": " << failures << " of " << cases << " shapes wrong");
  }
  blas::reset_isa();
}

TEST_CASE("sgemm: every transpose/padding combination, and shapes crossing the cache blocks") {
  for (blas::Isa isa : isas()) {
    blas::force_isa(isa);
    for (int ta = 0; ta < 2; ++ta)
      for (int tb = 0; tb < 2; ++tb)
        for (int64_t pad : {0, 3}) {
          CHECK_MESSAGE(check_gemm(37, 45, 29, ta, tb, pad), isa_name(isa) << " ta=" << ta << " tb=" << tb << " pad=" << pad);
          // K > KC (several k slices, accumulation), N > the tile width, threaded tiles.
          CHECK_MESSAGE(check_gemm(131, 803, 421, ta, tb, pad), isa_name(isa) << " large ta=" << ta << " tb=" << tb);
        }
    CHECK(check_gemm(300, 70, 900, false, false, 1));
    CHECK(check_gemm(1, 200, 300, false, true, 0));   // a row vector times a matrix
    CHECK(check_gemm(200, 1, 300, true, false, 0));   // a matrix times a column vector
  }
  blas::reset_isa();
}

TEST_CASE("sgemm: K == 0 writes zeros, empty M or N writes nothing") {
  std::vector<float> c(12, 5.f), a(4, 1.f), b(4, 1.f);
  blas::sgemm(3, 4, 0, a.data(), 0, 1, b.data(), 4, 1, c.data(), 4);
  for (float x : c) CHECK(x == 0.f);
  std::vector<float> d(4, 5.f);
  blas::sgemm(0, 4, 3, a.data(), 3, 1, b.data(), 4, 1, d.data(), 4);
  blas::sgemm(2, 0, 3, a.data(), 3, 1, b.data(), 4, 1, d.data(), 4);
  for (float x : d) CHECK(x == 5.f);
}
