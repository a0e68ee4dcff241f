// Q8_0 weight rows x 8-bit activations (see CTridentQ8.h for the layouts). Each kernel is
// compiled for its own instruction set with a target attribute, so one binary carries them all
// and TridentKernels picks one from the CPU's flags. Unsigned x signed byte products:
// vpdpbusd multiplies unsigned bytes by signed ones, so weights are biased by +128 (w ^ 0x80)
// and the activation's precomputed -128 * sum(x) (xcorr) starts each accumulator; the result
// is the exact integer dot product. The AVX2 path instead multiplies |w| by x * sign(w).
#include "CTridentQ8.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <string.h>

int trident_q8_x86_available(void) { return 1; }

#define T512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")))
#define TVNNI __attribute__((target("avxvnni,avx2,fma,f16c")))
#define TAVX2 __attribute__((target("avx2,fma,f16c")))
#define INLINE static inline __attribute__((always_inline))

/// The f16 at p (unaligned) as a float.
__attribute__((target("f16c"))) INLINE float half_at(const uint8_t *p) {
    uint16_t h;
    memcpy(&h, p, 2);
    return _cvtsh_ss(h);
}

__attribute__((target("avx2"))) INLINE float hsum256(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

// ---- AVX-512 VNNI ------------------------------------------------------------------------

/// [d(b0) x 8, d(b1) x 8] from the f16 scales at the start of two blocks.
T512 INLINE __m512 scale_pair(const uint8_t *b0, const uint8_t *b1) {
    uint16_t h0, h1;
    memcpy(&h0, b0, 2);
    memcpy(&h1, b1, 2);
    __m256i h = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_set1_epi16((short)h0)),
                                        _mm_set1_epi16((short)h1), 1);
    return _mm512_cvtph_ps(h);
}

/// Quants of blocks b0 and b1 (each 32 bytes after its scale), biased to unsigned.
T512 INLINE __m512i quants_pair(const uint8_t *b0, const uint8_t *b1) {
    __m512i q = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)(b0 + 2))),
                                   _mm256_loadu_si256((const __m256i *)(b1 + 2)), 1);
    return _mm512_xor_si512(q, _mm512_set1_epi8((char)0x80));
}

/// One block with 256-bit VNNI: lane-wise float partial sums d_w * d_x * dot.
T512 INLINE __m256 block_512vl(const uint8_t *blk, const int8_t *xq, const float *xs, const int32_t *xc) {
    __m256i q = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(blk + 2)), _mm256_set1_epi8((char)0x80));
    __m256i dot = _mm256_dpbusd_epi32(_mm256_loadu_si256((const __m256i *)xc), q,
                                      _mm256_loadu_si256((const __m256i *)xq));
    __m256 f = _mm256_mul_ps(_mm256_cvtepi32_ps(dot), _mm256_loadu_ps(xs));
    return _mm256_mul_ps(f, _mm256_set1_ps(half_at(blk)));
}

T512 void trident_q8_0_rows_avx512vnni(const uint8_t *w, size_t rowStride, long rowBegin, long rowEnd,
                                       const int8_t *xq, const float *xscale, const int32_t *xcorr,
                                       long blocks, float *out) {
    long r = rowBegin;
    for (; r + 2 <= rowEnd; r += 2) {
        const uint8_t *row0 = w + (size_t)r * rowStride, *row1 = row0 + rowStride;
        __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
        long b = 0;
        for (; b + 2 <= blocks; b += 2) {
            __m512i x = _mm512_loadu_si512(xq + b * 32);
            __m512i c = _mm512_loadu_si512(xcorr + b * 8);
            __m512 s = _mm512_loadu_ps(xscale + b * 8);
            const uint8_t *a0 = row0 + b * 34, *a1 = row1 + b * 34;
            __m512i d0 = _mm512_dpbusd_epi32(c, quants_pair(a0, a0 + 34), x);
            __m512i d1 = _mm512_dpbusd_epi32(c, quants_pair(a1, a1 + 34), x);
            acc0 = _mm512_fmadd_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(d0), s), scale_pair(a0, a0 + 34), acc0);
            acc1 = _mm512_fmadd_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(d1), s), scale_pair(a1, a1 + 34), acc1);
        }
        float s0 = _mm512_reduce_add_ps(acc0), s1 = _mm512_reduce_add_ps(acc1);
        if (b < blocks) {
            s0 += hsum256(block_512vl(row0 + b * 34, xq + b * 32, xscale + b * 8, xcorr + b * 8));
            s1 += hsum256(block_512vl(row1 + b * 34, xq + b * 32, xscale + b * 8, xcorr + b * 8));
        }
        out[r] = s0;
        out[r + 1] = s1;
    }
    if (r < rowEnd) {
        const uint8_t *row = w + (size_t)r * rowStride;
        __m512 acc = _mm512_setzero_ps();
        long b = 0;
        for (; b + 2 <= blocks; b += 2) {
            const uint8_t *a = row + b * 34;
            __m512i d = _mm512_dpbusd_epi32(_mm512_loadu_si512(xcorr + b * 8), quants_pair(a, a + 34),
                                            _mm512_loadu_si512(xq + b * 32));
            acc = _mm512_fmadd_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(d), _mm512_loadu_ps(xscale + b * 8)),
                                  scale_pair(a, a + 34), acc);
        }
        float s = _mm512_reduce_add_ps(acc);
        if (b < blocks) s += hsum256(block_512vl(row + b * 34, xq + b * 32, xscale + b * 8, xcorr + b * 8));
        out[r] = s;
    }
}

void trident_q8_0_pack4(const uint8_t *w, size_t rowStride, long rowBegin, long rowEnd, long blocks,
                        uint8_t *packed, float *packedScale) {
    for (long i = 0; i < 4; i++) {
        long r = rowBegin + i;
        uint8_t *q = packed + i * blocks * 32;
        float *s = packedScale + i * blocks * 8;
        if (r >= rowEnd) {
            memset(q, 0x80, (size_t)blocks * 32);
            memset(s, 0, (size_t)blocks * 8 * sizeof(float));
            continue;
        }
        const uint8_t *row = w + (size_t)r * rowStride;
        for (long b = 0; b < blocks; b++) {
            const uint8_t *blk = row + b * 34;
            uint16_t h;
            memcpy(&h, blk, 2);
            // IEEE binary16 -> float without F16C (this function has no target attribute).
            uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1F, man = h & 0x3FF, bits;
            if (exp == 0x1F) bits = sign | 0x7F800000u | (man << 13);
            else if (exp != 0) bits = sign | ((exp + 112) << 23) | (man << 13);
            else if (man == 0) bits = sign;
            else {
                int e = 113;
                while ((man & 0x400) == 0) { man <<= 1; e--; }
                bits = sign | ((uint32_t)e << 23) | ((man & 0x3FF) << 13);
            }
            float d;
            memcpy(&d, &bits, 4);
            for (int j = 0; j < 32; j++) q[b * 32 + j] = (uint8_t)(blk[2 + j] ^ 0x80);
            for (int j = 0; j < 8; j++) s[b * 8 + j] = d;
        }
    }
}

/// 4 packed rows x NT tokens (NT = 1 or 2, a constant after inlining).
T512 INLINE void tile4_tokens(const uint8_t *pk, const float *ps, const int8_t *xq, const float *xs,
                              const int32_t *xc, long blocks, int NT, float *out, size_t outStride, long rowCount) {
    __m512 acc[4][2];
    for (int i = 0; i < 4; i++) for (int j = 0; j < NT; j++) acc[i][j] = _mm512_setzero_ps();
    long b = 0;
    for (; b + 2 <= blocks; b += 2) {
        __m512i x[2], c[2];
        __m512 s[2];
        for (int j = 0; j < NT; j++) {
            x[j] = _mm512_loadu_si512(xq + (j * blocks + b) * 32);
            c[j] = _mm512_loadu_si512(xc + (j * blocks + b) * 8);
            s[j] = _mm512_loadu_ps(xs + (j * blocks + b) * 8);
        }
        for (int i = 0; i < 4; i++) {
            __m512i q = _mm512_loadu_si512(pk + (i * blocks + b) * 32);
            __m512 d = _mm512_loadu_ps(ps + (i * blocks + b) * 8);
            for (int j = 0; j < NT; j++) {
                __m512i dot = _mm512_dpbusd_epi32(c[j], q, x[j]);
                acc[i][j] = _mm512_fmadd_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(dot), s[j]), d, acc[i][j]);
            }
        }
    }
    for (int i = 0; i < 4; i++) {
        for (int j = 0; j < NT; j++) {
            float sum = _mm512_reduce_add_ps(acc[i][j]);
            if (b < blocks) {
                long xo = j * blocks + b, wo = i * blocks + b;
                __m256i dot = _mm256_dpbusd_epi32(_mm256_loadu_si256((const __m256i *)(xc + xo * 8)),
                                                  _mm256_loadu_si256((const __m256i *)(pk + wo * 32)),
                                                  _mm256_loadu_si256((const __m256i *)(xq + xo * 32)));
                __m256 f = _mm256_mul_ps(_mm256_cvtepi32_ps(dot), _mm256_loadu_ps(xs + xo * 8));
                sum += hsum256(_mm256_mul_ps(f, _mm256_loadu_ps(ps + wo * 8)));
            }
            if (i < rowCount) out[j * outStride + i] = sum;
        }
    }
}

T512 void trident_q8_0_tile4_avx512vnni(const uint8_t *packed, const float *packedScale, long rowCount,
                                        const int8_t *xq, const float *xscale, const int32_t *xcorr,
                                        long tokens, long blocks, float *out, size_t outStride) {
    long t = 0;
    for (; t + 2 <= tokens; t += 2)
        tile4_tokens(packed, packedScale, xq + t * blocks * 32, xscale + t * blocks * 8, xcorr + t * blocks * 8,
                     blocks, 2, out + t * outStride, outStride, rowCount);
    if (t < tokens)
        tile4_tokens(packed, packedScale, xq + t * blocks * 32, xscale + t * blocks * 8, xcorr + t * blocks * 8,
                     blocks, 1, out + t * outStride, outStride, rowCount);
}

// ---- AVX-VNNI (256-bit) --------------------------------------------------------------------

TVNNI void trident_q8_0_rows_avxvnni(const uint8_t *w, size_t rowStride, long rowBegin, long rowEnd,
                                     const int8_t *xq, const float *xscale, const int32_t *xcorr,
                                     long blocks, float *out) {
    const __m256i bias = _mm256_set1_epi8((char)0x80);
    for (long r = rowBegin; r < rowEnd; r++) {
        const uint8_t *row = w + (size_t)r * rowStride;
        __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
        for (long b = 0; b < blocks; b++) {
            const uint8_t *blk = row + b * 34;
            __m256i q = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(blk + 2)), bias);
            __m256i dot = _mm256_dpbusd_avx_epi32(_mm256_loadu_si256((const __m256i *)(xcorr + b * 8)), q,
                                                  _mm256_loadu_si256((const __m256i *)(xq + b * 32)));
            __m256 f = _mm256_mul_ps(_mm256_cvtepi32_ps(dot), _mm256_loadu_ps(xscale + b * 8));
            if (b & 1) acc1 = _mm256_fmadd_ps(f, _mm256_set1_ps(half_at(blk)), acc1);
            else acc0 = _mm256_fmadd_ps(f, _mm256_set1_ps(half_at(blk)), acc0);
        }
        out[r] = hsum256(_mm256_add_ps(acc0, acc1));
    }
}

// ---- AVX2 (no VNNI) ------------------------------------------------------------------------

TAVX2 void trident_q8_0_rows_avx2(const uint8_t *w, size_t rowStride, long rowBegin, long rowEnd,
                                  const int8_t *xq, const float *xscale, const int32_t *xcorr,
                                  long blocks, float *out) {
    (void)xcorr;
    const __m256i ones = _mm256_set1_epi16(1);
    for (long r = rowBegin; r < rowEnd; r++) {
        const uint8_t *row = w + (size_t)r * rowStride;
        __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
        for (long b = 0; b < blocks; b++) {
            const uint8_t *blk = row + b * 34;
            __m256i q = _mm256_loadu_si256((const __m256i *)(blk + 2));
            __m256i x = _mm256_loadu_si256((const __m256i *)(xq + b * 32));
            // |w| (unsigned; -128 becomes 128) times x with w's sign: pairs of products stay
            // within int16 because |x| <= 127.
            __m256i pairs = _mm256_maddubs_epi16(_mm256_sign_epi8(q, q), _mm256_sign_epi8(x, q));
            __m256i dot = _mm256_madd_epi16(pairs, ones);
            __m256 f = _mm256_mul_ps(_mm256_cvtepi32_ps(dot), _mm256_loadu_ps(xscale + b * 8));
            if (b & 1) acc1 = _mm256_fmadd_ps(f, _mm256_set1_ps(half_at(blk)), acc1);
            else acc0 = _mm256_fmadd_ps(f, _mm256_set1_ps(half_at(blk)), acc0);
        }
        out[r] = hsum256(_mm256_add_ps(acc0, acc1));
    }
}

#else
int trident_q8_x86_available(void) { return 0; }
#endif
