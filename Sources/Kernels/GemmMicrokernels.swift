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

extension Gemm {
    /// Transposes the 16×16 block whose rows are `src + r·lds` (16 floats each) into
    /// `dst + t·ldd` (16 floats each): dst[t][r] = src[r][t]. Four rounds of even/odd unzips
    /// (each a two-source permute); every round rotates the 8-bit (row, column) index by one.
    @inline(__always)
    static func transpose16(_ src: UnsafePointer<Float>, _ lds: Int, _ dst: UnsafeMutablePointer<Float>, _ ldd: Int) {
        var r0 = UnsafeRawPointer(src + 0 * lds).loadUnaligned(as: V.self)
        var r1 = UnsafeRawPointer(src + 1 * lds).loadUnaligned(as: V.self)
        var r2 = UnsafeRawPointer(src + 2 * lds).loadUnaligned(as: V.self)
        var r3 = UnsafeRawPointer(src + 3 * lds).loadUnaligned(as: V.self)
        var r4 = UnsafeRawPointer(src + 4 * lds).loadUnaligned(as: V.self)
        var r5 = UnsafeRawPointer(src + 5 * lds).loadUnaligned(as: V.self)
        var r6 = UnsafeRawPointer(src + 6 * lds).loadUnaligned(as: V.self)
        var r7 = UnsafeRawPointer(src + 7 * lds).loadUnaligned(as: V.self)
        var r8 = UnsafeRawPointer(src + 8 * lds).loadUnaligned(as: V.self)
        var r9 = UnsafeRawPointer(src + 9 * lds).loadUnaligned(as: V.self)
        var r10 = UnsafeRawPointer(src + 10 * lds).loadUnaligned(as: V.self)
        var r11 = UnsafeRawPointer(src + 11 * lds).loadUnaligned(as: V.self)
        var r12 = UnsafeRawPointer(src + 12 * lds).loadUnaligned(as: V.self)
        var r13 = UnsafeRawPointer(src + 13 * lds).loadUnaligned(as: V.self)
        var r14 = UnsafeRawPointer(src + 14 * lds).loadUnaligned(as: V.self)
        var r15 = UnsafeRawPointer(src + 15 * lds).loadUnaligned(as: V.self)
        for _ in 0..<4 {
            let n0 = V(lowHalf: r0.evenHalf, highHalf: r1.evenHalf)
            let n8 = V(lowHalf: r0.oddHalf, highHalf: r1.oddHalf)
            let n1 = V(lowHalf: r2.evenHalf, highHalf: r3.evenHalf)
            let n9 = V(lowHalf: r2.oddHalf, highHalf: r3.oddHalf)
            let n2 = V(lowHalf: r4.evenHalf, highHalf: r5.evenHalf)
            let n10 = V(lowHalf: r4.oddHalf, highHalf: r5.oddHalf)
            let n3 = V(lowHalf: r6.evenHalf, highHalf: r7.evenHalf)
            let n11 = V(lowHalf: r6.oddHalf, highHalf: r7.oddHalf)
            let n4 = V(lowHalf: r8.evenHalf, highHalf: r9.evenHalf)
            let n12 = V(lowHalf: r8.oddHalf, highHalf: r9.oddHalf)
            let n5 = V(lowHalf: r10.evenHalf, highHalf: r11.evenHalf)
            let n13 = V(lowHalf: r10.oddHalf, highHalf: r11.oddHalf)
            let n6 = V(lowHalf: r12.evenHalf, highHalf: r13.evenHalf)
            let n14 = V(lowHalf: r12.oddHalf, highHalf: r13.oddHalf)
            let n7 = V(lowHalf: r14.evenHalf, highHalf: r15.evenHalf)
            let n15 = V(lowHalf: r14.oddHalf, highHalf: r15.oddHalf)
            r0 = n0
            r1 = n1
            r2 = n2
            r3 = n3
            r4 = n4
            r5 = n5
            r6 = n6
            r7 = n7
            r8 = n8
            r9 = n9
            r10 = n10
            r11 = n11
            r12 = n12
            r13 = n13
            r14 = n14
            r15 = n15
        }
        UnsafeMutableRawPointer(dst + 0 * ldd).storeBytes(of: r0, as: V.self)
        UnsafeMutableRawPointer(dst + 1 * ldd).storeBytes(of: r1, as: V.self)
        UnsafeMutableRawPointer(dst + 2 * ldd).storeBytes(of: r2, as: V.self)
        UnsafeMutableRawPointer(dst + 3 * ldd).storeBytes(of: r3, as: V.self)
        UnsafeMutableRawPointer(dst + 4 * ldd).storeBytes(of: r4, as: V.self)
        UnsafeMutableRawPointer(dst + 5 * ldd).storeBytes(of: r5, as: V.self)
        UnsafeMutableRawPointer(dst + 6 * ldd).storeBytes(of: r6, as: V.self)
        UnsafeMutableRawPointer(dst + 7 * ldd).storeBytes(of: r7, as: V.self)
        UnsafeMutableRawPointer(dst + 8 * ldd).storeBytes(of: r8, as: V.self)
        UnsafeMutableRawPointer(dst + 9 * ldd).storeBytes(of: r9, as: V.self)
        UnsafeMutableRawPointer(dst + 10 * ldd).storeBytes(of: r10, as: V.self)
        UnsafeMutableRawPointer(dst + 11 * ldd).storeBytes(of: r11, as: V.self)
        UnsafeMutableRawPointer(dst + 12 * ldd).storeBytes(of: r12, as: V.self)
        UnsafeMutableRawPointer(dst + 13 * ldd).storeBytes(of: r13, as: V.self)
        UnsafeMutableRawPointer(dst + 14 * ldd).storeBytes(of: r14, as: V.self)
        UnsafeMutableRawPointer(dst + 15 * ldd).storeBytes(of: r15, as: V.self)
    }
}

extension Gemm {
    /// Edge microkernel for the last, partial row panel (4 of its 12 rows, the packed A panel
    /// still 12 values per k step): C[0..<4, 0..<32], same arithmetic per element as `kernel12x32`.
    @inline(never)
    static func kernel4x32(_ kc: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                          _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ alpha: Float, _ beta: Float) {
        var c0_0 = V(repeating: 0); var c0_1 = V(repeating: 0)
        var c1_0 = V(repeating: 0); var c1_1 = V(repeating: 0)
        var c2_0 = V(repeating: 0); var c2_1 = V(repeating: 0)
        var c3_0 = V(repeating: 0); var c3_1 = V(repeating: 0)
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
        }
    }

    /// Edge microkernel for the last, partial row panel (8 of its 12 rows, the packed A panel
    /// still 12 values per k step): C[0..<8, 0..<32], same arithmetic per element as `kernel12x32`.
    @inline(never)
    static func kernel8x32(_ kc: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                          _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ alpha: Float, _ beta: Float) {
        var c0_0 = V(repeating: 0); var c0_1 = V(repeating: 0)
        var c1_0 = V(repeating: 0); var c1_1 = V(repeating: 0)
        var c2_0 = V(repeating: 0); var c2_1 = V(repeating: 0)
        var c3_0 = V(repeating: 0); var c3_1 = V(repeating: 0)
        var c4_0 = V(repeating: 0); var c4_1 = V(repeating: 0)
        var c5_0 = V(repeating: 0); var c5_1 = V(repeating: 0)
        var c6_0 = V(repeating: 0); var c6_1 = V(repeating: 0)
        var c7_0 = V(repeating: 0); var c7_1 = V(repeating: 0)
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
        }
    }

}
