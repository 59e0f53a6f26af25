// cpp/kernels/gemm_cache.cpp — the packed-operand cache (see gemm_cache.h): a small list under a
// mutex, least recently used entries evicted beyond a byte budget.
#include "kernels/gemm_cache.h"

#include <list>
#include <mutex>

#include "core/fork.h"

namespace keras_cpp {
namespace {

constexpr size_t kBudget = size_t(512) << 20;

struct Entry {
  std::shared_ptr<Storage> pin;  // keeps the source alive and unwritten
  CacheKey key;
  std::shared_ptr<const void> value;
  size_t bytes;
};

std::mutex g_mu;
std::list<Entry> g_entries;  // most recently used first
size_t g_bytes = 0;

[[maybe_unused]] const bool g_mu_registered = (register_fork_lock(g_mu, ForkLockRank::gemm_cache), true);

// Drop entries nobody can look up any more (the cache holds the last references to their
// storage), then the least recently used ones while over budget. Called with g_mu held.
void sweep(size_t incoming) {
  for (auto it = g_entries.begin(); it != g_entries.end();) {
    long ours = 0;  // entries pinning the same storage (several views or copies of one weight)
    for (const Entry& e : g_entries) ours += e.pin == it->pin;
    if (it->pin.use_count() <= ours) { g_bytes -= it->bytes; it = g_entries.erase(it); }
    else ++it;
  }
  while (!g_entries.empty() && g_bytes + incoming > kBudget) {
    g_bytes -= g_entries.back().bytes;
    g_entries.pop_back();
  }
}

}  // namespace

std::shared_ptr<const void> cached_value(const Tensor& owner, const CacheKey& key,
                                         const std::function<std::pair<std::shared_ptr<const void>, size_t>()>& make) {
  const std::shared_ptr<Storage>& st = owner.storage();
  if (!st || st->borrowed()) return nullptr;
  {
    std::lock_guard<std::mutex> lk(g_mu);
    for (auto it = g_entries.begin(); it != g_entries.end(); ++it) {
      if (it->pin == st && it->key == key) {
        g_entries.splice(g_entries.begin(), g_entries, it);
        return it->value;
      }
    }
  }
  auto [value, bytes] = make();  // outside the lock: packing may take a while
  if (bytes > kBudget / 4) return value;  // too large to keep: use once
  std::lock_guard<std::mutex> lk(g_mu);
  sweep(bytes);
  g_entries.push_front(Entry{st, key, value, bytes});
  g_bytes += bytes;
  return value;
}

template <class T>
std::shared_ptr<const blas::PackedB<T>> cached_pack_b(const Tensor& owner, const T* b, int64_t K, int64_t N, int64_t rs,
                                                      int64_t cs) {
  CacheKey key;
  key.tag = 1;
  key.data = b;
  key.p = {K, N, rs, cs, static_cast<int64_t>(blas::active_isa()), static_cast<int64_t>(sizeof(T)), 0, 0};
  auto v = cached_value(owner, key, [&]() -> std::pair<std::shared_ptr<const void>, size_t> {
    auto pb = blas::pack_b<T>(K, N, b, rs, cs);
    return {pb, pb->bytes()};
  });
  return std::static_pointer_cast<const blas::PackedB<T>>(v);
}

size_t packed_cache_bytes() {
  std::lock_guard<std::mutex> lk(g_mu);
  return g_bytes;
}
size_t packed_cache_entries() {
  std::lock_guard<std::mutex> lk(g_mu);
  return g_entries.size();
}
void clear_packed_cache() {
  std::lock_guard<std::mutex> lk(g_mu);
  g_entries.clear();
  g_bytes = 0;
}

template std::shared_ptr<const blas::PackedB<float>> cached_pack_b<float>(const Tensor&, const float*, int64_t, int64_t,
                                                                          int64_t, int64_t);
template std::shared_ptr<const blas::PackedB<double>> cached_pack_b<double>(const Tensor&, const double*, int64_t, int64_t,
                                                                            int64_t, int64_t);

}  // namespace keras_cpp
