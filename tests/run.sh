#!/usr/bin/env bash
# The whole test suite: builds the wheel (and, in the same CMake tree, the C++ tests), installs it,
# runs the C++ tests under ctest, builds a find_package consumer against the installed C++
# package, runs the Python tests, then the Keras 2.3.1 tests in their own virtualenv (Keras 2.3.1
# needs numpy<2; the rest of the suite keeps the newest numpy).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
GEN=()
if command -v ninja >/dev/null 2>&1; then GEN=(-G Ninja); fi

echo "== building keras_cpp (C++ library, extension and C++ tests in build/py)"
# One CMake tree for the wheel and the C++ tests, so the library is compiled once, and kept from
# run to run: the wheel is built without pip's isolated environment (whose temporary paths, e.g.
# a freshly installed cmake, would invalidate the CMake cache each time), so an unchanged tree
# rebuilds nothing. The build requirements are pyproject.toml's [build-system] ones.
rm -rf build/wheel
"$PY" -m pip install -q "scikit-build-core>=0.10" "pybind11>=2.12"
if ! cmake --version >/dev/null 2>&1; then "$PY" -m pip install -q "cmake>=3.18"; fi
if [ ${#GEN[@]} -eq 0 ]; then "$PY" -m pip install -q ninja; fi
# A cache written from an isolated build names a deleted temporary cmake: start that tree afresh.
if grep -qs "pip-build-env" build/py/CMakeCache.txt; then rm -f build/py/CMakeCache.txt; fi
CMAKE_BUILD_PARALLEL_LEVEL=$JOBS "$PY" -m pip wheel -q --no-deps --no-build-isolation . -w build/wheel \
  -Cbuild-dir=build/py -Ccmake.define.KERAS_CPP_TESTS=ON
WHEEL=$(ls build/wheel/keras_cpp-*.whl)
"$PY" -m pip install -q --force-reinstall --no-deps "$WHEEL"
"$PY" -m pip install -q numpy pytest scipy mypy  # mypy: test_api_docs.py checks the stubs

echo "== C++ tests (ctest)"
ctest --test-dir build/py --output-on-failure

echo "== C++ package: install, then build a find_package consumer against it"
cmake --install build/py --component cpp --prefix build/install >/dev/null
cmake -S tests/cpp/consumer -B build/consumer "${GEN[@]}" -DCMAKE_PREFIX_PATH="$PWD/build/install" >/dev/null
cmake --build build/consumer -j "$JOBS"
./build/consumer/consumer

echo "== Python tests (pytest)"
# Run from tests/ so `import keras_cpp` resolves to the installed package, not python/.
(cd tests && "$PY" -m pytest -q -p no:cacheprovider python)

echo "== Keras 2.3.1 on keras_cpp (own virtualenv: keras==2.3.1, numpy<2, h5py)"
VENV=build/keras-venv
if [ ! -x "$VENV/bin/python" ]; then "$PY" -m venv "$VENV"; fi
"$VENV/bin/python" -m pip install -q "keras==2.3.1" "numpy<2" h5py scipy pytest
"$VENV/bin/python" -m pip install -q --force-reinstall --no-deps "$WHEEL"
(cd tests && "../$VENV/bin/python" -m pytest -q -p no:cacheprovider keras)
