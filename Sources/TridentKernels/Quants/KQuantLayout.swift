/// Byte layouts of the 256-element super-blocks (ggml's `block_q*_K`, `block_iq4_xs`),
/// as offsets into one block. Element order within a super-block follows ggml's reference
/// dequantizers; the kernels in `DequantizeKQuants.swift` and `RowDotKQuants.swift` spell
/// out which bits make which element.
enum KQuantLayout {
    /// Q2_K (84 bytes): 16 scale bytes (low nibble scale, high nibble min, per 16 elements),
    /// 64 bytes of 2-bit values, f16 `d`, f16 `dmin`. value = d·sc·q − dmin·m.
    enum Q2 { static let scales = 0, qs = 16, d = 80, dmin = 82 }
    /// Q3_K (110 bytes): 32 bytes high-bit mask, 64 bytes of 2-bit low parts, 12 bytes of
    /// packed 6-bit scales (per 16 elements), f16 `d`. value = d·(sc − 32)·(q − 4).
    enum Q3 { static let hmask = 0, qs = 32, scales = 96, d = 108 }
    /// Q4_K (144 bytes): f16 `d`, f16 `dmin`, 12 bytes of 6-bit scales and mins (per 32
    /// elements), 128 nibble bytes. value = d·sc·q − dmin·m.
    enum Q4 { static let d = 0, dmin = 2, scales = 4, qs = 16 }
    /// Q5_K (176 bytes): as Q4_K with 32 bytes of fifth bits before the nibbles.
    enum Q5 { static let d = 0, dmin = 2, scales = 4, qh = 16, qs = 48 }
    /// Q6_K (210 bytes): 128 bytes of low nibbles, 64 bytes of 2-bit high parts, 16 int8
    /// scales (per 16 elements), f16 `d`. value = d·sc·(q − 32).
    enum Q6 { static let ql = 0, qh = 128, scales = 192, d = 208 }
    /// IQ4_XS (136 bytes): f16 `d`, u16 high scale bits, 4 bytes of low scale nibbles, 128
    /// nibble bytes (8 sub-blocks of 32 laid out as `iq4_nl`). value = d·(sc − 32)·iq4[q].
    enum IQ4XS { static let d = 0, scalesHigh = 2, scalesLow = 4, qs = 8 }
}
