#!/usr/bin/env bash
# The whole test suite: installs the package (building the extension), builds and runs the C++
# tests under ctest, then runs the Python tests against the installed package.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
GEN=()
if command -v ninja >/dev/null 2>&1; then GEN=(-G Ninja); fi

echo "== installing keras_cpp (builds the C++ extension)"
CMAKE_BUILD_PARALLEL_LEVEL=$JOBS "$PY" -m pip install -q ".[test]"

echo "== C++ tests (ctest)"
cmake -S . -B build/ctest "${GEN[@]}" -DKERAS_CPP_TESTS=ON -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/ctest -j "$JOBS"
ctest --test-dir build/ctest --output-on-failure

echo "== C++ package: install, then build a find_package consumer against it"
cmake --install build/ctest --prefix build/install >/dev/null
cmake -S tests/cpp/consumer -B build/consumer "${GEN[@]}" -DCMAKE_PREFIX_PATH="$PWD/build/install" >/dev/null
cmake --build build/consumer -j "$JOBS"
./build/consumer/consumer

echo "== Python tests (pytest)"
# Run from tests/ so `import keras_cpp` resolves to the installed package, not python/.
cd tests
"$PY" -m pytest -q -p no:cacheprovider python
