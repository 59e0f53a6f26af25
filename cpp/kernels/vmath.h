// cpp/kernels/vmath.h — vector exp, expm1, log, log1p, tanh, sigmoid and softplus in double
// precision (Simd<double> from simd.h; included after it, inside the same anonymous namespace).
// The float32 kernels use vmath_fl.h (float lanes) or vmath_f.h (double lanes, sized for a float result).
// Every function keeps IEEE edge cases: exp(-inf) = 0, exp(inf) = inf, NaN in -> NaN out,
// log(0) = -inf, log(x < 0) = NaN, and exp results in the subnormal range are not flushed.

// 2^k for integral k in [-1022, 1024] (1024 gives inf): k lands in the low mantissa bits of
// 1.5 * 2^52 + 1023 + k, and a shift moves it into the exponent field.
inline DV pow2i(DV k) {
  DV t = DS::add(k, DS::set1(6755399441056767.0));
  return DS::from_bits(DS::shl52(DS::bits(t)));
}

// Horner over coefficients c[0..N-1] (highest power first).
template <int N>
inline DV horner(DV r, const double (&c)[N]) {
  DV p = DS::set1(c[0]);
  for (int i = 1; i < N; ++i) p = DS::fma(p, r, DS::set1(c[i]));
  return p;
}

// 1/k! for k = 13..0: e^r for |r| <= ln2/2 to < 1e-17 relative.
constexpr double kExpC[14] = {1.0 / 6227020800.0, 1.0 / 479001600.0, 1.0 / 39916800.0, 1.0 / 3628800.0,
                              1.0 / 362880.0,     1.0 / 40320.0,     1.0 / 5040.0,      1.0 / 720.0,
                              1.0 / 120.0,        1.0 / 24.0,        1.0 / 6.0,         0.5,
                              1.0,                1.0};
constexpr double kLn2Hi = 0.6931471805599453094, kLn2Lo = 2.3190468138462996e-17, kLog2e = 1.4426950408889634074;

// x = n ln2 + r, |r| <= ln2/2 (two-step Cody-Waite with exact fma products).
inline DV reduce_ln2(DV x, DV& n) {
  n = DS::round_even(DS::mul(x, DS::set1(kLog2e)));
  DV r = DS::fma(n, DS::set1(-kLn2Hi), x);
  return DS::fma(n, DS::set1(-kLn2Lo), r);
}

inline DV exp_d(DV x) {
  // Clamp (NaN passes: x86 min/max return the second operand for NaN); beyond the bounds the
  // result is 0 or inf anyway. Doubles need the scale in two halves so 2^n never leaves range.
  x = DS::max_(DS::set1(-745.5), DS::min_(DS::set1(709.9), x));
  DV n;
  DV r = reduce_ln2(x, n);
  DV p = horner(r, kExpC);
  DV h = DS::floor(DS::mul(n, DS::set1(0.5)));
  return DS::mul(DS::mul(p, pow2i(h)), pow2i(DS::sub(n, h)));
}

// expm1 = 2^n (e^r - 1) + (2^n - 1): exact for n = 0, no cancellation near 0.
inline DV expm1_d(DV x) {
  x = DS::max_(DS::set1(-40.0), DS::min_(DS::set1(709.9), x));  // expm1(-40) rounds to -1
  DV n;
  DV r = reduce_ln2(x, n);
  // e^r - 1 = r * (1 + r/2 + r^2/6 + ...): the exp coefficients shifted by one.
  constexpr double c[13] = {1.0 / 6227020800.0, 1.0 / 479001600.0, 1.0 / 39916800.0, 1.0 / 3628800.0,
                            1.0 / 362880.0,     1.0 / 40320.0,     1.0 / 5040.0,      1.0 / 720.0,
                            1.0 / 120.0,        1.0 / 24.0,        1.0 / 6.0,         0.5,
                            1.0};
  DV pm = DS::mul(r, horner(r, c));
  DV s = pow2i(n);
  return DS::fma(s, pm, DS::sub(s, DS::set1(1.0)));
}

// log x = e ln2 + log(m), m in [sqrt(1/2), sqrt(2)); log(1 + f) = 2 atanh(s), s = f / (2 + f),
// evaluated as f - f^2/2 + s (f^2/2 + R) with R = sum 2 s^(2k) / (2k + 1).
inline DV log_d(DV x) {
  auto tiny = DS::lt(x, DS::set1(2.2250738585072014e-308));  // subnormal doubles: scale by 2^54 first
  DV xs = DS::select(tiny, DS::mul(x, DS::set1(18014398509481984.0)), x);
  DV e_adj = DS::select(tiny, DS::set1(-54.0), DS::set1(0.0));
  DS::I b = DS::bits(xs);
  // exponent field -> double via the 2^52 bias trick
  DV e = DS::sub(DS::from_bits(DS::ior(DS::shr52(b), DS::iset1(0x4330000000000000LL))), DS::set1(4503599627370496.0 + 1023.0));
  DV m = DS::from_bits(DS::ior(DS::iand(b, DS::iset1(0x000FFFFFFFFFFFFFLL)), DS::iset1(0x3FF0000000000000LL)));
  auto big = DS::gt(m, DS::set1(1.4142135623730951));
  m = DS::select(big, DS::mul(m, DS::set1(0.5)), m);
  e = DS::add(DS::select(big, DS::add(e, DS::set1(1.0)), e), e_adj);
  DV f = DS::sub(m, DS::set1(1.0));
  DV s = DS::mul(f, DS::div(DS::set1(1.0), DS::add(f, DS::set1(2.0))));
  DV z = DS::mul(s, s);
  constexpr double c[10] = {2.0 / 21, 2.0 / 19, 2.0 / 17, 2.0 / 15, 2.0 / 13, 2.0 / 11, 2.0 / 9, 2.0 / 7, 2.0 / 5, 2.0 / 3};
  DV R = DS::mul(z, horner(z, c));
  DV hfsq = DS::mul(DS::set1(0.5), DS::mul(f, f));
  DV t = DS::fma(s, DS::add(hfsq, R), DS::mul(e, DS::set1(kLn2Lo)));
  DV res = DS::fma(e, DS::set1(kLn2Hi), DS::sub(f, DS::sub(hfsq, t)));
  const DV inf = DS::set1(__builtin_inf());
  res = DS::select(DS::eq(x, DS::set1(0.0)), DS::set1(-__builtin_inf()), res);
  res = DS::select(DS::mor(DS::lt(x, DS::set1(0.0)), DS::isnan(x)), DS::set1(__builtin_nan("")), res);
  return DS::select(DS::eq(x, inf), inf, res);
}

// log1p x = log(u) * x / (u - 1) with u = 1 + x (the rounding of u cancels out).
inline DV log1p_d(DV x) {
  DV u = DS::add(x, DS::set1(1.0));
  DV d = DS::sub(u, DS::set1(1.0));  // 0 (then x itself is the answer) or >= 2^-53
  DV res = DS::mul(log_d(u), DS::mul(x, DS::div(DS::set1(1.0), d)));
  res = DS::select(DS::eq(d, DS::set1(0.0)), x, res);
  const DV inf = DS::set1(__builtin_inf());
  return DS::select(DS::eq(x, inf), inf, res);
}

// tanh |x| = e / (e + 2), e = expm1(2|x|): accurate near 0, 1 for |x| >= 20.
inline DV tanh_d(DV x) {
  DV a = DS::min_(DS::set1(20.0), DS::abs(x));
  DV e = expm1_d(DS::add(a, a));
  DV t = DS::mul(e, DS::div(DS::set1(1.0), DS::add(e, DS::set1(2.0))));  // e + 2 in [2, 2.4e17]
  DV sign = DS::band(x, DS::set1(-0.0));
  return DS::from_bits(DS::ior(DS::bits(t), DS::bits(sign)));
}

inline DV sigmoid_d(DV x) {
  // 1 + exp(-x) can reach inf (-> 0).
  return DS::div(DS::set1(1.0), DS::add(DS::set1(1.0), exp_d(simd_neg<DS>(x))));
}

// softplus = max(x, 0) + log1p(exp(-|x|)): no overflow for large |x|.
inline DV softplus_d(DV x) {
  DV pos = DS::max_(x, DS::set1(0.0));
  return DS::add(pos, log1p_d(exp_d(simd_neg<DS>(DS::abs(x)))));
}
