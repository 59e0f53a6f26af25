// cpp/ops/ctc.h — pieces shared by ctc.cpp (loss) and ctc_decode.cpp (decoders).
#pragma once
#include <vector>

#include "ops/registry.h"

namespace keras_cpp {

// Per-sample lengths (any numeric dtype, truncated to int64), each checked to lie in [0, limit].
std::vector<int64_t> read_lengths(const char* op, const char* nm, const Tensor& t, int64_t limit);
// A lengths argument must be (samples,) or (samples, 1) and numeric.
void check_length_type(const char* op, const char* nm, const TypeInfo& t);
void register_ctc_decode();  // ctc_decode.cpp

}  // namespace keras_cpp
