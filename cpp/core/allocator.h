// cpp/core/allocator.h — a pool of dead tensor buffers (the executor keeps one per plan), so
// steady-state calls allocate nothing: a step's output takes a freed buffer of at least its size
// (at most twice).
#pragma once
#include <map>
#include <memory>

#include "keras_cpp/tensor.h"

namespace keras_cpp {

class Allocator {
 public:
  Tensor alloc(const Shape& shape, DType dtype);
  // Take back a dead tensor's storage if nothing else holds it.
  void release(Tensor&& t);
  void clear() { free_.clear(); }

 private:
  std::multimap<size_t, std::shared_ptr<Storage>> free_;
  size_t cached_bytes_ = 0;
};

}  // namespace keras_cpp
