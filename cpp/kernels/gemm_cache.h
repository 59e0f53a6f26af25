// cpp/kernels/gemm_cache.h — packed copies of operands that stay the same across calls (weights),
// so a Function packs each weight once instead of on every product. An entry is keyed by the
// storage it was made from (plus the view and what was made: a tag and a few integers) and holds
// a reference to that storage: storage is never written while shared, so the packed copy stays
// valid; a variable update swaps in new storage, which misses and repacks. Entries whose storage
// nobody else holds any more are dropped.
#pragma once
#include <array>
#include <cstddef>
#include <functional>
#include <memory>

#include "keras_cpp/tensor.h"
#include "kernels/sgemm.h"

namespace keras_cpp {

struct CacheKey {
  int tag = 0;                  // what kind of copy (a packed B, conv weights, flipped conv weights...)
  const void* data = nullptr;   // where in the storage it was read from
  std::array<int64_t, 8> p{};   // sizes, strides, ISA, element size...
  bool operator==(const CacheKey& o) const { return tag == o.tag && data == o.data && p == o.p; }
};

// The cached value for (owner's storage, key), made by make() (returning the value and its size
// in bytes) on a miss. Null when owner's storage is borrowed (caller memory that may change).
std::shared_ptr<const void> cached_value(const Tensor& owner, const CacheKey& key,
                                         const std::function<std::pair<std::shared_ptr<const void>, size_t>()>& make);

// B(p, j) = b[p*rs + j*cs] (K x N) packed for the active ISA, where b points into owner's storage.
template <class T>
std::shared_ptr<const blas::PackedB<T>> cached_pack_b(const Tensor& owner, const T* b, int64_t K, int64_t N, int64_t rs,
                                                      int64_t cs);

size_t packed_cache_bytes();    // bytes held by the cache now
size_t packed_cache_entries();
void clear_packed_cache();

}  // namespace keras_cpp
