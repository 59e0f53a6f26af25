// cpp/ops/families.h — one registration function per op family file.
#pragma once

namespace keras_cpp {
void register_all_families();  // registry_list.cpp: one line per family file
}
