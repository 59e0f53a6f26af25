// cpp/kernels/gemm_cache.h — packed copies of GEMM right-hand operands that stay the same across
// calls (weights), so a Function packs each weight once instead of on every product. An entry is
// keyed by the storage it was packed from (and the view: offset, sizes, strides, ISA) and holds a
// reference to that storage: storage is never written while shared, so the packed copy stays
// valid; a variable update swaps in new storage, which misses and repacks. Entries whose storage
// nobody else holds any more are dropped.
#pragma once
#include <cstddef>
#include <memory>

#include "keras_cpp/tensor.h"
#include "kernels/sgemm.h"

namespace keras_cpp {

// B(p, j) = b[p*rs + j*cs] (K x N), where b points into owner's storage. Null when owner's
// storage is borrowed (caller memory that may change between calls).
template <class T>
std::shared_ptr<const blas::PackedB<T>> cached_pack_b(const Tensor& owner, const T* b, int64_t K, int64_t N, int64_t rs,
                                                      int64_t cs);

size_t packed_cache_bytes();    // bytes held by the cache now
size_t packed_cache_entries();
void clear_packed_cache();

}  // namespace keras_cpp
