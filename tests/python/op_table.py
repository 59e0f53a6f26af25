"""OpInfo-style table: rows for every public name of keras_cpp.backend (the Keras 2.3.1 backend
names of api_names.txt and every op registered in `_core._ops` without a leading underscore).

A row (op_info.OpInfo) says how to make inputs, which numpy reference to compare with
(reference.py), the dtypes, whether the op is differentiable, how to call it wrongly and, for the
parallel sweep, inputs large enough that parallel_for splits the work. The rows live by group in
rows_*.py; the sweeps are test_ops.py (forward), test_grads.py (finite differences, gradcheck.py),
test_errors.py (malformed calls) and test_parallel.py (1, 2, 3 and 8 threads)."""
import rows_api
import rows_conv
import rows_linalg
import rows_math
import rows_nn
import rows_random
import rows_seq
import rows_shape
import rows_state

OPS = (rows_math.ROWS + rows_linalg.ROWS + rows_conv.ROWS + rows_nn.ROWS + rows_random.ROWS + rows_seq.ROWS
       + rows_shape.ROWS + rows_state.ROWS + rows_api.ROWS)

OP_BY_NAME = {o.name: o for o in OPS}
assert len(OP_BY_NAME) == len(OPS), 'duplicate rows in op_table: %s' % sorted(
    n for n in OP_BY_NAME if sum(o.name == n for o in OPS) > 1)
