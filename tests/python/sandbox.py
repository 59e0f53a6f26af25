"""Run snippets of keras_cpp code in a worker process, so that a crash or a hang fails one test
instead of killing pytest. The worker is reused between snippets and restarted after a crash.

    box = Sandbox()
    r = box.run("K.eval(K.repeat(x, -2**63))", setup="x = K.constant(np.ones((2, 3)))")
    r.crash   # None, 'signal 11', 'exit 1' or 'timeout'
    r.exc     # exception class name or None;  r.msg: its message;  r.value: repr of `result`
"""
import json
import os
import select
import signal
import subprocess
import sys

_WORKER = r'''
import json, os, sys, traceback
out = os.fdopen(os.dup(1), 'w')
os.dup2(2, 1)                 # prints (and print_tensor) go to stderr, results to `out`
sys.stdout = sys.stderr
import numpy as np
from keras_cpp import backend as K
out.write('ready\n'); out.flush()
for line in sys.stdin:
    job = json.loads(line)
    env = {'np': np, 'K': K}
    reply = {'exc': None, 'msg': '', 'value': None}
    try:
        exec(job['setup'], env)
        exec(job['code'], env)
        if 'result' in env:
            reply['value'] = repr(env['result'])
    except BaseException as e:  # noqa: B902 - report everything, including assertion failures
        reply['exc'] = type(e).__name__
        reply['msg'] = str(e)[:2000]
        if job.get('trace'):
            reply['msg'] += '\n' + traceback.format_exc()
    out.write(json.dumps(reply) + '\n'); out.flush()
'''


def package_root():
    """The directory holding the keras_cpp this process imported (a dev tree or site-packages),
    so that children test the same build."""
    import keras_cpp
    return os.path.dirname(os.path.dirname(os.path.abspath(keras_cpp.__file__)))


class Result(object):
    def __init__(self, crash=None, exc=None, msg='', value=None):
        self.crash, self.exc, self.msg, self.value = crash, exc, msg, value

    def __repr__(self):
        return 'Result(crash=%r, exc=%r, msg=%r, value=%r)' % (self.crash, self.exc, self.msg[:300], self.value)


class Sandbox(object):
    def __init__(self, timeout=20.0):
        self.timeout = timeout
        self.proc = None

    def _start(self):
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([package_root(), os.environ.get('PYTHONPATH', '')]))
        self.proc = subprocess.Popen([sys.executable, '-c', _WORKER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, env=env, text=True, bufsize=1)
        line = self._read(60.0)
        if line != 'ready':
            raise RuntimeError('sandbox worker did not start: %r' % (line,))

    def _read(self, timeout):
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not ready:
            return None
        return self.proc.stdout.readline().strip()

    def close(self):
        """Stop the worker; returns its exit code (negative: the signal that ended it)."""
        rc = None
        if self.proc is not None:
            self.proc.kill()
            rc = self.proc.wait()
            self.proc.stdin.close()
            self.proc.stdout.close()
            self.proc = None
        return rc

    def run(self, code, setup='', trace=False, timeout=None):
        if self.proc is None or self.proc.poll() is not None:
            self._start()
        job = json.dumps({'code': code, 'setup': setup, 'trace': trace}) + '\n'
        try:
            self.proc.stdin.write(job)
            self.proc.stdin.flush()
        except BrokenPipeError:  # died after its last reply: start afresh
            self.close()
            self._start()
            self.proc.stdin.write(job)
            self.proc.stdin.flush()
        line = self._read(self.timeout if timeout is None else timeout)
        if not line:
            crash = 'timeout' if line is None else None
            rc = self.close()
            if crash is None:
                crash = 'signal %d' % -rc if rc < 0 else 'exit %d' % rc
            return Result(crash=crash)
        return Result(**json.loads(line))


def signal_name(r):
    """'SIGSEGV' for Result(crash='signal 11')."""
    if r.crash and r.crash.startswith('signal '):
        return signal.Signals(int(r.crash.split()[1])).name
    return r.crash
