// cpp/kernels/fused_ew.cpp — the block evaluator of fused_ew.h. The output's shape is collapsed
// together with every input's broadcast strides; long inner rows are cut into segments (inputs
// read in place when their inner stride is 0 or 1), short rows are taken several at a time
// (inputs laid out like the output read in place, the others gathered into a block buffer).
#include "kernels/fused_ew.h"

#include <algorithm>
#include <cstring>

#include "keras_cpp/error.h"
#include "kernels/convert.h"
#include "kernels/fused_chain.h"
#include "kernels/parallel.h"

namespace keras_cpp {
namespace fused {

void Program::prepare() {
  const int n = static_cast<int>(code.size());
  std::vector<int> last(n, -1);
  for (int j = 0; j < n; ++j)
    for (int a : code[j].arg)
      if (a >= 0 && a != kNoArg) last[a] = j;
  reg.assign(n, -1);
  nregs = 0;
  std::vector<char> is_extra(n, 0);
  for (int j : extra) is_extra[j] = 1;
  std::vector<int> free_regs;
  for (int j = 0; j + 1 < n; ++j) {
    // A dead operand's register may take this result when the element sizes match (the kernels
    // read element i before writing it); other dead registers are freed after the allocation.
    std::vector<int> after;
    for (int k = 0; k < 3; ++k) {
      int a = code[j].arg[k];
      if (a < 0 || a == kNoArg || last[a] != j || reg[a] < 0) continue;
      if (std::find(code[j].arg, code[j].arg + k, a) != code[j].arg + k) continue;  // seen (x * x)
      if (dtype_size(code[a].out) == dtype_size(code[j].out)) free_regs.push_back(reg[a]);
      else after.push_back(reg[a]);
    }
    if (is_extra[j]) {  // written to its output buffer: no register
      free_regs.insert(free_regs.end(), after.begin(), after.end());
      continue;
    }
    if (free_regs.empty()) {
      reg[j] = nregs++;
    } else {
      reg[j] = free_regs.back();
      free_regs.pop_back();
    }
    free_regs.insert(free_regs.end(), after.begin(), after.end());
  }
}

int64_t Program::cost() const {
  int64_t c = 0;
  for (const Instr& in : code) {
    if (in.kind == Kind::unary) {
      using U = ew::UnaryOp;
      U op = static_cast<U>(in.code);
      c += op == U::sin || op == U::cos ? 16
         : op == U::exp || op == U::expm1 || op == U::log || op == U::log1p || op == U::tanh || op == U::sigmoid ||
                 op == U::softplus ? 8 : 1;
    } else if (in.kind == Kind::binary) {
      using B = ew::BinaryOp;
      B op = static_cast<B>(in.code);
      c += op == B::pow ? 16 : op == B::mod || op == B::floordiv ? 4 : 1;
    } else {
      c += 1;
    }
  }
  return std::max<int64_t>(c, 1);
}

namespace {

int chain_code(uint8_t code) {
  using B = ew::BinaryOp;
  switch (static_cast<B>(code)) {
    case B::add: return ew::kChainAdd;
    case B::subtract: return ew::kChainSub;
    case B::multiply: return ew::kChainMul;
    default: return ew::kChainNone;
  }
}

}  // namespace

ChainMatch match_chain(const Program& p) {
  ChainMatch m;
  const size_t n = p.code.size();
  if (!p.extra.empty() || n < 2 || n > 3 || p.ninputs > 3) return m;
  const DType t = p.code[0].dtype;
  if (t != DType::float32 && t != DType::float64) return m;
  for (const Instr& in : p.code)
    if (in.dtype != t || in.out != t) return m;
  const Instr& i0 = p.code[0];
  const int op1 = chain_code(i0.code);
  if (i0.kind != Kind::binary || op1 == ew::kChainNone || i0.arg[0] >= 0 || i0.arg[1] >= 0) return m;
  int op2 = ew::kChainNone, r = -i0.arg[0] - 1, act = ew::kChainIdentity;
  bool swap = false;
  size_t j = 1;
  if (p.code[1].kind == Kind::binary) {
    const Instr& i1 = p.code[1];
    op2 = chain_code(i1.code);
    if (op2 == ew::kChainNone) return m;
    if (i1.arg[0] == 0 && i1.arg[1] < 0) r = -i1.arg[1] - 1;
    else if (i1.arg[1] == 0 && i1.arg[0] < 0) r = -i1.arg[0] - 1, swap = true;
    else return m;
    j = 2;
  }
  if (j < n) {
    const Instr& ia = p.code[j];
    if (ia.kind != Kind::unary || static_cast<ew::UnaryOp>(ia.code) != ew::UnaryOp::relu ||
        ia.arg[0] != static_cast<int>(j) - 1)
      return m;
    act = ew::kChainRelu;
    ++j;
  }
  if (j != n) return m;
  m.form = ew::chain_form(op1, op2, swap, act);
  m.in[0] = -i0.arg[0] - 1;
  m.in[1] = -i0.arg[1] - 1;
  m.in[2] = r;
  m.dtype = t;
  return m;
}

namespace {

constexpr int64_t kBlock = 1024;        // elements per block
constexpr int64_t kRegBytes = kBlock * 8;  // one register holds a block of the widest dtype
constexpr int64_t kLongRow = 256;       // rows at least this long are cut into segments

struct Operand {
  const char* base;
  int64_t es;
  std::vector<int64_t> st;  // collapsed strides, in elements
  bool scalar = false;      // one value for the whole output
  bool linear = false;      // laid out like the output
  bool dense = false;       // read by a kernel that takes no broadcast value (unary, select, cast)
};

struct Layout {
  std::vector<int64_t> shape;  // collapsed; the last dim is the inner row
  int64_t inner = 1, rows = 1;
  bool segments = false;  // blocks are pieces of one row (else groups of whole rows)
  int64_t per_row = 1;    // segments: blocks per row
  int64_t group = 1;      // groups: rows per block
  int64_t nblocks = 0;
};

// Collapse out's shape with every operand's strides (the last operand is the output).
Layout collapse_all(const Shape& shape, std::vector<std::vector<int64_t>>& st) {
  Layout L;
  std::vector<std::vector<int64_t>> cs(st.size());
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    bool merge = !L.shape.empty();
    for (size_t k = 0; k < st.size() && merge; ++k) merge = cs[k].back() == st[k][d] * shape[d];
    if (merge) {
      L.shape.back() *= shape[d];
      for (size_t k = 0; k < st.size(); ++k) cs[k].back() = st[k][d];
    } else {
      L.shape.push_back(shape[d]);
      for (size_t k = 0; k < st.size(); ++k) cs[k].push_back(st[k][d]);
    }
  }
  if (L.shape.empty()) {
    L.shape.push_back(1);
    for (auto& c : cs) c.push_back(0);
  }
  st.swap(cs);
  L.inner = L.shape.back();
  for (size_t d = 0; d + 1 < L.shape.size(); ++d) L.rows *= L.shape[d];
  L.segments = L.rows == 1 || L.inner >= kLongRow;
  if (L.segments) {
    L.per_row = (L.inner + kBlock - 1) / kBlock;
    L.nblocks = L.rows * L.per_row;
  } else {
    L.group = std::max<int64_t>(1, kBlock / L.inner);
    L.nblocks = (L.rows + L.group - 1) / L.group;
  }
  return L;
}

int64_t row_offset(const Layout& L, const std::vector<int64_t>& st, int64_t r) {
  int64_t off = 0;
  for (int d = static_cast<int>(L.shape.size()) - 2; d >= 0; --d) {
    off += (r % L.shape[d]) * st[d];
    r /= L.shape[d];
  }
  return off;
}

template <class U>
void strided_read(const char* src, int64_t s, char* dst, int64_t n) {
  const U* p = reinterpret_cast<const U*>(src);
  U* q = reinterpret_cast<U*>(dst);
  for (int64_t i = 0; i < n; ++i) q[i] = p[i * s];
}

// n elements of size es from src with stride s (0: one value repeated) into dst.
void gather(const char* src, int64_t s, int64_t es, char* dst, int64_t n) {
  if (s == 1) {
    std::memcpy(dst, src, static_cast<size_t>(n * es));
    return;
  }
  switch (es) {
    case 1: strided_read<uint8_t>(src, s, dst, n); break;
    case 2: strided_read<uint16_t>(src, s, dst, n); break;
    case 4: strided_read<uint32_t>(src, s, dst, n); break;
    default: strided_read<uint64_t>(src, s, dst, n); break;
  }
}

template <class U>
void select_loop(const bool* c, const char* a, int sa, const char* b, int sb, char* o, int64_t n) {
  const U* x = reinterpret_cast<const U*>(a);
  const U* y = reinterpret_cast<const U*>(b);
  U* z = reinterpret_cast<U*>(o);
  for (int64_t i = 0; i < n; ++i) z[i] = c[i] ? x[i * sa] : y[i * sb];
}

struct Ref {
  const char* p;
  int s;  // 1: dense, 0: one broadcast value
};

// One resolved instruction: its kernel for the ISA and dtypes in use.
struct Op {
  Kind kind;
  ew::UnaryFn u = nullptr;
  ew::BinaryFn b = nullptr;
  ConvertFn cv = nullptr;
  int64_t es = 0;  // select: element size
  // float16 operands: computed in float32 as the unfused op does (operands widened, the result
  // rounded back to float16 unless it is bool).
  ConvertFn widen = nullptr, narrow = nullptr;
};

// A float16 unary/binary on a block: widen the operands into f32 scratch, run the float32 kernel,
// narrow the result (a broadcast value is widened once and stays broadcast).
void half_op(const Op& op, Ref a, Ref b, bool binary, char* dst, int64_t n, char* tmp) {
  char* wa = tmp;
  char* wb = tmp + kBlock * 4;
  char* wo = tmp + 2 * kBlock * 4;
  op.widen(a.p, wa, a.s ? n : 1);
  if (binary) op.widen(b.p, wb, b.s ? n : 1);
  char* o = op.narrow ? wo : dst;
  if (binary) op.b(wa, wb, o, n, a.s, b.s);
  else op.u(wa, o, n);
  if (op.narrow) op.narrow(wo, dst, n);
}

struct Run {
  const Program& p;
  std::vector<Op> ops;
  std::vector<Operand> in = {};
  Layout L = {};
  char* out = nullptr;
  int64_t oes = 0;
  std::vector<char*> xout;     // per instruction: its extra output's buffer, else null
  std::vector<int64_t> xes;    // per instruction: its result's element size
  // A float32 add/subtract/multiply chain (chain_links): run by chain_f32, a vector at a time.
  std::vector<ChainLink> chain;
  std::vector<int> chain_in;   // the inputs it reads: link 0's two, then one per later link
  // Set: the program is a single-pass affine chain (match_chain) of inputs cin; it takes
  // precedence over `chain`.
  ew::ChainFn affine = nullptr;
  int cin[3] = {0, 0, 0};

  bool run_chain(const Ref* refs, int64_t ooff, int64_t n) const;

  // Block b: its element count, the output offset, and each input's (pointer, stride).
  int64_t locate(int64_t b, Ref* refs, char* bufs, int64_t& ooff) const;
  void block(int64_t b, char* scratch) const;
  void chain_block(int64_t b, char* scratch, const char** spread) const;
};

int64_t Run::locate(int64_t b, Ref* refs, char* bufs, int64_t& ooff) const {
  const int nd = static_cast<int>(L.shape.size());
  int64_t n;
  if (L.segments) {
    const int64_t r = b / L.per_row, c0 = (b % L.per_row) * kBlock;
    n = std::min(kBlock, L.inner - c0);
    ooff = r * L.inner + c0;
    for (size_t k = 0; k < in.size(); ++k) {
      const Operand& o = in[k];
      const int64_t s = o.st[nd - 1];
      const char* src = o.base + (row_offset(L, o.st, r) + c0 * s) * o.es;
      char* buf = bufs + k * kRegBytes;
      if (s == 1 || (s == 0 && !o.dense)) refs[k] = {src, static_cast<int>(s)};
      else gather(src, s, o.es, buf, n), refs[k] = {buf, 1};
    }
    return n;
  }
  const int64_t r0 = b * L.group, m = std::min(L.group, L.rows - r0);
  n = m * L.inner;
  ooff = r0 * L.inner;
  for (size_t k = 0; k < in.size(); ++k) {
    const Operand& o = in[k];
    char* buf = bufs + k * kRegBytes;
    if (o.linear) {
      refs[k] = {o.base + r0 * L.inner * o.es, 1};
    } else if (o.scalar && !o.dense) {
      refs[k] = {o.base, 0};
    } else {
      for (int64_t r = 0; r < m; ++r)
        gather(o.base + row_offset(L, o.st, r0 + r) * o.es, o.st[nd - 1], o.es, buf + r * L.inner * o.es, L.inner);
      refs[k] = {buf, 1};
    }
  }
  return n;
}

void Run::block(int64_t b, char* scratch) const {
  Ref refs[64];
  Ref* R = in.size() <= 64 ? refs : nullptr;
  std::vector<Ref> big;
  if (!R) big.resize(in.size()), R = big.data();
  char* bufs = scratch + static_cast<int64_t>(p.nregs) * kRegBytes;
  int64_t ooff = 0;
  const int64_t n = locate(b, R, bufs, ooff);
  if (!chain.empty() && run_chain(R, ooff, n)) return;
  auto val = [&](int a) -> Ref {
    if (a < 0) return R[-a - 1];
    if (xout[a]) return {xout[a] + ooff * xes[a], 1};
    return {scratch + p.reg[a] * kRegBytes, 1};
  };
  const size_t last = p.code.size() - 1;
  for (size_t j = 0; j <= last; ++j) {
    const Instr& ins = p.code[j];
    const Op& op = ops[j];
    char* dst = j == last ? out + ooff * oes : xout[j] ? xout[j] + ooff * xes[j] : scratch + p.reg[j] * kRegBytes;
    const Ref a = val(ins.arg[0]);
    if (op.widen) {
      half_op(op, a, op.b ? val(ins.arg[1]) : a, op.b != nullptr, dst, n, bufs + p.ninputs * kRegBytes);
      continue;
    }
    switch (op.kind) {
      case Kind::unary: op.u(a.p, dst, n); break;
      case Kind::cast: op.cv(a.p, dst, n); break;
      case Kind::binary: {
        const Ref c = val(ins.arg[1]);
        op.b(a.p, c.p, dst, n, a.s, c.s);
        break;
      }
      case Kind::select: {
        const Ref x = val(ins.arg[1]), y = val(ins.arg[2]);
        const bool* cond = reinterpret_cast<const bool*>(a.p);
        switch (op.es) {
          case 1: select_loop<uint8_t>(cond, x.p, x.s, y.p, y.s, dst, n); break;
          case 2: select_loop<uint16_t>(cond, x.p, x.s, y.p, y.s, dst, n); break;
          case 4: select_loop<uint32_t>(cond, x.p, x.s, y.p, y.s, dst, n); break;
          default: select_loop<uint64_t>(cond, x.p, x.s, y.p, y.s, dst, n); break;
        }
        break;
      }
    }
  }
}

bool Run::run_chain(const Ref* refs, int64_t ooff, int64_t n) const {
  ChainRef y[16];
  auto ref = [&](int k) { return ChainRef{reinterpret_cast<const float*>(refs[k].p), refs[k].s}; };
  for (size_t j = 0; j < chain.size(); ++j) y[j] = ref(chain_in[j + 1]);
  return chain_f32(chain.data(), static_cast<int>(chain.size()), ref(chain_in[0]), y, reinterpret_cast<float*>(out) + ooff, n);
}

// The links of p when it is a chain that chain_f32 evaluates: float32 add/subtract/multiply only,
// instruction 0 on two inputs, each later one on the one before and an input, no extra outputs
// (empty: not such a chain). `in` gets the inputs read, in chain_f32's order.
std::vector<ChainLink> chain_links(const Program& p, std::vector<int>& in) {
  std::vector<ChainLink> links;
  const int n = static_cast<int>(p.code.size());
  if (n < 2 || n > 16 || !p.extra.empty()) return links;
  for (int j = 0; j < n; ++j) {
    const Instr& c = p.code[j];
    if (c.kind != Kind::binary || c.dtype != DType::float32 || c.out != DType::float32 || !chain_op(c.code)) return {};
    const int a = c.arg[0], b = c.arg[1];
    if (j == 0) {
      if (a >= 0 || b >= 0) return {};
      in = {-a - 1, -b - 1};
      links.push_back({c.code, true});
      continue;
    }
    const bool first = a == j - 1;
    const int other = first ? b : a;
    if ((first ? b : a) >= 0 || (!first && b != j - 1)) return {};
    in.push_back(-other - 1);
    links.push_back({c.code, first});
  }
  return links;
}

template <class U>
void fill_value(const char* src, char* dst, int64_t n) {
  const U v = *reinterpret_cast<const U*>(src);
  U* q = reinterpret_cast<U*>(dst);
  for (int64_t i = 0; i < n; ++i) q[i] = v;
}

// Block b in one kernel call. The kernel reads dense operands only, so a broadcast value is
// spread over a block-long buffer, once per run of blocks that share it (spread[k]: the value's
// address that input k's buffer holds). Scratch: 3 gather buffers, then 3 spread buffers.
void Run::chain_block(int64_t b, char* scratch, const char** spread) const {
  Ref refs[3];
  int64_t ooff = 0;
  const int64_t n = locate(b, refs, scratch, ooff);
  const void* arg[3];
  for (int k = 0; k < 3; ++k) {
    const int i = cin[k];
    if (refs[i].s == 0) {
      char* buf = scratch + (3 + i) * kRegBytes;
      if (spread[i] != refs[i].p) {
        if (oes == 4) fill_value<uint32_t>(refs[i].p, buf, kBlock);
        else fill_value<uint64_t>(refs[i].p, buf, kBlock);
        spread[i] = refs[i].p;
      }
      arg[k] = buf;
    } else {
      arg[k] = refs[i].p;
    }
  }
  affine(arg[0], arg[1], arg[2], out + ooff * oes, n);
}

std::vector<Op> resolve(const Program& p) {
  std::vector<Op> ops;
  for (const Instr& in : p.code) {
    Op op{in.kind};
    const bool half = in.dtype == DType::float16 && (in.kind == Kind::unary || in.kind == Kind::binary);
    const DType kt = half ? DType::float32 : in.dtype;
    if (in.kind == Kind::unary) op.u = ew::unary(static_cast<ew::UnaryOp>(in.code), kt);
    if (in.kind == Kind::binary) op.b = ew::binary(static_cast<ew::BinaryOp>(in.code), kt);
    if (half) {
      op.widen = convert_fn(DType::float16, DType::float32);
      if (in.out == DType::float16) op.narrow = convert_fn(DType::float32, DType::float16);
    }
    if (in.kind == Kind::cast) op.cv = convert_fn(in.dtype, in.out);
    op.es = static_cast<int64_t>(dtype_size(in.dtype));
    if ((in.kind == Kind::unary && !op.u) || (in.kind == Kind::binary && !op.b))
      throw TypeError(std::string("[fused elementwise] no kernel for dtype ") + dtype_name(in.dtype));
    ops.push_back(op);
  }
  return ops;
}

// Which inputs a unary, select (condition) or cast reads: those need a dense block.
std::vector<char> dense_inputs(const Program& p) {
  std::vector<char> d(p.ninputs, 0);
  for (const Instr& in : p.code)
    for (int k = 0; k < 3; ++k) {
      int a = in.arg[k];
      if (a >= 0 || a == kNoArg) continue;
      if (in.kind != Kind::binary && !(in.kind == Kind::select && k > 0)) d[-a - 1] = 1;
    }
  return d;
}

}  // namespace

void run(const Program& p, const std::vector<Tensor>& inputs, Tensor& out, const std::vector<Tensor>& extra) {
  const int64_t total = out.numel();
  if (total == 0) return;
  if (extra.size() != p.extra.size()) throw ValueError("[fused elementwise] internal: extra outputs do not match the program");
  Run R{p, resolve(p)};
  R.out = static_cast<char*>(out.raw());
  R.oes = static_cast<int64_t>(dtype_size(out.dtype()));
  // A large output is written by the last op's streaming form when it has one (as in
  // elementwise.cpp; the blocks are 1024 elements, so the kernel streams all but an unaligned head).
  const Instr& fin = p.code.back();
  bool stream = false;
  if (total * R.oes >= ew::kStreamBytes && fin.dtype != DType::float16) {
    Op& op = R.ops.back();
    if (fin.kind == Kind::unary) {
      if (ew::UnaryFn f = ew::unary_stream(static_cast<ew::UnaryOp>(fin.code), fin.dtype)) op.u = f, stream = true;
    } else if (fin.kind == Kind::binary) {
      if (ew::BinaryFn f = ew::binary_stream(static_cast<ew::BinaryOp>(fin.code), fin.dtype)) op.b = f, stream = true;
    }
  }
  const ChainMatch cm = match_chain(p);
  if (cm.form >= 0 && out.dtype() == cm.dtype) {
    const bool big = total * R.oes >= ew::kStreamBytes;
    R.affine = ew::chain(cm.form, cm.dtype, big);
    if (R.affine) stream = big;
    std::copy(cm.in, cm.in + 3, R.cin);
  }
  if (!R.affine && !stream) R.chain = chain_links(p, R.chain_in);
  R.xout.assign(p.code.size(), nullptr);
  R.xes.assign(p.code.size(), 0);
  for (size_t k = 0; k < extra.size(); ++k) {
    const int j = p.extra[k];
    if (extra[k].shape() != out.shape() || !extra[k].is_contiguous() || extra[k].dtype() != p.code[j].out)
      throw ValueError("[fused elementwise] internal: extra output " + std::to_string(k) + " does not fit");
    R.xout[j] = static_cast<char*>(extra[k].raw());
    R.xes[j] = static_cast<int64_t>(dtype_size(extra[k].dtype()));
  }
  std::vector<std::vector<int64_t>> st;
  for (const Tensor& t : inputs) {
    const Tensor v = t.broadcast_to(out.shape());
    st.emplace_back(v.strides().begin(), v.strides().end());
  }
  st.emplace_back(out.strides().begin(), out.strides().end());
  R.L = collapse_all(out.shape(), st);
  const std::vector<char> dense = dense_inputs(p);
  for (size_t k = 0; k < inputs.size(); ++k) {
    Operand o{static_cast<const char*>(inputs[k].raw()), static_cast<int64_t>(dtype_size(inputs[k].dtype())), st[k]};
    o.scalar = std::all_of(o.st.begin(), o.st.end(), [](int64_t s) { return s == 0; });
    o.linear = o.st == st.back();
    o.dense = dense[k];
    R.in.push_back(std::move(o));
  }
  const int64_t per_block = R.L.segments ? std::min(kBlock, R.L.inner) : R.L.group * R.L.inner;
  const int64_t grain = std::max<int64_t>(2048, 32768 / p.cost());
  const size_t bytes = static_cast<size_t>(std::max<int64_t>(p.nregs + p.ninputs + 2, 6) * kRegBytes);  // + float16 scratch; chain_block: 6
  parallel_for(R.L.nblocks, std::max<int64_t>(1, grain / per_block), [&](int64_t b0, int64_t b1) {
    thread_local std::vector<double> scratch;
    if (scratch.size() * sizeof(double) < bytes) scratch.resize(bytes / sizeof(double) + 1);
    char* s = reinterpret_cast<char*>(scratch.data());
    if (R.affine) {
      const char* spread[3] = {nullptr, nullptr, nullptr};
      for (int64_t b = b0; b < b1; ++b) R.chain_block(b, s, spread);
    } else {
      for (int64_t b = b0; b < b1; ++b) R.block(b, s);
    }
    if (stream) ew::stream_fence();
  });
}

}  // namespace fused
}  // namespace keras_cpp
