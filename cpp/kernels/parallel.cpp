// cpp/kernels/parallel.cpp — the thread pool behind parallel_for. One job at a time: a shared Job
// object (kept alive by shared_ptr, so a worker that wakes after the caller has returned only
// touches its counters) holds the unclaimed chunks, taken from the front by the caller and from
// the back by the workers; workers spin briefly for the next job (without
// yielding the core), then sleep.
// A second caller arriving while a job runs (another user thread) runs its work serially.
// The pool grows when set_num_threads asks for more threads; a job takes at most as many threads
// as were set when it started (extra workers skip it).
// Back-off: a job whose caller waited for a worker's chunk longer than running that worker's
// chunks itself would have taken (the worker was descheduled) makes parallel_for serial for a
// window of a few times that job's length, doubling with each late job in a row (up to 20 ms);
// a job that is not late shortens the next window again.
#include "kernels/parallel.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/fork.h"
#include "keras_cpp/error.h"

#if defined(__linux__)
#include <pthread.h>
#include <sched.h>
#endif
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define KERAS_CPP_PAUSE() _mm_pause()
#else
#define KERAS_CPP_PAUSE() std::this_thread::yield()
#endif

namespace keras_cpp {
namespace {

thread_local bool t_in_parallel = false;
constexpr int kMaxThreads = 1024;

int detect_threads() {
  if (const char* s = std::getenv("OMP_NUM_THREADS")) {
    int v = std::atoi(s);  // "4" or a nested list "4,2": the first level counts
    if (v >= 1) return std::min(v, kMaxThreads);
  }
#if defined(__linux__)
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0) return CPU_COUNT(&set);
#endif
  return std::max(1u, std::thread::hardware_concurrency());
}

struct Job {
  void (*fn)(void*, int, int64_t, int64_t);
  void* ctx;
  int64_t n, chunks;
  int slots;  // threads that may run chunks; each takes a slot the first time it claims one
  // The unclaimed chunks [lo, hi) as lo | hi << 32 (chunks <= 8 * kMaxThreads). The caller claims
  // from the front and the workers from the back: at 2 threads the caller keeps the first part of
  // [0, n) and the worker the last, job after job, so what one op's chunk writes the next op's
  // chunk reads on the same core (with one shared counter the chunks fell to either thread at
  // random; a 256^3 product from Python then had ~400 late jobs in 3300, ~10 with this), while a
  // late or descheduled worker still leaves its share to the caller.
  std::atomic<uint64_t> range{0};
  std::atomic<int64_t> done{0};
  std::atomic<int> next_slot{0};
  std::atomic<bool> failed{false};
  std::exception_ptr error;  // the first exception, guarded by m
  std::mutex m;
  std::condition_variable cv;
  bool finished = false;  // guarded by m

  void init(int64_t c) { chunks = c; range.store(uint64_t(c) << 32, std::memory_order_relaxed); }
  bool left() const {
    const uint64_t r = range.load(std::memory_order_relaxed);
    return uint32_t(r) < uint32_t(r >> 32);
  }
  // The next chunk from the front or the back, or -1 when none is left.
  int64_t claim(bool front) {
    uint64_t r = range.load(std::memory_order_relaxed);
    for (;;) {
      const uint32_t lo = uint32_t(r), hi = uint32_t(r >> 32);
      if (lo >= hi) return -1;
      const uint64_t nr = front ? r + 1 : r - (uint64_t(1) << 32);
      if (range.compare_exchange_weak(r, nr, std::memory_order_relaxed)) return front ? lo : hi - 1;
    }
  }

  // Claim and run chunks until none are left; the thread completing the last one wakes the caller.
  // A thread takes a slot before its first chunk; once all slots are taken, later threads leave.
  // Returns the number of chunks this thread ran.
  int64_t work(bool front) {
    int slot = -1;
    for (int64_t ran = 0;; ++ran) {
      if (slot < 0 && left()) {
        slot = next_slot.fetch_add(1, std::memory_order_relaxed);
        if (slot >= slots) return ran;
      }
      const int64_t c = claim(front);
      if (c < 0) return ran;
      if (!failed.load(std::memory_order_relaxed)) {
        try {
          fn(ctx, slot, n * c / chunks, n * (c + 1) / chunks);
        } catch (...) {
          std::lock_guard<std::mutex> l(m);
          if (!error) error = std::current_exception();
          failed.store(true);
        }
      }
      if (done.fetch_add(1, std::memory_order_acq_rel) + 1 == chunks) {
        std::lock_guard<std::mutex> l(m);
        finished = true;
        cv.notify_all();
      }
    }
  }
};

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::atomic<int64_t> g_serial_until{0};  // steady-clock ns; 0: not backing off
std::atomic<int> g_late_run{0};          // late jobs in a row (shortened by jobs that are not)
std::atomic<bool> g_backoff_on{true};

// Called by the caller after each job: it ran `mine` of `chunks` chunks from t0 to t1, and the
// last chunk (run elsewhere) finished at t2.
void note_job(int64_t t0, int64_t t1, int64_t t2, int64_t mine, int64_t chunks) {
  const int64_t wait = t2 - t1, others = chunks - mine;
  // Late: the wait beats twice what the caller would have spent on the others' chunks.
  const bool late = g_backoff_on.load(std::memory_order_relaxed) && mine > 0 && others > 0 && wait > 20000 && wait * mine > 2 * others * (t1 - t0);
  if (!late) {
    int r = g_late_run.load(std::memory_order_relaxed);
    if (r > 0) g_late_run.store(r - 1, std::memory_order_relaxed);
    return;
  }
  const int r = std::min(g_late_run.load(std::memory_order_relaxed) + 1, 6);
  g_late_run.store(r, std::memory_order_relaxed);
  const int64_t span = std::clamp<int64_t>((t2 - t0) << (r + 1), 200000, 20000000);
  g_serial_until.store(t2 + span, std::memory_order_relaxed);
}

class Pool {
 public:
  // Start workers until there are at least `workers` (threads live until the process exits).
  void grow(int workers) {
    std::lock_guard<std::mutex> l(grow_mu_);
    while (started_ < workers) {
      std::thread([this] { loop(); }).detach();
      ++started_;
    }
  }

  // False when another thread's job is running: the caller then does the work itself.
  bool run(int64_t n, int64_t chunks, int slots, void (*fn)(void*, int, int64_t, int64_t), void* ctx) {
    if (busy_.exchange(true, std::memory_order_acquire)) return false;
    grow(slots - 1);
    auto job = std::make_shared<Job>();
    job->fn = fn; job->ctx = ctx; job->n = n; job->init(chunks); job->slots = slots;
    bool wake;
    {
      std::lock_guard<std::mutex> l(m_);
      job_ = job;
      epoch_.fetch_add(1, std::memory_order_release);
      wake = sleepers_ > 0;
    }
    if (wake) cv_.notify_all();
    t_in_parallel = true;
    const int64_t t0 = now_ns();
    const int64_t mine = job->work(true);
    t_in_parallel = false;
    const int64_t t1 = now_ns();
    // Every chunk is claimed; wait only for chunks still running elsewhere (spin, then sleep).
    for (int i = 0; i < 4000 && job->done.load(std::memory_order_acquire) < chunks; ++i) KERAS_CPP_PAUSE();
    if (job->done.load(std::memory_order_acquire) < chunks) {
      std::unique_lock<std::mutex> l(job->m);
      job->cv.wait(l, [&] { return job->finished; });
    }
    note_job(t0, t1, now_ns(), mine, chunks);
    {
      std::lock_guard<std::mutex> l(m_);
      if (job_ == job) job_.reset();
    }
    busy_.store(false, std::memory_order_release);
    if (job->error) std::rethrow_exception(job->error);
    return true;
  }

 private:
  void loop() {
    t_in_parallel = true;  // anything a worker runs is nested
    uint64_t seen = 0;
    for (;;) {
      if (!wait_for_new(seen)) continue;
      std::shared_ptr<Job> job;
      {
        std::lock_guard<std::mutex> l(m_);
        job = job_;
        seen = epoch_.load(std::memory_order_relaxed);
      }
      if (job) job->work(false);
    }
  }

  // Wait for the next job: spin ~1 ms (a step of many small ops posts jobs a few us apart, and
  // waking a sleeping worker costs the caller ~10 us and the job ~40 us on this VM), then sleep
  // until one is posted, so an idle process uses no CPU. The spin never yields: under
  // Linux's EEVDF scheduler each sched_yield hands the core to any other runnable task, so on a
  // busy machine a yielding worker almost never ran when a job came (it took 0-14% of the chunks
  // of 5 us - 1 ms jobs instead of ~50%); a spinning one keeps its fair share of the core.
  bool wait_for_new(uint64_t seen) {
    using clock = std::chrono::steady_clock;
    const auto start = clock::now();
    for (int i = 0;; ++i) {
      if (epoch_.load(std::memory_order_acquire) != seen) return true;
      if ((i & 31) == 31 && clock::now() - start > std::chrono::microseconds(1000)) break;
      KERAS_CPP_PAUSE();
    }
    std::unique_lock<std::mutex> l(m_);
    ++sleepers_;
    cv_.wait(l, [&] { return epoch_.load(std::memory_order_relaxed) != seen; });
    --sleepers_;
    return true;
  }

  std::mutex m_;
  std::condition_variable cv_;
  std::shared_ptr<Job> job_;  // guarded by m_
  int sleepers_ = 0;          // guarded by m_
  std::atomic<uint64_t> epoch_{0};
  std::atomic<bool> busy_{false};
  std::mutex grow_mu_;
  int started_ = 0;  // guarded by grow_mu_
};

std::atomic<Pool*> g_pool{nullptr};
std::mutex g_pool_mutex;
// Taken around fork: a child forked while another thread makes the pool finds it free.
[[maybe_unused]] const bool g_pool_mutex_registered = (register_fork_lock(g_pool_mutex, ForkLockRank::pool), true);

Pool* pool() {
  Pool* p = g_pool.load(std::memory_order_acquire);
  if (p) return p;
  std::lock_guard<std::mutex> l(g_pool_mutex);
  p = g_pool.load(std::memory_order_relaxed);
  if (!p) {
#if defined(__linux__)
    static bool registered = false;  // a forked child has no pool threads: it makes a new pool
    if (!registered) registered = pthread_atfork(nullptr, nullptr, [] { g_pool.store(nullptr); }) == 0;
#endif
    p = new Pool();
    g_pool.store(p, std::memory_order_release);
  }
  return p;
}

std::atomic<int> g_threads{0};  // 0: not chosen yet

}  // namespace

int get_num_threads() {
  int n = g_threads.load(std::memory_order_relaxed);
  if (n > 0) return n;
  int expected = 0;
  g_threads.compare_exchange_strong(expected, detect_threads());
  return g_threads.load(std::memory_order_relaxed);
}

void set_num_threads(int64_t n) {
  if (n < 1 || n > kMaxThreads)
    throw ValueError("[set_num_threads] n must be between 1 and " + std::to_string(kMaxThreads) + ", got " +
                     std::to_string(n));
  g_threads.store(static_cast<int>(n), std::memory_order_relaxed);
}

namespace detail {
bool in_parallel() { return t_in_parallel; }

bool backing_off() {
  const int64_t until = g_serial_until.load(std::memory_order_relaxed);
  return until != 0 && now_ns() < until;
}

void reset_backoff() {
  g_serial_until.store(0, std::memory_order_relaxed);
  g_late_run.store(0, std::memory_order_relaxed);
}

void set_backoff_enabled(bool on) {
  g_backoff_on.store(on, std::memory_order_relaxed);
  reset_backoff();
}

void run_chunks(int64_t n, int64_t chunks, int slots, void (*fn)(void*, int, int64_t, int64_t), void* ctx) {
  if (!pool()->run(n, chunks, slots, fn, ctx)) {
    t_in_parallel = true;  // the pool is busy with another caller's job: run it all here
    try { fn(ctx, 0, 0, n); } catch (...) { t_in_parallel = false; throw; }
    t_in_parallel = false;
  }
}
}  // namespace detail

}  // namespace keras_cpp
