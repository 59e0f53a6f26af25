// cpp/kernels/fused_chain.h — a float32 chain of add/subtract/multiply (each op reading the one
// before it and one input) evaluated a vector at a time in registers: one pass over a block
// instead of one per op, with the same IEEE operations in the same order (so the same bits; the
// file is built with -ffp-contract=off so no multiply-add is contracted).
#pragma once
#include <cstdint>

namespace keras_cpp {
namespace fused {

struct ChainLink {
  uint8_t code;     // ew::BinaryOp: add, subtract or multiply
  bool prev_first;  // the previous result is the op's first operand (else its second)
};
struct ChainRef {
  const float* p;
  int s;  // 0: one value for the block, 1: dense
};

// dst[i] = link[n-1](... link[1](link[0](x0[i], y[0][i]), y[1][i]) ...), where link 0 reads (x0, y[0])
// in that order. Returns false (nothing written) when the build has no AVX2.
bool chain_f32(const ChainLink* links, int nlinks, ChainRef x0, const ChainRef* y, float* dst, int64_t n);
// Whether ew::BinaryOp `code` is one chain_f32 evaluates.
bool chain_op(uint8_t code);

}  // namespace fused
}  // namespace keras_cpp
