// cpp/kernels/ew_chain_impl.h — the single-pass affine+activation kernels (ew.h ChainFn), one body
// for both ISAs (included by ew_binary_avx2.cpp / ew_binary_avx512.cpp after ew_binary_impl.h).
// Each vector is loaded once, run through op1, op2 and the activation in registers and stored
// once, where the fused block evaluator would make one pass over the block per op. Every step is
// the same intrinsic the unfused kernel uses, in the same operand order, and the files are built
// with -ffp-contract=off, so no mul+add becomes an FMA: the bits are the unfused ops'.

template <int OP, class S>
inline typename S::V chain_op(typename S::V x, typename S::V y) {
  if constexpr (OP == kChainAdd) return S::add(x, y);
  else if constexpr (OP == kChainSub) return S::sub(x, y);
  else return S::mul(x, y);
}

template <int OP1, int OP2, bool SWAP, int ACT, class S>
inline typename S::V chain_eval(typename S::V p, typename S::V q, typename S::V r) {
  typename S::V t = chain_op<OP1, S>(p, q);
  if constexpr (OP2 != kChainNone) t = SWAP ? chain_op<OP2, S>(r, t) : chain_op<OP2, S>(t, r);
  if constexpr (ACT == kChainRelu) t = S::max_(S::set1(typename S::T(0)), t);  // u_relu's form: NaN stays NaN
  return t;
}

template <int OP1, int OP2, bool SWAP, int ACT, bool NT, class T>
inline void chain_loop(const T* p, const T* q, const T* r, T* o, int64_t n) {
  using S = Simd<T>;
  constexpr int W = S::W;
  auto f = [](typename S::V a, typename S::V b, typename S::V c) { return chain_eval<OP1, OP2, SWAP, ACT, S>(a, b, c); };
  auto st = [](T* d, typename S::V v) { if constexpr (NT) S::stream(d, v); else S::store(d, v); };
  auto lr = [&](int64_t i) { if constexpr (OP2 != kChainNone) return S::load(r + i); else return S::set1(typename S::T(0)); };
  int64_t i = 0;
  for (; i + 2 * W <= n; i += 2 * W) {
    typename S::V v0 = f(S::load(p + i), S::load(q + i), lr(i));
    typename S::V v1 = f(S::load(p + i + W), S::load(q + i + W), lr(i + W));
    st(o + i, v0);
    st(o + i + W, v1);
  }
  for (; i + W <= n; i += W) st(o + i, f(S::load(p + i), S::load(q + i), lr(i)));
  if (i < n) {
    T bp[W] = {}, bq[W] = {}, br[W] = {}, bo[W];
    std::memcpy(bp, p + i, (n - i) * sizeof(T));
    std::memcpy(bq, q + i, (n - i) * sizeof(T));
    if constexpr (OP2 != kChainNone) std::memcpy(br, r + i, (n - i) * sizeof(T));
    S::store(bo, f(S::load(bp), S::load(bq), S::load(br)));
    std::memcpy(o + i, bo, (n - i) * sizeof(T));
  }
}

// NT: the 64-byte-aligned middle of o is written with non-temporal stores, its ends plainly (stream_split).
template <int OP1, int OP2, bool SWAP, int ACT, class T, bool NT>
void chain_kernel(const void* pv, const void* qv, const void* rv, void* ov, int64_t n) {
  const T* p = static_cast<const T*>(pv);
  const T* q = static_cast<const T*>(qv);
  const T* r = static_cast<const T*>(rv);
  T* o = static_cast<T*>(ov);
  constexpr bool R = OP2 != kChainNone;  // r is read only by a two-op chain
  stream_split<NT>(o, n, [&](int64_t i, int64_t m, auto nt) {
    chain_loop<OP1, OP2, SWAP, ACT, decltype(nt)::value>(p + i, q + i, R ? r + i : r, o + i, m);
  });
}

template <int OP1, int OP2, bool SWAP, int ACT>
inline void fill_chain_form(Table& tab) {
  for_types<float, double>([&](auto tag) {
    using T = decltype(tag);
    constexpr int d = dt_index<T>();
    constexpr int k = chain_form(OP1, OP2, SWAP, ACT);
    tab.chain[k][d] = chain_kernel<OP1, OP2, SWAP, ACT, T, false>;
    tab.chain_stream[k][d] = chain_kernel<OP1, OP2, SWAP, ACT, T, true>;
  });
}

template <int OP1, int OP2, int ACT>
inline void fill_chain_op2(Table& tab) {
  fill_chain_form<OP1, OP2, false, ACT>(tab);
  if constexpr (OP2 != kChainNone) fill_chain_form<OP1, OP2, true, ACT>(tab);
}

template <int OP1, int ACT>
inline void fill_chain_op1(Table& tab) {
  if constexpr (ACT != kChainIdentity) fill_chain_op2<OP1, kChainNone, ACT>(tab);  // op1 alone is a plain binary
  fill_chain_op2<OP1, kChainAdd, ACT>(tab);
  fill_chain_op2<OP1, kChainSub, ACT>(tab);
  fill_chain_op2<OP1, kChainMul, ACT>(tab);
}

inline void fill_chain(Table& tab) {
  fill_chain_op1<kChainAdd, kChainIdentity>(tab);
  fill_chain_op1<kChainSub, kChainIdentity>(tab);
  fill_chain_op1<kChainMul, kChainIdentity>(tab);
  fill_chain_op1<kChainAdd, kChainRelu>(tab);
  fill_chain_op1<kChainSub, kChainRelu>(tab);
  fill_chain_op1<kChainMul, kChainRelu>(tab);
}
