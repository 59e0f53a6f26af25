// cpp/kernels/ew_unary_impl.h — the unary kernels, one body for both ISAs (included by
// ew_unary_avx2.cpp / ew_unary_avx512.cpp inside an anonymous namespace, after simd.h, vmath.h,
// vmath_f.h and vmath_fl.h). float/double go through Simd<T>; float exp, log, tanh and sigmoid run
// on float lanes (vmath_fl.h, faithful) unless the table is filled for exact math, which takes the
// double-lane forms (vmath_f.h, correctly rounded) that the other float transcendentals always
// use; integer loops are plain C++ that the compiler vectorises with the file's ISA.

// o[i] = f(x[i]) over W-lane vectors; the tail runs through a zero-padded buffer. NT:
// non-temporal stores (o 64-byte aligned and n a multiple of 2 W: see vmap).
template <bool NT, class T, class F>
inline void vloop(const T* x, T* o, int64_t n, F f) {
  using S = Simd<T>;
  constexpr int W = S::W;
  auto st = [](T* p, typename S::V v) { if constexpr (NT) S::stream(p, v); else S::store(p, v); };
  int64_t i = 0;
  // No software prefetch here: on Zen4 a prefetch of o ahead of its stores (and of x, which the
  // hardware prefetcher already streams) made relu over 16 MiB 1.3-4x slower than the same loop without.
  for (; i + 2 * W <= n; i += 2 * W) {
    typename S::V a = S::load(x + i), b = S::load(x + i + W);
    st(o + i, f(a));
    st(o + i + W, f(b));
  }
  for (; i + W <= n; i += W) st(o + i, f(S::load(x + i)));
  if (i < n) {
    T buf[W] = {};
    std::memcpy(buf, x + i, (n - i) * sizeof(T));
    S::store(buf, f(S::load(buf)));
    std::memcpy(o + i, buf, (n - i) * sizeof(T));
  }
}

// NT: the aligned middle of o is written with non-temporal stores, its ends plainly (stream_split).
template <bool NT = false, class T, class F>
inline void vmap(const T* x, T* o, int64_t n, F f) {
  stream_split<NT>(o, n, [&](int64_t i, int64_t m, auto nt) { vloop<decltype(nt)::value>(x + i, o + i, m, f); });
}

// float in and out, f evaluated on double lanes (one rounding at the end).
template <class F>
inline void vmap_via_double(const float* x, float* o, int64_t n, F f) {
  constexpr int W = DS::W;
  int64_t i = 0;
  for (; i + 2 * W <= n; i += 2 * W) {
    __builtin_prefetch(x + i + 1024);  // 4 KiB ahead: the math leaves the prefetchers little slack
    __builtin_prefetch(o + i + 1024, 1);
    DV a = DS::widen(DS::load_half(x + i)), b = DS::widen(DS::load_half(x + i + W));
    DS::store_half(o + i, DS::narrow(f(a)));
    DS::store_half(o + i + W, DS::narrow(f(b)));
  }
  for (; i + W <= n; i += W) DS::store_half(o + i, DS::narrow(f(DS::widen(DS::load_half(x + i)))));
  if (i < n) {
    float buf[W] = {};
    std::memcpy(buf, x + i, (n - i) * sizeof(float));
    DS::store_half(buf, DS::narrow(f(DS::widen(DS::load_half(buf)))));
    std::memcpy(o + i, buf, (n - i) * sizeof(float));
  }
}

template <class T>
constexpr bool kIsF = std::is_same_v<T, float>;

// A vector function applied to float (fv on widened lanes, vmath_f.h) or double (dv) arrays.
template <class T, class FV, class DVF>
inline void vmap_math(const void* x, void* o, int64_t n, FV fv, DVF dv) {
  if constexpr (std::is_same_v<T, float>) vmap_via_double(static_cast<const float*>(x), static_cast<float*>(o), n, fv);
  else vmap(static_cast<const double*>(x), static_cast<double*>(o), n, dv);
}
#define KCPP_VMATH(name, fname, dname) \
  template <class T> void name(const void* x, void* o, int64_t n) { \
    vmap_math<T>(x, o, n, [](DV v) { return vmf::fname(v); }, [](DV v) { return dname(v); }); \
  }
// The same with a float-lane form: name<float> (the default) runs vfl::fname on float lanes,
// name##_exact<float> the double-lane vmf::fname; both are name<double> for double.
#define KCPP_VMATH_FL(name, fname, dname) \
  KCPP_VMATH(name##_exact, fname, dname) \
  template <class T> void name(const void* x, void* o, int64_t n) { \
    if constexpr (kIsF<T>) vmap(static_cast<const float*>(x), static_cast<float*>(o), n, [](vfl::FV v) { return vfl::fname(v); }); \
    else name##_exact<T>(x, o, n); \
  }

// out[i] = exp(x[i] - m), returning their sum (ExpShiftSumFn); the tail goes through a buffer
// and only its n - i real lanes are summed. This is the exact-math form (float: x - m and the exp
// on double lanes, summed before rounding).
template <class T>
double exp_shift_sum_exact(const void* xv, void* ov, int64_t n, double m) {
  constexpr int W = DS::W;
  const T* x = static_cast<const T*>(xv);
  T* o = static_cast<T*>(ov);
  const DV mv = DS::set1(m);
  auto ld = [&](const T* p) { if constexpr (kIsF<T>) return DS::widen(DS::load_half(p)); else return DS::load(p); };
  // x - m <= 0 (or NaN; -inf clamps to -104), so the float exp needs its lower clamp only.
  auto ex = [&](DV v) { if constexpr (kIsF<T>) return vmf::exp_core(DS::max_(DS::set1(-104.0), DS::sub(v, mv))); else return exp_d(DS::sub(v, mv)); };
  auto st = [&](T* p, DV v) { if constexpr (kIsF<T>) DS::store_half(p, DS::narrow(v)); else DS::store(p, v); };
  DV s0 = DS::set1(0.0), s1 = s0;
  int64_t i = 0;
  for (; i + 2 * W <= n; i += 2 * W) {
    DV a = ex(ld(x + i)), b = ex(ld(x + i + W));
    s0 = DS::add(s0, a);
    s1 = DS::add(s1, b);
    if (o) st(o + i, a), st(o + i + W, b);
  }
  double lanes[W], total = 0;
  DS::store(lanes, DS::add(s0, s1));
  for (int k = 0; k < W; ++k) total += lanes[k];
  for (; i < n; i += W) {
    const int64_t k = std::min<int64_t>(W, n - i);
    T buf[W] = {};
    std::memcpy(buf, x + i, k * sizeof(T));
    DV e = ex(ld(buf));
    DS::store(lanes, e);
    for (int j = 0; j < k; ++j) total += lanes[j];
    st(buf, e);
    if (o) std::memcpy(o + i, buf, k * sizeof(T));
  }
  return total;
}

// The default float form: x - m in float and u_exp<float>'s float-lane exp, so a row's values are
// bit-identical to exp(x - m) computed unfused; the rounded values are summed in double.
double exp_shift_sum_fl(const void* xv, void* ov, int64_t n, double m) {
  constexpr int W = vfl::FS::W;
  using FS = vfl::FS;
  const float* x = static_cast<const float*>(xv);
  float* o = static_cast<float*>(ov);
  const vfl::FV mv = FS::set1(static_cast<float>(m));  // m is a float (a row maximum)
  auto ex = [&](vfl::FV v) { return vfl::exp_f(FS::sub(v, mv)); };
  DV s0 = DS::set1(0.0), s1 = s0;
  int64_t i = 0;
  for (; i + W <= n; i += W) {
    vfl::FV e = ex(FS::load(x + i));
    widen_add(s0, s1, e);
    if (o) FS::store(o + i, e);
  }
  double lanes[DS::W], total = 0;
  DS::store(lanes, DS::add(s0, s1));
  for (int k = 0; k < DS::W; ++k) total += lanes[k];
  if (i < n) {
    float buf[W] = {};
    std::memcpy(buf, x + i, (n - i) * sizeof(float));
    FS::store(buf, ex(FS::load(buf)));
    for (int64_t j = 0; j < n - i; ++j) total += buf[j];
    if (o) std::memcpy(o + i, buf, (n - i) * sizeof(float));
  }
  return total;
}

template <class T, class F>
inline void smap(const void* x, void* o, int64_t n, F f) {
  const T* __restrict p = static_cast<const T*>(x);
  T* __restrict q = static_cast<T*>(o);
  for (int64_t i = 0; i < n; ++i) q[i] = f(p[i]);
}

#define KCPP_VF(T, body) vmap<NT>(static_cast<const T*>(x), static_cast<T*>(o), n, [](typename Simd<T>::V v) { using S = Simd<T>; return body; })

template <class T, bool NT = false> void u_abs(const void* x, void* o, int64_t n) {
  if constexpr (std::is_floating_point_v<T>) KCPP_VF(T, S::abs(v));
  else if constexpr (std::is_unsigned_v<T>) std::memmove(o, x, n * sizeof(T));
  else smap<T>(x, o, n, [](T v) { return v < 0 ? T(Wrap<T>(0) - Wrap<T>(v)) : v; });
}
template <class T, bool NT = false> void u_negative(const void* x, void* o, int64_t n) {
  if constexpr (std::is_floating_point_v<T>) KCPP_VF(T, simd_neg<S>(v));
  else smap<T>(x, o, n, [](T v) { return T(Wrap<T>(0) - Wrap<T>(v)); });
}
template <class T, bool NT = false> void u_square(const void* x, void* o, int64_t n) {
  if constexpr (std::is_floating_point_v<T>) KCPP_VF(T, S::mul(v, v));
  else smap<T>(x, o, n, [](T v) { return T(Wrap<T>(v) * Wrap<T>(v)); });
}
template <class T, bool NT = false> void u_sqrt(const void* x, void* o, int64_t n) {
  KCPP_VF(T, S::sqrt(S::max_(S::set1(T(0)), v)));  // max_(0, NaN) is NaN
}
KCPP_VMATH_FL(u_exp, exp_f, exp_d)
KCPP_VMATH(u_expm1, expm1_f, expm1_d)
KCPP_VMATH_FL(u_log, log_f, log_d)
KCPP_VMATH(u_log1p, log1p_f, log1p_d)
KCPP_VMATH_FL(u_tanh, tanh_f, tanh_d)
KCPP_VMATH_FL(u_sigmoid, sigmoid_f, sigmoid_d)
KCPP_VMATH(u_softplus, softplus_f, softplus_d)
// sin/cos: libm per element (in double for float inputs, rounded once).
template <class T> void u_sin(const void* x, void* o, int64_t n) {
  smap<T>(x, o, n, [](T v) { return T(__builtin_sin(double(v))); });
}
template <class T> void u_cos(const void* x, void* o, int64_t n) {
  smap<T>(x, o, n, [](T v) { return T(__builtin_cos(double(v))); });
}
template <class T, bool NT = false> void u_softsign(const void* x, void* o, int64_t n) {
  KCPP_VF(T, S::div(v, S::add(S::abs(v), S::set1(T(1)))));
}
template <class T, bool NT = false> void u_relu(const void* x, void* o, int64_t n) {
  if constexpr (std::is_floating_point_v<T>) KCPP_VF(T, S::max_(S::set1(T(0)), v));
  else if constexpr (std::is_unsigned_v<T>) std::memmove(o, x, n * sizeof(T));
  else smap<T>(x, o, n, [](T v) { return v > 0 ? v : T(0); });
}
template <class T, bool NT = false> void u_sign(const void* x, void* o, int64_t n) {
  if constexpr (std::is_floating_point_v<T>)
    KCPP_VF(T, S::select(S::gt(v, S::set1(T(0))), S::set1(T(1)), S::select(S::lt(v, S::set1(T(0))), S::set1(T(-1)), v)));
  else smap<T>(x, o, n, [](T v) { return T((v > 0) - (v < 0)); });
}
template <class T, bool NT = false> void u_round(const void* x, void* o, int64_t n) {
  if constexpr (std::is_floating_point_v<T>) KCPP_VF(T, S::round_even(v));
  else std::memmove(o, x, n * sizeof(T));
}
void u_logical_not(const void* x, void* o, int64_t n) {
  const uint8_t* __restrict p = static_cast<const uint8_t*>(x);
  uint8_t* __restrict q = static_cast<uint8_t*>(o);
  for (int64_t i = 0; i < n; ++i) q[i] = p[i] == 0;
}
template <class T> void u_isfinite(const void* x, void* o, int64_t n) {
  const T* __restrict p = static_cast<const T*>(x);
  uint8_t* __restrict q = static_cast<uint8_t*>(o);
  if constexpr (std::is_floating_point_v<T>)
    for (int64_t i = 0; i < n; ++i) q[i] = (p[i] - p[i]) == T(0);  // inf - inf and NaN are NaN
  else
    std::memset(q, 1, n);
}

#undef KCPP_VF
#undef KCPP_VMATH
#undef KCPP_VMATH_FL

// exact_math: float exp, log, tanh, sigmoid and exp_shift_sum on double lanes (correctly rounded).
inline void fill_unary(Table& tab, bool exact_math) {
  auto set = [&](UnaryOp op, int dt, UnaryFn f) { tab.unary[static_cast<int>(op)][dt] = f; };
  for_types<float, double>([&](auto tag) {
    using T = decltype(tag);
    constexpr int d = dt_index<T>();
    set(UnaryOp::sqrt, d, u_sqrt<T>);
    set(UnaryOp::exp, d, u_exp_exact<T>);
    set(UnaryOp::expm1, d, u_expm1<T>);
    set(UnaryOp::log, d, u_log_exact<T>);
    set(UnaryOp::log1p, d, u_log1p<T>);
    set(UnaryOp::sin, d, u_sin<T>);
    set(UnaryOp::cos, d, u_cos<T>);
    set(UnaryOp::tanh, d, u_tanh_exact<T>);
    set(UnaryOp::sigmoid, d, u_sigmoid_exact<T>);
    set(UnaryOp::softplus, d, u_softplus<T>);
    set(UnaryOp::softsign, d, u_softsign<T>);
    tab.exp_shift_sum[d] = exp_shift_sum_exact<T>;
  });
  if (!exact_math) {
    constexpr int f = dt_index<float>();
    set(UnaryOp::exp, f, u_exp<float>);
    set(UnaryOp::log, f, u_log<float>);
    set(UnaryOp::tanh, f, u_tanh<float>);
    set(UnaryOp::sigmoid, f, u_sigmoid<float>);
    tab.exp_shift_sum[f] = exp_shift_sum_fl;
  }
  for_types<float, double, int8_t, int16_t, int32_t, int64_t, uint8_t>([&](auto tag) {
    using T = decltype(tag);
    constexpr int d = dt_index<T>();
    set(UnaryOp::abs, d, u_abs<T>);
    set(UnaryOp::negative, d, u_negative<T>);
    set(UnaryOp::square, d, u_square<T>);
    set(UnaryOp::relu, d, u_relu<T>);
    set(UnaryOp::sign, d, u_sign<T>);
    set(UnaryOp::round, d, u_round<T>);
    set(UnaryOp::isfinite, d, u_isfinite<T>);
  });
  for_types<float, double>([&](auto tag) {  // the memory-bound vector ops: streaming forms
    using T = decltype(tag);
    constexpr int d = dt_index<T>();
    auto nt = [&](UnaryOp op, UnaryFn f) { tab.unary_stream[static_cast<int>(op)][d] = f; };
    nt(UnaryOp::abs, u_abs<T, true>);
    nt(UnaryOp::negative, u_negative<T, true>);
    nt(UnaryOp::square, u_square<T, true>);
    nt(UnaryOp::sqrt, u_sqrt<T, true>);
    nt(UnaryOp::softsign, u_softsign<T, true>);
    nt(UnaryOp::relu, u_relu<T, true>);
    nt(UnaryOp::sign, u_sign<T, true>);
    nt(UnaryOp::round, u_round<T, true>);
  });
  set(UnaryOp::logical_not, 8, u_logical_not);
  set(UnaryOp::isfinite, 8, u_isfinite<uint8_t>);
}
