// cpp/kernels/vmath_f.h — exp, expm1, log, log1p, tanh, sigmoid and softplus for float inputs
// (included after vmath.h). They run on double lanes holding widened floats, with approximations
// sized for a float result: each is within ~1e-14 relative of the exact value, so rounding once
// to float gives the correctly rounded result except for inputs within that distance of a
// rounding midpoint. Sweeps of every float with |x| in [0.5, 2) and [8, 10) find such inputs for
// exp (0x1.cce332p+0, -0x1.7f4296p+0), sigmoid (-0x1.32c9ap-1) and softplus (-0x1.53441p-1,
// -0x1.2ab37ep+3), none for the others; 44e6 evenly spread bit patterns per function find only
// sigmoid's tiny x < 0 whose result is a midpoint plus x^3/48, below double precision.
// The same IEEE edge cases as vmath.h hold.
// These are the float32 kernels for expm1, log1p and softplus, and for exp, log, tanh, sigmoid
// and exp_shift_sum only with KERAS_CPP_EXACT_MATH=1: by default those run on float lanes
// (vmath_fl.h, faithful, about half the work), which trades correct rounding for <= 1 ulp.
// Float inputs are bounded (|x| < 3.5e38, and widened subnormals are normal doubles), so there
// is one clamp per function and no subnormal doubles.
//
// exp: x = (n/16) ln2 + r with |r| <= ln2/32, e^x = 2^(n>>4) 2^((n&15)/16) e^r: a 16-entry
// table (DS::lut16, in-register permutes on AVX-512), a degree-5 polynomial and DS::scale16
// (vscalefpd on AVX-512, exponent-field arithmetic on AVX2). log: x = m 2^e,
// m in [0.75, 1.5), log m = log(c_j) + log1p(m/c_j - 1) with c_j = 1 + j/16 nearest to m (c_0 = 1
// exactly, so results near log(1) = 0 keep their relative accuracy) and a degree-9 log1p.
// Polynomials: Chebyshev interpolants (near-minimax) on the reduced ranges; errors in comments.

namespace vmf {
constexpr double kMagic = 0x1.8p52;  // 1.5 * 2^52: t = x + kMagic holds round(x) in its low bits
constexpr double k16Log2e = 0x1.71547652b82fep+4;
constexpr double kLn2Hi = 0x1.62e42fefa39efp-1, kLn2Lo = 0x1.abc9e3b39803fp-56;
alignas(64) constexpr double kExp2_16[16] = {  // 2^(j/16)
    0x1.0000000000000p+0, 0x1.0b5586cf9890fp+0, 0x1.172b83c7d517bp+0, 0x1.2387a6e756238p+0,
    0x1.306fe0a31b715p+0, 0x1.3dea64c123422p+0, 0x1.4bfdad5362a27p+0, 0x1.5ab07dd485429p+0,
    0x1.6a09e667f3bcdp+0, 0x1.7a11473eb0187p+0, 0x1.8ace5422aa0dbp+0, 0x1.9c49182a3f090p+0,
    0x1.ae89f995ad3adp+0, 0x1.c199bdd85529cp+0, 0x1.d5818dcfba487p+0, 0x1.ea4afa2a490dap+0};
// e^r on |r| <= 0.0218: 4.7e-15 relative (highest power first).
constexpr double kExpC[6] = {0x1.111240cf5e40ap-7, 0x1.555768e2a6510p-5, 0x1.55555554779c1p-3,
                             0x1.fffffffcf7f72p-2, 0x1.0000000000003p+0, 0x1.0000000000015p+0};
// (e^r - 1) / r on |r| <= 0.0218: 6.7e-16 relative.
constexpr double kExpm1C[6] = {0x1.6c17f12a4660dp-10, 0x1.111240cf5e40ap-7, 0x1.55555554e678cp-5,
                               0x1.55555554779c1p-3, 0x1.0000000000001p-1, 0x1.0000000000003p+0};
// 1/c_j and -log(1/c_j) for c_j = 1 + j/16, j = -4..8 at index j mod 16 (9..11 unused).
alignas(64) constexpr double kLogInvC[16] = {
    0x1.0000000000000p+0, 0x1.e1e1e1e1e1e1ep-1, 0x1.c71c71c71c71cp-1, 0x1.af286bca1af28p-1,
    0x1.999999999999ap-1, 0x1.8618618618618p-1, 0x1.745d1745d1746p-1, 0x1.642c8590b2164p-1,
    0x1.5555555555555p-1, 0x1.0000000000000p+0, 0x1.0000000000000p+0, 0x1.0000000000000p+0,
    0x1.5555555555555p+0, 0x1.3b13b13b13b14p+0, 0x1.2492492492492p+0, 0x1.1111111111111p+0};
alignas(64) constexpr double kLogC[16] = {
    0x0.0p+0, 0x1.f0a30c01162a8p-5, 0x1.e27076e2af2eap-4, 0x1.5ff3070a793d6p-3,
    0x1.c8ff7c79a9a20p-3, 0x1.1675cababa60fp-2, 0x1.4618bc21c5ec2p-2, 0x1.739d7f6bbd007p-2,
    0x1.9f323ecbf984dp-2, 0x0.0p+0, 0x0.0p+0, 0x0.0p+0,
    -0x1.269621134db91p-2, -0x1.a93ed3c8ad9e5p-3, -0x1.1178e8227e47ap-3, -0x1.08598b59e3a06p-4};
// log(c_j), the same indexing (for r = (m - c_j) / c_j).
alignas(64) constexpr double kLogCj[16] = {
    0x0.0p+0, 0x1.f0a30c01162a6p-5, 0x1.e27076e2af2e6p-4, 0x1.5ff3070a793d4p-3,
    0x1.c8ff7c79a9a22p-3, 0x1.1675cababa60ep-2, 0x1.4618bc21c5ec2p-2, 0x1.739d7f6bbd007p-2,
    0x1.9f323ecbf984cp-2, 0x0.0p+0, 0x0.0p+0, 0x0.0p+0,
    -0x1.269621134db92p-2, -0x1.a93ed3c8ad9e3p-3, -0x1.1178e8227e47cp-3, -0x1.08598b59e3a07p-4};
// (log1p(r) - r) / r^2 on |r| <= 0.042: log1p to 6.5e-16 relative.
constexpr double kLog1pC[8] = {0x1.c86d715d79c1cp-4,  -0x1.00b957e561103p-3, 0x1.2492198e328a8p-3,
                               -0x1.555520fd44917p-3, 0x1.9999999de6267p-3,  -0x1.000000025d469p-2,
                               0x1.55555555554d9p-2,  -0x1.fffffffffff77p-2};

// K x = (n/16) ln2 + r for |K x| <= 104, returning r/K; t = kMagic + n, a = n/16 (both exact). One
// fma suffices for r: n ln2/16's error is < 2e-14. K = -1 (e^-x) or 2 (tanh's e^2x) is free: the
// polynomials take r/K, their coefficients scaled by powers of K (exactly), see PolyK.
template <int K>
inline DV exp_reduce(DV x, DV& t, DV& a) {
  t = DS::fma(x, DS::set1(K * k16Log2e), DS::set1(kMagic));
  a = DS::fma(t, DS::set1(0.0625), DS::set1(-kMagic / 16));
  return DS::fma(a, DS::set1(-kLn2Hi / K), x);
}

// The coefficients c (highest power first) of p(r) = q(r/K) * K^P, q's coefficient of r^k scaled by
// K^(k + P): exact, since K is a power of 2 up to sign.
template <int K, int P, int N>
struct PolyK {
  double c[N];
  constexpr PolyK(const double (&src)[N]) : c{} {
    for (int i = 0; i < N; ++i) {
      double s = 1;
      for (int k = 0; k < N - 1 - i + P; ++k) s *= K;
      c[i] = src[i] * s;
    }
  }
};

// e^(K x) for |K x| <= 104 or NaN.
template <int K = 1>
inline DV exp_core(DV x) {
  static constexpr PolyK<K, 0, 6> kc(kExpC);
  DV t, a, r = exp_reduce<K>(x, t, a);
  return DS::scale16(DS::mul(DS::lut16(kExp2_16, t), horner(r, kc.c)), t, a);
}
inline DV exp_f(DV x) { return exp_core(DS::clamp_abs(x, 104.0)); }  // NaN passes; e^-104 rounds to float 0, e^104 to inf

// expm1(K x) = s (e^r - 1) + (s - 1), s = 2^(n/16): exact for n = 0, no cancellation near 0.
// K x in [-40, 104].
template <int K = 1>
inline DV expm1_core(DV x) {
  static constexpr PolyK<K, 1, 6> kc(kExpm1C);
  DV t, a, r = exp_reduce<K>(x, t, a);
  DV s = DS::scale16(DS::lut16(kExp2_16, t), t, a);
  return DS::fma(s, DS::mul(r, horner(r, kc.c)), DS::sub(s, DS::set1(1.0)));
}
inline DV expm1_f(DV x) {
  DV res = expm1_core(DS::max_(DS::set1(-40.0), DS::min_(DS::set1(104.0), x)));  // expm1(-40) rounds to -1
  return DS::select(DS::eq(x, DS::set1(0.0)), x, res);  // expm1(-0) = -0
}

// x = m 2^e, m in [0.75, 1.5), from the bits (x positive normal; specials are fixed afterwards):
// adding 2^51 + 2^52 to the bits carries into the exponent exactly when the mantissa is >= 1.5 and
// biases it by 1024, so e and m come from the sum with no compare (m's bits are its low 52 plus
// those of 0.75).
inline void mant_exp_bits(DV x, DV& m, DV& e) {
  DS::I b = DS::iadd(DS::bits(x), DS::iset1(0x0018000000000000LL));
  e = DS::sub(DS::from_bits(DS::ior(DS::shr52(b), DS::iset1(0x4330000000000000LL))), DS::set1(4503599627370496.0 + 1024.0));
  m = DS::from_bits(DS::iadd(DS::iand(b, DS::iset1(0x000FFFFFFFFFFFFFLL)), DS::iset1(0x3FE8000000000000LL)));
}

// log(m 2^e + c 2^e) for m in [0.75, 1.5) and a tiny correction c (C = true: log1p's rounding of 1 + x).
template <bool C>
inline DV log_core(DV m, DV e, DV c) {
  DV t = DS::fma(m, DS::set1(16.0), DS::set1(kMagic - 16.0));  // j = round(16 m) - 16 in [-4, 8]
  DV r, lc;
  if constexpr (DS::kCheapLut) {
    DV ic = DS::lut16(kLogInvC, t);
    r = DS::fma(m, ic, DS::set1(-1.0));  // |r| <= 0.042, one rounding
    if constexpr (C) r = DS::fma(c, ic, r);
    lc = DS::lut16(kLogC, t);
  } else {  // a division instead of a second gather: r = (m - c_j) / c_j, m - c_j exact
    DV cj = DS::fma(t, DS::set1(0.0625), DS::set1(1.0 - kMagic / 16));
    DV d = DS::sub(m, cj);
    if constexpr (C) d = DS::add(d, c);
    r = DS::div(d, cj);
    lc = DS::lut16(kLogCj, t);
  }
  DV p = DS::fma(DS::mul(r, r), horner(r, kLog1pC), r);
  DV y = DS::fma(e, DS::set1(kLn2Hi), lc);  // 0 when e = 0 and j = 0
  return DS::add(y, DS::fma(e, DS::set1(kLn2Lo), p));
}

// log(0) = -inf, log(x < 0) = log(NaN) = NaN, log(inf) = inf, where the split does not give them.
inline DV log_specials(DV x, DV res) {
  const DV inf = DS::set1(__builtin_inf());
  res = DS::select(DS::eq(x, DS::set1(0.0)), DS::set1(-__builtin_inf()), res);
  res = DS::select(DS::mor(DS::lt(x, DS::set1(0.0)), DS::isnan(x)), DS::set1(__builtin_nan("")), res);
  return DS::select(DS::eq(x, inf), inf, res);
}

template <bool C, class S = DS>  // S: a dependent name, so S::mant_exp need only exist where used
inline DV log_split(DV x, DV c) {
  DV m, e;
  if constexpr (S::kMantExpSpecials) {
    S::mant_exp(x, m, e);
    return log_core<C>(m, e, c);
  } else {
    mant_exp_bits(x, m, e);
    DV res = log_core<C>(m, e, c);
    return S::any_not_pos_normal(x) ? log_specials(x, res) : res;  // the fix-up only where needed
  }
}

inline DV log_f(DV x) { return log_split<false>(x, x); }

// log1p x = log(v + c), v = 1 + x rounded, c = x - (v - 1) its rounding error (exact for |x| <= 1).
// For float x, c != 0 only when |x| < 2^-29, where v's split has e = 0, so c needs no scaling.
inline DV log1p_f(DV x) {
  DV v = DS::add(DS::set1(1.0), x);
  DV res = log_split<true>(v, DS::sub(x, DS::sub(v, DS::set1(1.0))));
  const DV inf = DS::set1(__builtin_inf());
  res = DS::select(DS::eq(x, DS::set1(0.0)), x, res);  // log1p(-0) = -0
  return DS::select(DS::eq(x, inf), inf, res);  // c = inf - inf is NaN there
}

// tanh |x| = e / (e + 2), e = expm1(2|x|): accurate near 0, 1 for |x| >= 20.
inline DV tanh_f(DV x) {
  DV e = expm1_core<2>(DS::min_(DS::set1(20.0), DS::abs(x)));  // NaN passes
  return DS::or_sign(DS::div_by(e, DS::add(e, DS::set1(2.0))), x);  // e + 2 in [2, 2.4e17]
}

inline DV sigmoid_f(DV x) { return DS::recip(DS::add(DS::set1(1.0), exp_core<-1>(DS::clamp_abs(x, 104.0)))); }  // 1 + e in [1, 1.5e45]

// softplus = max(x, 0) + log1p(u), u = e^-|x| in (0, 1]: v = 1 + u in (1, 2], split with e = 0 or
// 1, so the rounding correction c is halved when e = 1 (v >= 1.5).
inline DV softplus_f(DV x) {
  DV u = exp_core(DS::neg_min_abs(x, 104.0));  // e^-|x|
  DV v = DS::add(DS::set1(1.0), u);
  DV c = DS::sub(u, DS::sub(v, DS::set1(1.0)));
  DV m, e;
  mant_exp_bits(v, m, e);  // v is a positive normal double or NaN (then u, c and the sum are NaN)
  c = DS::select(DS::lt(v, DS::set1(1.5)), c, DS::mul(c, DS::set1(0.5)));
  return DS::add(DS::max_(DS::set1(0.0), x), log_core<true>(m, e, c));  // max_(0, NaN) is NaN
}
}  // namespace vmf
