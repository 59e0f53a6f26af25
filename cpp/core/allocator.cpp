// cpp/core/allocator.cpp — the buffer pool.
#include "core/allocator.h"

#include "keras_cpp/error.h"

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
  const std::shared_ptr<Storage>& held = t.storage();  // checked before copying: most are dropped
  if (!held || !held->owned() || held.use_count() != 1 || held->nbytes() < 256 ||
      cached_bytes_ + held->nbytes() > kMaxCachedBytes) {
    t = Tensor();
    return;
  }
  std::shared_ptr<Storage> s = held;
  t = Tensor();
  cached_bytes_ += s->nbytes();
  free_.emplace(s->nbytes(), std::move(s));
}

}  // namespace keras_cpp
