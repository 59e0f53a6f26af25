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
