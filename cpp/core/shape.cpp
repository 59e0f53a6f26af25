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

int64_t shape_numel(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) {
    if (d < 0) return -1;
    n *= d;
  }
  return n;
}

bool shape_known(const Shape& s) {
  return std::all_of(s.begin(), s.end(), [](int64_t d) { return d >= 0; });
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
