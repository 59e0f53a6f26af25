// cpp/kernels/parallel.h — the one level of threads: parallel_for with a grain size, so small work
// stays on the calling thread and nested calls (from inside a parallel_for) run serially.
// Work runs on a persistent pool (parallel.cpp): it is cut into more chunks than threads, the
// chunks are claimed by the caller from the front and by the workers from the back (so at 2
// threads each thread keeps the same part of [0, n) from one call to the next while the split
// still adapts to how fast each runs), and the caller returns
// as soon as every chunk is done, so a worker that a busy machine has descheduled is never waited
// for unless it already holds a chunk. When the caller does wait for such a chunk longer than
// doing the work itself would have taken, the pool backs off: parallel_for runs serially for a
// while (growing with repeated late jobs), then tries the workers again.
//
// Chunks are not threads: one call makes up to 8 chunks per thread, so per-thread scratch must
// never be indexed by a chunk counter. Kernels that keep scratch (partial sums, packing buffers)
// use parallel_for_scratch, which hands each running thread its own object.
#pragma once
#include <algorithm>
#include <cstdint>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include "keras_cpp/config.h"

namespace keras_cpp {

// Threads used by parallel_for (the caller included): set_num_threads, else OMP_NUM_THREADS,
// else the CPUs this process may run on.
inline int num_threads() { return get_num_threads(); }

namespace detail {
bool in_parallel();  // true inside a parallel_for chunk (and on pool threads)
bool backing_off();  // true while the pool runs work serially after late workers
void reset_backoff();  // test hook: end a back-off now and forget late jobs
// Test hook: with false, late jobs never make the pool back off (tests that must see the work
// split on a loaded machine); true restores the default.
void set_backoff_enabled(bool on);
// Runs fn(ctx, slot, b, e) over [0, n) cut into `chunks` pieces on at most `slots` threads; each
// thread running chunks has its own slot in [0, slots), the same for all its chunks of this call.
// Rethrows a chunk's exception.
void run_chunks(int64_t n, int64_t chunks, int slots, void (*fn)(void*, int, int64_t, int64_t), void* ctx);

// How a call of n items with this grain is split: 0 chunks = run serially on the caller.
struct Split {
  int threads;
  int64_t chunks;
};
inline Split split(int64_t n, int64_t grain) {
  grain = std::max<int64_t>(grain, 1);
  const int nt = num_threads();
  if (nt <= 1 || n < 2 * grain || in_parallel() || backing_off()) return {1, 0};
  // ~8 chunks per thread: enough slack for a slow thread, few enough to keep chunks cheap.
  return {nt, std::min<int64_t>(n / grain, int64_t(8) * nt)};
}
}  // namespace detail

// Threads a parallel_for started now would use: 1 inside another one or while the pool backs off
// from late workers, else num_threads(). Kernels plan their work split with it.
inline int threads_now() { return detail::in_parallel() || detail::backing_off() ? 1 : num_threads(); }

// Run f(begin, end) over [0, n) in chunks. `grain` = the smallest n worth splitting: work with
// n < 2*grain, or inside another parallel_for, runs serially in one call f(0, n).
template <class F>
void parallel_for(int64_t n, int64_t grain, F&& f) {
  if (n <= 0) return;
  const detail::Split s = detail::split(n, grain);
  if (s.chunks == 0) {
    f(int64_t(0), n);
    return;
  }
  using Fn = std::remove_reference_t<F>;
  detail::run_chunks(n, s.chunks, s.threads,
                     [](void* p, int, int64_t b, int64_t e) { (*static_cast<Fn*>(p))(b, e); },
                     const_cast<void*>(static_cast<const void*>(&f)));
}

// parallel_for with per-thread scratch: f(S& scratch, begin, end), where `scratch` belongs to the
// thread running the chunk alone; it is made by init() the first time that thread runs a chunk
// of this call and kept across its later chunks. Returns every scratch made (one per thread that
// ran chunks, at most num_threads()), e.g. partial sums to add up.
template <class Init, class F>
auto parallel_for_scratch(int64_t n, int64_t grain, Init&& init, F&& f) {
  using S = std::decay_t<decltype(init())>;
  std::vector<S> out;
  if (n <= 0) return out;
  const detail::Split s = detail::split(n, grain);
  if (s.chunks == 0) {
    out.push_back(init());
    f(out.back(), int64_t(0), n);
    return out;
  }
  struct Ctx {
    Init& init;
    F& f;
    std::vector<std::optional<S>> slots;
  } ctx{init, f, std::vector<std::optional<S>>(static_cast<size_t>(s.threads))};
  detail::run_chunks(n, s.chunks, s.threads,
                     [](void* p, int slot, int64_t b, int64_t e) {
                       Ctx& c = *static_cast<Ctx*>(p);
                       std::optional<S>& mine = c.slots[static_cast<size_t>(slot)];
                       if (!mine) mine.emplace(c.init());
                       c.f(*mine, b, e);
                     },
                     &ctx);
  for (auto& m : ctx.slots)
    if (m) out.push_back(std::move(*m));
  return out;
}

}  // namespace keras_cpp
