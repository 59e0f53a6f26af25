#!/usr/bin/env python3
"""Build-time check (issue 13): CPU time of a full build of the library, the Python extension and
(optionally) the C++ tests from a clean build directory, the CPU time of every compile and link
step, and the time to rebuild after an edit of one op file.

    python bench/build_time.py [--jobs 2] [--tests] [--touch cpp/ops/binary.cpp] [--keep DIR]

CPU time is what the compiler processes use (user + system, from wait4), so it does not depend on
how busy the machine is; wall time is printed too, with the load average. ccache is switched off
(KERAS_CPP_CCACHE=OFF) so every object really compiles. Targets: full build <= 180 s of CPU,
one-file rebuild <= 30 s.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# A compiler/linker launcher: runs the real command and appends "<cpu seconds>\t<output>" to a log.
LAUNCHER = r'''#!/usr/bin/env python3
import os, sys
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
_, status, ru = os.wait4(pid, 0)
args = sys.argv[1:]
out = args[args.index('-o') + 1] if '-o' in args else args[-1]
with open(os.environ['KCPP_BUILD_LOG'], 'a') as fh:
    fh.write('%.3f\t%s\n' % (ru.ru_utime + ru.ru_stime, os.path.relpath(out)))
sys.exit(os.waitstatus_to_exitcode(status))
'''


def run_build(bdir, jobs, log, env):
    if os.path.exists(log):
        os.remove(log)
    t0 = time.perf_counter()
    r0 = os.times()
    subprocess.run(['cmake', '--build', bdir, '-j', str(jobs)], check=True, env=env, stdout=subprocess.DEVNULL)
    r1 = os.times()
    wall = time.perf_counter() - t0
    steps = []
    if os.path.exists(log):
        with open(log) as fh:
            for ln in fh:
                cpu, out = ln.rstrip('\n').split('\t', 1)
                steps.append((float(cpu), out))
    children_cpu = (r1.children_user - r0.children_user) + (r1.children_system - r0.children_system)
    return wall, children_cpu, steps


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--jobs', type=int, default=2)
    ap.add_argument('--tests', action='store_true', help='also build the C++ tests and examples')
    ap.add_argument('--touch', default='cpp/ops/binary.cpp', help='the file whose edit is rebuilt')
    ap.add_argument('--top', type=int, default=15, help='how many of the slowest steps to list')
    ap.add_argument('--keep', default=None, help='build directory to use and keep (default: a temporary one)')
    args = ap.parse_args()

    bdir = args.keep or tempfile.mkdtemp(prefix='keras_cpp_build_')
    if os.path.exists(os.path.join(bdir, 'CMakeCache.txt')):
        shutil.rmtree(bdir)
    os.makedirs(bdir, exist_ok=True)
    launcher = os.path.join(bdir, 'cpu_launcher.py')
    with open(launcher, 'w') as fh:
        fh.write(LAUNCHER)
    os.chmod(launcher, 0o755)
    log = os.path.join(bdir, 'steps.log')
    env = dict(os.environ, KCPP_BUILD_LOG=log, CCACHE_DISABLE='1')
    gen = ['-G', 'Ninja'] if shutil.which('ninja') else []
    try:
        import pybind11
        pyb = ['-Dpybind11_DIR=' + pybind11.get_cmake_dir()]
    except ImportError:
        sys.exit('pybind11 is needed (pip install pybind11)')
    cfg = ['cmake', '-S', ROOT, '-B', bdir] + gen + pyb + [
        '-DCMAKE_BUILD_TYPE=Release', '-DKERAS_CPP_PYTHON=ON', '-DKERAS_CPP_CCACHE=OFF',
        '-DKERAS_CPP_TESTS=' + ('ON' if args.tests else 'OFF'),
        '-DCMAKE_CXX_COMPILER_LAUNCHER=' + launcher, '-DCMAKE_CXX_LINKER_LAUNCHER=' + launcher]
    load0 = os.getloadavg()[0]
    t0 = time.perf_counter()
    subprocess.run(cfg, check=True, env=env, stdout=subprocess.DEVNULL)
    t_cfg = time.perf_counter() - t0
    wall, cpu_all, steps = run_build(bdir, args.jobs, log, env)
    total = sum(c for c, _ in steps)
    print('keras_cpp build time (%s, -j%d, %s)' % ('library + extension' + (' + C++ tests' if args.tests else ''),
                                                args.jobs, 'ninja' if gen else 'default generator'))
    print('  load average before: %.2f, after: %.2f (wall times depend on it; CPU times do not)' % (load0, os.getloadavg()[0]))
    print('  configure: %.1f s wall' % t_cfg)
    print('  full build: %.1f s CPU in %d compile/link steps (all build processes: %.1f s CPU), %.1f s wall' % (
        total, len(steps), cpu_all, wall))
    print('  slowest steps (CPU s):')
    for c, out in sorted(steps, reverse=True)[:args.top]:
        print('    %7.1f  %s' % (c, out))
    target = os.path.join(ROOT, args.touch)
    os.utime(target, None)
    wall2, cpu2, steps2 = run_build(bdir, args.jobs, log, env)
    print('  rebuild after touching %s: %.1f s wall, %.1f s CPU (%s)' % (
        args.touch, wall2, sum(c for c, _ in steps2), ', '.join('%s %.1f s' % (os.path.basename(o), c) for c, o in steps2)))
    ok = total <= 180 and wall2 <= 30
    print('  targets: full build <= 180 s CPU: %s; one-file rebuild <= 30 s: %s' % (
        'met' if total <= 180 else 'NOT met', 'met' if wall2 <= 30 else 'NOT met'))
    if not args.keep:
        shutil.rmtree(bdir, ignore_errors=True)
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
