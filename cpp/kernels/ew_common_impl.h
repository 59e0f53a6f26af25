// cpp/kernels/ew_common_impl.h — small helpers shared by the per-ISA kernel bodies (included
// first, inside the kernel file's anonymous namespace).

// Wrapping integer arithmetic without signed-overflow UB (int8/int16 compute in unsigned int).
template <class T>
using Wrap = std::make_unsigned_t<std::common_type_t<T, unsigned>>;

template <class T> constexpr int dt_index() {
  if constexpr (std::is_same_v<T, float>) return 1;
  else if constexpr (std::is_same_v<T, double>) return 2;
  else if constexpr (std::is_same_v<T, int8_t>) return 3;
  else if constexpr (std::is_same_v<T, int16_t>) return 4;
  else if constexpr (std::is_same_v<T, int32_t>) return 5;
  else if constexpr (std::is_same_v<T, int64_t>) return 6;
  else if constexpr (std::is_same_v<T, uint8_t>) return 7;
  else return 8;  // bool, stored as one byte 0/1
}

template <class... Ts, class Fn>
inline void for_types(Fn&& fn) { (fn(Ts{}), ...); }


// The part of an n-element output at o that a streaming kernel writes with non-temporal stores:
// from o + head (64-byte aligned: whole cache lines go to memory, and the AVX forms need the
// alignment) for body elements, a multiple of `step`; the head and the rest use plain stores.
// body 0 = nothing streams (o not aligned to its element size, or too short).
struct StreamSpan {
  int64_t head, body;
};
template <class T>
inline StreamSpan stream_span(const T* o, int64_t n, int64_t step) {
  const uintptr_t a = reinterpret_cast<uintptr_t>(o);
  if (a % sizeof(T)) return {n, 0};
  const int64_t head = std::min<int64_t>(n, static_cast<int64_t>((64 - a % 64) % 64 / sizeof(T)));
  return {head, (n - head) / step * step};
}

// Runs loop(offset, count, nt) over the n elements of o, nt a std::bool_constant: without NT, or
// when nothing can stream, once over all of them; with NT, the stream_span middle with nt = true
// and the two plain ends (skipped when empty) with nt = false. The one streaming split of the
// unary, binary and chain kernels.
template <bool NT, class T, class L>
inline void stream_split(const T* o, int64_t n, L&& loop) {
  if constexpr (NT) {
    const StreamSpan sp = stream_span(o, n, 2 * Simd<T>::W);
    if (sp.body > 0) {
      const int64_t e = sp.head + sp.body;
      if (sp.head > 0) loop(int64_t{0}, sp.head, std::false_type{});
      loop(sp.head, sp.body, std::true_type{});
      if (e < n) loop(e, n - e, std::false_type{});
      return;
    }
  }
  loop(int64_t{0}, n, std::false_type{});
}
