// cpp/kernels/strided.h — iterate N tensors of one shape with arbitrary (element) strides.
// Dims are collapsed where every operand is contiguous across them, so most loops become one
// flat inner loop; f(n, offs, inner) gets the base offsets and inner strides of each operand.
#pragma once
#include <array>
#include <cstdint>
#include <vector>

#include "keras_cpp/shape.h"
#include "kernels/parallel.h"

namespace keras_cpp {

template <int N>
struct Collapsed {
  std::vector<int64_t> shape;                 // outer..inner
  std::array<std::vector<int64_t>, N> strides;
};

template <int N>
Collapsed<N> collapse(const Shape& shape, const std::array<const Shape*, N>& strides) {
  Collapsed<N> c;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    bool merge = !c.shape.empty();
    for (int k = 0; k < N && merge; ++k)
      merge = c.strides[k].back() == (*strides[k])[d] * shape[d];
    if (merge) {
      c.shape.back() *= shape[d];
      for (int k = 0; k < N; ++k) c.strides[k].back() = (*strides[k])[d];
    } else {
      c.shape.push_back(shape[d]);
      for (int k = 0; k < N; ++k) c.strides[k].push_back((*strides[k])[d]);
    }
  }
  if (c.shape.empty()) {
    c.shape.push_back(1);
    for (int k = 0; k < N; ++k) c.strides[k].push_back(0);
  }
  return c;
}

// f(int64_t n, const int64_t* offs, const int64_t* inner_strides) for each inner row.
// `cost` = rough work per element, used with the grain to decide on threads.
template <int N, class F>
void strided_apply(const Shape& shape, const std::array<const Shape*, N>& strides, F&& f, int64_t cost = 1) {
  Collapsed<N> c = collapse<N>(shape, strides);
  const int nd = static_cast<int>(c.shape.size());
  const int64_t inner = c.shape[nd - 1];
  int64_t rows = 1;
  for (int d = 0; d < nd - 1; ++d) rows *= c.shape[d];
  std::array<int64_t, N> istr;
  for (int k = 0; k < N; ++k) istr[k] = c.strides[k][nd - 1];
  if (rows * inner == 0) return;
  if (rows == 1) {  // one long row: split it
    parallel_for(inner, std::max<int64_t>(1, 32768 / std::max<int64_t>(1, cost)), [&](int64_t b, int64_t e) {
      std::array<int64_t, N> offs;
      for (int k = 0; k < N; ++k) offs[k] = b * istr[k];
      f(e - b, offs.data(), istr.data());
    });
    return;
  }
  const int64_t grain_rows = std::max<int64_t>(1, 32768 / std::max<int64_t>(1, inner * cost));
  parallel_for(rows, grain_rows, [&](int64_t r0, int64_t r1) {
    std::array<int64_t, N> offs;
    for (int64_t r = r0; r < r1; ++r) {
      int64_t rem = r;
      offs.fill(0);
      for (int d = nd - 2; d >= 0; --d) {
        int64_t idx = rem % c.shape[d];
        rem /= c.shape[d];
        for (int k = 0; k < N; ++k) offs[k] += idx * c.strides[k][d];
      }
      f(inner, offs.data(), istr.data());
    }
  });
}

}  // namespace keras_cpp
