// cpp/core/tensor.cpp — storage allocation, views, contiguous copies and dtype casts.
#include "keras_cpp/tensor.h"

#include <cstdlib>
#include <cstring>
#include <numeric>

#include "keras_cpp/error.h"
#include "kernels/copy.h"
#include "kernels/dispatch.h"
#include "kernels/parallel.h"

namespace keras_cpp {

std::shared_ptr<Storage> Storage::allocate(size_t nbytes) {
  auto s = std::shared_ptr<Storage>(new Storage());
  size_t n = (std::max<size_t>(nbytes, 1) + 63) / 64 * 64;
  s->data_ = std::aligned_alloc(64, n);
  if (!s->data_) throw Error("out of memory allocating " + std::to_string(nbytes) + " bytes");
  s->nbytes_ = nbytes;
  s->owned_ = true;
  return s;
}

std::shared_ptr<Storage> Storage::wrap(void* data, size_t nbytes, std::function<void()> release, bool borrowed) {
  auto s = std::shared_ptr<Storage>(new Storage());
  s->data_ = data;
  s->nbytes_ = nbytes;
  s->release_ = std::move(release);
  s->borrowed_ = borrowed;
  return s;
}

Storage::~Storage() {
  if (owned_) std::free(data_);
  if (release_) release_();
}

Shape contiguous_strides(const Shape& shape) {
  Shape st(shape.size());
  int64_t s = 1;
  for (int i = static_cast<int>(shape.size()) - 1; i >= 0; --i) {
    st[i] = s;
    s *= std::max<int64_t>(shape[i], 1);
  }
  return st;
}

Tensor::Tensor(std::shared_ptr<Storage> storage, Shape shape, Shape strides, int64_t offset, DType dtype)
    : storage_(std::move(storage)), shape_(std::move(shape)), strides_(std::move(strides)), offset_(offset), dtype_(dtype) {}

Tensor Tensor::empty(const Shape& shape, DType dtype) {
  for (int64_t d : shape)
    if (d < 0) throw ValueError("cannot allocate a tensor of unknown shape " + shape_str(shape));
  int64_t n = shape_numel(shape);
  return Tensor(Storage::allocate(n * dtype_size(dtype)), shape, contiguous_strides(shape), 0, dtype);
}

Tensor Tensor::zeros(const Shape& shape, DType dtype) {
  Tensor t = empty(shape, dtype);
  std::memset(t.raw(), 0, t.numel() * dtype_size(dtype));
  return t;
}

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

Tensor Tensor::from_data(const void* data, const Shape& shape, DType dtype) {
  Tensor t = empty(shape, dtype);
  std::memcpy(t.raw(), data, t.numel() * dtype_size(dtype));
  return t;
}

int64_t Tensor::numel() const { return shape_numel(shape_); }

void* Tensor::raw() const {
  return static_cast<char*>(storage_->data()) + offset_ * static_cast<int64_t>(dtype_size(dtype_));
}

bool Tensor::is_contiguous() const {
  int64_t s = 1;
  for (int i = ndim() - 1; i >= 0; --i) {
    if (shape_[i] != 1 && strides_[i] != s) return false;
    s *= shape_[i];
  }
  return true;
}

namespace {

// One flat conversion loop per (source, destination) dtype pair; everything else is shared.
using ConvertFn = void (*)(const void*, void*, int64_t);

template <class S, class D>
void convert_flat(const void* s, void* d, int64_t n) {
  const S* a = static_cast<const S*>(s);
  D* b = static_cast<D*>(d);
  for (int64_t i = 0; i < n; ++i) b[i] = convert<D>(a[i]);
}

ConvertFn converter(DType from, DType to) {
  return dispatch(from, [&](auto stag) {
    using S = decltype(stag);
    return dispatch(to, [&](auto dtag) -> ConvertFn { return convert_flat<S, decltype(dtag)>; });
  });
}

}  // namespace

void copy_into(const Tensor& src, Tensor& dst) {
  if (src.shape() != dst.shape())
    throw ValueError("copy: shape " + shape_str(src.shape()) + " vs " + shape_str(dst.shape()));
  if (src.dtype() == dst.dtype()) {
    if (src.is_contiguous() && dst.is_contiguous()) std::memcpy(dst.raw(), src.raw(), src.numel() * dtype_size(src.dtype()));
    else strided_copy(src.raw(), src.strides(), dst.raw(), dst.strides(), src.shape(), dtype_size(src.dtype()));
    return;
  }
  // A dtype change: strided sides go through contiguous temporaries (the blocked copy), then one
  // flat loop converts, split over threads when large.
  const Tensor s = src.contiguous();
  Tensor d = dst.is_contiguous() ? dst : Tensor::empty(dst.shape(), dst.dtype());
  const ConvertFn fn = converter(s.dtype(), d.dtype());
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
  Tensor t = empty(shape_, dtype_);
  copy_into(*this, t);
  return t;
}

Tensor Tensor::astype(DType dtype) const {
  if (dtype == dtype_) return *this;
  Tensor t = empty(shape_, dtype);
  copy_into(*this, t);
  return t;
}

Tensor Tensor::reshape(const Shape& shape) const {
  if (shape_numel(shape) != numel())
    throw ValueError("cannot reshape a tensor of shape " + shape_str(shape_) + " into " + shape_str(shape));
  Tensor c = contiguous();
  return Tensor(c.storage_, shape, contiguous_strides(shape), c.offset_, dtype_);
}

Tensor Tensor::permute(const std::vector<int>& axes) const {
  Shape sh(axes.size()), st(axes.size());
  for (size_t i = 0; i < axes.size(); ++i) {
    sh[i] = shape_[axes[i]];
    st[i] = strides_[axes[i]];
  }
  return Tensor(storage_, sh, st, offset_, dtype_);
}

Tensor Tensor::broadcast_to(const Shape& shape) const {
  if (shape == shape_) return *this;
  int n = static_cast<int>(shape.size()), k = ndim();
  if (k > n) throw ValueError("cannot broadcast " + shape_str(shape_) + " to " + shape_str(shape));
  Shape st(n, 0);
  for (int i = 0; i < k; ++i) {
    int j = n - k + i;
    if (shape_[i] == shape[j]) st[j] = strides_[i];
    else if (shape_[i] == 1) st[j] = 0;
    else throw ValueError("cannot broadcast " + shape_str(shape_) + " to " + shape_str(shape));
  }
  return Tensor(storage_, shape, st, offset_, dtype_);
}

Tensor Tensor::slice(int axis, int64_t start, int64_t stop, int64_t step) const {
  Shape sh = shape_, st = strides_;
  int64_t n = step > 0 ? std::max<int64_t>(0, (stop - start + step - 1) / step)
                       : std::max<int64_t>(0, (start - stop - step - 1) / (-step));
  sh[axis] = n;
  st[axis] = strides_[axis] * step;
  return Tensor(storage_, sh, st, offset_ + (n > 0 ? start * strides_[axis] : 0), dtype_);
}

double Tensor::item(int64_t flat) const {
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
