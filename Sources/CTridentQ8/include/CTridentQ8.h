// Integer dot products of Q8_0 weight rows with 8-bit quantized activations, one entry point
// per x86 instruction set (each compiled for its own target features and chosen at run time by
// `Q8DotPath` in TridentKernels). On other architectures every function is absent and
// `trident_q8_x86_available` returns 0.
//
// Activations (one token), `blocks` blocks of 32 values, produced by `Q8Activations.quantize`:
//   xq     int8  [blocks * 32]  round(x / d), |q| <= 127
//   xscale float [blocks * 8]   each block's scale d, repeated 8 times (one per int32 lane)
//   xcorr  int32 [blocks * 8]   -128 * (sum of the 4 quants that feed each int32 lane)
// Weights: Q8_0 rows of `blocks` 34-byte blocks (f16 scale, 32 int8), rows `rowStride` bytes apart.
#ifndef CTRIDENTQ8_H
#define CTRIDENTQ8_H

#include <stddef.h>
#include <stdint.h>
#include "CTridentLookup.h"

/// 1 when this build has the x86 kernels below.
int trident_q8_x86_available(void);

/// out[r] = sum_c w[r, c] * x[c] for r in [rowBegin, rowEnd), with AVX-512 VNNI (vpdpbusd, 512-bit).
void trident_q8_0_rows_avx512vnni(const uint8_t *w, size_t rowStride, long rowBegin, long rowEnd,
                                  const int8_t *xq, const float *xscale, const int32_t *xcorr,
                                  long blocks, float *out);
/// The same with AVX-VNNI (vpdpbusd, 256-bit, VEX).
void trident_q8_0_rows_avxvnni(const uint8_t *w, size_t rowStride, long rowBegin, long rowEnd,
                               const int8_t *xq, const float *xscale, const int32_t *xcorr,
                               long blocks, float *out);
/// The same with AVX2 (vpmaddubsw / vpmaddwd on |w| and sign-adjusted x).
void trident_q8_0_rows_avx2(const uint8_t *w, size_t rowStride, long rowBegin, long rowEnd,
                            const int8_t *xq, const float *xscale, const int32_t *xcorr,
                            long blocks, float *out);

/// Packs Q8_0 rows [rowBegin, rowEnd) (at most 4) for `trident_q8_0_tile4_avx512vnni`:
/// `packed` gets rows * blocks * 32 bytes (quants + 128, as unsigned), `packedScale` gets
/// rows * blocks * 8 floats (each block's f16 scale as float, repeated 8 times).
void trident_q8_0_pack4(const uint8_t *w, size_t rowStride, long rowBegin, long rowEnd, long blocks,
                        uint8_t *packed, float *packedScale);

/// out[t * outStride + r] for 4 packed rows (`rowCount` <= 4 valid) and `tokens` tokens whose
/// activations lie `blocks` blocks apart (xq: tokens * blocks * 32; xscale, xcorr: tokens * blocks * 8).
void trident_q8_0_tile4_avx512vnni(const uint8_t *packed, const float *packedScale, long rowCount,
                                   const int8_t *xq, const float *xscale, const int32_t *xcorr,
                                   long tokens, long blocks, float *out, size_t outStride);

#endif
