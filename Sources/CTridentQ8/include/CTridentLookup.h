// A 16-entry float table lookup for the 16-lane decode loops in TridentKernels (the IQ4
// grid, nibble -> value tables). Swift has no variable lane shuffle, and a lane loop of
// table reads compiles to 16 scalar loads; this static inline function is imported into
// Swift and inlined there, so with AVX-512F it is one `vpermps`.
#ifndef CTRIDENTLOOKUP_H
#define CTRIDENTLOOKUP_H

#include <stdint.h>

/// 16 floats (Swift sees `SIMD16<Float>`).
typedef float trident_f32x16 __attribute__((ext_vector_type(16)));
/// 16 unsigned 32-bit lanes (Swift sees `SIMD16<UInt32>`).
typedef uint32_t trident_u32x16 __attribute__((ext_vector_type(16)));

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

/// result[i] = table[index[i] & 15] for i in 0..<16 (only the low 4 bits of each index count).
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

#endif
