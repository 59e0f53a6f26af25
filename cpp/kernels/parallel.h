// cpp/kernels/parallel.h — the one level of threads: parallel_for with a grain size, so small work
// stays on the calling thread and nested calls (from inside a parallel_for) run serially.
// Work runs on a persistent pool (parallel.cpp): it is cut into more chunks than threads, the
// chunks are claimed from a shared counter by the caller and the workers, and the caller returns
// as soon as every chunk is done, so a worker that a busy machine has descheduled is never waited
// for unless it already holds a chunk.
#pragma once
#include <algorithm>
#include <cstdint>
#include <type_traits>

namespace keras_cpp {

// Threads used by parallel_for (the caller included): OMP_NUM_THREADS if set, else the CPUs
// this process may run on.
int num_threads();

namespace detail {
bool in_parallel();  // true inside a parallel_for chunk (and on pool threads)
// Runs fn(ctx, b, e) over [0, n) cut into `chunks` pieces on the pool; rethrows a chunk's exception.
void run_chunks(int64_t n, int64_t chunks, void (*fn)(void*, int64_t, int64_t), void* ctx);
}  // namespace detail

// Run f(begin, end) over [0, n) in chunks. `grain` = the smallest n worth splitting: work with
// n < 2*grain, or inside another parallel_for, runs serially in one call f(0, n).
template <class F>
void parallel_for(int64_t n, int64_t grain, F&& f) {
  if (n <= 0) return;
  grain = std::max<int64_t>(grain, 1);
  const int nt = num_threads();
  if (nt > 1 && n >= 2 * grain && !detail::in_parallel()) {
    // ~8 chunks per thread: enough slack for a slow thread, few enough to keep chunks cheap.
    const int64_t chunks = std::min<int64_t>(n / grain, int64_t(8) * nt);
    using Fn = std::remove_reference_t<F>;
    detail::run_chunks(n, chunks, [](void* p, int64_t b, int64_t e) { (*static_cast<Fn*>(p))(b, e); },
                       const_cast<void*>(static_cast<const void*>(&f)));
    return;
  }
  f(int64_t(0), n);
}

}  // namespace keras_cpp
