// Locks across fork(): a ForkAwareMutex held by a thread that the child does not have is
// re-created there (and says so); a registered global lock is free in the child.
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "core/fork.h"
#include "doctest.h"

using namespace keras_cpp;

namespace {
// Runs child() in a forked process and returns its exit code (-1 when it did not exit by itself
// within ~5 s: a hang).
template <class F>
int in_child(F child) {
  const pid_t pid = fork();
  if (pid == 0) {
    alarm(5);
    _exit(child());
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}
}  // namespace

TEST_CASE("a ForkAwareMutex held by another thread at fork is usable in the child") {
  ForkAwareMutex m;
  std::atomic<bool> held{false}, done{false};
  std::thread holder([&] {
    std::lock_guard<ForkAwareMutex> lk(m);
    held = true;
    while (!done) std::this_thread::yield();
  });
  while (!held) std::this_thread::yield();
  const uint64_t gen = fork_generation();
  CHECK(in_child([&] {
          if (fork_generation() != gen + 1) return 2;
          m.lock();
          const bool recovered = m.take_recovered();
          m.unlock();
          m.lock();  // once only
          const bool again = m.take_recovered();
          m.unlock();
          return recovered && !again ? 0 : 3;
        }) == 0);
  done = true;
  holder.join();
  CHECK(fork_generation() == gen);  // the parent's generation is unchanged
  m.lock();
  CHECK_FALSE(m.take_recovered());  // nothing was lost in the parent
  m.unlock();
}

TEST_CASE("a free ForkAwareMutex and a registered global lock are free in the child") {
  static std::mutex global;
  static const bool registered = (register_fork_lock(global, ForkLockRank::pool), true);
  CHECK(registered);
  ForkAwareMutex m;
  CHECK(in_child([&] {
          m.lock();
          const bool recovered = m.take_recovered();
          m.unlock();
          if (!global.try_lock()) return 4;
          global.unlock();
          return recovered ? 5 : 0;
        }) == 0);
}
