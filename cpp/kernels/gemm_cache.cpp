// cpp/kernels/gemm_cache.cpp — the packed-operand cache (see gemm_cache.h): a small list under a
// mutex, least recently used entries evicted beyond a byte budget.
#include "kernels/gemm_cache.h"

#include <list>
#include <mutex>

namespace keras_cpp {
namespace {

constexpr size_t kBudget = size_t(512) << 20;

struct Entry {
  std::shared_ptr<Storage> pin;  // keeps the source alive and unwritten
  const void* data;
  int64_t K, N, rs, cs;
  blas::Isa isa;
  size_t elem;
  std::shared_ptr<const void> packed;  // PackedB<T>
  size_t bytes;
};

std::mutex g_mu;
std::list<Entry> g_entries;  // most recently used first
size_t g_bytes = 0;

// Drop entries nobody can look up any more (the cache holds the last reference to their
// storage), then the least recently used ones while over budget. Called with g_mu held.
void sweep(size_t incoming) {
  for (auto it = g_entries.begin(); it != g_entries.end();) {
    long ours = 0;  // entries pinning the same storage (views of one weight)
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

template <class T>
std::shared_ptr<const blas::PackedB<T>> cached_pack_b(const Tensor& owner, const T* b, int64_t K, int64_t N, int64_t rs,
                                                      int64_t cs) {
  const std::shared_ptr<Storage>& st = owner.storage();
  if (!st || st->borrowed()) return nullptr;
  const blas::Isa isa = blas::active_isa();
  {
    std::lock_guard<std::mutex> lk(g_mu);
    for (auto it = g_entries.begin(); it != g_entries.end(); ++it) {
      if (it->pin == st && it->data == b && it->K == K && it->N == N && it->rs == rs && it->cs == cs && it->isa == isa &&
          it->elem == sizeof(T)) {
        g_entries.splice(g_entries.begin(), g_entries, it);
        return std::static_pointer_cast<const blas::PackedB<T>>(it->packed);
      }
    }
  }
  auto packed = blas::pack_b<T>(K, N, b, rs, cs);  // outside the lock: packing may take a while
  const size_t bytes = packed->bytes();
  if (bytes > kBudget / 4) return packed;  // too large to keep: use once
  std::lock_guard<std::mutex> lk(g_mu);
  sweep(bytes);
  g_entries.push_front(Entry{st, b, K, N, rs, cs, isa, sizeof(T), packed, bytes});
  g_bytes += bytes;
  return packed;
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
