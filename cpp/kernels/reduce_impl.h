// cpp/kernels/reduce_impl.h — sum/prod/max/min/any/all along contiguous rows and down columns
// (included after ew_binary_impl.h). float/double use Simd<T> with four independent vector
// accumulators; float row sums add 8 steps per lane in float and fold them into double vectors,
// so a long row is summed about as accurately as numpy's pairwise sum. max/min propagate NaN: the
// loops use plain vmax/vmin plus a NaN mask, and a row or block that holds a NaN is redone exactly.

enum class RK { sum, prod, max, min };

template <RK K, class T>
inline T r_identity() {
  if constexpr (K == RK::sum) return T(0);
  else if constexpr (K == RK::prod) return T(1);
  else if constexpr (K == RK::max) return -std::numeric_limits<T>::infinity();
  else return std::numeric_limits<T>::infinity();
}

template <RK K, class S>
inline typename S::V r_vop(typename S::V acc, typename S::V x) {
  if constexpr (K == RK::sum) return S::add(acc, x);
  else if constexpr (K == RK::prod) return S::mul(acc, x);
  else if constexpr (K == RK::max) return S::select(S::isnan(x), x, S::max_(x, acc));  // NaN sticks
  else return S::select(S::isnan(x), x, S::min_(x, acc));
}

template <RK K, class T>
inline T r_sop(T acc, T x) {
  if constexpr (K == RK::sum) return acc + x;
  else if constexpr (K == RK::prod) return acc * x;
  else if constexpr (K == RK::max) return (x != x || x > acc) ? x : acc;
  else return (x != x || x < acc) ? x : acc;
}

// Combine the four accumulators' lanes in a fixed order.
template <RK K, class T>
inline T r_lanes(typename Simd<T>::V a0, typename Simd<T>::V a1, typename Simd<T>::V a2, typename Simd<T>::V a3) {
  using S = Simd<T>;
  a0 = r_vop<K, S>(a0, a1);
  a2 = r_vop<K, S>(a2, a3);
  a0 = r_vop<K, S>(a0, a2);
  T buf[S::W];
  S::store(buf, a0);
  T r = buf[0];
  for (int i = 1; i < S::W; ++i) r = r_sop<K>(r, buf[i]);
  return r;
}

// n < W values of a row as one vector, the missing lanes set to fill (a masked load).
template <class T>
inline typename Simd<T>::V load_tail(const T* p, int64_t n, T fill) { return Simd<T>::load_part(p, n, fill); }

// Values before the first vector-aligned address of x: the main loops then never split a cache line
// (an unaligned 64-byte load costs two L1 accesses, which a row in L2 notices).
template <class T>
inline int64_t head_len(const T* x) {
  constexpr uintptr_t kV = sizeof(typename Simd<T>::V);
  return static_cast<int64_t>(((kV - reinterpret_cast<uintptr_t>(x) % kV) % kV) / sizeof(T));
}

// Reduce x[0, n) with vectors (n >= 0); returns the partial result in T. Exact NaN rule.
template <RK K, class T>
inline T r_span(const T* x, int64_t n) {
  using S = Simd<T>;
  constexpr int W = S::W;
  if (n < W) {
    T r = r_identity<K, T>();
    for (int64_t i = 0; i < n; ++i) r = r_sop<K>(r, x[i]);
    return r;
  }
  typename S::V id = S::set1(r_identity<K, T>()), a0 = id, a1 = id, a2 = id, a3 = id;
  int64_t i = n >= 4 * W ? head_len(x) : 0;
  if (i > 0) a3 = r_vop<K, S>(a3, load_tail<T>(x, i, r_identity<K, T>()));
  for (; i + 4 * W <= n; i += 4 * W) {
    a0 = r_vop<K, S>(a0, S::load(x + i));
    a1 = r_vop<K, S>(a1, S::load(x + i + W));
    a2 = r_vop<K, S>(a2, S::load(x + i + 2 * W));
    a3 = r_vop<K, S>(a3, S::load(x + i + 3 * W));
  }
  for (; i + W <= n; i += W) a0 = r_vop<K, S>(a0, S::load(x + i));
  if (i < n) a1 = r_vop<K, S>(a1, load_tail<T>(x + i, n - i, r_identity<K, T>()));
  return r_lanes<K, T>(a0, a1, a2, a3);
}

// max/min without the NaN select in the loop: plain vmax/vmin (x86 keeps the accumulator when x is
// NaN) with an unordered compare OR-ed into a mask; a row that holds a NaN is redone exactly.
template <RK K, class S>
inline typename S::V r_plain(typename S::V acc, typename S::V x) {
  if constexpr (K == RK::max) return S::max_(x, acc);
  else if constexpr (K == RK::min) return S::min_(x, acc);
  else return r_vop<K, S>(acc, x);
}

template <RK K, class T>
inline T r_minmax(const T* x, int64_t n) {
  using S = Simd<T>;
  using V = typename S::V;
  constexpr int W = S::W;
  if (n < 4 * W) return r_span<K, T>(x, n);
  V id = S::set1(r_identity<K, T>()), a0 = id, a1 = id, a2 = id, a3 = id;
  typename S::M nan = S::unord(id, id);  // all clear
  int64_t i = head_len(x);
  if (i > 0) {  // the first W values, then on from the aligned address
    V v = S::load(x);
    a3 = r_plain<K, S>(a3, v);
    nan = S::isnan(v);
  }
  for (; i + 4 * W <= n; i += 4 * W) {
    V x0 = S::load(x + i), x1 = S::load(x + i + W), x2 = S::load(x + i + 2 * W), x3 = S::load(x + i + 3 * W);
    a0 = r_plain<K, S>(a0, x0);
    a1 = r_plain<K, S>(a1, x1);
    a2 = r_plain<K, S>(a2, x2);
    a3 = r_plain<K, S>(a3, x3);
    nan = S::mor(nan, S::mor(S::unord(x0, x1), S::unord(x2, x3)));
  }
  for (; i + W <= n; i += W) {
    V v = S::load(x + i);
    a0 = r_plain<K, S>(a0, v);
    nan = S::mor(nan, S::isnan(v));
  }
  if (i < n) {  // the last W values again: max/min do not mind seeing some twice
    V v = S::load(x + n - W);
    a1 = r_plain<K, S>(a1, v);
    nan = S::mor(nan, S::isnan(v));
  }
  if (S::any(nan)) return r_span<K, T>(x, n);
  return r_lanes<K, T>(a0, a1, a2, a3);
}

// float sum: blocks of 4 vectors x 8 steps are added in float, then folded into double vectors.
inline double sum_f32(const float* x, int64_t n) {
  using S = Simd<float>;
  constexpr int W = S::W;
  constexpr int64_t kBlock = 4 * W * 8;
  DV d0 = DS::set1(0.0), d1 = d0, d2 = d0, d3 = d0;
  int64_t i = n >= 4 * W ? head_len(x) : 0;
  if (i > 0) widen_add(d2, d3, load_tail<float>(x, i, 0.f));
  for (; i + 4 * W <= n;) {
    typename S::V a0 = S::set1(0.f), a1 = a0, a2 = a0, a3 = a0;
    const int64_t end = i + kBlock <= n ? i + kBlock : n - (n - i) % (4 * W);
    for (; i < end; i += 4 * W) {
      a0 = S::add(a0, S::load(x + i));
      a1 = S::add(a1, S::load(x + i + W));
      a2 = S::add(a2, S::load(x + i + 2 * W));
      a3 = S::add(a3, S::load(x + i + 3 * W));
    }
    widen_add(d0, d1, S::add(a0, a1));
    widen_add(d2, d3, S::add(a2, a3));
  }
  if (n >= W && i < n) {  // the rest as whole vectors and one padded vector, not a scalar chain
    typename S::V t = S::set1(0.f);
    for (; i + W <= n; i += W) t = S::add(t, S::load(x + i));
    if (i < n) t = S::add(t, load_tail<float>(x + i, n - i, 0.f));
    i = n;
    widen_add(d0, d1, t);
  }
  double buf[DS::W];
  DS::store(buf, DS::add(DS::add(d0, d1), DS::add(d2, d3)));
  double r = 0;
  for (int k = 0; k < DS::W; ++k) r += buf[k];
  for (; i < n; ++i) r += x[i];
  return r;
}

template <RK K, class T>
void rr_float(const void* xv, void* ov, int64_t rows, int64_t R) {
  const T* x = static_cast<const T*>(xv);
  T* o = static_cast<T*>(ov);
  for (int64_t a = 0; a < rows; ++a, x += R) {
    if constexpr (K == RK::sum && std::is_same_v<T, float>) o[a] = static_cast<T>(sum_f32(x, R));
    else if constexpr (K == RK::max || K == RK::min) o[a] = r_minmax<K, T>(x, R);
    else o[a] = r_span<K, T>(x, R);
  }
}

// Columns: rows stream past in order (sequential memory), four at a time combined in registers
// and then into an accumulator row of at most kColBlock values that stays in L1.
constexpr int64_t kColBlock = 1024;

// Plain: max/min with r_plain, returning whether a NaN was seen (the caller then redoes the block).
template <RK K, class T, bool Plain>
bool rc_block(const T* x, T* o, int64_t R, int64_t n, int64_t ld) {
  using S = Simd<T>;
  using V = typename S::V;
  constexpr int W = S::W;
  auto op = [](V acc, V v) { return Plain ? r_plain<K, S>(acc, v) : r_vop<K, S>(acc, v); };
  alignas(64) T acc[kColBlock];
  for (int64_t j = 0; j < n; ++j) acc[j] = r_identity<K, T>();
  const int64_t nv = n - n % W;
  V id = S::set1(T(0));
  typename S::M nan = S::unord(id, id);
  int64_t r = 0;
  for (; r + 4 <= R; r += 4) {
    const T *p0 = x + r * ld, *p1 = p0 + ld, *p2 = p1 + ld, *p3 = p2 + ld;
    for (int64_t j = 0; j < nv; j += W) {
      V v0 = S::load(p0 + j), v1 = S::load(p1 + j), v2 = S::load(p2 + j), v3 = S::load(p3 + j);
      if constexpr (Plain) nan = S::mor(nan, S::mor(S::unord(v0, v1), S::unord(v2, v3)));
      S::store(acc + j, op(S::load(acc + j), op(op(v0, v1), op(v2, v3))));
    }
    for (int64_t j = nv; j < n; ++j) acc[j] = r_sop<K>(r_sop<K>(acc[j], r_sop<K>(p0[j], p1[j])), r_sop<K>(p2[j], p3[j]));
  }
  for (; r < R; ++r) {
    const T* p = x + r * ld;
    for (int64_t j = 0; j < nv; j += W) {
      V v = S::load(p + j);
      if constexpr (Plain) nan = S::mor(nan, S::isnan(v));
      S::store(acc + j, op(S::load(acc + j), v));
    }
    for (int64_t j = nv; j < n; ++j) acc[j] = r_sop<K>(acc[j], p[j]);
  }
  if (Plain && S::any(nan)) return true;
  std::memcpy(o, acc, n * sizeof(T));
  return false;
}

template <RK K, class T>
void rc_float(const void* xv, void* ov, int64_t R, int64_t n, int64_t ld) {
  const T* x = static_cast<const T*>(xv);
  T* o = static_cast<T*>(ov);
  constexpr bool kMinMax = K == RK::max || K == RK::min;
  for (int64_t j = 0; j < n; j += kColBlock) {
    const int64_t w = n - j < kColBlock ? n - j : kColBlock;
    if (!kMinMax || rc_block<K, T, true>(x + j, o + j, R, w, ld)) rc_block<K, T, false>(x + j, o + j, R, w, ld);
  }
}

// Integers (wrapping sum/prod) and bools (any = max, all = min over 0/1 bytes): plain loops.
template <RK K, class T>
inline T r_iop(T acc, T x) {
  if constexpr (K == RK::sum) return T(Wrap<T>(acc) + Wrap<T>(x));
  else if constexpr (K == RK::prod) return T(Wrap<T>(acc) * Wrap<T>(x));
  else if constexpr (K == RK::max) return x > acc ? x : acc;
  else return x < acc ? x : acc;
}
template <RK K, class T>
inline T r_iidentity() {
  if constexpr (K == RK::sum) return T(0);
  else if constexpr (K == RK::prod) return T(1);
  else if constexpr (K == RK::max) return std::numeric_limits<T>::lowest();
  else return std::numeric_limits<T>::max();
}

template <RK K, class T>
void rr_int(const void* xv, void* ov, int64_t rows, int64_t R) {
  const T* x = static_cast<const T*>(xv);
  T* o = static_cast<T*>(ov);
  for (int64_t a = 0; a < rows; ++a, x += R) {
    T acc = r_iidentity<K, T>();
    for (int64_t r = 0; r < R; ++r) acc = r_iop<K>(acc, x[r]);
    o[a] = acc;
  }
}

template <RK K, class T>
void rc_int(const void* xv, void* ov, int64_t R, int64_t n, int64_t ld) {
  const T* x = static_cast<const T*>(xv);
  T* __restrict o = static_cast<T*>(ov);
  for (int64_t j = 0; j < n; ++j) o[j] = r_iidentity<K, T>();
  for (int64_t r = 0; r < R; ++r) {
    const T* __restrict p = x + r * ld;
    for (int64_t j = 0; j < n; ++j) o[j] = r_iop<K>(o[j], p[j]);
  }
}

inline void fill_reduce(Table& tab) {
  auto set = [&](ReduceOp op, int dt, ReduceRowsFn fr, ReduceColsFn fc) {
    tab.reduce_rows[static_cast<int>(op)][dt] = fr;
    tab.reduce_cols[static_cast<int>(op)][dt] = fc;
  };
  for_types<float, double>([&](auto tag) {
    using T = decltype(tag);
    constexpr int d = dt_index<T>();
    set(ReduceOp::sum, d, rr_float<RK::sum, T>, rc_float<RK::sum, T>);
    set(ReduceOp::prod, d, rr_float<RK::prod, T>, rc_float<RK::prod, T>);
    set(ReduceOp::max, d, rr_float<RK::max, T>, rc_float<RK::max, T>);
    set(ReduceOp::min, d, rr_float<RK::min, T>, rc_float<RK::min, T>);
  });
  for_types<int8_t, int16_t, int32_t, int64_t, uint8_t>([&](auto tag) {
    using T = decltype(tag);
    constexpr int d = dt_index<T>();
    set(ReduceOp::sum, d, rr_int<RK::sum, T>, rc_int<RK::sum, T>);
    set(ReduceOp::prod, d, rr_int<RK::prod, T>, rc_int<RK::prod, T>);
    set(ReduceOp::max, d, rr_int<RK::max, T>, rc_int<RK::max, T>);
    set(ReduceOp::min, d, rr_int<RK::min, T>, rc_int<RK::min, T>);
  });
  // bool: any = max and all = min over 0/1 bytes.
  set(ReduceOp::any, 8, rr_int<RK::max, uint8_t>, rc_int<RK::max, uint8_t>);
  set(ReduceOp::all, 8, rr_int<RK::min, uint8_t>, rc_int<RK::min, uint8_t>);
  set(ReduceOp::max, 8, rr_int<RK::max, uint8_t>, rc_int<RK::max, uint8_t>);
  set(ReduceOp::min, 8, rr_int<RK::min, uint8_t>, rc_int<RK::min, uint8_t>);
}
