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

