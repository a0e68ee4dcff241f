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

#endif
