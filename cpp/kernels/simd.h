// cpp/kernels/simd.h — a thin layer over AVX2 or AVX-512 intrinsics; which one depends on the
// flags of the translation unit (__AVX512F__). Only the per-ISA kernel files include it, inside an
// anonymous namespace and after kernels/ew_isa.h: each ISA's copy then has internal linkage, so the
// linker can never hand AVX-512 code to a caller on an AVX2 machine. Without AVX2 (another
// architecture, or a build without the x86-64-v3 flags) the same code runs on one-lane "vectors".
//
// Simd<T> (T = float or double): V a vector of W lanes, M a lane mask; max_/min_ are the x86
// instructions (the second operand wins when either is NaN), the kernels build NaN-propagating
// forms from them.

template <class T>
struct Simd;

#if defined(__AVX512F__)

template <>
struct Simd<float> {
  using T = float;
  using V = __m512;
  using M = __mmask16;
  static constexpr int W = 16;
  static constexpr bool kScalef = true;  // ldexp is one instruction (vmath_fl.h's scale_pow2)
  static V load(const T* p) { return _mm512_loadu_ps(p); }
  static V load_part(const T* p, int64_t n, T fill) { return _mm512_mask_loadu_ps(_mm512_set1_ps(fill), static_cast<__mmask16>((1u << n) - 1), p); }  // n < W lanes, the rest fill
  static void store(T* p, V v) { _mm512_storeu_ps(p, v); }
  static void stream(T* p, V v) { _mm512_stream_ps(p, v); }  // non-temporal; p 64-byte aligned
  static V set1(T x) { return _mm512_set1_ps(x); }
  static V add(V a, V b) { return _mm512_add_ps(a, b); }
  static V sub(V a, V b) { return _mm512_sub_ps(a, b); }
  static V mul(V a, V b) { return _mm512_mul_ps(a, b); }
  static V div(V a, V b) { return _mm512_div_ps(a, b); }
  static V sqrt(V a) { return _mm512_sqrt_ps(a); }
  static V max_(V a, V b) { return _mm512_max_ps(a, b); }
  static V min_(V a, V b) { return _mm512_min_ps(a, b); }
  static V abs(V a) { return _mm512_abs_ps(a); }
  static V bxor(V a, V b) { return _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(a), _mm512_castps_si512(b))); }
  static V band(V a, V b) { return _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(a), _mm512_castps_si512(b))); }
  static V bor(V a, V b) { return _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(a), _mm512_castps_si512(b))); }
  static V round_even(V a) { return _mm512_roundscale_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static M isnan(V a) { return _mm512_cmp_ps_mask(a, a, _CMP_UNORD_Q); }
  static M unord(V a, V b) { return _mm512_cmp_ps_mask(a, b, _CMP_UNORD_Q); }  // either is NaN
  static M lt(V a, V b) { return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ); }
  static M gt(V a, V b) { return _mm512_cmp_ps_mask(a, b, _CMP_GT_OQ); }
  static M eq(V a, V b) { return _mm512_cmp_ps_mask(a, b, _CMP_EQ_OQ); }
  static M mor(M a, M b) { return static_cast<M>(a | b); }
  static bool any(M m) { return m != 0; }
  static V select(M m, V a, V b) { return _mm512_mask_blend_ps(m, b, a); }  // m ? a : b
  // Integer lanes and exact float ops for the float-lane math (vmath_fl.h).
  using I = __m512i;
  static V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static V fms(V a, V b, V c) { return _mm512_fmsub_ps(a, b, c); }    // a b - c, rounded once
  static V fnma(V a, V b, V c) { return _mm512_fnmadd_ps(a, b, c); }  // c - a b, rounded once
  // Every lane a positive normal float (bits - 2^23 below 254 * 2^23 as unsigned).
  static bool all_pos_normal(V x) {
    return _mm512_cmp_epu32_mask(_mm512_sub_epi32(bits(x), _mm512_set1_epi32(0x00800000)), _mm512_set1_epi32(0x7f000000), _MM_CMPINT_LT) == 0xFFFF;
  }
  static I bits(V a) { return _mm512_castps_si512(a); }
  static V from_bits(I a) { return _mm512_castsi512_ps(a); }
  static I iset1(int32_t x) { return _mm512_set1_epi32(x); }
  static I iadd(I a, I b) { return _mm512_add_epi32(a, b); }
  static I iand(I a, I b) { return _mm512_and_si512(a, b); }
  template <int K> static I shl(I a) { return _mm512_slli_epi32(a, K); }
  template <int K> static I sra(I a) { return _mm512_srai_epi32(a, K); }
  static V cvt_i(I a) { return _mm512_cvtepi32_ps(a); }  // exact for |a| < 2^24
  // y 2^n for integral n in [-252, 254] (or NaN), rounded once (subnormal results too): vscalefps.
  static V ldexp(V y, V n) { return _mm512_scalef_ps(y, n); }
  static V or_sign(V t, V s) {  // t | (the sign bit of s)
    return from_bits(_mm512_ternarylogic_epi32(bits(t), bits(s), _mm512_set1_epi32(INT32_MIN), 0xF8));
  }
};

template <>
struct Simd<double> {
  using T = double;
  using V = __m512d;
  using M = __mmask8;
  using I = __m512i;
  using HF = __m256;  // the W floats that convert to one V
  static constexpr int W = 8;
  static V load(const T* p) { return _mm512_loadu_pd(p); }
  static V load_part(const T* p, int64_t n, T fill) { return _mm512_mask_loadu_pd(_mm512_set1_pd(fill), static_cast<__mmask8>((1u << n) - 1), p); }
  static void store(T* p, V v) { _mm512_storeu_pd(p, v); }
  static void stream(T* p, V v) { _mm512_stream_pd(p, v); }
  static V set1(T x) { return _mm512_set1_pd(x); }
  static V add(V a, V b) { return _mm512_add_pd(a, b); }
  static V sub(V a, V b) { return _mm512_sub_pd(a, b); }
  static V mul(V a, V b) { return _mm512_mul_pd(a, b); }
  static V div(V a, V b) { return _mm512_div_pd(a, b); }
  static V fma(V a, V b, V c) { return _mm512_fmadd_pd(a, b, c); }
  // 1/d for finite d >= 1 (or NaN) to ~1 ulp: a 14-bit estimate and two Newton steps, for loops
  // short enough that the divider's throughput (one vdivpd zmm per ~10 cycles) would limit them.
  static V recip(V d) {
    V y = _mm512_rcp14_pd(d), one = _mm512_set1_pd(1.0);
    y = _mm512_fmadd_pd(y, _mm512_fnmadd_pd(d, y, one), y);
    return _mm512_fmadd_pd(y, _mm512_fnmadd_pd(d, y, one), y);
  }
  // sign(x) min(|x|, c) and -min(|x|, c) for c > 0; a NaN x passes (vrangepd would drop it).
  static V clamp_abs(V x, double c) { return _mm512_max_pd(_mm512_set1_pd(-c), _mm512_min_pd(_mm512_set1_pd(c), x)); }
  static V neg_min_abs(V x, double c) { return _mm512_max_pd(_mm512_set1_pd(-c), from_bits(_mm512_or_si512(bits(x), _mm512_set1_epi64(INT64_MIN)))); }
  static V or_sign(V t, V s) {  // t | (the sign bit of s)
    return from_bits(_mm512_ternarylogic_epi64(bits(t), bits(s), _mm512_set1_epi64(INT64_MIN), 0xF8));
  }
  // n / d as a vdivpd: the divider runs beside the other ports, so where a loop issues enough other
  // work (tanh) the one division uop beats recip's five (measured); sigmoid, shorter, takes recip.
  static V div_by(V n, V d) { return _mm512_div_pd(n, d); }
  // y 2^(n >> 4) for a = n / 16 (t = kMagic + n is the AVX2 form's input): vscalefpd uses floor(a).
  static V scale16(V y, V, V a) { return _mm512_scalef_pd(y, a); }
  static V sqrt(V a) { return _mm512_sqrt_pd(a); }
  static V max_(V a, V b) { return _mm512_max_pd(a, b); }
  static V min_(V a, V b) { return _mm512_min_pd(a, b); }
  static V abs(V a) { return _mm512_abs_pd(a); }
  static V bxor(V a, V b) { return from_bits(_mm512_xor_si512(bits(a), bits(b))); }
  static V band(V a, V b) { return from_bits(_mm512_and_si512(bits(a), bits(b))); }
  static V round_even(V a) { return _mm512_roundscale_pd(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static V floor(V a) { return _mm512_roundscale_pd(a, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC); }
  static M isnan(V a) { return _mm512_cmp_pd_mask(a, a, _CMP_UNORD_Q); }
  static M unord(V a, V b) { return _mm512_cmp_pd_mask(a, b, _CMP_UNORD_Q); }  // either is NaN
  static M lt(V a, V b) { return _mm512_cmp_pd_mask(a, b, _CMP_LT_OQ); }
  static M gt(V a, V b) { return _mm512_cmp_pd_mask(a, b, _CMP_GT_OQ); }
  static M eq(V a, V b) { return _mm512_cmp_pd_mask(a, b, _CMP_EQ_OQ); }
  static M mor(M a, M b) { return static_cast<M>(a | b); }
  static bool any(M m) { return m != 0; }
  static V select(M m, V a, V b) { return _mm512_mask_blend_pd(m, b, a); }
  static I bits(V a) { return _mm512_castpd_si512(a); }
  static V from_bits(I a) { return _mm512_castsi512_pd(a); }
  static I iset1(int64_t x) { return _mm512_set1_epi64(x); }
  static I iand(I a, I b) { return _mm512_and_si512(a, b); }
  static I ior(I a, I b) { return _mm512_or_si512(a, b); }
  static I shl52(I a) { return _mm512_slli_epi64(a, 52); }
  static I shr52(I a) { return _mm512_srli_epi64(a, 52); }
  static HF load_half(const float* p) { return _mm256_loadu_ps(p); }
  static void store_half(float* p, HF v) { _mm256_storeu_ps(p, v); }
  static V widen(HF v) { return _mm512_cvtps_pd(v); }
  static HF narrow(V v) { return _mm512_cvtpd_ps(v); }
  // tab[low 4 bits of bits(t)] in every lane: a 16-entry table held in two registers.
  static V lut16(const double* tab, V t) { return _mm512_permutex2var_pd(_mm512_loadu_pd(tab), bits(t), _mm512_loadu_pd(tab + 8)); }
  static constexpr bool kCheapLut = true;  // lut16 is one in-register permute
  static I iadd(I a, I b) { return _mm512_add_epi64(a, b); }
  // x = m 2^e with m in [0.75, 1.5); the special values fall out: 0 -> e = -inf, inf -> e = inf,
  // x < 0 or NaN -> m = NaN (getmant's sign-to-NaN mode).
  static constexpr bool kMantExpSpecials = true;
  static void mant_exp(V x, V& m, V& e) {
    m = _mm512_getmant_pd(x, _MM_MANT_NORM_p75_1p5, _MM_MANT_SIGN_nan);
    // floor(log2(4x/3)): one more than x's exponent exactly when its mantissa is >= 1.5 (m halved);
    // 4x/3 rounds below 2^(e+1) for mantissas under 1.5 (24-bit ones: widened floats).
    e = _mm512_getexp_pd(_mm512_mul_pd(x, set1(4.0 / 3.0)));
  }
};

// d0 += the low half of v as doubles, d1 += the high half (float sums kept in double).
inline void widen_add(__m512d& d0, __m512d& d1, __m512 v) {
  d0 = _mm512_add_pd(d0, _mm512_cvtps_pd(_mm512_castps512_ps256(v)));
  d1 = _mm512_add_pd(d1, _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1))));
}

#elif defined(__AVX2__) && defined(__FMA__)  // the x86-64-v3 baseline

template <>
struct Simd<float> {
  using T = float;
  using V = __m256;
  using M = __m256;
  static constexpr int W = 8;
  static constexpr bool kScalef = false;
  static V load(const T* p) { return _mm256_loadu_ps(p); }
  static V load_part(const T* p, int64_t n, T fill) {  // n < W lanes, the rest fill
    __m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    return _mm256_blendv_ps(_mm256_set1_ps(fill), _mm256_maskload_ps(p, m), _mm256_castsi256_ps(m));
  }
  static void store(T* p, V v) { _mm256_storeu_ps(p, v); }
  static void stream(T* p, V v) { _mm256_stream_ps(p, v); }  // non-temporal; p 32-byte aligned
  static V set1(T x) { return _mm256_set1_ps(x); }
  static V add(V a, V b) { return _mm256_add_ps(a, b); }
  static V sub(V a, V b) { return _mm256_sub_ps(a, b); }
  static V mul(V a, V b) { return _mm256_mul_ps(a, b); }
  static V div(V a, V b) { return _mm256_div_ps(a, b); }
  static V sqrt(V a) { return _mm256_sqrt_ps(a); }
  static V max_(V a, V b) { return _mm256_max_ps(a, b); }
  static V min_(V a, V b) { return _mm256_min_ps(a, b); }
  static V abs(V a) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), a); }
  static V bxor(V a, V b) { return _mm256_xor_ps(a, b); }
  static V band(V a, V b) { return _mm256_and_ps(a, b); }
  static V bor(V a, V b) { return _mm256_or_ps(a, b); }
  static V round_even(V a) { return _mm256_round_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static M isnan(V a) { return _mm256_cmp_ps(a, a, _CMP_UNORD_Q); }
  static M unord(V a, V b) { return _mm256_cmp_ps(a, b, _CMP_UNORD_Q); }  // either is NaN
  static M lt(V a, V b) { return _mm256_cmp_ps(a, b, _CMP_LT_OQ); }
  static M gt(V a, V b) { return _mm256_cmp_ps(a, b, _CMP_GT_OQ); }
  static M eq(V a, V b) { return _mm256_cmp_ps(a, b, _CMP_EQ_OQ); }
  static M mor(M a, M b) { return _mm256_or_ps(a, b); }
  static bool any(M m) { return _mm256_movemask_ps(m) != 0; }
  static V select(M m, V a, V b) { return _mm256_blendv_ps(b, a, m); }
  using I = __m256i;
  static V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static V fms(V a, V b, V c) { return _mm256_fmsub_ps(a, b, c); }
  static V fnma(V a, V b, V c) { return _mm256_fnmadd_ps(a, b, c); }
  static bool all_pos_normal(V x) {  // bits in [2^23, 255 * 2^23) as signed int32
    __m256i b = bits(x);
    __m256i out = _mm256_or_si256(_mm256_cmpgt_epi32(_mm256_set1_epi32(0x00800000), b), _mm256_cmpgt_epi32(b, _mm256_set1_epi32(0x7f7fffff)));
    return _mm256_testz_si256(out, out);
  }
  static I bits(V a) { return _mm256_castps_si256(a); }
  static V from_bits(I a) { return _mm256_castsi256_ps(a); }
  static I iset1(int32_t x) { return _mm256_set1_epi32(x); }
  static I iadd(I a, I b) { return _mm256_add_epi32(a, b); }
  static I iand(I a, I b) { return _mm256_and_si256(a, b); }
  template <int K> static I shl(I a) { return _mm256_slli_epi32(a, K); }
  template <int K> static I sra(I a) { return _mm256_srai_epi32(a, K); }
  static V cvt_i(I a) { return _mm256_cvtepi32_ps(a); }
  // y 2^n, n = n1 + n2 with both halves' powers of 2 normal: the first product is exact, the second
  // rounds once, as vscalefps does (bit-identical results). A NaN n gives some scale; y is NaN then.
  static V ldexp(V y, V n) {
    __m256i k = _mm256_cvtps_epi32(n), k1 = _mm256_srai_epi32(k, 1), k2 = _mm256_sub_epi32(k, k1), b = _mm256_set1_epi32(127);
    V s1 = from_bits(_mm256_slli_epi32(_mm256_add_epi32(k1, b), 23)), s2 = from_bits(_mm256_slli_epi32(_mm256_add_epi32(k2, b), 23));
    return _mm256_mul_ps(_mm256_mul_ps(y, s1), s2);
  }
  static V or_sign(V t, V s) { return bor(t, band(s, set1(-0.0f))); }  // t | (the sign bit of s)
};

template <>
struct Simd<double> {
  using T = double;
  using V = __m256d;
  using M = __m256d;
  using I = __m256i;
  using HF = __m128;
  static constexpr int W = 4;
  static V load(const T* p) { return _mm256_loadu_pd(p); }
  static V load_part(const T* p, int64_t n, T fill) {
    __m256i m = _mm256_cmpgt_epi64(_mm256_set1_epi64x(n), _mm256_setr_epi64x(0, 1, 2, 3));
    return _mm256_blendv_pd(_mm256_set1_pd(fill), _mm256_maskload_pd(p, m), _mm256_castsi256_pd(m));
  }
  static void store(T* p, V v) { _mm256_storeu_pd(p, v); }
  static void stream(T* p, V v) { _mm256_stream_pd(p, v); }
  static V set1(T x) { return _mm256_set1_pd(x); }
  static V add(V a, V b) { return _mm256_add_pd(a, b); }
  static V sub(V a, V b) { return _mm256_sub_pd(a, b); }
  static V mul(V a, V b) { return _mm256_mul_pd(a, b); }
  static V div(V a, V b) { return _mm256_div_pd(a, b); }
  static V fma(V a, V b, V c) { return _mm256_fmadd_pd(a, b, c); }
  // 1/d for finite d >= 1 (or NaN): a division (rcpps, the conversions and Newton steps measured
  // slower than vdivpd ymm).
  static V recip(V d) { return _mm256_div_pd(_mm256_set1_pd(1.0), d); }
  static V clamp_abs(V x, double c) { return _mm256_max_pd(_mm256_set1_pd(-c), _mm256_min_pd(_mm256_set1_pd(c), x)); }  // NaN passes
  static V neg_min_abs(V x, double c) { return _mm256_max_pd(_mm256_set1_pd(-c), _mm256_or_pd(_mm256_set1_pd(-0.0), x)); }
  static V or_sign(V t, V s) { return _mm256_or_pd(t, _mm256_and_pd(_mm256_set1_pd(-0.0), s)); }
  static V div_by(V n, V d) { return _mm256_div_pd(n, d); }
  // y 2^(n >> 4) for t = kMagic + n (bits(t) << 48 is n << 48; clearing n & 15 leaves (n >> 4) << 52),
  // y and the result normal doubles. A NaN y stays NaN: widened floats have zero low bits.
  static V scale16(V y, V t, V) {
    return from_bits(_mm256_add_epi64(bits(y), _mm256_andnot_si256(_mm256_set1_epi64x(0x000F000000000000LL), _mm256_slli_epi64(bits(t), 48))));
  }
  static V sqrt(V a) { return _mm256_sqrt_pd(a); }
  static V max_(V a, V b) { return _mm256_max_pd(a, b); }
  static V min_(V a, V b) { return _mm256_min_pd(a, b); }
  static V abs(V a) { return _mm256_andnot_pd(_mm256_set1_pd(-0.0), a); }
  static V bxor(V a, V b) { return _mm256_xor_pd(a, b); }
  static V band(V a, V b) { return _mm256_and_pd(a, b); }
  static V round_even(V a) { return _mm256_round_pd(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static V floor(V a) { return _mm256_round_pd(a, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC); }
  static M isnan(V a) { return _mm256_cmp_pd(a, a, _CMP_UNORD_Q); }
  static M unord(V a, V b) { return _mm256_cmp_pd(a, b, _CMP_UNORD_Q); }  // either is NaN
  static M lt(V a, V b) { return _mm256_cmp_pd(a, b, _CMP_LT_OQ); }
  static M gt(V a, V b) { return _mm256_cmp_pd(a, b, _CMP_GT_OQ); }
  static M eq(V a, V b) { return _mm256_cmp_pd(a, b, _CMP_EQ_OQ); }
  static M mor(M a, M b) { return _mm256_or_pd(a, b); }
  static bool any(M m) { return _mm256_movemask_pd(m) != 0; }
  static V select(M m, V a, V b) { return _mm256_blendv_pd(b, a, m); }
  static I bits(V a) { return _mm256_castpd_si256(a); }
  static V from_bits(I a) { return _mm256_castsi256_pd(a); }
  static I iset1(int64_t x) { return _mm256_set1_epi64x(x); }
  static I iand(I a, I b) { return _mm256_and_si256(a, b); }
  static I ior(I a, I b) { return _mm256_or_si256(a, b); }
  static I shl52(I a) { return _mm256_slli_epi64(a, 52); }
  static I shr52(I a) { return _mm256_srli_epi64(a, 52); }
  static HF load_half(const float* p) { return _mm_loadu_ps(p); }
  static void store_half(float* p, HF v) { _mm_storeu_ps(p, v); }
  static V widen(HF v) { return _mm256_cvtps_pd(v); }
  static HF narrow(V v) { return _mm256_cvtpd_ps(v); }
  static V lut16(const double* tab, V t) { return _mm256_i64gather_pd(tab, _mm256_and_si256(bits(t), _mm256_set1_epi64x(15)), 8); }
  static constexpr bool kCheapLut = false;  // a gather: log trades one for a division
  static I iadd(I a, I b) { return _mm256_add_epi64(a, b); }
  static constexpr bool kMantExpSpecials = false;  // vmath_f.h splits x by its bits
  static bool any_not_pos_normal(V x) {  // a lane <= 0, subnormal, inf or NaN (its bits as int64 outside [min normal, inf))
    __m256i b = bits(x);
    __m256i out = _mm256_or_si256(_mm256_cmpgt_epi64(_mm256_set1_epi64x(0x0010000000000000LL), b),
                                  _mm256_cmpgt_epi64(b, _mm256_set1_epi64x(0x7FEFFFFFFFFFFFFFLL)));
    return _mm256_movemask_pd(_mm256_castsi256_pd(out)) != 0;
  }
};

inline void widen_add(__m256d& d0, __m256d& d1, __m256 v) {
  d0 = _mm256_add_pd(d0, _mm256_cvtps_pd(_mm256_castps256_ps128(v)));
  d1 = _mm256_add_pd(d1, _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
}

#else  // no x86 vector ISA (another architecture): one-lane "vectors", same semantics

template <>
struct Simd<float> {
  using T = float;
  using V = float;
  using M = bool;
  static constexpr int W = 1;
  static constexpr bool kScalef = false;
  static V load(const T* p) { return *p; }
  static V load_part(const T* p, int64_t n, T fill) { return n > 0 ? *p : fill; }
  static void store(T* p, V v) { *p = v; }
  static void stream(T* p, V v) { *p = v; }
  static V set1(T x) { return x; }
  static V add(V a, V b) { return a + b; }
  static V sub(V a, V b) { return a - b; }
  static V mul(V a, V b) { return a * b; }
  static V div(V a, V b) { return a / b; }
  static V sqrt(V a) { return __builtin_sqrtf(a); }
  static V max_(V a, V b) { return a > b ? a : b; }  // like x86: b when either is NaN
  static V min_(V a, V b) { return a < b ? a : b; }
  static V abs(V a) { return __builtin_fabsf(a); }
  static V bxor(V a, V b) { return from(as(a) ^ as(b)); }
  static V band(V a, V b) { return from(as(a) & as(b)); }
  static V bor(V a, V b) { return from(as(a) | as(b)); }
  static V round_even(V a) { return __builtin_rintf(a); }
  static M isnan(V a) { return a != a; }
  static M unord(V a, V b) { return a != a || b != b; }  // either is NaN
  static M lt(V a, V b) { return a < b; }
  static M gt(V a, V b) { return a > b; }
  static M eq(V a, V b) { return a == b; }
  static M mor(M a, M b) { return a || b; }
  static bool any(M m) { return m; }
  static V select(M m, V a, V b) { return m ? a : b; }
  static uint32_t as(V a) { uint32_t u; std::memcpy(&u, &a, 4); return u; }
  static V from(uint32_t u) { V a; std::memcpy(&a, &u, 4); return a; }
  using I = int32_t;
  static V fma(V a, V b, V c) { return __builtin_fmaf(a, b, c); }
  static V fms(V a, V b, V c) { return __builtin_fmaf(a, b, -c); }
  static V fnma(V a, V b, V c) { return __builtin_fmaf(-a, b, c); }
  static bool all_pos_normal(V x) { return x >= 0x1p-126f && x <= 0x1.fffffep127f; }
  static I bits(V a) { return static_cast<I>(as(a)); }
  static V from_bits(I a) { return from(static_cast<uint32_t>(a)); }
  static I iset1(int32_t x) { return x; }
  static I iadd(I a, I b) { return static_cast<I>(static_cast<uint32_t>(a) + static_cast<uint32_t>(b)); }
  static I iand(I a, I b) { return a & b; }
  template <int K> static I shl(I a) { return static_cast<I>(static_cast<uint32_t>(a) << K); }
  template <int K> static I sra(I a) { return a >> K; }
  static V cvt_i(I a) { return static_cast<V>(a); }
  static V ldexp(V y, V n) {  // as the AVX2 form; a NaN n (y NaN too) picks an arbitrary scale
    I k = n == n ? static_cast<I>(n) : 0, k1 = k >> 1, k2 = k - k1;
    return (y * from_bits(shl<23>(k1 + 127))) * from_bits(shl<23>(k2 + 127));
  }
  static V or_sign(V t, V s) { return from_bits(bits(t) | (bits(s) & INT32_MIN)); }  // t | (the sign bit of s)
};

template <>
struct Simd<double> {
  using T = double;
  using V = double;
  using M = bool;
  using I = uint64_t;
  using HF = float;
  static constexpr int W = 1;
  static V load(const T* p) { return *p; }
  static V load_part(const T* p, int64_t n, T fill) { return n > 0 ? *p : fill; }
  static void store(T* p, V v) { *p = v; }
  static void stream(T* p, V v) { *p = v; }
  static V set1(T x) { return x; }
  static V add(V a, V b) { return a + b; }
  static V sub(V a, V b) { return a - b; }
  static V mul(V a, V b) { return a * b; }
  static V div(V a, V b) { return a / b; }
  static V fma(V a, V b, V c) { return __builtin_fma(a, b, c); }
  static V recip(V d) { return 1.0 / d; }
  static V clamp_abs(V x, double c) { return max_(-c, min_(c, x)); }
  static V neg_min_abs(V x, double c) { return max_(-c, -abs(x)); }
  static V or_sign(V t, V s) { return from_bits(bits(t) | (bits(s) & (I(1) << 63))); }
  static V div_by(V n, V d) { return n / d; }
  static V scale16(V y, V t, V) { return from_bits(bits(y) + ((bits(t) << 48) & ~(I(15) << 48))); }
  static V sqrt(V a) { return __builtin_sqrt(a); }
  static V max_(V a, V b) { return a > b ? a : b; }
  static V min_(V a, V b) { return a < b ? a : b; }
  static V abs(V a) { return __builtin_fabs(a); }
  static V bxor(V a, V b) { return from_bits(bits(a) ^ bits(b)); }
  static V band(V a, V b) { return from_bits(bits(a) & bits(b)); }
  static V round_even(V a) { return __builtin_rint(a); }
  static V floor(V a) { return __builtin_floor(a); }
  static M isnan(V a) { return a != a; }
  static M unord(V a, V b) { return a != a || b != b; }  // either is NaN
  static M lt(V a, V b) { return a < b; }
  static M gt(V a, V b) { return a > b; }
  static M eq(V a, V b) { return a == b; }
  static M mor(M a, M b) { return a || b; }
  static bool any(M m) { return m; }
  static V select(M m, V a, V b) { return m ? a : b; }
  static I bits(V a) { I u; std::memcpy(&u, &a, 8); return u; }
  static V from_bits(I u) { V a; std::memcpy(&a, &u, 8); return a; }
  static I iset1(int64_t x) { return static_cast<I>(x); }
  static I iand(I a, I b) { return a & b; }
  static I ior(I a, I b) { return a | b; }
  static I shl52(I a) { return a << 52; }
  static I shr52(I a) { return a >> 52; }
  static HF load_half(const float* p) { return *p; }
  static void store_half(float* p, HF v) { *p = v; }
  static V widen(HF v) { return v; }
  static HF narrow(V v) { return static_cast<float>(v); }
  static V lut16(const double* tab, V t) { return tab[bits(t) & 15]; }
  static constexpr bool kCheapLut = true;
  static I iadd(I a, I b) { return a + b; }
  static constexpr bool kMantExpSpecials = false;
  static bool any_not_pos_normal(V x) { return !(x >= 2.2250738585072014e-308 && x <= 1.7976931348623157e308); }
};

inline void widen_add(double& d0, double&, float v) { d0 += v; }

#endif

using DS = Simd<double>;
using DV = DS::V;

// Helpers shared by every width.
template <class S>
inline typename S::V simd_neg(typename S::V a) {
  return S::bxor(a, S::set1(typename S::T(-0.0)));
}
