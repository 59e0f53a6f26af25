// cpp/kernels/copy.cpp — the Tensor methods that move or convert data: fills, copies (same
// dtype: strided_copy; a dtype change: one flat conversion loop per dtype pair, parallel),
// contiguous/clone/astype (sparse: part by part), reshape (a view when the layout allows, else a
// copy) and item. Storage and views are in cpp/core/tensor.cpp.
#include <algorithm>
#include <cstring>

#include "core/dense.h"
#include "keras_cpp/error.h"
#include "keras_cpp/sparse.h"
#include "keras_cpp/tensor.h"
#include "kernels/convert.h"
#include "kernels/dispatch.h"
#include "kernels/parallel.h"
#include "kernels/strided_copy.h"

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

namespace {

// One flat conversion loop per (source, destination) dtype pair; everything else is shared.
template <class S, class D>
void convert_flat(const void* s, void* d, int64_t n) {
  const S* a = static_cast<const S*>(s);
  D* b = static_cast<D*>(d);
  for (int64_t i = 0; i < n; ++i) b[i] = convert<D>(a[i]);
}

}  // namespace

ConvertFn convert_fn(DType from, DType to) {
  return dispatch(from, [&](auto stag) {
    using S = decltype(stag);
    return dispatch(to, [&](auto dtag) -> ConvertFn { return convert_flat<S, decltype(dtag)>; });
  });
}

void copy_into(const Tensor& src, Tensor& dst) {
  if (src.shape() != dst.shape())
    throw ValueError("copy: shape " + shape_str(src.shape()) + " vs " + shape_str(dst.shape()));
  dense_only(src, "copy");
  dense_only(dst, "copy");
  if (src.dtype() == dst.dtype()) {
    if (src.is_contiguous() && dst.is_contiguous()) std::memcpy(dst.raw(), src.raw(), src.numel() * dtype_size(src.dtype()));
    else strided_copy(src.raw(), src.strides(), dst.raw(), dst.strides(), src.shape(), dtype_size(src.dtype()));
    return;
  }
  // A dtype change: strided sides go through contiguous temporaries (the blocked copy), then one
  // flat loop converts, split over threads when large.
  const Tensor s = src.contiguous();
  Tensor d = dst.is_contiguous() ? dst : Tensor::empty(dst.shape(), dst.dtype());
  const ConvertFn fn = convert_fn(s.dtype(), d.dtype());
  const char* sp = static_cast<const char*>(s.raw());
  char* dp = static_cast<char*>(d.raw());
  const int64_t ss = static_cast<int64_t>(dtype_size(s.dtype())), ds = static_cast<int64_t>(dtype_size(d.dtype()));
  parallel_for(s.numel(), 32768, [&](int64_t b, int64_t e) { fn(sp + b * ss, dp + b * ds, e - b); });
  if (d.raw() != dst.raw()) copy_into(d, dst);
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
