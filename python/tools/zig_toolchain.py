"""A C/C++ toolchain from `zig` (pip install ziglang) that builds keras_cpp for an old glibc.

zig cc/c++ ship glibc stubs for every version and link LLVM's libc++ statically, so an
extension built on a new distribution still loads on glibc 2.17 (manylinux2014) without Docker.
The wrappers are written once per target into `<dir>/<target>/` (their paths key ccache, so two
targets never share cache entries), and the CMake definitions that select them are printed:

    python python/tools/zig_toolchain.py build/zig x86_64-linux-gnu.2.17    # -> -DCMAKE_CXX_COMPILER=...
"""
import os
import shlex
import stat
import sys

ARCHS = {'x86_64': 'x86_64', 'aarch64': 'aarch64'}


def zig_binary():
    """Path of the zig executable of the `ziglang` package (or $ZIG)."""
    if os.environ.get('ZIG'):
        return os.environ['ZIG']
    import ziglang
    return os.path.join(os.path.dirname(ziglang.__file__), 'zig')


def _write_if_changed(path, text):
    old = None
    if os.path.exists(path):
        with open(path) as f:
            old = f.read()
    if old != text:  # an unchanged wrapper keeps its mtime, and so its ccache entries
        with open(path, 'w') as f:
            f.write(text)
        os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def write_wrappers(root, target):
    """Write cc, c++, ar and ranlib wrappers for `target` (e.g. aarch64-linux-gnu.2.17) under
    root/target and return {cmake variable: value}."""
    arch = target.split('-', 1)[0]
    if arch not in ARCHS:
        raise SystemExit('zig_toolchain: unsupported target %r (known architectures: %s)'
                         % (target, ', '.join(ARCHS)))
    zig = zig_binary()
    where = os.path.abspath(os.path.join(root, target))
    os.makedirs(where, exist_ok=True)
    tools = {'cc': 'cc -target ' + target, 'c++': 'c++ -target ' + target, 'ar': 'ar', 'ranlib': 'ranlib'}
    paths = {}
    for name, args in tools.items():
        path = os.path.join(where, 'zig-' + name)
        _write_if_changed(path, '#!/bin/sh\nexec %s %s "$@"\n' % (shlex.quote(zig), args))
        paths[name] = path
    defs = {
        'CMAKE_C_COMPILER': paths['cc'],
        'CMAKE_CXX_COMPILER': paths['c++'],
        'CMAKE_AR': paths['ar'],
        'CMAKE_RANLIB': paths['ranlib'],
    }
    host = os.uname().machine
    if ARCHS[arch] != host:
        defs.update({'CMAKE_SYSTEM_NAME': 'Linux', 'CMAKE_SYSTEM_PROCESSOR': ARCHS[arch]})
    return defs


def main(argv):
    if len(argv) != 2:
        raise SystemExit('usage: zig_toolchain.py <dir> <target such as x86_64-linux-gnu.2.17>')
    for k, v in write_wrappers(argv[0], argv[1]).items():
        print('-D%s=%s' % (k, v))


if __name__ == '__main__':
    main(sys.argv[1:])
