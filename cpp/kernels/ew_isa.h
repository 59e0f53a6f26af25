// cpp/kernels/ew_isa.h — what every per-ISA kernel file includes before opening its anonymous
// namespace: the system headers (never inside a namespace) and the table declarations.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>
#if defined(__AVX2__) || defined(__AVX512F__)
#include <immintrin.h>
#endif

#include "kernels/ew.h"
