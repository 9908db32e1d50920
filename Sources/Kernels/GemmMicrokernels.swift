// GemmMicrokernels: the register-tiled SGEMM microkernel. It keeps MR×NR/16 = 24 SIMD16
// accumulators in zmm registers, loads NR/16 = 2 vectors of packed B and broadcasts MR = 12
// packed A values per k step (24 vfmadd231ps zmm, 2 loads, 12 vbroadcastss; no spills:
// checked with objdump). Written out by a small script (one line per accumulator); the code is
// plain and may be edited by hand.

extension Gemm {
    @usableFromInline typealias V = SIMD16<Float>
    /// 12×32 microkernel: C[0..<12, 0..<32] = alpha·(Ap·Bp) (+ beta·C when beta != 0).
    /// `a`: kc steps of 12 values; `b`: kc steps of 32 values.
    @inline(never)
    static func kernel12x32(_ kc: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                          _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ alpha: Float, _ beta: Float) {
        var c0_0 = V(repeating: 0); var c0_1 = V(repeating: 0);
        var c1_0 = V(repeating: 0); var c1_1 = V(repeating: 0);
        var c2_0 = V(repeating: 0); var c2_1 = V(repeating: 0);
        var c3_0 = V(repeating: 0); var c3_1 = V(repeating: 0);
        var c4_0 = V(repeating: 0); var c4_1 = V(repeating: 0);
        var c5_0 = V(repeating: 0); var c5_1 = V(repeating: 0);
        var c6_0 = V(repeating: 0); var c6_1 = V(repeating: 0);
        var c7_0 = V(repeating: 0); var c7_1 = V(repeating: 0);
        var c8_0 = V(repeating: 0); var c8_1 = V(repeating: 0);
        var c9_0 = V(repeating: 0); var c9_1 = V(repeating: 0);
        var c10_0 = V(repeating: 0); var c10_1 = V(repeating: 0);
        var c11_0 = V(repeating: 0); var c11_1 = V(repeating: 0);
        var ap = a
        var bp = UnsafeRawPointer(b)
        var p = 0
        while p < kc {
            let b0 = bp.load(fromByteOffset: 0, as: V.self)
            let b1 = bp.load(fromByteOffset: 64, as: V.self)
            let a0 = V(repeating: ap[0])
            c0_0.addProduct(a0, b0)
            c0_1.addProduct(a0, b1)
            let a1 = V(repeating: ap[1])
            c1_0.addProduct(a1, b0)
            c1_1.addProduct(a1, b1)
            let a2 = V(repeating: ap[2])
            c2_0.addProduct(a2, b0)
            c2_1.addProduct(a2, b1)
            let a3 = V(repeating: ap[3])
            c3_0.addProduct(a3, b0)
            c3_1.addProduct(a3, b1)
            let a4 = V(repeating: ap[4])
            c4_0.addProduct(a4, b0)
            c4_1.addProduct(a4, b1)
            let a5 = V(repeating: ap[5])
            c5_0.addProduct(a5, b0)
            c5_1.addProduct(a5, b1)
            let a6 = V(repeating: ap[6])
            c6_0.addProduct(a6, b0)
            c6_1.addProduct(a6, b1)
            let a7 = V(repeating: ap[7])
            c7_0.addProduct(a7, b0)
            c7_1.addProduct(a7, b1)
            let a8 = V(repeating: ap[8])
            c8_0.addProduct(a8, b0)
            c8_1.addProduct(a8, b1)
            let a9 = V(repeating: ap[9])
            c9_0.addProduct(a9, b0)
            c9_1.addProduct(a9, b1)
            let a10 = V(repeating: ap[10])
            c10_0.addProduct(a10, b0)
            c10_1.addProduct(a10, b1)
            let a11 = V(repeating: ap[11])
            c11_0.addProduct(a11, b0)
            c11_1.addProduct(a11, b1)
            ap += 12
            bp += 128
            p += 1
        }
        let al = V(repeating: alpha)
        if beta == 0 {
            UnsafeMutableRawPointer(c + 0 * ldc + 0).storeBytes(of: c0_0 * al, as: V.self)
            UnsafeMutableRawPointer(c + 0 * ldc + 16).storeBytes(of: c0_1 * al, as: V.self)
            UnsafeMutableRawPointer(c + 1 * ldc + 0).storeBytes(of: c1_0 * al, as: V.self)
            UnsafeMutableRawPointer(c + 1 * ldc + 16).storeBytes(of: c1_1 * al, as: V.self)
            UnsafeMutableRawPointer(c + 2 * ldc + 0).storeBytes(of: c2_0 * al, as: V.self)
            UnsafeMutableRawPointer(c + 2 * ldc + 16).storeBytes(of: c2_1 * al, as: V.self)
            UnsafeMutableRawPointer(c + 3 * ldc + 0).storeBytes(of: c3_0 * al, as: V.self)
            UnsafeMutableRawPointer(c + 3 * ldc + 16).storeBytes(of: c3_1 * al, as: V.self)
            UnsafeMutableRawPointer(c + 4 * ldc + 0).storeBytes(of: c4_0 * al, as: V.self)
            UnsafeMutableRawPointer(c + 4 * ldc + 16).storeBytes(of: c4_1 * al, as: V.self)
            UnsafeMutableRawPointer(c + 5 * ldc + 0).storeBytes(of: c5_0 * al, as: V.self)
            UnsafeMutableRawPointer(c + 5 * ldc + 16).storeBytes(of: c5_1 * al, as: V.self)
            UnsafeMutableRawPointer(c + 6 * ldc + 0).storeBytes(of: c6_0 * al, as: V.self)
            UnsafeMutableRawPointer(c + 6 * ldc + 16).storeBytes(of: c6_1 * al, as: V.self)
            UnsafeMutableRawPointer(c + 7 * ldc + 0).storeBytes(of: c7_0 * al, as: V.self)
            UnsafeMutableRawPointer(c + 7 * ldc + 16).storeBytes(of: c7_1 * al, as: V.self)
            UnsafeMutableRawPointer(c + 8 * ldc + 0).storeBytes(of: c8_0 * al, as: V.self)
            UnsafeMutableRawPointer(c + 8 * ldc + 16).storeBytes(of: c8_1 * al, as: V.self)
            UnsafeMutableRawPointer(c + 9 * ldc + 0).storeBytes(of: c9_0 * al, as: V.self)
            UnsafeMutableRawPointer(c + 9 * ldc + 16).storeBytes(of: c9_1 * al, as: V.self)
            UnsafeMutableRawPointer(c + 10 * ldc + 0).storeBytes(of: c10_0 * al, as: V.self)
            UnsafeMutableRawPointer(c + 10 * ldc + 16).storeBytes(of: c10_1 * al, as: V.self)
            UnsafeMutableRawPointer(c + 11 * ldc + 0).storeBytes(of: c11_0 * al, as: V.self)
            UnsafeMutableRawPointer(c + 11 * ldc + 16).storeBytes(of: c11_1 * al, as: V.self)
        } else {
            let be = V(repeating: beta)
            do { let q = UnsafeMutableRawPointer(c + 0 * ldc + 0); q.storeBytes(of: c0_0 * al + q.loadUnaligned(as: V.self) * be, as: V.self) }
            do { let q = UnsafeMutableRawPointer(c + 0 * ldc + 16); q.storeBytes(of: c0_1 * al + q.loadUnaligned(as: V.self) * be, as: V.self) }
            do { let q = UnsafeMutableRawPointer(c + 1 * ldc + 0); q.storeBytes(of: c1_0 * al + q.loadUnaligned(as: V.self) * be, as: V.self) }
            do { let q = UnsafeMutableRawPointer(c + 1 * ldc + 16); q.storeBytes(of: c1_1 * al + q.loadUnaligned(as: V.self) * be, as: V.self) }
            do { let q = UnsafeMutableRawPointer(c + 2 * ldc + 0); q.storeBytes(of: c2_0 * al + q.loadUnaligned(as: V.self) * be, as: V.self) }
            do { let q = UnsafeMutableRawPointer(c + 2 * ldc + 16); q.storeBytes(of: c2_1 * al + q.loadUnaligned(as: V.self) * be, as: V.self) }
            do { let q = UnsafeMutableRawPointer(c + 3 * ldc + 0); q.storeBytes(of: c3_0 * al + q.loadUnaligned(as: V.self) * be, as: V.self) }
            do { let q = UnsafeMutableRawPointer(c + 3 * ldc + 16); q.storeBytes(of: c3_1 * al + q.loadUnaligned(as: V.self) * be, as: V.self) }
            do { let q = UnsafeMutableRawPointer(c + 4 * ldc + 0); q.storeBytes(of: c4_0 * al + q.loadUnaligned(as: V.self) * be, as: V.self) }
            do { let q = UnsafeMutableRawPointer(c + 4 * ldc + 16); q.storeBytes(of: c4_1 * al + q.loadUnaligned(as: V.self) * be, as: V.self) }
            do { let q = UnsafeMutableRawPointer(c + 5 * ldc + 0); q.storeBytes(of: c5_0 * al + q.loadUnaligned(as: V.self) * be, as: V.self) }
            do { let q = UnsafeMutableRawPointer(c + 5 * ldc + 16); q.storeBytes(of: c5_1 * al + q.loadUnaligned(as: V.self) * be, as: V.self) }
            do { let q = UnsafeMutableRawPointer(c + 6 * ldc + 0); q.storeBytes(of: c6_0 * al + q.loadUnaligned(as: V.self) * be, as: V.self) }
            do { let q = UnsafeMutableRawPointer(c + 6 * ldc + 16); q.storeBytes(of: c6_1 * al + q.loadUnaligned(as: V.self) * be, as: V.self) }
            do { let q = UnsafeMutableRawPointer(c + 7 * ldc + 0); q.storeBytes(of: c7_0 * al + q.loadUnaligned(as: V.self) * be, as: V.self) }
            do { let q = UnsafeMutableRawPointer(c + 7 * ldc + 16); q.storeBytes(of: c7_1 * al + q.loadUnaligned(as: V.self) * be, as: V.self) }
            do { let q = UnsafeMutableRawPointer(c + 8 * ldc + 0); q.storeBytes(of: c8_0 * al + q.loadUnaligned(as: V.self) * be, as: V.self) }
            do { let q = UnsafeMutableRawPointer(c + 8 * ldc + 16); q.storeBytes(of: c8_1 * al + q.loadUnaligned(as: V.self) * be, as: V.self) }
            do { let q = UnsafeMutableRawPointer(c + 9 * ldc + 0); q.storeBytes(of: c9_0 * al + q.loadUnaligned(as: V.self) * be, as: V.self) }
            do { let q = UnsafeMutableRawPointer(c + 9 * ldc + 16); q.storeBytes(of: c9_1 * al + q.loadUnaligned(as: V.self) * be, as: V.self) }
            do { let q = UnsafeMutableRawPointer(c + 10 * ldc + 0); q.storeBytes(of: c10_0 * al + q.loadUnaligned(as: V.self) * be, as: V.self) }
            do { let q = UnsafeMutableRawPointer(c + 10 * ldc + 16); q.storeBytes(of: c10_1 * al + q.loadUnaligned(as: V.self) * be, as: V.self) }
            do { let q = UnsafeMutableRawPointer(c + 11 * ldc + 0); q.storeBytes(of: c11_0 * al + q.loadUnaligned(as: V.self) * be, as: V.self) }
            do { let q = UnsafeMutableRawPointer(c + 11 * ldc + 16); q.storeBytes(of: c11_1 * al + q.loadUnaligned(as: V.self) * be, as: V.self) }
        }
    }

}
