// cpp/kernels/gemm_cpu.cpp — the data cache sizes that size the GEMM blocking, read once from the
// OS (sysconf, else /sys/devices/system/cpu/cpu0/cache), with defaults where neither knows.
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "kernels/sgemm.h"

namespace keras_cpp {
namespace blas {
namespace {

// "48K" / "2048K" / "32M" -> bytes; 0 when unreadable.
int64_t parse_size(const std::string& s) {
  if (s.empty()) return 0;
  int64_t v = std::atoll(s.c_str());
  char u = s.back();
  if (u == '\n' && s.size() > 1) u = s[s.size() - 2];
  if (u == 'K') v <<= 10;
  if (u == 'M') v <<= 20;
  return v;
}

// Data or unified cache of `level` from sysfs (cpu0's view; per-core for L1/L2).
int64_t sysfs_cache(int level) {
  for (int i = 0; i < 8; ++i) {
    const std::string d = "/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(i) + "/";
    std::ifstream lv(d + "level"), ty(d + "type"), sz(d + "size");
    int l = 0;
    std::string type, size;
    if (!(lv >> l) || !(ty >> type) || !(sz >> size)) continue;
    if (l == level && (type == "Data" || type == "Unified")) return parse_size(size);
  }
  return 0;
}

int64_t read_cache(int level, int sc_name, int64_t fallback) {
  int64_t v = 0;
#if defined(_SC_LEVEL1_DCACHE_SIZE)
  v = sysconf(sc_name);
#endif
  if (v <= 0) v = sysfs_cache(level);
  // Guard against nonsense from hypervisors (0, or absurdly small/large values).
  if (v < 8 * 1024 || v > (int64_t(1) << 32)) v = fallback;
  return v;
}

}  // namespace

const CacheSizes& cache_sizes() {
  static const CacheSizes cs = [] {
    CacheSizes c;
#if defined(_SC_LEVEL1_DCACHE_SIZE)
    c.l1 = read_cache(1, _SC_LEVEL1_DCACHE_SIZE, 32 << 10);
    c.l2 = read_cache(2, _SC_LEVEL2_CACHE_SIZE, 1 << 20);
    c.l3 = read_cache(3, _SC_LEVEL3_CACHE_SIZE, 8 << 20);
#else
    c.l1 = read_cache(1, 0, 32 << 10);
    c.l2 = read_cache(2, 0, 1 << 20);
    c.l3 = read_cache(3, 0, 8 << 20);
#endif
    if (c.l2 < c.l1) c.l2 = 8 * c.l1;
    return c;
  }();
  return cs;
}

}  // namespace blas
}  // namespace keras_cpp
