// cpp/kernels/cpu_isa.h — the one CPU/ISA probe shared by the kernel families (GEMM in sgemm.h,
// elementwise/reductions in ew.h); each family still keeps its own choice and test override.
#pragma once

namespace keras_cpp {

enum class Isa { avx2, avx512 };

// The CPU runs AVX-512F code and the OS saves zmm state.
bool cpu_avx512();
// KERAS_CPP_ISA=avx2 in the environment (read once) asks for the AVX2 kernels on an AVX-512 CPU.
bool env_wants_avx2();
// KERAS_CPP_EXACT_MATH=1 in the environment (read once, when the kernel tables are built) selects
// the correctly rounded double-lane float32 exp/log/tanh/sigmoid instead of the faithful float-lane ones.
bool env_exact_math();
const char* isa_name(Isa isa);

}  // namespace keras_cpp
