// cpp/kernels/vmath_fl.h — exp, log, tanh and sigmoid for float inputs on float lanes (Simd<float>),
// the default float32 kernels: faithful (within 1 ulp of the exact value, so always one of the two
// floats around it) over every float input, measured exhaustively (bench/vmath_ulp.cpp; max errors
// in README.md). vmath_f.h's double-lane forms, correctly rounded but up to about twice the time, are
// what KERAS_CPP_EXACT_MATH=1 selects (ew.cpp). The same IEEE edge cases hold: exp(-inf) = 0,
// exp(inf) = inf, NaN in -> NaN out, log(0) = -inf, log(x < 0) = NaN, log(inf) = inf,
// tanh(+-0) = +-0, subnormal inputs and results are not flushed.
//
// Only correctly rounded operations (add, mul, div, fma) and exact bit manipulations are used, in
// the same order on every ISA, so AVX-512, AVX2 and the one-lane fallback give identical bits
// (FS::ldexp is vscalefps on AVX-512 and two exact-then-rounding products elsewhere: both round
// y 2^n once). No table lookups, so no gathers on AVX2.
//
// exp: x = n ln2 + r, |r| <= ln2/2 (Cody-Waite with a 15-bit ln2_hi: n ln2_hi is exact), e^r =
// 1 + (r + r^2 q(r)), y = e^r 2^n rounded once (subnormal results included).
// log: x = m 2^k, m in [sqrt(1/2), sqrt(2)), f = m - 1 (exact), s = f / (2 + f); log1p f =
// f - f^2/2 + s (f^2/2 + R(s^2)) where the division's error is damped by the small last term;
// k ln2_hi + f is summed exactly (Fast2Sum) before the small terms are added. Vectors of positive
// normal floats (the common case) skip the subnormal scaling and the special-value fix-up.
// tanh: |x| < 1: x + x z P(z), z = x^2; else 1 - 2 / (e^2|x| + 1) (the quotient is <= 0.24, so
// its error is a quarter ulp of the result).
// sigmoid: e^-|x| = 2^n (1 + r + h) kept unevaluated; 1 / (1 + e^-|x|) = q (1 + c) from the
// division's exact residual; x < 0 multiplies by e^x's unevaluated mantissa with an exact
// product and Fast2Sum, then scales by 2^n once (subnormal results round once).
// Polynomials: weighted least-squares fits driven toward minimax, coefficients rounded to float
// one at a time with the rest refitted (bench/vmath_fit.py); approximation errors (in ulps of the
// result) in comments.

namespace vfl {
using FS = Simd<float>;
using FV = FS::V;

constexpr float kMagic = 0x1.8p23f;  // 1.5 * 2^23: x + kMagic holds round(x) in its low bits
constexpr float kLog2e = 0x1.715476p+0f;
constexpr float kLn2Hi = 0x1.62e4p-1f, kLn2Lo = 0x1.7f7d1cp-20f;  // kLn2Hi has 15 significant bits
// q(r) = (e^r - 1 - r) / r^2 on |r| <= 0.3468: 0.002 ulp in e^r (highest power first).
constexpr float kExpQ[6] = {0x1.9df792p-13f, 0x1.6d4ccap-10f, 0x1.111310p-7f, 0x1.5554e8p-5f, 0x1.555554p-3f, 0x1p-1f};
// R(z) / z, R(z) = log((1 + s) / (1 - s)) / s - 2, z = s^2 <= 0.02947: 0.0004 ulp in log1p.
constexpr float kLogP[4] = {0x1.f13e64p-3f, 0x1.23d3d6p-2f, 0x1.999c26p-2f, 0x1.555554p-1f};
// P(z) = (tanh(a) / a - 1) / z on a < 1: 0.008 ulp in tanh.
constexpr float kTanhP[8] = {0x1.e76a14p-14f, -0x1.ae8c22p-11f, 0x1.8f860ep-9f, -0x1.18db62p-7f,
                             0x1.64c044p-6f,  -0x1.b9f6dap-5f,  0x1.11103cp-3f, -0x1.555552p-2f};

template <int N>
inline FV horner(FV r, const float (&c)[N]) {
  FV p = FS::set1(c[0]);
  for (int i = 1; i < N; ++i) p = FS::fma(p, r, FS::set1(c[i]));
  return p;
}

// x = n ln2 + r for |x| <= 104 or NaN; returns r, n (an integral float).
inline FV exp_reduce(FV x, FV& n) {
  n = FS::sub(FS::fma(x, FS::set1(kLog2e), FS::set1(kMagic)), FS::set1(kMagic));
  return FS::fma(n, FS::set1(-kLn2Lo), FS::fma(n, FS::set1(-kLn2Hi), x));  // the inner fma is exact
}

// e^x for x in [-104, 89] or NaN (e^-104 rounds to 0, e^89 overflows to inf).
inline FV exp_core(FV x) {
  FV n, r = exp_reduce(x, n);
  FV p = FS::add(FS::set1(1.0f), FS::fma(FS::mul(r, r), horner(r, kExpQ), r));
  return FS::ldexp(p, n);
}
inline FV exp_f(FV x) { return exp_core(FS::max_(FS::set1(-104.0f), FS::min_(FS::set1(89.0f), x))); }  // NaN passes

// log(0) = -inf, log(x < 0) = log(NaN) = NaN, log(inf) = inf, where the split does not give them.
inline FV log_specials(FV x, FV res) {
  const FV inf = FS::set1(__builtin_inff());
  res = FS::select(FS::eq(x, FS::set1(0.0f)), FS::set1(-__builtin_inff()), res);
  res = FS::select(FS::mor(FS::lt(x, FS::set1(0.0f)), FS::isnan(x)), FS::set1(__builtin_nanf("")), res);
  return FS::select(FS::eq(x, inf), inf, res);
}

// log x for x = m 2^k (k already holding any subnormal scaling's -23 in kb).
inline FV log_split(FV x, FV kb) {
  // Adding 1 - sqrt(1/2) in the mantissa field carries into the exponent exactly when m >= sqrt(2),
  // so k and m come from the sum with no compare.
  FS::I ix = FS::iadd(FS::bits(x), FS::iset1(0x3f800000 - 0x3f3504f3));
  FV k = FS::add(FS::cvt_i(FS::iadd(FS::sra<23>(ix), FS::iset1(-127))), kb);
  FV f = FS::sub(FS::from_bits(FS::iadd(FS::iand(ix, FS::iset1(0x007fffff)), FS::iset1(0x3f3504f3))), FS::set1(1.0f));
  FV s = FS::div(f, FS::add(FS::set1(2.0f), f));
  FV z = FS::mul(s, s);
  FV hfsq = FS::mul(FS::mul(FS::set1(0.5f), f), f);
  // log x = k ln2_hi + f + c, c = k ln2_lo - f^2/2 + s (f^2/2 + R)
  FV c = FS::fma(s, FS::fma(z, horner(z, kLogP), hfsq), FS::fms(k, FS::set1(kLn2Lo), hfsq));
  FV a = FS::mul(k, FS::set1(kLn2Hi));  // exact; |a| >= |f| unless k = 0 (then a = 0): Fast2Sum holds
  FV hi = FS::add(a, f);
  FV lo = FS::add(FS::sub(a, hi), f);
  return FS::add(hi, FS::add(lo, c));
}

inline FV log_f(FV x) {
  if (FS::all_pos_normal(x)) return log_split(x, FS::set1(0.0f));  // the common case: same bits, fewer ops
  const FS::M sub = FS::lt(x, FS::set1(0x1p-126f));  // subnormals are scaled to normal first
  FV xs = FS::select(sub, FS::mul(x, FS::set1(0x1p23f)), x);
  return log_specials(x, log_split(xs, FS::select(sub, FS::set1(-23.0f), FS::set1(0.0f))));
}

// t with the sign bit of s.
inline FV or_sign(FV t, FV s) { return FS::bor(t, FS::band(s, FS::set1(-0.0f))); }

inline FV tanh_f(FV x) {
  FV a = FS::abs(x);
  FV z = FS::mul(a, a);
  FV ys = FS::fma(a, FS::mul(z, horner(z, kTanhP)), a);
  FV e = exp_core(FS::mul(FS::min_(FS::set1(10.0f), a), FS::set1(2.0f)));  // NaN passes; tanh(10) rounds to 1
  FV yl = FS::sub(FS::set1(1.0f), FS::div(FS::set1(2.0f), FS::add(e, FS::set1(1.0f))));
  return or_sign(FS::select(FS::lt(a, FS::set1(1.0f)), ys, yl), x);
}

inline FV sigmoid_f(FV x) {
  const FV one = FS::set1(1.0f);
  FV na = FS::max_(FS::set1(-104.0f), FS::bor(x, FS::set1(-0.0f)));  // -|x|, NaN passes
  FV n, r = exp_reduce(na, n);  // e^-|x| = 2^n (1 + r + h) = 2^n (1 + s)
  FV h = FS::mul(FS::mul(r, r), horner(r, kExpQ));
  FV s = FS::add(r, h);
  // D = 1 + e^-|x| = t1 + dlo: e = p2 (1 + s) rounded (p2 = 2^max(n, -126); below that D is 1 to
  // far beyond its ulp) with its exact error, 1 + e by Fast2Sum (e <= 1).
  FV p2 = FS::from_bits(FS::shl<23>(FS::bits(FS::add(FS::max_(FS::set1(-126.0f), n), FS::set1(kMagic + 127.0f)))));
  FV e = FS::fma(p2, s, p2);
  FV t1 = FS::add(one, e);
  FV dlo = FS::add(FS::add(FS::sub(one, t1), e), FS::fma(p2, s, FS::sub(p2, e)));  // p2 - e exact (Sterbenz)
  FV q = FS::div(one, t1);
  FV c = FS::fnma(q, dlo, FS::fnma(q, t1, one));  // 1 / D = q (1 + c), c ~ 2^-24
  FV ypos = FS::fma(q, c, q);
  // x < 0: 2^n q (1 + c)(1 + r + h) = 2^n (q + q r + q (h + c (1 + s))), q r exact as ph + pl.
  FV ph = FS::mul(q, r), pl = FS::fms(q, r, ph);
  FV sh = FS::add(q, ph);  // |q| > |ph|: Fast2Sum
  FV sl = FS::add(FS::sub(q, sh), ph);
  FV m = FS::add(sh, FS::fma(q, FS::add(h, FS::fma(c, s, c)), FS::add(sl, pl)));
  return FS::select(FS::lt(x, FS::set1(0.0f)), FS::ldexp(m, n), ypos);  // NaN: ypos is NaN
}
}  // namespace vfl
