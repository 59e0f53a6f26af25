// cpp/core/fork.cpp — the fork generation, the registered global locks and ForkAwareMutex's
// recovery (see fork.h).
#include "core/fork.h"

#include <pthread.h>

#include <algorithm>
#include <new>
#include <utility>
#include <vector>

namespace keras_cpp {

namespace {

std::atomic<uint64_t> g_generation{0};

struct ForkLocks {
  std::mutex m;  // guards `locks`; held from prepare to parent/child like the others
  std::vector<std::pair<int, std::mutex*>> locks;  // sorted by rank
};
ForkLocks& fork_locks() {
  static ForkLocks* f = new ForkLocks();  // never destroyed: used by atfork handlers at any time
  return *f;
}
std::mutex& recover_mutex() {
  static std::mutex* m = new std::mutex();
  return *m;
}

void prepare() {
  ForkLocks& f = fork_locks();
  f.m.lock();
  for (auto& [rank, m] : f.locks) m->lock();
}
void release_all() {
  ForkLocks& f = fork_locks();
  for (auto it = f.locks.rbegin(); it != f.locks.rend(); ++it) it->second->unlock();
  f.m.unlock();
}
void in_child() {
  release_all();  // the forking thread took them in prepare, and it is the child's thread
  new (&recover_mutex()) std::mutex();
  g_generation.fetch_add(1, std::memory_order_release);
}

// Registered on first use of this file (every registration and every ForkAwareMutex goes
// through fork_generation or register_fork_lock).
bool install() { return pthread_atfork(prepare, release_all, in_child) == 0; }
const bool g_installed = install();

}  // namespace

uint64_t fork_generation() { return g_generation.load(std::memory_order_acquire); }

void register_fork_lock(std::mutex& m, ForkLockRank rank) {
  (void)g_installed;
  ForkLocks& f = fork_locks();
  std::lock_guard<std::mutex> lk(f.m);
  f.locks.emplace_back(static_cast<int>(rank), &m);
  std::stable_sort(f.locks.begin(), f.locks.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
}

void ForkAwareMutex::recover() {
  std::lock_guard<std::mutex> lk(recover_mutex());
  const uint64_t g = fork_generation();
  if (gen_.load(std::memory_order_relaxed) == g) return;  // another thread of this child did it
  // Only this process's threads can hold it now; one from before the fork is gone.
  if (held_) {
    new (&m_) std::mutex();
    held_ = false;
    recovered_ = true;
  }
  gen_.store(g, std::memory_order_release);
}

}  // namespace keras_cpp
