// cpp/ops/registry.h — the op registry. Each op is one OpDef (graph/op.h) written in its family
// file in the order schema -> infer -> forward -> grad and registered by that file's register_*
// function (registry_list.cpp calls them); this header is what those files need.
#pragma once
#include <string>
#include <vector>

#include "graph/op.h"
#include "keras_cpp/error.h"
#include "keras_cpp/expr.h"

namespace keras_cpp {

// Registration. Fills in the multi-result forms of single-result ops (see OpDef).
void register_op(OpDef def);
const OpDef* find_op(const std::string& name);  // null if absent
const OpDef& get_op(const std::string& name);   // throws if absent
const std::vector<const OpDef*>& all_ops();

// make_node of the op registered as `op`.
Expr make_node(const std::string& op, std::vector<Expr> inputs, Attrs attrs = {});

}  // namespace keras_cpp
