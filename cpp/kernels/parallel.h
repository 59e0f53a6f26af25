// cpp/kernels/parallel.h — the one OpenMP level: parallel_for with a grain size, so small work
// stays on the calling thread, and nested calls (from inside a parallel region) run serially.
#pragma once
#include <algorithm>
#include <cstdint>
#ifdef KERAS_CPP_USE_OPENMP
#include <omp.h>
#endif

namespace keras_cpp {

int num_threads();  // OpenMP max threads (1 without OpenMP)

// Run f(begin, end) over [0, n) in chunks. `grain` = the smallest n worth splitting: work with
// n < 2*grain, or inside an existing parallel region, runs serially in one call.
template <class F>
void parallel_for(int64_t n, int64_t grain, F&& f) {
  if (n <= 0) return;
#ifdef KERAS_CPP_USE_OPENMP
  int nt = omp_in_parallel() ? 1 : static_cast<int>(std::min<int64_t>(num_threads(), n / std::max<int64_t>(grain, 1)));
  if (nt > 1) {
#pragma omp parallel num_threads(nt)
    {
      int t = omp_get_thread_num(), T = omp_get_num_threads();
      int64_t b = n * t / T, e = n * (t + 1) / T;
      if (b < e) f(b, e);
    }
    return;
  }
#endif
  (void)grain;
  f(int64_t(0), n);
}

}  // namespace keras_cpp
