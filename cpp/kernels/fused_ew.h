// cpp/kernels/fused_ew.h — a chain of elementwise ops evaluated as one pass: a small register
// program run block by block (a few thousand elements, so intermediates stay in L1), each
// instruction one call of the same ew.h kernel the unfused op runs (so results are bit-identical),
// blocks split over threads. The plan's fusion pass (exec/fuse.cpp) builds the programs. A program
// that is an affine+relu chain (match_chain) runs each block as one ew::ChainFn call instead, which
// keeps the intermediates in registers (one pass over the block rather than one per op).
#pragma once
#include <cstdint>
#include <vector>

#include "keras_cpp/tensor.h"
#include "kernels/ew.h"

namespace keras_cpp {
namespace fused {

enum class Kind : uint8_t {
  unary,   // ew::unary(code, dtype)(a); result dtype: dtype, or bool for logical_not
  binary,  // ew::binary(code, dtype)(a, b); result dtype: dtype, or bool for comparisons
  select,  // args (cond, a, b): cond[i] ? a[i] : b[i]; cond is bool, dtype = a's = b's
  cast,    // convert dtype -> out (Tensor::astype's per-element rule)
};

constexpr int kNoArg = 1 << 30;

struct Instr {
  Kind kind;
  uint8_t code;  // ew::UnaryOp / ew::BinaryOp
  DType dtype;   // operand dtype (select: the values'; cast: the source's)
  DType out;     // result dtype
  int arg[3] = {kNoArg, kNoArg, kNoArg};  // >= 0: result of that instruction; < 0: input -(k + 1)
};

// The last instruction's result is the output; the instructions in `extra` are also outputs
// (written straight to their own buffers, which later instructions then read). prepare()
// assigns registers (a register is reused once the value in it is dead) and must be called after
// the code is complete.
struct Program {
  std::vector<Instr> code;
  int ninputs = 0;
  std::vector<int> extra;  // instructions (before the last) whose results are extra outputs, in order
  std::vector<int> reg;  // per instruction: its register (the last one writes the output)
  int nregs = 0;
  void prepare();
  int64_t cost() const;  // rough work per element (picks the thread grain)
};

inline int input_arg(int k) { return -(k + 1); }

// A program that is one of the affine+activation chains ew::ChainFn computes in a single pass
// (op1 of two inputs, optionally op2 with a third input, optionally relu; float/double, no extra
// outputs): its ew::chain_form and the inputs read as p, q, r. form < 0: no match.
struct ChainMatch {
  int form = -1;
  int in[3] = {0, 0, 0};
  DType dtype = DType::float32;
};
ChainMatch match_chain(const Program& p);

// out = the program over `inputs` (each broadcastable to out's shape and of the dtype the program
// reads it as); out is contiguous and may be one of the inputs' buffers (read before written).
// extra[k] receives instruction p.extra[k]: contiguous, out's shape, and no input's buffer.
void run(const Program& p, const std::vector<Tensor>& inputs, Tensor& out, const std::vector<Tensor>& extra = {});

}  // namespace fused
}  // namespace keras_cpp
