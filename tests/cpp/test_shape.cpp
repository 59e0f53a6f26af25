// Shape, broadcast and axis helpers; tensor views.
#include <limits>

#include "doctest.h"
#include "keras_cpp/keras_cpp.h"

using namespace keras_cpp;

TEST_CASE("broadcast_shapes follows numpy and keeps unknown dims") {
  CHECK(broadcast_shapes({3, 1}, {4}, "t") == Shape{3, 4});
  CHECK(broadcast_shapes({}, {2, 5}, "t") == Shape{2, 5});
  CHECK(broadcast_shapes({-1, 3}, {1, 3}, "t") == Shape{-1, 3});
  CHECK(broadcast_shapes({-1, 3}, {7, 3}, "t") == Shape{7, 3});
  CHECK_THROWS_AS(broadcast_shapes({2, 3}, {4, 3}, "t"), ValueError);
}

TEST_CASE("normalize_axis accepts negatives and names the op on error") {
  CHECK(normalize_axis(-1, 3, "op") == 2);
  CHECK(normalize_axis(0, 0, "op") == 0);
  CHECK_THROWS_WITH_AS(normalize_axis(3, 3, "concatenate"), doctest::Contains("[concatenate] axis=3"), ValueError);
  CHECK(normalize_axes({-1, 0, 2}, 3, "op") == std::vector<int>{0, 2});
}

TEST_CASE("tensor views share storage and copy only when asked") {
  Tensor t = Tensor::empty({2, 3}, DType::float32);
  for (int i = 0; i < 6; ++i) t.data<float>()[i] = static_cast<float>(i);
  Tensor p = t.permute({1, 0});
  CHECK(p.storage().get() == t.storage().get());
  CHECK_FALSE(p.is_contiguous());
  CHECK(p.item(1) == 3.0);  // p[0][1] = t[1][0]
  Tensor c = p.contiguous();
  CHECK(c.is_contiguous());
  CHECK(c.storage().get() != t.storage().get());
  CHECK(c.data<float>()[1] == 3.0f);
  Tensor s = t.slice(1, 2, -1, -1);  // t[:, 2::-1]
  CHECK(s.shape() == Shape{2, 3});
  CHECK(s.item(0) == 2.0);
  CHECK(t.broadcast_to({4, 2, 3}).strides()[0] == 0);
  CHECK(t.astype(DType::int32).data<int32_t>()[5] == 5);
}

TEST_CASE("half conversion round-trips representable values") {
  for (float f : {0.0f, 1.0f, -2.5f, 65504.0f, 6.1035156e-05f})
    CHECK(half_to_float(float_to_half(f)) == f);
  CHECK(half_to_float(float_to_half(1e6f)) == std::numeric_limits<float>::infinity());
}

TEST_CASE("checked size arithmetic raises instead of wrapping") {
  const int64_t big = int64_t(1) << 62;
  CHECK(checked_mul(3, 4) == 12);
  CHECK(checked_add(big, big - 1) == INT64_MAX);
  CHECK_THROWS_WITH_AS(checked_mul(big, 2, "tile"), doctest::Contains("[tile]"), ValueError);
  CHECK_THROWS_AS(checked_add(INT64_MAX, 1), ValueError);
  CHECK(shape_numel({2, 3}) == 6);
  CHECK(shape_numel({2, -1}) == -1);
  CHECK_THROWS_AS(shape_numel({big, 4}), ValueError);
  CHECK_THROWS_AS(shape_numel({-1, big, 4}), ValueError);  // the known dims alone overflow
  CHECK(shape_nbytes({big}, 1) == big);
  CHECK_THROWS_AS(shape_nbytes({big}, 4), ValueError);  // 2**64 bytes
  CHECK_THROWS_AS(shape_nbytes({-1, 2}, 4), ValueError);
  CHECK_NOTHROW(check_shape_size({-1, big}, 1, "op"));
  CHECK_THROWS_AS(check_shape_size({0, big, big}, 4, "op"), ValueError);  // numpy's rule: zeros do not excuse it
  CHECK_THROWS_AS(Tensor::empty({int64_t(1) << 31, int64_t(1) << 31}, DType::float32), ValueError);
  // A broadcast view allocates nothing, but kernels walk its shape: its element count must fit too.
  Tensor one = Tensor::zeros({1, 1}, DType::float32);
  CHECK_THROWS_WITH_AS(one.broadcast_to({big, big}), doctest::Contains("[broadcast]"), ValueError);
  CHECK(one.broadcast_to({big, 0}).shape() == Shape{big, 0});
}

// Shape is SmallDims: std::vector's behaviour, inline up to kInline dims and on the heap beyond.
TEST_CASE("Shape behaves as std::vector<int64_t> across the inline and heap sizes") {
  std::vector<int64_t> ref;
  Shape s;
  for (int64_t i = 0; i < 20; ++i) {  // past kInline: the move to the heap keeps the values
    s.push_back(i * 3);
    ref.push_back(i * 3);
    CHECK(s == Shape(ref));
    CHECK(std::vector<int64_t>(s) == ref);
  }
  s.insert(s.begin() + 2, {7, 8});
  ref.insert(ref.begin() + 2, {7, 8});
  s.insert(s.begin(), s[5]);  // a value of its own
  ref.insert(ref.begin(), ref[5]);
  s.insert(s.end(), s.begin(), s.begin() + 3);  // a range of its own
  ref.insert(ref.end(), ref.begin(), ref.begin() + 3);
  s.erase(s.begin() + 1, s.begin() + 4);
  ref.erase(ref.begin() + 1, ref.begin() + 4);
  s.erase(s.end() - 1);
  ref.erase(ref.end() - 1);
  CHECK(s.vec() == ref);
  Shape h = s, m = std::move(h);  // heap copies and moves
  CHECK(m == s);
  CHECK(h.empty());
  s.resize(3);
  ref.resize(3);
  CHECK(s.vec() == ref);
  Shape small{1, 2, 3}, copy = small;
  copy = m;  // inline <- heap
  CHECK(copy == m);
  copy = small;  // heap <- inline
  CHECK(copy == Shape{1, 2, 3});
  CHECK(Shape{1, 2} < Shape{1, 3});
  CHECK(Shape{1, 2} != Shape{1, 2, 0});
  CHECK(Shape(4, -1) == Shape{-1, -1, -1, -1});
  CHECK(Shape(ref.begin(), ref.end()).vec() == ref);
  Shape a{5}, b{6, 7, 8, 9, 10, 11, 12};
  swap(a, b);
  CHECK(a == Shape{6, 7, 8, 9, 10, 11, 12});
  CHECK(b == Shape{5});
  CHECK(shape_numel(Shape{2, 3, 4}) == 24);
  CHECK(shape_numel(Shape{2, -1}) == -1);
  CHECK(shape_numel(Shape{0, 5}) == 0);
  CHECK_THROWS_AS(shape_numel(Shape{0, int64_t(1) << 62, int64_t(1) << 62}), ValueError);  // as numpy refuses
  CHECK(contiguous_strides(Shape{2, 0, 3}) == Shape{3, 3, 1});
}
