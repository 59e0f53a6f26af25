// cpp/core/shape.cpp — shape strings, broadcasting and axis normalization.
#include "keras_cpp/shape.h"

#include <algorithm>

#include "keras_cpp/error.h"

namespace keras_cpp {

std::string shape_str(const Shape& s) {
  std::string r = "(";
  for (size_t i = 0; i < s.size(); ++i) {
    if (i) r += ", ";
    r += s[i] < 0 ? "None" : std::to_string(s[i]);
  }
  if (s.size() == 1) r += ",";
  return r + ")";
}

namespace {
[[noreturn]] void overflow(const char* op, const std::string& what) {
  throw ValueError((op ? std::string("[") + op + "] " : std::string()) + what + " does not fit in a 64-bit size (2**63-1)");
}

// Product of the known dims (those >= 0), or -1 when it overflows. Zero dims are skipped in the
// overflow check, as numpy does: (0, 2**62, 2**62) is refused too (numpy could not hold it).
int64_t known_product(const Shape& s, size_t itemsize) {
  int64_t n = static_cast<int64_t>(itemsize);
  bool zero = false;
  for (int64_t d : s) {
    if (d == 0) zero = true;
    else if (d > 0 && __builtin_mul_overflow(n, d, &n)) return -1;
  }
  return zero ? 0 : n;
}
}  // namespace

int64_t checked_mul(int64_t a, int64_t b, const char* op) {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r)) overflow(op, std::to_string(a) + " * " + std::to_string(b));
  return r;
}

int64_t checked_add(int64_t a, int64_t b, const char* op) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r)) overflow(op, std::to_string(a) + " + " + std::to_string(b));
  return r;
}

int64_t shape_numel_general(const Shape& s, const char* op) {
  int64_t n = known_product(s, 1);
  if (n < 0) overflow(op, "the element count of shape " + shape_str(s));
  return shape_known(s) ? n : -1;
}

int64_t shape_nbytes(const Shape& s, size_t itemsize, const char* op) {
  if (!shape_known(s)) throw ValueError((op ? std::string("[") + op + "] " : std::string()) + "shape " + shape_str(s) + " is not fully known");
  int64_t n = known_product(s, itemsize);
  if (n < 0) overflow(op, "the byte size of shape " + shape_str(s) + " with " + std::to_string(itemsize) + "-byte elements");
  return n;
}

void check_shape_size(const Shape& s, size_t itemsize, const char* op) {
  if (known_product(s, itemsize) < 0)
    overflow(op, "the byte size of shape " + shape_str(s) + " with " + std::to_string(itemsize) + "-byte elements");
}

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  size_t n = std::max(a.size(), b.size());
  Shape r(n);
  for (size_t i = 0; i < n; ++i) {
    int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    if (da == db) r[i] = da;
    else if (da == 1) r[i] = db;
    else if (db == 1) r[i] = da;
    else if (da < 0) r[i] = db;  // unknown: assume it broadcasts
    else if (db < 0) r[i] = da;
    else
      throw ValueError(std::string("[") + op + "] shapes " + shape_str(a) + " and " + shape_str(b) +
                       " cannot be broadcast together");
  }
  return r;
}

int normalize_axis(int64_t axis, int ndim, const char* op, const char* arg) {
  int lo = ndim == 0 ? -1 : -ndim, hi = ndim == 0 ? 1 : ndim;
  if (axis < lo || axis >= hi)
    throw ValueError(std::string("[") + op + "] " + arg + "=" + std::to_string(axis) +
                     " is out of range for a tensor of rank " + std::to_string(ndim) + " (expected " +
                     std::to_string(lo) + " <= " + arg + " < " + std::to_string(hi) + ")");
  return static_cast<int>(axis < 0 ? axis + std::max(ndim, 1) : axis);
}

std::vector<int> normalize_axes(const std::vector<int64_t>& axes, int ndim, const char* op) {
  std::vector<int> r;
  for (int64_t a : axes) r.push_back(normalize_axis(a, ndim, op));
  std::sort(r.begin(), r.end());
  r.erase(std::unique(r.begin(), r.end()), r.end());
  return r;
}

}  // namespace keras_cpp
