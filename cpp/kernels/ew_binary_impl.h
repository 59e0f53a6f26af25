// cpp/kernels/ew_binary_impl.h — the binary kernels (included after ew_unary_impl.h, which
// defines Wrap, dt_index and for_types). A kernel gets two operands that are each contiguous
// (stride 1) or one broadcast value (stride 0); each combination has its own loop.

// o[i] = f(a[i], b[i]) with vector f; SA/SB false = that operand is one broadcast value.
// NT: non-temporal stores (o 64-byte aligned and n a multiple of 2 W: see vmap2).
template <bool SA, bool SB, bool NT, class T, class F>
inline void vloop2(const T* a, const T* b, T* o, int64_t n, F f) {
  if (n <= 0) return;  // *a / *b below would read past an empty operand
  using S = Simd<T>;
  constexpr int W = S::W;
  const typename S::V av = S::set1(*a), bv = S::set1(*b);
  auto la = [&](const T* p) { if constexpr (SA) return S::load(p); else return av; };
  auto lb = [&](const T* p) { if constexpr (SB) return S::load(p); else return bv; };
  auto st = [](T* p, typename S::V v) { if constexpr (NT) S::stream(p, v); else S::store(p, v); };
  int64_t i = 0;
  for (; i + 2 * W <= n; i += 2 * W) {
    typename S::V r0 = f(la(a + i), lb(b + i)), r1 = f(la(a + i + W), lb(b + i + W));
    st(o + i, r0);
    st(o + i + W, r1);
  }
  for (; i + W <= n; i += W) st(o + i, f(la(a + i), lb(b + i)));
  if (i < n) {
    T ba[W] = {}, bb[W] = {}, bo[W];
    if constexpr (SA) std::memcpy(ba, a + i, (n - i) * sizeof(T));
    if constexpr (SB) std::memcpy(bb, b + i, (n - i) * sizeof(T));
    S::store(bo, f(SA ? S::load(ba) : av, SB ? S::load(bb) : bv));
    std::memcpy(o + i, bo, (n - i) * sizeof(T));
  }
}

template <bool NT, class T, class F>
inline void vloop2_any(const T* pa, const T* pb, T* po, int64_t n, int sa, int sb, F f) {
  if (sa && sb) vloop2<true, true, NT>(pa, pb, po, n, f);
  else if (sa) vloop2<true, false, NT>(pa, pb, po, n, f);
  else if (sb) vloop2<false, true, NT>(pa, pb, po, n, f);
  else vloop2<false, false, NT>(pa, pb, po, n, f);
}

// NT: the aligned middle of o is written with non-temporal stores, its ends plainly (stream_split).
template <class T, bool NT, class F>
inline void vmap2(const void* a, const void* b, void* o, int64_t n, int sa, int sb, F f) {
  const T* pa = static_cast<const T*>(a);
  const T* pb = static_cast<const T*>(b);
  T* po = static_cast<T*>(o);
  stream_split<NT>(po, n, [&](int64_t i, int64_t m, auto nt) {
    vloop2_any<decltype(nt)::value>(pa + i * sa, pb + i * sb, po + i, m, sa, sb, f);
  });
}

// Plain loops (integers, comparisons, libm calls): T in, O out.
template <class T, class O, class F>
inline void smap2(const void* a, const void* b, void* o, int64_t n, int sa, int sb, F f) {
  const T* __restrict p = static_cast<const T*>(a);
  const T* __restrict r = static_cast<const T*>(b);
  O* __restrict q = static_cast<O*>(o);
  if (sa && sb) {
    for (int64_t i = 0; i < n; ++i) q[i] = f(p[i], r[i]);
  } else if (sa) {
    const T y = *r;
    for (int64_t i = 0; i < n; ++i) q[i] = f(p[i], y);
  } else if (sb) {
    const T x = *p;
    for (int64_t i = 0; i < n; ++i) q[i] = f(x, r[i]);
  } else {
    const O v = f(*p, *r);
    for (int64_t i = 0; i < n; ++i) q[i] = v;
  }
}

#define KCPP_VF2(body) vmap2<T, NT>(a, b, o, n, sa, sb, [](typename Simd<T>::V x, typename Simd<T>::V y) { using S = Simd<T>; return body; })
#define KCPP_SF2(O, body) smap2<T, O>(a, b, o, n, sa, sb, [](T x, T y) -> O { return body; })
#define KCPP_BIN(name) template <class T, bool NT = false> void name(const void* a, const void* b, void* o, int64_t n, int sa, int sb)

KCPP_BIN(b_add) {
  if constexpr (std::is_floating_point_v<T>) KCPP_VF2(S::add(x, y));
  else KCPP_SF2(T, T(Wrap<T>(x) + Wrap<T>(y)));
}
KCPP_BIN(b_subtract) {
  if constexpr (std::is_floating_point_v<T>) KCPP_VF2(S::sub(x, y));
  else KCPP_SF2(T, T(Wrap<T>(x) - Wrap<T>(y)));
}
KCPP_BIN(b_multiply) {
  if constexpr (std::is_floating_point_v<T>) KCPP_VF2(S::mul(x, y));
  else KCPP_SF2(T, T(Wrap<T>(x) * Wrap<T>(y)));
}
KCPP_BIN(b_divide) { KCPP_VF2(S::div(x, y)); }
// numpy's maximum/minimum: NaN in either operand is the result (x86 max gives y for any NaN).
KCPP_BIN(b_maximum) {
  if constexpr (std::is_floating_point_v<T>) KCPP_VF2(S::select(S::isnan(x), x, S::max_(x, y)));
  else KCPP_SF2(T, x > y ? x : y);
}
KCPP_BIN(b_minimum) {
  if constexpr (std::is_floating_point_v<T>) KCPP_VF2(S::select(S::isnan(x), x, S::min_(x, y)));
  else KCPP_SF2(T, x < y ? x : y);
}
KCPP_BIN(b_floordiv) {
  if constexpr (std::is_floating_point_v<T>) {
    KCPP_SF2(T, std::floor(x / y));
  } else {
    KCPP_SF2(T, [](T x, T y) -> T {
      // y == -1 is a (wrapping) negation: INT_MIN / -1 would trap with SIGFPE.
      if constexpr (std::is_signed_v<T>) if (y == T(-1)) return T(Wrap<T>(0) - Wrap<T>(x));
      if (!y) return 0;
      T q = T(x / y);
      return ((x % y != 0) && ((x < 0) != (y < 0))) ? T(q - 1) : q;
    }(x, y));
  }
}
// Python's %: the result has the sign of y.
KCPP_BIN(b_mod) {
  if constexpr (std::is_floating_point_v<T>) {
    KCPP_SF2(T, [](T x, T y) -> T { T r = std::fmod(x, y); return (r != 0 && ((r < 0) != (y < 0))) ? r + y : r; }(x, y));
  } else {
    KCPP_SF2(T, [](T x, T y) -> T {
      if (!y) return 0;
      if constexpr (std::is_signed_v<T>) if (y == T(-1)) return 0;  // INT_MIN % -1 traps
      T r = T(x % y);
      return (r != 0 && ((r < 0) != (y < 0))) ? T(r + y) : r;
    }(x, y));
  }
}
// pow in double for float inputs (one rounding), libm's pow for double.
KCPP_BIN(b_pow) { KCPP_SF2(T, T(std::pow(double(x), double(y)))); }
KCPP_BIN(b_equal) { KCPP_SF2(uint8_t, x == y); }
KCPP_BIN(b_not_equal) { KCPP_SF2(uint8_t, x != y); }
KCPP_BIN(b_greater) { KCPP_SF2(uint8_t, x > y); }
KCPP_BIN(b_greater_equal) { KCPP_SF2(uint8_t, x >= y); }
KCPP_BIN(b_less) { KCPP_SF2(uint8_t, x < y); }
KCPP_BIN(b_less_equal) { KCPP_SF2(uint8_t, x <= y); }
KCPP_BIN(b_logical_and) { KCPP_SF2(uint8_t, (x != 0) & (y != 0)); }
KCPP_BIN(b_logical_or) { KCPP_SF2(uint8_t, (x != 0) | (y != 0)); }

#undef KCPP_VF2
#undef KCPP_SF2
#undef KCPP_BIN

inline void fill_binary(Table& tab) {
  auto set = [&](BinaryOp op, int dt, BinaryFn f) { tab.binary[static_cast<int>(op)][dt] = f; };
  for_types<float, double>([&](auto tag) {
    using T = decltype(tag);
    constexpr int d = dt_index<T>();
    set(BinaryOp::divide, d, b_divide<T>);
    set(BinaryOp::pow, d, b_pow<T>);
  });
  for_types<float, double, int8_t, int16_t, int32_t, int64_t, uint8_t>([&](auto tag) {
    using T = decltype(tag);
    constexpr int d = dt_index<T>();
    set(BinaryOp::add, d, b_add<T>);
    set(BinaryOp::subtract, d, b_subtract<T>);
    set(BinaryOp::multiply, d, b_multiply<T>);
    set(BinaryOp::floordiv, d, b_floordiv<T>);
    set(BinaryOp::mod, d, b_mod<T>);
    set(BinaryOp::maximum, d, b_maximum<T>);
    set(BinaryOp::minimum, d, b_minimum<T>);
  });
  for_types<float, double, int8_t, int16_t, int32_t, int64_t, uint8_t, bool>([&](auto tag) {
    using T = std::conditional_t<std::is_same_v<decltype(tag), bool>, uint8_t, decltype(tag)>;
    constexpr int d = dt_index<decltype(tag)>();
    set(BinaryOp::equal, d, b_equal<T>);
    set(BinaryOp::not_equal, d, b_not_equal<T>);
    set(BinaryOp::greater, d, b_greater<T>);
    set(BinaryOp::greater_equal, d, b_greater_equal<T>);
    set(BinaryOp::less, d, b_less<T>);
    set(BinaryOp::less_equal, d, b_less_equal<T>);
  });
  for_types<float, double>([&](auto tag) {  // the memory-bound vector ops: streaming forms
    using T = decltype(tag);
    constexpr int d = dt_index<T>();
    auto nt = [&](BinaryOp op, BinaryFn f) { tab.binary_stream[static_cast<int>(op)][d] = f; };
    nt(BinaryOp::add, b_add<T, true>);
    nt(BinaryOp::subtract, b_subtract<T, true>);
    nt(BinaryOp::multiply, b_multiply<T, true>);
    nt(BinaryOp::divide, b_divide<T, true>);
    nt(BinaryOp::maximum, b_maximum<T, true>);
    nt(BinaryOp::minimum, b_minimum<T, true>);
  });
  set(BinaryOp::logical_and, 8, b_logical_and<uint8_t>);
  set(BinaryOp::logical_or, 8, b_logical_or<uint8_t>);
}
