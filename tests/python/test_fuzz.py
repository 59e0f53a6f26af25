"""Property-based guard (fuzz_worker.py): every public backend function, called with random
valid and invalid arguments drawn from its schema, gives a clean exception naming the op or a
result (numpy's, where reference.py has one), and never crashes, hangs or edits its inputs.

The functions run in one child process (restarted after a crash, which fails that function's
test with the case that crashed it). Hypothesis is derandomized with no example database, so a
run is the same on every machine; KERAS_CPP_FUZZ_EXAMPLES sets the examples per function (30)."""
import json
import os
import select
import subprocess
import sys
import time

import pytest

import fuzz_worker
from sandbox import package_root

HERE = os.path.dirname(os.path.abspath(__file__))
FUNCTIONS = fuzz_worker.public_functions()
CASE_TIMEOUT = 60.0   # seconds without progress: a hang
TOTAL_TIMEOUT = 900.0 * max(1.0, fuzz_worker.EXAMPLES / 30.0)


def _run(names):
    """{name: [problem]} for names, restarting the worker after a crash or a hang."""
    results, todo = {}, list(names)
    deadline = time.time() + TOTAL_TIMEOUT
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([package_root(), os.environ.get('PYTHONPATH', '')]))
    while todo:
        proc = subprocess.Popen([sys.executable, os.path.join(HERE, 'fuzz_worker.py')] + todo, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, env=env, text=True)
        case, current, ended = None, todo[0], None
        while ended is None:
            ready, _, _ = select.select([proc.stdout], [], [], CASE_TIMEOUT)
            line = proc.stdout.readline() if ready else None
            if line is None or time.time() > deadline:
                proc.kill()
                ended = 'hung for %ds' % CASE_TIMEOUT if line is None else 'ran out of the %ds budget' % TOTAL_TIMEOUT
                if line is not None:  # the rest is not fuzzed: fail them all rather than pass silently
                    for n in todo:
                        results[n] = [ended]
                    todo = [current]
            elif not line:
                rc = proc.wait()
                ended = 'done' if rc == 0 else 'crashed (exit status %d)' % rc
            else:
                msg = json.loads(line)
                if 'case' in msg:
                    case = msg['case']
                else:
                    results[msg['done']] = msg['problems']
                    todo.remove(msg['done'])
                    current = todo[0] if todo else None
                    case = None
        proc.stdout.close()
        proc.wait()
        if ended != 'done' and current is not None:
            results[current] = ['%s in %s' % (ended, case or 'setting up %s' % current)]
            todo.remove(current)
    return results


@pytest.fixture(scope='module')
def fuzz_results():
    return _run(FUNCTIONS)


@pytest.mark.parametrize('name', FUNCTIONS)
def test_function_survives_random_arguments(fuzz_results, name):
    problems = fuzz_results.get(name)
    assert problems is not None, '%s was not fuzzed' % name
    assert not problems, '\n'.join(problems)
