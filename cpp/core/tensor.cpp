// cpp/core/tensor.cpp — storage allocation and views. The methods that move or convert data
// (copies, casts, fills) are kernels: cpp/kernels/copy.cpp.
#include "keras_cpp/tensor.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "core/dense.h"
#include "keras_cpp/error.h"
#include "keras_cpp/sparse.h"

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

Tensor Tensor::from_data(const void* data, const Shape& shape, DType dtype) {
  Tensor t = empty(shape, dtype);
  std::memcpy(t.raw(), data, t.numel() * dtype_size(dtype));
  return t;
}

int64_t Tensor::numel() const { return shape_numel(shape_); }

void dense_only(const Tensor& t, const char* what) {
  if (t.is_sparse())
    throw TypeError(std::string("a sparse tensor reached a dense operation (") + what + "); convert it with to_dense first");
}

const SparseParts& Tensor::sparse() const {
  if (!sparse_) throw TypeError("expected a sparse tensor, got a dense one");
  return *sparse_;
}

void* Tensor::raw() const {
  dense_only(*this, "data access");
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

Tensor Tensor::permute(const std::vector<int>& axes) const {
  dense_only(*this, "permute");
  Shape sh(axes.size()), st(axes.size());
  for (size_t i = 0; i < axes.size(); ++i) {
    sh[i] = shape_[axes[i]];
    st[i] = strides_[axes[i]];
  }
  return Tensor(storage_, sh, st, offset_, dtype_);
}

Tensor Tensor::broadcast_to(const Shape& shape) const {
  if (shape == shape_) return *this;
  dense_only(*this, "broadcast");
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
  dense_only(*this, "slice");
  Shape sh = shape_, st = strides_;
  int64_t n = step > 0 ? std::max<int64_t>(0, (stop - start + step - 1) / step)
                       : std::max<int64_t>(0, (start - stop - step - 1) / (-step));
  sh[axis] = n;
  st[axis] = strides_[axis] * step;
  return Tensor(storage_, sh, st, offset_ + (n > 0 ? start * strides_[axis] : 0), dtype_);
}


}  // namespace keras_cpp
