// keras_cpp/small_dims.h — SmallDims, the type behind keras_cpp::Shape: a vector of int64_t
// that keeps up to kInline elements inside the object and moves to the heap beyond. Every
// tensor has a shape and strides, and a small call makes and drops several tensors: with
// std::vector that was two heap allocations per tensor, more than a small kernel's work.
// It has the part of std::vector's interface the code uses, and converts to and from
// std::vector<int64_t> implicitly, so code written against `std::vector<int64_t>` shapes keeps
// compiling.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <iterator>
#include <new>
#include <stdexcept>
#include <type_traits>
#include <vector>

namespace keras_cpp {

class SmallDims {
 public:
  using value_type = int64_t;
  using size_type = size_t;
  using difference_type = std::ptrdiff_t;
  using reference = int64_t&;
  using const_reference = const int64_t&;
  using pointer = int64_t*;
  using const_pointer = const int64_t*;
  using iterator = int64_t*;
  using const_iterator = const int64_t*;
  using reverse_iterator = std::reverse_iterator<iterator>;
  using const_reverse_iterator = std::reverse_iterator<const_iterator>;
  static constexpr size_t kInline = 6;

  SmallDims() noexcept {}
  explicit SmallDims(size_t n, int64_t v = 0) { assign(n, v); }
  template <class It, class = std::enable_if_t<!std::is_integral<It>::value>>
  SmallDims(It first, It last) {
    assign(first, last);
  }
  SmallDims(std::initializer_list<int64_t> l) { assign(l.begin(), l.end()); }
  SmallDims(const std::vector<int64_t>& v) { assign(v.begin(), v.end()); }  // NOLINT: implicit on purpose
  SmallDims(const SmallDims& o) {
    if (o.heap()) assign(o.begin(), o.end());
    else copy_local(o);
  }
  SmallDims(SmallDims&& o) noexcept { take(o); }
  ~SmallDims() {
    if (heap()) std::free(u_.heap);
  }
  SmallDims& operator=(const SmallDims& o) {
    if (this == &o) return *this;
    if (o.heap() || heap()) assign(o.begin(), o.end());
    else copy_local(o);
    return *this;
  }
  SmallDims& operator=(SmallDims&& o) noexcept {
    if (this != &o) {
      if (heap()) std::free(u_.heap);
      take(o);
    }
    return *this;
  }
  SmallDims& operator=(std::initializer_list<int64_t> l) {
    assign(l.begin(), l.end());
    return *this;
  }
  operator std::vector<int64_t>() const { return std::vector<int64_t>(begin(), end()); }  // NOLINT: implicit
  std::vector<int64_t> vec() const { return *this; }

  size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  size_t capacity() const noexcept { return cap_; }
  int64_t* data() noexcept { return heap() ? u_.heap : u_.local; }
  const int64_t* data() const noexcept { return heap() ? u_.heap : u_.local; }
  iterator begin() noexcept { return data(); }
  iterator end() noexcept { return data() + size_; }
  const_iterator begin() const noexcept { return data(); }
  const_iterator end() const noexcept { return data() + size_; }
  const_iterator cbegin() const noexcept { return begin(); }
  const_iterator cend() const noexcept { return end(); }
  reverse_iterator rbegin() noexcept { return reverse_iterator(end()); }
  reverse_iterator rend() noexcept { return reverse_iterator(begin()); }
  const_reverse_iterator rbegin() const noexcept { return const_reverse_iterator(end()); }
  const_reverse_iterator rend() const noexcept { return const_reverse_iterator(begin()); }
  int64_t& operator[](size_t i) noexcept { return data()[i]; }
  const int64_t& operator[](size_t i) const noexcept { return data()[i]; }
  int64_t& at(size_t i) {
    if (i >= size_) throw std::out_of_range("SmallDims::at");
    return data()[i];
  }
  const int64_t& at(size_t i) const { return const_cast<SmallDims*>(this)->at(i); }
  int64_t& front() noexcept { return data()[0]; }
  const int64_t& front() const noexcept { return data()[0]; }
  int64_t& back() noexcept { return data()[size_ - 1]; }
  const int64_t& back() const noexcept { return data()[size_ - 1]; }

  void reserve(size_t n) {
    if (n > cap_) grow(n);
  }
  void clear() noexcept { size_ = 0; }
  void resize(size_t n, int64_t v = 0) {
    reserve(n);
    if (n > size_) std::fill(data() + size_, data() + n, v);
    size_ = static_cast<uint32_t>(n);
  }
  void assign(size_t n, int64_t v) {
    size_ = 0;
    resize(n, v);
  }
  template <class It, class = std::enable_if_t<!std::is_integral<It>::value>>
  void assign(It first, It last) {
    const size_t n = static_cast<size_t>(std::distance(first, last));
    size_ = 0;
    reserve(n);
    int64_t* p = data();
    for (; first != last; ++first) *p++ = static_cast<int64_t>(*first);
    size_ = static_cast<uint32_t>(n);
  }
  void assign(std::initializer_list<int64_t> l) { assign(l.begin(), l.end()); }
  void push_back(int64_t v) {
    if (size_ == cap_) grow(size_t(cap_) * 2);
    data()[size_++] = v;
  }
  template <class... A>
  int64_t& emplace_back(A... a) {
    push_back(int64_t(a...));
    return back();
  }
  void pop_back() noexcept { --size_; }
  iterator insert(const_iterator pos, int64_t v) { return insert(pos, size_t(1), v); }
  iterator insert(const_iterator pos, size_t n, int64_t v) {
    const size_t i = make_gap(pos, n);
    std::fill(data() + i, data() + i + n, v);
    return data() + i;
  }
  template <class It, class = std::enable_if_t<!std::is_integral<It>::value>>
  iterator insert(const_iterator pos, It first, It last) {
    SmallDims tmp(first, last);  // the range may lie in *this
    const size_t i = make_gap(pos, tmp.size());
    std::copy(tmp.begin(), tmp.end(), data() + i);
    return data() + i;
  }
  iterator insert(const_iterator pos, std::initializer_list<int64_t> l) { return insert(pos, l.begin(), l.end()); }
  iterator erase(const_iterator pos) { return erase(pos, pos + 1); }
  iterator erase(const_iterator first, const_iterator last) {
    int64_t* f = data() + (first - data());
    std::copy(last, static_cast<const_iterator>(end()), f);
    size_ -= static_cast<uint32_t>(last - first);
    return f;
  }
  void swap(SmallDims& o) noexcept {
    SmallDims t(std::move(o));
    o = std::move(*this);
    *this = std::move(t);
  }

  friend bool operator==(const SmallDims& a, const SmallDims& b) noexcept {
    return a.size_ == b.size_ && std::equal(a.begin(), a.end(), b.begin());
  }
  friend bool operator!=(const SmallDims& a, const SmallDims& b) noexcept { return !(a == b); }
  friend bool operator<(const SmallDims& a, const SmallDims& b) noexcept {
    return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end());
  }
  friend bool operator>(const SmallDims& a, const SmallDims& b) noexcept { return b < a; }
  friend bool operator<=(const SmallDims& a, const SmallDims& b) noexcept { return !(b < a); }
  friend bool operator>=(const SmallDims& a, const SmallDims& b) noexcept { return !(a < b); }
  friend void swap(SmallDims& a, SmallDims& b) noexcept { a.swap(b); }

 private:
  bool heap() const noexcept { return cap_ > kInline; }
  // Whole-array copies (a fixed size the compiler does in a few moves) instead of size_
  // elements (a call to memcpy): tensors are moved and copied often.
  void copy_local(const SmallDims& o) noexcept {
    size_ = o.size_;
    cap_ = kInline;
    u_ = o.u_;
  }
  void take(SmallDims& o) noexcept {
    size_ = o.size_;
    cap_ = o.cap_;
    u_ = o.u_;
    o.size_ = 0;
    o.cap_ = kInline;
  }
  void grow(size_t n) {
    n = std::max<size_t>(n, 2 * kInline);
    if (n > UINT32_MAX) throw std::length_error("SmallDims: too many dims");
    auto* p = static_cast<int64_t*>(std::malloc(n * sizeof(int64_t)));
    if (!p) throw std::bad_alloc();
    std::memcpy(p, data(), sizeof(int64_t) * size_);
    if (heap()) std::free(u_.heap);
    u_.heap = p;
    cap_ = static_cast<uint32_t>(n);
  }
  // Opens n slots at pos (shifting the tail right); returns pos's index.
  size_t make_gap(const_iterator pos, size_t n) {
    const size_t i = static_cast<size_t>(pos - data());
    if (size_ + n > cap_) grow(std::max<size_t>(size_ + n, size_t(cap_) * 2));
    int64_t* d = data();
    std::copy_backward(d + i, d + size_, d + size_ + n);
    size_ += static_cast<uint32_t>(n);
    return i;
  }

  uint32_t size_ = 0, cap_ = kInline;
  union U {
    int64_t local[kInline];
    int64_t* heap;
  } u_{};  // zeroed: the whole-array copies above never read indeterminate values
};

}  // namespace keras_cpp
