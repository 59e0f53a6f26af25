#include "kernels/parallel.h"

namespace keras_cpp {
int num_threads() {
#ifdef KERAS_CPP_USE_OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}
}  // namespace keras_cpp
