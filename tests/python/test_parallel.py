"""The op table at sizes where parallel_for splits the work, at 1, 2, 3 and 8 threads (a 3- or
8-thread pool on a 2-core machine is where chunk counts differ from thread counts). The sweep runs
in a child process (parallel_sweep.py) so a crash is reported against its row and thread count."""
import pytest

import parallel_sweep
from op_table import OPS

ROWS = [op for op in OPS if op.big is not None]
PARAMS = [pytest.param(op, n, id='%s-%d' % (op.name, n), marks=op.marks('big-%d' % n))
          for op in ROWS for n in parallel_sweep.THREADS]


@pytest.fixture(scope='module')
def sweep(tmp_path_factory):
    return parallel_sweep.run_sweep(str(tmp_path_factory.mktemp('sweep')))


@pytest.mark.parametrize('op,n', PARAMS)
def test_row_at_parallel_size(op, n, sweep):
    rec = sweep.get('%s@%d' % (op.name, n))
    assert rec is not None, '%s: no result at %d threads' % (op.name, n)
    assert rec['ok'], '%s at %d threads:\n%s' % (op.name, n, rec['error'])
    if n > 1:  # the samples are meant to split: a worker of the pool must have run
        unsplit = [k for k, s in enumerate(rec['splits']) if s is False]  # None: not measurable here
        assert not unsplit, '%s: big samples %s ran on one thread at %d threads' % (op.name, unsplit, n)
    if rec['digests']:  # random ops: the same numbers at every thread count
        assert rec['digests'] == sweep['%s@1' % op.name]['digests'], '%s: other numbers at %d threads' % (op.name, n)
