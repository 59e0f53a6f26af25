#!/usr/bin/env bash
# The whole test suite: installs the package (building the extension), builds and runs the C++
# tests under ctest, then runs the Python tests against the installed package.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
GEN=()
if command -v ninja >/dev/null 2>&1; then GEN=(-G Ninja); fi

echo "== installing keras_cpp (builds the C++ library, extension and C++ tests in build/py)"
# One CMake tree for the wheel and the C++ tests, so the library is compiled once. pip builds in a
# fresh isolated environment each time, so the cached configuration (its paths) is dropped first.
rm -f build/py/CMakeCache.txt
CMAKE_BUILD_PARALLEL_LEVEL=$JOBS "$PY" -m pip install -q ".[test]" \
  -Cbuild-dir=build/py -Ccmake.define.KERAS_CPP_TESTS=ON

echo "== C++ tests (ctest)"
ctest --test-dir build/py --output-on-failure

echo "== C++ package: install, then build a find_package consumer against it"
cmake --install build/py --component cpp --prefix build/install >/dev/null
cmake -S tests/cpp/consumer -B build/consumer "${GEN[@]}" -DCMAKE_PREFIX_PATH="$PWD/build/install" >/dev/null
cmake --build build/consumer -j "$JOBS"
./build/consumer/consumer

echo "== Python tests (pytest)"
# Run from tests/ so `import keras_cpp` resolves to the installed package, not python/.
cd tests
"$PY" -m pytest -q -p no:cacheprovider python
