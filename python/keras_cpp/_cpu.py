"""CPU baseline check, run before the compiled engine is loaded.

Wheels are built for x86-64-v3 (AVX2, FMA, F16C). On an older x86-64 CPU importing the engine
would die with an illegal instruction, so we check /proc/cpuinfo first and raise a clear error.
Set KERAS_CPP_SKIP_CPU_CHECK=1 to skip (e.g. for a build made with -DKERAS_CPP_X86_64_V3=OFF).
Other architectures (aarch64) have no baseline beyond the compiler's default, so nothing to check.
The machine comes from os.uname(), not the `platform` module, which alone costs milliseconds.
"""
import os

_NEEDED = ("avx2", "fma", "f16c")


def _machine():
    uname = getattr(os, "uname", None)
    return uname().machine if uname is not None else os.environ.get("PROCESSOR_ARCHITECTURE", "")


def check_cpu():
    if os.environ.get("KERAS_CPP_SKIP_CPU_CHECK") or _machine() not in ("x86_64", "AMD64"):
        return
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    break
            else:
                return
    except OSError:
        return  # not Linux: trust the build
    missing = [f for f in _NEEDED if f not in flags]
    if missing:
        raise ImportError(
            "keras_cpp was built for the x86-64-v3 baseline but this CPU lacks "
            + ", ".join(missing)
            + ". Rebuild from source with -DKERAS_CPP_X86_64_V3=OFF "
            "(pip install . -Ccmake.define.KERAS_CPP_X86_64_V3=OFF)."
        )
