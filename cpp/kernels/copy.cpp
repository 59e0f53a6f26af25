// cpp/kernels/copy.cpp — the Tensor methods that move or convert data: fills, strided copies
// with dtype conversion (parallel over rows), contiguous/clone/astype (sparse: part by part),
// reshape (a view when the layout allows, else a copy) and item. Storage and views are in
// cpp/core/tensor.cpp.
#include <algorithm>
#include <cstring>

#include "core/dense.h"
#include "keras_cpp/error.h"
#include "keras_cpp/sparse.h"
#include "keras_cpp/tensor.h"
#include "kernels/dispatch.h"
#include "kernels/strided.h"

namespace keras_cpp {

Tensor Tensor::full(const Shape& shape, DType dtype, double value) {
  Tensor t = empty(shape, dtype);
  dispatch(dtype, [&](auto tag) {
    using T = decltype(tag);
    T v = convert<T>(value);
    T* p = t.data<T>();
    std::fill(p, p + t.numel(), v);
  });
  return t;
}

void copy_into(const Tensor& src, Tensor& dst) {
  if (src.shape() != dst.shape())
    throw ValueError("copy: shape " + shape_str(src.shape()) + " vs " + shape_str(dst.shape()));
  if (src.dtype() == dst.dtype() && src.is_contiguous() && dst.is_contiguous()) {
    std::memcpy(dst.raw(), src.raw(), src.numel() * dtype_size(src.dtype()));
    return;
  }
  dispatch(src.dtype(), [&](auto stag) {
    using S = decltype(stag);
    dispatch(dst.dtype(), [&](auto dtag) {
      using D = decltype(dtag);
      const S* sp = src.data<S>();
      D* dp = dst.data<D>();
      strided_apply<2>(src.shape(), {&src.strides(), &dst.strides()},
                       [&](int64_t n, const int64_t* off, const int64_t* st) {
                         const S* a = sp + off[0];
                         D* b = dp + off[1];
                         if (st[0] == 1 && st[1] == 1)
                           for (int64_t i = 0; i < n; ++i) b[i] = convert<D>(a[i]);
                         else
                           for (int64_t i = 0; i < n; ++i) b[i * st[1]] = convert<D>(a[i * st[0]]);
                       });
    });
  });
}

Tensor Tensor::contiguous() const {
  if (is_contiguous()) return *this;
  return clone();
}

Tensor Tensor::clone() const {
  if (sparse_) {
    const SparseParts& p = *sparse_;
    return make_sparse_tensor(shape_, std::make_shared<SparseParts>(SparseParts{p.indptr.clone(), p.indices.clone(), p.values.clone()}));
  }
  Tensor t = empty(shape_, dtype_);
  copy_into(*this, t);
  return t;
}

Tensor Tensor::astype(DType dtype) const {
  if (dtype == dtype_) return *this;
  if (sparse_) {
    const SparseParts& p = *sparse_;
    return make_sparse_tensor(shape_, std::make_shared<SparseParts>(SparseParts{p.indptr, p.indices, p.values.astype(dtype)}));
  }
  Tensor t = empty(shape_, dtype);
  copy_into(*this, t);
  return t;
}

Tensor Tensor::reshape(const Shape& shape) const {
  if (shape_numel(shape) != numel())
    throw ValueError("cannot reshape a tensor of shape " + shape_str(shape_) + " into " + shape_str(shape));
  dense_only(*this, "reshape");
  Tensor c = contiguous();
  return Tensor(c.storage_, shape, contiguous_strides(shape), c.offset_, dtype_);
}

double Tensor::item(int64_t flat) const {
  dense_only(*this, "item");
  // Unravel over the view's own strides.
  int64_t off = 0, rem = flat;
  for (int d = ndim() - 1; d >= 0; --d) {
    off += (rem % shape_[d]) * strides_[d];
    rem /= shape_[d];
  }
  return dispatch(dtype_, [&](auto tag) -> double {
    using T = decltype(tag);
    return convert<double>(static_cast<const T*>(storage_->data())[offset_ + off]);
  });
}

}  // namespace keras_cpp
