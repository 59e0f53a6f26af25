// Registry invariants: every primitive has infer and forward (register_op fills the multi-result
// forms of single-result ops); every differentiable primitive has a grad; every signature
// parsed; composites have a build and no kernel.
#include "doctest.h"
#include "keras_cpp/keras_cpp.h"
#include "ops/registry.h"

using namespace keras_cpp;

TEST_CASE("registry invariants hold for every op") {
  const auto& ops = all_ops();
  CHECK(ops.size() > 60);
  for (const OpDef* op : ops) {
    INFO(op->name);
    CHECK(!op->name.empty());
    CHECK(op->py_signature.rfind(op->name + "(", 0) == 0);
    if (op->primitive()) {
      CHECK(static_cast<bool>(op->infer_multi));
      CHECK(static_cast<bool>(op->forward_multi));
      CHECK(static_cast<bool>(op->infer) == static_cast<bool>(op->forward));  // one form or the other
      if (!(op->flags & kNonDiff)) CHECK(static_cast<bool>(op->grad_multi));
    } else {
      CHECK(static_cast<bool>(op->build));
      CHECK_FALSE(static_cast<bool>(op->grad_multi));
    }
  }
}

TEST_CASE("signature defaults parse into typed values") {
  const OpDef& s = get_op("sum");
  REQUIRE(s.params.size() == 3);
  CHECK(s.params[1].name == "axis");
  CHECK(s.params[1].def.is_none());
  CHECK(s.params[2].def.kind == Value::Bool);
  CHECK(s.py_signature == "sum(x, axis=None, keepdims=False)");
}

TEST_CASE("shape errors are raised when the node is built") {
  Expr a = placeholder({2, 3}, DType::float32, "a");
  Expr b = placeholder({4, 3}, DType::float32, "b");
  CHECK_THROWS_WITH_AS(a + b, doctest::Contains("[add]"), ValueError);
  CHECK_THROWS_WITH_AS(matmul(a, b), doctest::Contains("[matmul]"), ValueError);
  CHECK_THROWS_AS(sum(a, std::vector<int64_t>{2}), ValueError);
}
