// keras_cpp/tensor.h — a strided view over refcounted, 64-byte aligned storage, or a sparse
// (CSR) matrix. Tensors are values: copying one shares the storage. Storage is never written
// after it is handed out, except by the executor on buffers it proved private (in-place planning).
#pragma once
#include <functional>
#include <memory>

#include "dtype.h"
#include "shape.h"

namespace keras_cpp {

class Storage {
 public:
  static std::shared_ptr<Storage> allocate(size_t nbytes);
  // Wrap foreign memory; `release` runs when the last tensor lets go. `borrowed` marks memory
  // that must not outlive the current call (e.g. a numpy input buffer).
  static std::shared_ptr<Storage> wrap(void* data, size_t nbytes, std::function<void()> release,
                                       bool borrowed);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
  void* data() const { return data_; }
  size_t nbytes() const { return nbytes_; }
  bool borrowed() const { return borrowed_; }
  bool owned() const { return owned_; }  // allocated by keras_cpp (reusable)

 private:
  Storage() = default;
  void* data_ = nullptr;
  size_t nbytes_ = 0;
  bool owned_ = false;
  bool borrowed_ = false;
  std::function<void()> release_;
};

struct SparseParts;  // keras_cpp/sparse.h: the CSR arrays of a sparse tensor

class Tensor {
 public:
  Tensor() = default;
  static Tensor empty(const Shape& shape, DType dtype);
  static Tensor zeros(const Shape& shape, DType dtype);
  static Tensor full(const Shape& shape, DType dtype, double value);
  static Tensor scalar(double value, DType dtype) { return full({}, dtype, value); }
  // Copy `numel` elements of dtype from contiguous memory.
  static Tensor from_data(const void* data, const Shape& shape, DType dtype);
  // A view of existing storage; strides are in elements.
  Tensor(std::shared_ptr<Storage> storage, Shape shape, Shape strides, int64_t offset, DType dtype);

  bool defined() const { return storage_ != nullptr; }
  const Shape& shape() const { return shape_; }
  const Shape& strides() const { return strides_; }
  int64_t offset() const { return offset_; }
  DType dtype() const { return dtype_; }
  int ndim() const { return static_cast<int>(shape_.size()); }
  int64_t numel() const { return shape_numel(shape_); }
  int64_t dim(int i) const { return shape_[i < 0 ? i + ndim() : i]; }
  const std::shared_ptr<Storage>& storage() const { return storage_; }
  void* raw() const {  // pointer to element 0 of the view (inline: kernels ask it per operand)
    if (sparse_) sparse_raw();
    return static_cast<char*>(storage_->data()) + offset_ * static_cast<int64_t>(dtype_size(dtype_));
  }
  template <class T>
  T* data() const {
    return static_cast<T*>(raw());
  }
  bool is_contiguous() const;
  // A sparse tensor's shape() is its dense shape and dtype() its values' dtype; its entries are
  // in sparse() (keras_cpp/sparse.h). Dense-only methods (raw, views, item) throw on it.
  bool is_sparse() const { return sparse_ != nullptr; }
  const SparseParts& sparse() const;

  Tensor contiguous() const;  // self if already contiguous, else a packed copy
  Tensor clone() const;       // always a packed copy
  Tensor astype(DType dtype) const;  // self if already of that dtype
  // Views (no copy): reshape copies only when the layout does not allow a view.
  Tensor reshape(const Shape& shape) const;
  Tensor permute(const std::vector<int>& axes) const;
  Tensor broadcast_to(const Shape& shape) const;
  Tensor slice(int axis, int64_t start, int64_t stop, int64_t step) const;
  // Read one element as double (for scalars and tests).
  double item(int64_t flat_index = 0) const;

 private:
  std::shared_ptr<Storage> storage_;
  Shape shape_, strides_;
  int64_t offset_ = 0;
  DType dtype_ = DType::float32;
  std::shared_ptr<const SparseParts> sparse_;
  friend Tensor make_sparse_tensor(const Shape& shape, std::shared_ptr<const SparseParts> parts);
  [[noreturn]] static void sparse_raw();  // raw() of a sparse tensor: the TypeError
};

inline Shape contiguous_strides(const Shape& shape) {  // inline: every new tensor asks it
  Shape st(shape.size());
  int64_t s = 1;
  for (int i = static_cast<int>(shape.size()) - 1; i >= 0; --i) {
    st[i] = s;
    s *= shape[i] > 1 ? shape[i] : 1;
  }
  return st;
}
// Copy src into dst elementwise (shapes equal, any strides), converting dtype.
void copy_into(const Tensor& src, Tensor& dst);

}  // namespace keras_cpp
