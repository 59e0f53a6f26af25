#!/usr/bin/env bash
# AddressSanitizer + UndefinedBehaviorSanitizer run: builds keras_cpp with both into its own tree
# (build/asan), then runs the C++ tests and the Python tests against that build. Not part of
# tests/run.sh (several times slower); run it before resolving a robustness issue.
#   tests/sanitize.sh              C++ and Python suites
#   tests/sanitize.sh -k fuzz      extra arguments go to pytest
# Reports go to build/asan/logs/; the run fails when any sanitizer reported anything.
set -euo pipefail
cd "$(dirname "$0")/.."
B=build/asan
PY=${PYTHON:-python3}
JOBS=${JOBS:-2}
SAN="-fsanitize=address,undefined -fno-omit-frame-pointer"

GEN=()
if command -v ninja >/dev/null 2>&1; then GEN=(-G Ninja); fi
LAUNCH=()
if command -v ccache >/dev/null 2>&1; then LAUNCH=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi

echo "== building keras_cpp with $SAN into $B"
cmake -S . -B "$B" "${GEN[@]}" "${LAUNCH[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKERAS_CPP_PYTHON=ON -DKERAS_CPP_TESTS=ON -DKERAS_CPP_STUBS=OFF \
  -DCMAKE_CXX_FLAGS="$SAN" -DCMAKE_EXE_LINKER_FLAGS="$SAN" -DCMAKE_SHARED_LINKER_FLAGS="$SAN" \
  -DCMAKE_MODULE_LINKER_FLAGS="$SAN" -Dpybind11_DIR="$("$PY" -c 'import pybind11; print(pybind11.get_cmake_dir())')" >/dev/null
cmake --build "$B" -j "$JOBS"

LOGS="$PWD/$B/logs"
rm -rf "$LOGS"
mkdir -p "$LOGS"
# Huge but valid sizes (2**40 bytes) must fail as a clean "out of memory" error, not abort.
COMMON="allocator_may_return_null=1:max_allocation_size_mb=4096:log_path=$LOGS/asan"
export UBSAN_OPTIONS="print_stacktrace=1:log_path=$LOGS/ubsan"

echo "== C++ tests under ASan/UBSan"
ASAN_OPTIONS="$COMMON" ctest --test-dir "$B" --output-on-failure

echo "== Python tests under ASan/UBSan"
# The sanitized module next to a copy of the Python sources; libasan must come first in the
# process (python itself is not instrumented) and libstdc++ with it, so that exceptions thrown
# through the module are the ones libasan intercepts. Leak checks are off: the interpreter's
# own allocations at exit are not ours.
PKG="$B/pkg"
rm -rf "$PKG"
mkdir -p "$PKG"
cp -r python/keras_cpp "$PKG/"
rm -f "$PKG"/keras_cpp/_core*.so
cp "$B"/_core*.so "$PKG/keras_cpp/"
status=0
(cd tests && LD_PRELOAD="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libstdc++.so)" \
  ASAN_OPTIONS="$COMMON:detect_leaks=0" PYTHONPATH="$PWD/../$PKG" \
  "$PY" -m pytest -q -p no:cacheprovider python "$@") || status=$?

# A huge but valid size is refused by ASan's allocator (allocator_may_return_null) with a
# warning line, and the library turns it into a clean "Unable to allocate" error: not reports.
for f in "$LOGS"/*; do
  [ -e "$f" ] || continue
  if ! grep -qv "WARNING: AddressSanitizer failed to allocate 0x[0-9a-f]* bytes" "$f"; then
    echo "== $(basename "$f"): only refused huge allocations ($(wc -l < "$f") lines), not a report"
    rm -f "$f"
  fi
done
if compgen -G "$LOGS/*" >/dev/null; then
  echo "== sanitizer reports ($LOGS):"
  for f in "$LOGS"/*; do echo "--- $f"; head -60 "$f"; done
  exit 1
fi
echo "== no sanitizer reports"
exit $status
