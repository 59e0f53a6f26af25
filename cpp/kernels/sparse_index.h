// cpp/kernels/sparse_index.h — CSR index dtype dispatch (scipy uses int32 or int64 index arrays,
// which are borrowed as they are) and entry-wise accumulation for any value dtype.
#pragma once
#include <cstdint>

#include "keras_cpp/error.h"
#include "keras_cpp/sparse.h"
#include "kernels/dispatch.h"

namespace keras_cpp {

template <class F>
decltype(auto) dispatch_index(DType t, F&& f) {
  if (t == DType::int32) return f(int32_t{});
  if (t == DType::int64) return f(int64_t{});
  throw TypeError(std::string("sparse index arrays must be int32 or int64, got ") + dtype_name(t));
}

// a += b, duplicates of a sparse entry summing (bool: or; half: through float).
template <class T>
inline void accumulate(T& a, T b) {
  if constexpr (std::is_same_v<T, bool>) a = a || b;
  else if constexpr (std::is_same_v<T, half>) a = half(static_cast<float>(a) + static_cast<float>(b));
  else a += b;
}

// Row r of CSR arrays as [begin, end) positions.
template <class I>
struct CsrView {
  const I* indptr;
  const I* indices;
  int64_t rows, cols;
  explicit CsrView(const Tensor& s)
      : indptr(s.sparse().indptr.data<I>()), indices(s.sparse().indices.data<I>()), rows(s.shape()[0]), cols(s.shape()[1]) {}
  int64_t begin(int64_t r) const { return static_cast<int64_t>(indptr[r]); }
  int64_t end(int64_t r) const { return static_cast<int64_t>(indptr[r + 1]); }
};

}  // namespace keras_cpp
