// cpp/exec/allocator.cpp — buffer pool and the KernelCtx allocation entry points.
#include "exec/allocator.h"

#include "ops/registry.h"

namespace keras_cpp {

namespace {
constexpr size_t kMaxCachedBytes = size_t(1) << 31;  // never hold more than 2 GiB of dead buffers
}

Tensor Allocator::alloc(const Shape& shape, DType dtype) {
  if (!shape_known(shape)) throw ValueError("cannot allocate a tensor of unknown shape " + shape_str(shape));
  size_t nbytes = static_cast<size_t>(shape_nbytes(shape, dtype_size(dtype)));
  auto it = free_.lower_bound(nbytes);
  if (it != free_.end() && it->first <= 2 * nbytes + 64) {
    std::shared_ptr<Storage> s = std::move(it->second);
    cached_bytes_ -= it->first;
    free_.erase(it);
    return Tensor(std::move(s), shape, contiguous_strides(shape), 0, dtype);
  }
  return Tensor::empty(shape, dtype);
}

void Allocator::release(Tensor&& t) {
  std::shared_ptr<Storage> s = t.storage();
  t = Tensor();
  if (!s || !s->owned() || s.use_count() != 1 || s->nbytes() < 256) return;
  if (cached_bytes_ + s->nbytes() > kMaxCachedBytes) return;
  cached_bytes_ += s->nbytes();
  free_.emplace(s->nbytes(), std::move(s));
}

Tensor KernelCtx::alloc_tensor(const Shape& shape, DType dtype) {
  return alloc ? alloc->alloc(shape, dtype) : Tensor::empty(shape, dtype);
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
