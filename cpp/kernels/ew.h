// cpp/kernels/ew.h — contiguous elementwise and reduction kernels, one function per (op, dtype),
// compiled once for AVX2 and once for AVX-512 (ew_avx2.cpp / ew_avx512.cpp, built from the
// *_impl.h bodies) and chosen at run time. The strided/broadcast drivers that call them are in
// elementwise.h; the op files only name an op and a dtype.
#pragma once
#include <cstdint>

#include "keras_cpp/dtype.h"
#include "kernels/cpu_isa.h"

namespace keras_cpp {
namespace ew {

enum class UnaryOp : uint8_t {
  abs, negative, square,
  sqrt,  // Keras's sqrt: negative inputs give 0 (NaN stays NaN)
  exp, expm1, log, log1p, sin, cos, tanh, sigmoid, softplus, softsign,
  relu,  // max(x, 0), NaN stays NaN
  sign, round, logical_not, isfinite,
  count
};

enum class BinaryOp : uint8_t {
  add, subtract, multiply, divide, floordiv, mod, pow,
  maximum, minimum,  // NaN in either operand gives NaN (numpy)
  equal, not_equal, greater, greater_equal, less, less_equal,  // bool results
  logical_and, logical_or,
  count
};

enum class ReduceOp : uint8_t { sum, prod, max, min, any, all, count };  // max/min propagate NaN

constexpr int kDTypes = 9;

// out[i] = op(x[i]) for i < n; out is bool for logical_not/isfinite, else x's dtype.
using UnaryFn = void (*)(const void* x, void* out, int64_t n);
// out[i] = op(a[i * sa], b[i * sb]) with sa, sb in {0, 1}; out is bool for comparisons.
using BinaryFn = void (*)(const void* a, const void* b, void* out, int64_t n, int sa, int sb);
// out[i] = reduce over r < R of x[i * R + r], for i < rows (a row of R contiguous elements).
using ReduceRowsFn = void (*)(const void* x, void* out, int64_t rows, int64_t R);
// out[j] = reduce over r < R of x[r * ld + j], for j < n (columns).
using ReduceColsFn = void (*)(const void* x, void* out, int64_t R, int64_t n, int64_t ld);
// out[i] = exp(x[i] - m) for i < n (out may be x, or null to only sum); returns the sum of the
// exp values, accumulated in double (float: from the stored float values; with exact math, from the
// values before their rounding to float).
// One pass for softmax and logsumexp rows; float/double only. m must be >= every x[i] (the row
// maximum, or NaN / inf): the float form clamps x - m from below only.
using ExpShiftSumFn = double (*)(const void* x, void* out, int64_t n, double m);
// out[i] = act(op2(op1(p[i], q[i]), r[i])), or act(op2(r[i], op1(p[i], q[i]))) when swapped, in one
// pass (all operands dense; r unread without op2); float/double. The affine+activation chains
// Keras layers produce (x*a+b, relu(x+b), ...), bit-identical to the separate binary/relu kernels.
using ChainFn = void (*)(const void* p, const void* q, const void* r, void* out, int64_t n);
enum ChainCode : int { kChainNone = 0, kChainAdd, kChainSub, kChainMul };  // op1: add/sub/mul; op2: any
enum ChainAct : int { kChainIdentity = 0, kChainRelu };
constexpr int kChainForms = 4 * 4 * 2 * 2;
constexpr int chain_form(int op1, int op2, bool swap, int act) { return ((op1 * 4 + op2) * 2 + swap) * 2 + act; }

struct Table {
  UnaryFn unary[static_cast<int>(UnaryOp::count)][kDTypes] = {};
  BinaryFn binary[static_cast<int>(BinaryOp::count)][kDTypes] = {};
  // The same ops writing their output with non-temporal stores (float/double vector ops only);
  // see kStreamBytes and stream_fence().
  UnaryFn unary_stream[static_cast<int>(UnaryOp::count)][kDTypes] = {};
  BinaryFn binary_stream[static_cast<int>(BinaryOp::count)][kDTypes] = {};
  ReduceRowsFn reduce_rows[static_cast<int>(ReduceOp::count)][kDTypes] = {};
  ReduceColsFn reduce_cols[static_cast<int>(ReduceOp::count)][kDTypes] = {};
  ExpShiftSumFn exp_shift_sum[kDTypes] = {};
  ChainFn chain[kChainForms][kDTypes] = {};
  ChainFn chain_stream[kChainForms][kDTypes] = {};  // non-temporal stores (kStreamBytes)
};

using keras_cpp::Isa;
using keras_cpp::isa_name;
bool cpu_has(Isa isa);    // this CPU and this build can run that table
Isa active_isa();         // the one in use (AVX-512 when available, unless forced)
void force_isa(Isa isa);  // test hook: use that table (ignored when unsupported)
void reset_isa();

const Table& table();  // the active ISA's kernels; a null entry = dtype not supported by the op

inline UnaryFn unary(UnaryOp op, DType t) { return table().unary[static_cast<int>(op)][static_cast<int>(t)]; }
inline BinaryFn binary(BinaryOp op, DType t) { return table().binary[static_cast<int>(op)][static_cast<int>(t)]; }
// Outputs of at least this many bytes are written with the *_stream kernels when the op has one:
// plain stores first read each output line (about a third more traffic for a unary op), and a
// result this large does not stay in the caches for its reader anyway. Standalone loops on the
// 2-core Zen 4 (L2 1 MiB, L3 32 MiB shared): non-temporal stores were 15-30% faster for a 16 MiB
// add/relu and 8 MiB add, even for a repeated 8 MiB relu, and ~1.5x slower for a 4 MiB relu
// whose 8 MiB in + out stay in the L3 from call to call.
constexpr int64_t kStreamBytes = int64_t(8) << 20;
// A *_stream kernel may leave its last stores in write-combining buffers: the thread that called it
// runs stream_fence() after its last such call, before the output is handed on.
inline void stream_fence() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_sfence();
#endif
}
// The streaming form of a kernel, or null (then use the plain one).
inline UnaryFn unary_stream(UnaryOp op, DType t) { return table().unary_stream[static_cast<int>(op)][static_cast<int>(t)]; }
inline BinaryFn binary_stream(BinaryOp op, DType t) { return table().binary_stream[static_cast<int>(op)][static_cast<int>(t)]; }
inline ReduceRowsFn reduce_rows(ReduceOp op, DType t) { return table().reduce_rows[static_cast<int>(op)][static_cast<int>(t)]; }
inline ReduceColsFn reduce_cols(ReduceOp op, DType t) { return table().reduce_cols[static_cast<int>(op)][static_cast<int>(t)]; }
// A single-pass chain kernel (chain_form's index), or null when that form is not built.
inline ChainFn chain(int form, DType t, bool stream) {
  const Table& tab = table();
  return (stream ? tab.chain_stream : tab.chain)[form][static_cast<int>(t)];
}
inline ExpShiftSumFn exp_shift_sum(DType t) { return table().exp_shift_sum[static_cast<int>(t)]; }

// Filled by the per-ISA files (fill_avx512 is a no-op in a build without AVX-512 support).
void fill_unary_avx2(Table& t, bool exact_math);  // exact_math: see ew.cpp
void fill_binary_avx2(Table& t);
void fill_reduce_avx2(Table& t);
bool fill_unary_avx512(Table& t, bool exact_math);
bool fill_binary_avx512(Table& t);
bool fill_reduce_avx512(Table& t);

}  // namespace ew
}  // namespace keras_cpp
