// CSIMD: lane-wise operations Swift's SIMD types do not vectorise, as header-only inline C.
//
// Swift's `SIMD16<Float>.squareRoot()` (and a loop of `Float.squareRoot()`) compiles to sixteen
// scalar `sqrtss`, about 10x the cost of one vector square root. Clang's generic vector
// builtins lower to the target's vector instructions (`vsqrtps` under `-target-cpu native`).
// The result is the correctly rounded square root in every lane, bit for bit what
// `Float.squareRoot()` returns. `ext_vector_type(16)` floats import into Swift as SIMD16<Float>.
#ifndef GANNET_CSIMD_H
#define GANNET_CSIMD_H

typedef float gannet_float16 __attribute__((ext_vector_type(16)));

/// Lane-wise IEEE square root (correctly rounded; sqrt(-x) = NaN, sqrt(-0) = -0).
static inline __attribute__((always_inline)) gannet_float16 gannet_sqrt16(gannet_float16 x) {
    return __builtin_elementwise_sqrt(x);
}

#endif
