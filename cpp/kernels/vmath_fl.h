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
// its error is a quarter ulp of the result, and e^2|x| needs only a degree-4 q).
// sigmoid: x = m ln2 + r, e^-x = 2^-m (1 + s), so sigmoid x = T / D with T = 2^m and D = T + 1 + s
// for either sign (no numerator product, no select). D is carried as t1 + dlo (exact sums), 1 / D
// = q (1 + c) from the division's exact residual, and the result q (1 + c) T rounds once, then
// once more where it is subnormal (x < -87.3); sigmoid(20) already rounds to 1, so x is clamped
// there and T <= 2^29. About 32 vector ops, 12 of them on the FMA ports (the old x < 0 product
// form took 44 and 21).
// Polynomials: weighted least-squares fits driven toward minimax, coefficients rounded to float
// one at a time with the rest refitted (bench/vmath_fit.py); approximation errors (in ulps of the
// result) in comments.

namespace vfl {
using FS = Simd<float>;
using FV = FS::V;

constexpr float kMagic = 0x1.8p23f;  // 1.5 * 2^23: x + kMagic holds round(x) in its low bits
constexpr float kLog2e = 0x1.715476p+0f;
constexpr float kLn2Hi = 0x1.62e4p-1f, kLn2Lo = 0x1.7f7d1cp-20f;  // kLn2Hi has 15 significant bits
constexpr float kLn2 = 0x1.62e430p-1f;
// q(r) = (e^r - 1 - r) / r^2 on |r| <= 0.3468: 0.002 ulp in e^r (highest power first).
constexpr float kExpQ[6] = {0x1.9df792p-13f, 0x1.6d4ccap-10f, 0x1.111310p-7f, 0x1.5554e8p-5f, 0x1.555554p-3f, 0x1p-1f};
// The same q of degree 4, 0.053 ulp in e^r: enough where e^r's error is damped (tanh: by the
// quotient's 0.24; sigmoid: within its 0.78 ulp).
constexpr float kExpQ4[5] = {0x1.6a4b36p-10f, 0x1.12398ep-7f, 0x1.5558b2p-5f, 0x1.555492p-3f, 0x1.fffffcp-2f};
// q(-r), for sigmoid's e^-r (odd powers negated), and 2 q(2 rho), for tanh's e^(2 rho) (exact scalings).
constexpr float kExpQ4n[5] = {kExpQ4[0], -kExpQ4[1], kExpQ4[2], -kExpQ4[3], kExpQ4[4]};
constexpr float kExpQ4h[5] = {kExpQ4[0] * 32, kExpQ4[1] * 16, kExpQ4[2] * 8, kExpQ4[3] * 4, kExpQ4[4] * 2};
// R(z) / z, R(z) = log((1 + s) / (1 - s)) / s - 2, z = s^2 <= 0.02947: 0.0004 ulp in log1p.
constexpr float kLogP[4] = {0x1.f13e64p-3f, 0x1.23d3d6p-2f, 0x1.999c26p-2f, 0x1.555554p-1f};
// P(z) = (tanh(a) / a - 1) / z on a < 1: 0.079 ulp in tanh.
constexpr float kTanhP[7] = {-0x1.77adccp-12f, 0x1.2d9588p-9f, -0x1.045d62p-7f, 0x1.60091ep-6f,
                             -0x1.b96230p-5f,  0x1.110be4p-3f, -0x1.55553cp-2f};

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

// 2^k for integral k in [-126, 127]: k + kMagic holds k in its low mantissa bits, shifted into the
// exponent field (exact).
// (vscalefps of 1 where there is one: one op instead of two, the same value.)
inline FV pow2i(FV k) {
  if constexpr (FS::kScalef) return FS::ldexp(FS::set1(1.0f), k);
  else return FS::from_bits(FS::shl<23>(FS::bits(FS::add(k, FS::set1(kMagic + 127.0f)))));
}

// y 2^n for integral n in [-126, 127] with a normal result (exact): vscalefps or one product.
inline FV ldexp_normal(FV y, FV n) {
  if constexpr (FS::kScalef) return FS::ldexp(y, n);
  else return FS::mul(y, pow2i(n));
}

// tanh |x|: |x| < 1: a + a z P(z), z = x^2; else 1 - 2 / (e^2a + 1), e^2a = 2^n (1 + 2 w) with
// 2a = n ln2 + 2 rho (the reduction on a with a halved ln2, so no 2a product; w is the exact half
// of exp's r + r^2 q(r)). About 31 vector ops, 17 on the FMA ports (was 34 and 22).
inline FV tanh_f(FV x) {
  FV a = FS::abs(x);
  FV z = FS::mul(a, a);
  FV ys = FS::fma(a, FS::mul(z, horner(z, kTanhP)), a);
  FV ac = FS::min_(FS::set1(10.0f), a);  // NaN passes; tanh(10) rounds to 1
  FV n = FS::sub(FS::fma(ac, FS::set1(2.0f * kLog2e), FS::set1(kMagic)), FS::set1(kMagic));  // in [0, 29]
  // One fma reduces: fl(ln2 / 2)'s error times n <= 29 moves e^2a by < 1 ulp, and the quotient
  // below damps that to < 0.03 ulp of the result.
  FV rho = FS::fma(n, FS::set1(-0.5f * kLn2), ac);
  FV w = FS::fma(FS::mul(rho, rho), horner(rho, kExpQ4h), rho);  // (e^(2 rho) - 1) / 2
  FV e = ldexp_normal(FS::fma(w, FS::set1(2.0f), FS::set1(1.0f)), n);
  FV yl = FS::sub(FS::set1(1.0f), FS::div(FS::set1(2.0f), FS::add(e, FS::set1(1.0f))));
  return FS::or_sign(FS::select(FS::lt(a, FS::set1(1.0f)), ys, yl), x);
}

// y 2^m for integral m in [-150, 127], rounded once (subnormal results too); t = 2^max(m, -126).
// vscalefps where there is one; elsewhere y t (exact or rounded once) unless a lane needs the
// slower two-step ldexp. Same bits either way.
inline FV scale_pow2(FV y, FV m, FV t) {
  if constexpr (FS::kScalef) return FS::ldexp(y, m);
  else return FS::any(FS::lt(m, FS::set1(-126.0f))) ? FS::ldexp(y, m) : FS::mul(y, t);
}

// sigmoid x = 1 / (1 + e^-x) = T / (T + 1 + s) with x = m ln2 + r, T = 2^m, e^-r = 1 + s: one
// formula for both signs, no numerator product (see the header comment).
inline FV sigmoid_f(FV x) {
  const FV one = FS::set1(1.0f);
  FV xc = FS::max_(FS::set1(-104.0f), FS::min_(FS::set1(20.0f), x));  // NaN passes; sigmoid(20) rounds to 1
  FV m, r = exp_reduce(xc, m);
  FV h = FS::mul(FS::mul(r, r), horner(r, kExpQ4n));
  FV s = FS::sub(h, r);  // e^-r = 1 - r + h = 1 + s + slo (Fast2Sum: |r| > |h|)
  FV slo = FS::sub(h, FS::add(s, r));
  FV t = pow2i(FS::max_(FS::set1(-126.0f), m));  // below 2^-126, t's part of D is far below its ulp
  // D = T + 1 + s = t1 + dlo. P = t + 1 with plo = t - (P - 1) exact for m <= 24 (P - 1 is);
  // above (x > 16.9) plo drops the 1, which moves D by 2^-25 and the result (in (1 - 2^-24, 1))
  // to 1, still faithful. Then P + s by Fast2Sum (P >= 1 > |s|).
  FV p = FS::add(t, one);
  FV plo = FS::sub(t, FS::sub(p, one));
  FV t1 = FS::add(p, s);
  FV dlo = FS::add(FS::add(FS::add(FS::sub(p, t1), s), plo), slo);
  FV q = FS::div(one, t1);
  FV c = FS::fnma(q, dlo, FS::fnma(q, t1, one));  // 1 / D = q (1 + c), c ~ 2^-24
  return scale_pow2(FS::fma(q, c, q), m, t);  // NaN: q is NaN
}
}  // namespace vfl
