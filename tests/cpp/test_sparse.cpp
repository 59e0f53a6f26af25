// Sparse tensors from C++: CSR validation, COO and dense conversions, the dense-only guard,
// borrowed storage seen through a sparse tensor, and a Function with a sparse placeholder.
#include <cstdint>

#include "doctest.h"
#include "keras_cpp/keras_cpp.h"

using namespace keras_cpp;

namespace {
Tensor ints(std::vector<int64_t> v) { return Tensor::from_data(v.data(), {static_cast<int64_t>(v.size())}, DType::int64); }
Tensor floats(std::vector<float> v) { return Tensor::from_data(v.data(), {static_cast<int64_t>(v.size())}, DType::float32); }
// [[1, 0, 2], [0, 0, 0], [0, 3, 0]]
Tensor example() { return sparse_csr(3, 3, ints({0, 2, 2, 3}), ints({0, 2, 1}), floats({1, 2, 3})); }
}  // namespace

TEST_CASE("CSR arrays are validated and densified exactly") {
  Tensor s = example();
  CHECK(s.is_sparse());
  CHECK(s.shape() == Shape{3, 3});
  CHECK(s.sparse().nnz() == 3);
  Tensor d = sparse_to_dense(s);
  CHECK_FALSE(d.is_sparse());
  const float want[] = {1, 0, 2, 0, 0, 0, 0, 3, 0};
  for (int i = 0; i < 9; ++i) CHECK(d.item(i) == want[i]);
  Tensor back = dense_to_sparse(d);
  CHECK(back.sparse().nnz() == 3);
  CHECK(sparse_to_dense(back).item(7) == 3.0);
  CHECK_THROWS_WITH_AS(sparse_csr(3, 3, ints({0, 2, 2, 3}), ints({0, 5, 1}), floats({1, 2, 3})),
                       doctest::Contains("out of range"), ValueError);
  CHECK_THROWS_WITH_AS(sparse_csr(3, 3, ints({0, 2, 1, 3}), ints({0, 2, 1}), floats({1, 2, 3})),
                       doctest::Contains("decreases"), ValueError);
  CHECK_THROWS_AS(sparse_csr(2, 3, ints({0, 2, 2, 3}), ints({0, 2, 1}), floats({1, 2, 3})), ValueError);
}

TEST_CASE("COO triplets in any order become CSR") {
  Tensor s = sparse_from_coo(3, 3, ints({2, 0, 0}), ints({1, 2, 0}), floats({3, 2, 1}));
  Tensor d = sparse_to_dense(s);
  CHECK(d.item(0) == 1.0);
  CHECK(d.item(2) == 2.0);
  CHECK(d.item(7) == 3.0);
  CHECK_THROWS_AS(sparse_from_coo(3, 3, ints({3}), ints({0}), floats({1})), ValueError);
}

TEST_CASE("dense-only methods refuse a sparse tensor instead of reading garbage") {
  Tensor s = example();
  CHECK_THROWS_AS(s.raw(), TypeError);
  CHECK_THROWS_AS(s.item(0), TypeError);
  CHECK_THROWS_AS(s.reshape({9}), TypeError);
  CHECK(s.astype(DType::float64).sparse().values.dtype() == DType::float64);
  CHECK(s.clone().sparse().values.raw() != s.sparse().values.raw());
}

TEST_CASE("a sparse tensor over borrowed arrays counts as borrowed") {
  int64_t ip[] = {0, 1, 1, 1}, ix[] = {2};
  float v[] = {5};
  auto wrap = [](void* p, size_t n, int64_t len, DType t) {
    return Tensor(Storage::wrap(p, n, nullptr, true), {len}, {1}, 0, t);
  };
  Tensor s = sparse_csr(3, 3, wrap(ip, sizeof ip, 4, DType::int64), wrap(ix, sizeof ix, 1, DType::int64),
                        wrap(v, sizeof v, 1, DType::float32));
  CHECK(s.storage()->borrowed());
  CHECK_FALSE(s.clone().storage()->borrowed());
}

TEST_CASE("a Function runs dot on a sparse placeholder and returns its gradient") {
  Expr p = sparse_placeholder({-1, 3}, DType::float32, "s");
  CHECK(p.sparse());
  Expr w = variable(Tensor::full({3, 2}, DType::float32, 1.0), "w");
  Expr y = dot(p, w);
  CHECK_FALSE(y.sparse());
  Expr g = gradients(sum(y), {w})[0];
  Function f({p}, {y, g});
  auto out = f({example()});
  CHECK(out[0].shape() == Shape{3, 2});
  CHECK(out[0].item(0) == 3.0);  // row 0: 1 + 2
  CHECK(out[0].item(4) == 3.0);  // row 2: 3
  CHECK(out[1].item(0) == 1.0);  // column sums of s: 1, 3, 2
  CHECK(out[1].item(2) == 3.0);
  CHECK(out[1].item(4) == 2.0);
  CHECK_THROWS_WITH_AS(exp(p), doctest::Contains("to_dense"), TypeError);
}
