// cpp/graph/op.cpp — KernelCtx: output buffers for kernels; OpDef's copy, move and destruction.
#include "graph/op.h"

#include <cstring>

namespace keras_cpp {

OpDef::OpDef() = default;
OpDef::OpDef(const OpDef&) = default;
OpDef::OpDef(OpDef&&) noexcept = default;
OpDef& OpDef::operator=(const OpDef&) = default;
OpDef& OpDef::operator=(OpDef&&) noexcept = default;
OpDef::~OpDef() = default;

Tensor KernelCtx::alloc_tensor(const Shape& shape, DType dtype) {
  return alloc ? alloc->alloc(shape, dtype) : Tensor::empty(shape, dtype);
}

Tensor KernelCtx::alloc_zeros(const Shape& shape, DType dtype) {
  Tensor t = alloc_tensor(shape, dtype);
  std::memset(t.raw(), 0, static_cast<size_t>(t.numel()) * dtype_size(dtype));
  return t;
}

Tensor KernelCtx::alloc_like_input(int i, const Shape& shape, DType dtype) {
  Tensor& x = in[i];
  const auto& s = x.storage();
  if (s && s->owned() && s.use_count() == 1 && x.dtype() == dtype && x.shape() == shape && x.is_contiguous() &&
      x.offset() == 0)
    return Tensor(s, shape, contiguous_strides(shape), 0, dtype);
  return alloc_tensor(shape, dtype);
}

}  // namespace keras_cpp
