// CSIMD: lane-wise operations Swift's SIMD types do not vectorise, or have no spelling for, as
// header-only inline C: square root, reciprocal estimate, scaling by 2^n, clamping, int → float,
// masked loads and stores, gathers, and loads the compiler must not merge into permutes.
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

/// Lane-wise approximate reciprocal: the AVX-512 estimate (relative error below 2^-14) where
/// the target has it, else the exact quotient 1 / x. Callers refine it with a Newton step.
static inline __attribute__((always_inline)) gannet_float16 gannet_recip_estimate16(gannet_float16 x) {
#if defined(__AVX512F__)
    typedef float gannet_v16sf __attribute__((__vector_size__(64)));
    return (gannet_float16)__builtin_ia32_rcp14ps512_mask((gannet_v16sf)x, (gannet_v16sf)x, (unsigned short)0xFFFF);
#else
    return 1.0f / x;
#endif
}

/// Lane-wise x · 2^n for integral n in [-150, 128] (float lanes), rounded once: `vscalefps`
/// where the target has AVX-512; else two exact power-of-two factors, 2^(n/2) and 2^(n - n/2),
/// the second product rounding once as well. Infinite or NaN x passes through.
static inline __attribute__((always_inline)) gannet_float16 gannet_scale2n16(gannet_float16 x, gannet_float16 n) {
#if defined(__AVX512F__)
    typedef float gannet_v16sf __attribute__((__vector_size__(64)));
    return (gannet_float16)__builtin_ia32_scalefps512_mask((gannet_v16sf)x, (gannet_v16sf)n, (gannet_v16sf)x,
                                                           (unsigned short)0xFFFF, 4 /* current rounding */);
#else
    typedef int gannet_int16 __attribute__((ext_vector_type(16)));
    gannet_int16 ni = __builtin_convertvector(n, gannet_int16);
    gannet_int16 n1 = ni >> 1, n2 = ni - n1;
    gannet_float16 s1 = (gannet_float16)((n1 + 127) << 23), s2 = (gannet_float16)((n2 + 127) << 23);
    return x * s1 * s2;
#endif
}

/// Lane-wise min(max(x, lo), hi), hi winning when lo > hi; a NaN lane stays NaN. With AVX-512,
/// one `vmaxps` and one `vminps` with x as the second operand, which they return when a lane
/// is NaN. (Swift's two `replacing(with:where:)` selects, inlined into some loops, were
/// lowered to mask-to-vector round trips in four 128-bit pieces.)
static inline __attribute__((always_inline)) gannet_float16 gannet_clip16(gannet_float16 x, float lo, float hi) {
#if defined(__AVX512F__)
    typedef float gannet_v16sf __attribute__((__vector_size__(64)));
    gannet_float16 l = lo, h = hi;
    gannet_v16sf v = __builtin_ia32_maxps512((gannet_v16sf)l, (gannet_v16sf)x, 4 /* current rounding */);
    return (gannet_float16)__builtin_ia32_minps512((gannet_v16sf)h, v, 4);
#else
    gannet_float16 r;
    for (int i = 0; i < 16; i++) {
        float v = x[i] < lo ? lo : x[i];
        r[i] = v > hi ? hi : v;
    }
    return r;
#endif
}

/// Lane-wise conversion of 32-bit integers to float (`vcvtdq2ps`; Swift's generic
/// `SIMD16<Float>(SIMD16<Int32>)` stayed a generic library call that allocates).
typedef int gannet_int32x16 __attribute__((ext_vector_type(16)));
static inline __attribute__((always_inline)) gannet_float16 gannet_int_to_float16(gannet_int32x16 x) {
    return __builtin_convertvector(x, gannet_float16);
}

/// The lanes of the 16 floats at p selected by `mask` (bit l: lane l), `fill` elsewhere;
/// masked-off lanes are not read (so p may point before or past the memory they would read).
static inline __attribute__((always_inline)) gannet_float16 gannet_load_masked16(const float *p, unsigned short mask, float fill) {
#if defined(__AVX512F__)
    typedef float gannet_v16sf __attribute__((__vector_size__(64)));
    gannet_float16 f = fill;
    return (gannet_float16)__builtin_ia32_loadups512_mask(p, (gannet_v16sf)f, mask);
#else
    gannet_float16 v = fill;
    for (int i = 0; i < 16; i++) if (mask & (1u << i)) v[i] = p[i];
    return v;
#endif
}

/// The 16 floats at p (any alignment) by one vector load that the compiler keeps as it is: a
/// kernel that loads overlapping vectors at neighbouring offsets (a 3×3 convolution's taps,
/// p, p + 1, p + 2) otherwise had them merged into fewer loads and lane permutes, which compete
/// with the FMAs for a port (Zen 4: one permute pipe shared with an FMA pipe).
static inline __attribute__((always_inline)) gannet_float16 gannet_load16_exact(const float *p) {
#if defined(__AVX512F__)
    gannet_float16 r;
    __asm__("vmovups %1, %0" : "=v"(r) : "m"(*(const struct { float f[16]; } *)p));
    return r;
#else
    gannet_float16 r;
    for (int i = 0; i < 16; i++) r[i] = p[i];
    return r;
#endif
}

/// The mask of lanes 0 ..< n (none for n ≤ 0, all for n ≥ 16).
static inline __attribute__((always_inline)) unsigned short gannet_first_lanes16(long n) {
    return n >= 16 ? 0xFFFF : n <= 0 ? 0 : (unsigned short)((1u << n) - 1u);
}

/// The first n floats at p (none for n ≤ 0, 16 for n ≥ 16), the other lanes `fill`; nothing past
/// p[n - 1] is read.
static inline __attribute__((always_inline)) gannet_float16 gannet_load_partial16(const float *p, long n, float fill) {
    return gannet_load_masked16(p, gannet_first_lanes16(n), fill);
}

/// Stores the first n lanes of v at p (none for n ≤ 0, 16 for n ≥ 16); nothing past p[n - 1] is
/// written (a masked store).
static inline __attribute__((always_inline)) void gannet_store_partial16(float *p, gannet_float16 v, long n) {
#if defined(__AVX512F__)
    typedef float gannet_v16sf __attribute__((__vector_size__(64)));
    __builtin_ia32_storeups512_mask(p, (gannet_v16sf)v, gannet_first_lanes16(n));
#else
    for (long i = 0; i < n && i < 16; i++) p[i] = v[i];
#endif
}

/// base[idx[i]] in lane i (`vgatherdps`); every index must be readable.
static inline __attribute__((always_inline)) gannet_float16 gannet_gather16(const float *base, gannet_int32x16 idx) {
#if defined(__AVX512F__)
    typedef float gannet_v16sf __attribute__((__vector_size__(64)));
    typedef int gannet_v16si __attribute__((__vector_size__(64)));
    gannet_float16 zero = 0;
    return (gannet_float16)__builtin_ia32_gathersiv16sf((gannet_v16sf)zero, base, (gannet_v16si)idx, (unsigned short)0xFFFF, 4);
#else
    gannet_float16 r;
    for (int i = 0; i < 16; i++) r[i] = base[idx[i]];
    return r;
#endif
}

/// A hint to bring the cache line holding `p` into every cache level (`prefetcht0`); never
/// faults, whatever `p` is.
static inline __attribute__((always_inline)) void gannet_prefetch(const void *p) {
    __builtin_prefetch(p, 0, 3);
}

/// A hint to bring the cache line holding `p` into L2 and outer levels (`prefetcht1`); never
/// faults, whatever `p` is.
static inline __attribute__((always_inline)) void gannet_prefetch_l2(const void *p) {
    __builtin_prefetch(p, 0, 2);
}

#endif
