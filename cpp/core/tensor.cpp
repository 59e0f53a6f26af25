// cpp/core/tensor.cpp — storage allocation and views. The methods that move or convert data
// (copies, casts, fills) are kernels: cpp/kernels/copy.cpp.
#include "keras_cpp/tensor.h"

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <utility>
#include <vector>

#include "core/dense.h"
#include "core/fork.h"
#include "keras_cpp/error.h"
#include "keras_cpp/sparse.h"

namespace keras_cpp {

namespace {
// Under AddressSanitizer freed blocks go straight back to free(), so a use after free is reported
// instead of hidden by the reuse below.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kReuseBlocks = false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kReuseBlocks = false;
#else
constexpr bool kReuseBlocks = true;
#endif
#else
constexpr bool kReuseBlocks = true;
#endif
// Large blocks freed recently, kept for the next allocation of the same size: glibc hands out such
// sizes as fresh mmap pages every time, and faulting in and zeroing them costs about one more pass
// over the data (a 12 MB output returned to numpy on each call: ~1 ms). Bounded in count and bytes;
// the oldest block is freed first.
constexpr size_t kBigBlock = size_t(1) << 20, kCachedBlocks = 8, kCachedBytes = size_t(128) << 20;
struct BlockCache {
  std::mutex m;
  std::vector<std::pair<size_t, void*>> blocks;  // (size, block), oldest first
  size_t bytes = 0;
};
BlockCache& block_cache() {
  static BlockCache* c = new BlockCache();  // never destroyed: tensors in statics outlive it otherwise
  return *c;
}
// Registered at load time, not on first use: a registration waits for fork's prepare step, and a
// thread lost in a fork while inside a static initializer would block that static in the child.
[[maybe_unused]] const bool g_block_cache_registered =
    (register_fork_lock(block_cache().m, ForkLockRank::block_cache), true);
// Small blocks (up to 256 bytes: scalars, losses, one-row outputs) freed by this thread, kept per
// 64-byte size class for its next allocation: aligned_alloc of a few bytes costs glibc an
// oversized malloc, two frees of the trimmed ends and often a consolidation, more than a small
// op's kernel.
constexpr size_t kSmallBlock = 256, kSmallKept = 32;
constexpr size_t kBorrowedKept = 4;
struct SmallBlocks {
  std::vector<void*> free[kSmallBlock / 64];
  // Storage::wrap's recent borrowed wrappers (a call's fed arrays), made again for the next call
  // once nothing else holds them.
  std::shared_ptr<Storage> borrowed[kBorrowedKept];
  ~SmallBlocks() {
    for (auto& v : free)
      for (void* p : v) std::free(p);
  }
};
// The thread's lists, reached in one thread-local access (a small call takes and gives back
// several blocks; each access to a thread-local with a destructor costs a lookup and a guard).
// Trivial, so it stays readable after the thread's destructors ran: tensors destroyed then (at
// exit, in statics) find `gone` and bypass the lists.
struct SmallTls {
  SmallBlocks* lists = nullptr;
  bool gone = false;
};
thread_local SmallTls t_small;
struct SmallReaper {  // made with the lists; frees them at thread exit
  SmallReaper() { t_small.lists = new SmallBlocks(); }
  ~SmallReaper() {
    SmallBlocks* lists = t_small.lists;
    t_small.lists = nullptr;  // blocks freed while the lists go (the kept wrappers') bypass them
    t_small.gone = true;
    delete lists;
  }
};
std::vector<void*>* small_list(size_t n) {
  SmallTls& t = t_small;
  if (!t.lists) {
    if (t.gone) return nullptr;
    thread_local SmallReaper reaper;
    if (!t.lists) return nullptr;
  }
  return &t.lists->free[n / 64 - 1];
}
void* take_block(size_t n) {
  if (!kReuseBlocks) return nullptr;
  if (n <= kSmallBlock) {
    std::vector<void*>* v = small_list(n);
    if (!v || v->empty()) return nullptr;
    void* p = v->back();
    v->pop_back();
    return p;
  }
  if (n < kBigBlock) return nullptr;
  BlockCache& c = block_cache();
  std::lock_guard<std::mutex> l(c.m);
  for (size_t i = c.blocks.size(); i-- > 0;)
    if (c.blocks[i].first == n) {
      void* p = c.blocks[i].second;
      c.blocks.erase(c.blocks.begin() + static_cast<std::ptrdiff_t>(i));
      c.bytes -= n;
      return p;
    }
  return nullptr;
}
void give_block(void* p, size_t n) {
  if (!kReuseBlocks) return std::free(p);
  if (n <= kSmallBlock) {
    std::vector<void*>* v = small_list(n);
    if (!v || v->size() >= kSmallKept) return std::free(p);
    if (v->capacity() == 0) v->reserve(kSmallKept);
    v->push_back(p);
    return;
  }
  if (n < kBigBlock || n > kCachedBytes) return std::free(p);
  BlockCache& c = block_cache();
  std::vector<void*> drop;
  {
    std::lock_guard<std::mutex> l(c.m);
    while (!c.blocks.empty() && (c.blocks.size() >= kCachedBlocks || c.bytes + n > kCachedBytes)) {
      drop.push_back(c.blocks.front().second);
      c.bytes -= c.blocks.front().first;
      c.blocks.erase(c.blocks.begin());
    }
    c.blocks.emplace_back(n, p);
    c.bytes += n;
  }
  for (void* q : drop) std::free(q);
}
size_t block_size(size_t nbytes) { return (std::max<size_t>(nbytes, 1) + 63) / 64 * 64; }

// The allocator of a Storage's shared_ptr (object and count in one block): the small-block lists
// above, so making and dropping the storage of a small tensor (a fed array's wrapper, a call's
// result) costs no malloc and free.
template <class T>
struct BlockAllocator {
  using value_type = T;
  BlockAllocator() = default;
  template <class U>
  BlockAllocator(const BlockAllocator<U>&) {}  // NOLINT: rebinding, as allocate_shared needs
  T* allocate(size_t n) {
    const size_t bytes = block_size(n * sizeof(T));
    void* p = take_block(bytes);
    if (!p) p = std::aligned_alloc(64, bytes);
    if (!p) throw std::bad_alloc();
    return static_cast<T*>(p);
  }
  void deallocate(T* p, size_t n) { give_block(p, block_size(n * sizeof(T))); }
  template <class U>
  bool operator==(const BlockAllocator<U>&) const { return true; }
  template <class U>
  bool operator!=(const BlockAllocator<U>&) const { return false; }
};
}  // namespace

std::shared_ptr<Storage> Storage::allocate(size_t nbytes) {
  if (nbytes > size_t(INT64_MAX) - 63) throw ValueError("cannot allocate " + std::to_string(nbytes) + " bytes");
  struct Made : Storage {};  // allocate_shared (one allocation with the count) needs a constructor it may call
  std::shared_ptr<Storage> s = std::allocate_shared<Made>(BlockAllocator<Made>());
  const size_t n = block_size(nbytes);
  s->data_ = take_block(n);
  if (!s->data_) s->data_ = std::aligned_alloc(64, n);
  if (!s->data_) throw Error("out of memory allocating " + std::to_string(nbytes) + " bytes");
  s->nbytes_ = nbytes;
  s->owned_ = true;
  return s;
}

std::shared_ptr<Storage> Storage::wrap(void* data, size_t nbytes, std::function<void()> release, bool borrowed) {
  // A borrowed wrapper with nothing to release is all data and size: one kept from an earlier
  // call that nothing holds any more (use_count 1: only the list, so no other thread can take
  // it meanwhile) is made over instead of allocated and freed on every call.
  SmallBlocks* lists = kReuseBlocks && borrowed && !release && t_small.lists ? t_small.lists : nullptr;
  std::shared_ptr<Storage>* spare = nullptr;
  if (lists)
    for (auto& k : lists->borrowed)
      if (!k || k.use_count() == 1) {
        if (k) {
          std::atomic_thread_fence(std::memory_order_acquire);  // after the last holder's release
          k->data_ = data;
          k->nbytes_ = nbytes;
          return k;
        }
        spare = &k;
      }
  struct Made : Storage {};  // as in allocate()
  std::shared_ptr<Storage> s = std::allocate_shared<Made>(BlockAllocator<Made>());
  s->data_ = data;
  s->nbytes_ = nbytes;
  s->release_ = std::move(release);
  s->borrowed_ = borrowed;
  if (spare) *spare = s;
  return s;
}

Storage::~Storage() {
  if (owned_) give_block(data_, block_size(nbytes_));
  if (release_) release_();
}

Tensor::Tensor(std::shared_ptr<Storage> storage, Shape shape, Shape strides, int64_t offset, DType dtype)
    : storage_(std::move(storage)), shape_(std::move(shape)), strides_(std::move(strides)), offset_(offset), dtype_(dtype) {}

Tensor Tensor::empty(const Shape& shape, DType dtype) {
  for (int64_t d : shape)
    if (d < 0) throw ValueError("cannot allocate a tensor of unknown shape " + shape_str(shape));
  int64_t nbytes = shape_nbytes(shape, dtype_size(dtype));
  return Tensor(Storage::allocate(static_cast<size_t>(nbytes)), shape, contiguous_strides(shape), 0, dtype);
}

Tensor Tensor::zeros(const Shape& shape, DType dtype) {
  Tensor t = empty(shape, dtype);
  std::memset(t.raw(), 0, t.numel() * dtype_size(dtype));
  return t;
}

Tensor Tensor::from_data(const void* data, const Shape& shape, DType dtype) {
  Tensor t = empty(shape, dtype);
  std::memcpy(t.raw(), data, t.numel() * dtype_size(dtype));
  return t;
}

void dense_only(const Tensor& t, const char* what) {
  if (t.is_sparse())
    throw TypeError(std::string("a sparse tensor reached a dense operation (") + what + "); convert it with to_dense first");
}

const SparseParts& Tensor::sparse() const {
  if (!sparse_) throw TypeError("expected a sparse tensor, got a dense one");
  return *sparse_;
}

void Tensor::sparse_raw() {
  throw TypeError("a sparse tensor reached a dense operation (data access); convert it with to_dense first");
}

bool Tensor::is_contiguous() const {
  int64_t s = 1;
  for (int i = ndim() - 1; i >= 0; --i) {
    if (shape_[i] != 1 && strides_[i] != s) return false;
    s *= shape_[i];
  }
  return true;
}

Tensor Tensor::permute(const std::vector<int>& axes) const {
  dense_only(*this, "permute");
  Shape sh(axes.size()), st(axes.size());
  for (size_t i = 0; i < axes.size(); ++i) {
    sh[i] = shape_[axes[i]];
    st[i] = strides_[axes[i]];
  }
  return Tensor(storage_, sh, st, offset_, dtype_);
}

Tensor Tensor::broadcast_to(const Shape& shape) const {
  if (shape == shape_) return *this;
  dense_only(*this, "broadcast");
  shape_numel(shape, "broadcast");  // a view's size formulas must fit too
  int n = static_cast<int>(shape.size()), k = ndim();
  if (k > n) throw ValueError("cannot broadcast " + shape_str(shape_) + " to " + shape_str(shape));
  Shape st(n, 0);
  for (int i = 0; i < k; ++i) {
    int j = n - k + i;
    if (shape_[i] == shape[j]) st[j] = strides_[i];
    else if (shape_[i] == 1) st[j] = 0;
    else throw ValueError("cannot broadcast " + shape_str(shape_) + " to " + shape_str(shape));
  }
  return Tensor(storage_, shape, st, offset_, dtype_);
}

Tensor Tensor::slice(int axis, int64_t start, int64_t stop, int64_t step) const {
  dense_only(*this, "slice");
  Shape sh = shape_, st = strides_;
  int64_t n = step > 0 ? (stop > start ? (stop - start - 1) / step + 1 : 0) : (start > stop ? (start - stop - 1) / -step + 1 : 0);
  sh[axis] = n;
  st[axis] = n > 1 ? strides_[axis] * step : strides_[axis];  // a huge step that takes one element must not overflow
  return Tensor(storage_, sh, st, offset_ + (n > 0 ? start * strides_[axis] : 0), dtype_);
}


}  // namespace keras_cpp
