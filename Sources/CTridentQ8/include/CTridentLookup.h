// Lane operations for the 16-lane decode loops in TridentKernels that Swift cannot spell as
// single instructions: a 16-entry float table lookup (the IQ4 grid) and an OR under a bit
// mask (the q5 fifth bits). Swift has no variable lane shuffle or mask registers, and its
// lane loops compile to scalar code; these static inline functions are imported into Swift
// and inlined there, so with AVX-512F each is one instruction. Without it (other CPUs, or a
// portable build) they are plain loops with the same results.
#ifndef CTRIDENTLOOKUP_H
#define CTRIDENTLOOKUP_H

#include <stdint.h>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

/// 16 floats (Swift sees `SIMD16<Float>`).
typedef float trident_f32x16 __attribute__((ext_vector_type(16)));
/// 16 unsigned 32-bit lanes (Swift sees `SIMD16<UInt32>`).
typedef uint32_t trident_u32x16 __attribute__((ext_vector_type(16)));

/// result[i] = table[index[i] & 15] for i in 0..<16 (only the low 4 bits of each index
/// count): one `vpermps` with AVX-512F.
static inline __attribute__((always_inline))
trident_f32x16 trident_lookup16(trident_f32x16 table, trident_u32x16 index) {
#if defined(__AVX512F__)
    return (trident_f32x16)_mm512_permutexvar_ps((__m512i)index, (__m512)table);
#else
    trident_f32x16 result;
    for (int i = 0; i < 16; i++) { result[i] = table[index[i] & 15]; }
    return result;
#endif
}

/// result[i] = value[i] | (bit i of `bits` set ? `add` : 0): with AVX-512F one masked
/// `vpord` whose mask register is `bits` itself.
static inline __attribute__((always_inline))
trident_u32x16 trident_or_where16(trident_u32x16 value, uint16_t bits, uint32_t add) {
#if defined(__AVX512F__)
    return (trident_u32x16)_mm512_mask_or_epi32((__m512i)value, (__mmask16)bits, (__m512i)value,
                                                _mm512_set1_epi32((int)add));
#else
    trident_u32x16 result;
    for (int i = 0; i < 16; i++) { result[i] = value[i] | (((bits >> i) & 1) ? add : 0); }
    return result;
#endif
}

/// bytes[j] zero-extended to 32 bits, j in 0..<16 (one `vpmovzxbd` with AVX-512F). The empty
/// asm statement makes the result opaque to LLVM: otherwise, seeing zero-extended bytes, it
/// moves a following `>> 4` before the widening (a byte shift plus a second widening, both on
/// the shuffle port that `trident_lookup16` also uses).
static inline __attribute__((always_inline))
trident_u32x16 trident_widen_bytes16(const uint8_t *bytes) {
#if defined(__AVX512F__)
    __m512i wide = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)bytes));
    __asm__("" : "+v"(wide));
    return (trident_u32x16)wide;
#else
    trident_u32x16 result;
    for (int j = 0; j < 16; j++) { result[j] = bytes[j]; }
    return result;
#endif
}

/// 16 IEEE half-precision values -> 16 floats (one `vcvtph2ps` with AVX-512F); exact.
static inline __attribute__((always_inline))
trident_f32x16 trident_halves16(const uint16_t *halves) {
#if defined(__AVX512F__)
    return (trident_f32x16)_mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)halves));
#else
    trident_f32x16 result;
    for (int i = 0; i < 16; i++) {
        uint32_t h = halves[i], sign = (h & 0x8000u) << 16, exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff;
        uint32_t bits;
        if (exponent == 0x1f) {
            bits = sign | 0x7f800000u | (mantissa << 13);
        } else if (exponent != 0) {
            bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
        } else if (mantissa == 0) {
            bits = sign;
        } else {
            int shift = 0;
            while ((mantissa & 0x400) == 0) { mantissa <<= 1; shift++; }
            bits = sign | ((uint32_t)(113 - shift) << 23) | ((mantissa & 0x3ff) << 13);
        }
        union { uint32_t u; float f; } value = { bits };
        result[i] = value.f;
    }
    return result;
#endif
}

/// 16 signed bytes as 16 floats (`vpmovsxbd` + `vcvtdq2ps` with AVX-512F); exact.
static inline __attribute__((always_inline))
trident_f32x16 trident_int8_to_floats16(const int8_t *bytes) {
#if defined(__AVX512F__)
    __m512i wide = _mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)bytes));
    return (trident_f32x16)_mm512_cvtepi32_ps(wide);
#else
    trident_f32x16 result;
    for (int j = 0; j < 16; j++) { result[j] = (float)bytes[j]; }
    return result;
#endif
}

/// acc + w * x[0] in all 16 lanes, the float broadcast straight from memory into the
/// multiply-add (one `vfmadd231ps m32{1to16}` with AVX-512F). Written as assembly so that LLVM
/// neither merges neighbouring x loads into vectors nor reorders the chains.
static inline __attribute__((always_inline))
trident_f32x16 trident_fma_splat16(trident_f32x16 acc, trident_f32x16 w, const float *x) {
#if defined(__AVX512F__)
    __m512 a = (__m512)acc;
    __asm__("vfmadd231ps %[x]%{1to16%}, %[w], %[a]" : [a] "+v"(a) : [w] "v"((__m512)w), [x] "m"(*x));
    return (trident_f32x16)a;
#else
    trident_f32x16 result;
    for (int i = 0; i < 16; i++) { result[i] = __builtin_fmaf(w[i], *x, acc[i]); }
    return result;
#endif
}

/// Asks for the cache line at `p` ahead of use (`prefetcht0`); never faults.
static inline __attribute__((always_inline))
void trident_prefetch(const void *p) {
    __builtin_prefetch(p, 0, 3);
}

/// Stores lanes `first ..< first + count` of `v` to `dst[0 ..< count]` (one masked
/// `vmovups` with AVX-512F; lanes outside the mask are not touched).
static inline __attribute__((always_inline))
void trident_store_lanes16(float *dst, trident_f32x16 v, int first, int count) {
#if defined(__AVX512F__)
    __mmask16 mask = (__mmask16)(((1u << count) - 1u) << first);
    _mm512_mask_storeu_ps(dst - first, mask, (__m512)v);
#else
    for (int i = 0; i < count; i++) { dst[i] = v[first + i]; }
#endif
}

#endif
