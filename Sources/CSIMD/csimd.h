// CSIMD: lane-wise operations Swift's SIMD types do not vectorise, as header-only inline C.
//
// Swift's `SIMD16<Float>.squareRoot()` (and a loop of `Float.squareRoot()`) compiles to sixteen
// scalar `sqrtss`, about 10x the cost of one vector square root. Clang's generic vector
// builtins lower to the target's vector instructions (`vsqrtps` under `-target-cpu native`).
// The result is the correctly rounded square root in every lane, bit for bit what
// `Float.squareRoot()` returns. `ext_vector_type(16)` floats import into Swift as SIMD16<Float>.
// Swift has no vector shuffle either; `__builtin_shufflevector` lowers to one permute.
#ifndef GANNET_CSIMD_H
#define GANNET_CSIMD_H

typedef float gannet_float16 __attribute__((ext_vector_type(16)));

/// Lane-wise IEEE square root (correctly rounded; sqrt(-x) = NaN, sqrt(-0) = -0).
static inline __attribute__((always_inline)) gannet_float16 gannet_sqrt16(gannet_float16 x) {
    return __builtin_elementwise_sqrt(x);
}

/// Lanes 0–7 of a and b interleaved: a0 b0 a1 b1 … a7 b7.
static inline __attribute__((always_inline)) gannet_float16 gannet_interleave_lo16(gannet_float16 a, gannet_float16 b) {
    return __builtin_shufflevector(a, b, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
}

/// Lanes 8–15 of a and b interleaved: a8 b8 a9 b9 … a15 b15.
static inline __attribute__((always_inline)) gannet_float16 gannet_interleave_hi16(gannet_float16 a, gannet_float16 b) {
    return __builtin_shufflevector(a, b, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
}

#endif
