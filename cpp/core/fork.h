// cpp/core/fork.h — locks that survive fork(). The child of fork() has only the forking thread,
// so a lock another thread held at that moment would stay locked there forever (Keras's
// multiprocessing workers fork while a training call runs on another thread).
// - Short global locks (caches) are registered with a rank: all are taken around fork, outer
//   ranks first, so the child finds their data consistent and the locks free.
// - Per-object locks that may be held for a whole call (a Function, a variable) are
//   ForkAwareMutex: a child that finds one held by a thread lost in the fork re-creates it and
//   says so, and the owner rebuilds the state that thread left half-done.
// Not covered: a thread lost while inside a C++ static initializer (a kernel table's first use)
// leaves that static blocked in the child; those run once, on the first call.
#pragma once
#include <atomic>
#include <cstdint>
#include <mutex>

namespace keras_cpp {

// Bumped in the child of every fork.
uint64_t fork_generation();

// Global locks taken by fork's prepare step in rank order (lower first: a lock that is taken
// while another is held needs the higher rank). Call once per mutex.
enum class ForkLockRank : int { gemm_cache = 0, random_seed = 1, block_cache = 2, pool = 3 };
void register_fork_lock(std::mutex& m, ForkLockRank rank);

class ForkAwareMutex {
 public:
  void lock() {
    if (gen_.load(std::memory_order_acquire) != fork_generation()) recover();
    m_.lock();
    held_ = true;
  }
  bool try_lock() {
    if (gen_.load(std::memory_order_acquire) != fork_generation()) recover();
    if (!m_.try_lock()) return false;
    held_ = true;
    return true;
  }
  void unlock() {
    held_ = false;
    m_.unlock();
  }
  // True once after lock() found the mutex held by a thread that did not survive a fork
  // (call with the lock held).
  bool take_recovered() {
    const bool r = recovered_;
    recovered_ = false;
    return r;
  }

 private:
  void recover();
  std::mutex m_;
  std::atomic<uint64_t> gen_{fork_generation()};
  bool held_ = false;       // written under m_
  bool recovered_ = false;  // written under m_ or during recovery
};

}  // namespace keras_cpp
