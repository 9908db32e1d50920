import XCTest
import TestSupport
import Kernels

// SeededRandom (seeded generator) lives in TestSupport, shared by all test targets.

/// Checks |got - want| <= tol·scale elementwise.
func assertClose(_ got: [Float], _ want: [Float], tol: Float, scale: Float, _ what: @autoclosure () -> String,
                 file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(got.count, want.count, file: file, line: line)
    for i in 0..<min(got.count, want.count) {
        let d = abs(got[i] - want[i])
        if !(d <= tol * scale * max(1, abs(want[i]))) {
            XCTFail("\(what()): index \(i) got \(got[i]) want \(want[i])", file: file, line: line)
            return
        }
    }
}

final class GemmTests: XCTestCase {
    static let pool2 = ThreadPool(threads: 2)

    struct Case {
        var transA: Bool, transB: Bool, m: Int, n: Int, k: Int
        var alpha: Float, beta: Float, lda: Int, ldb: Int, ldc: Int
        var epilogue: [EpilogueOp]
    }

    func randomCase(_ rng: inout SeededRandom, maxDim: Int) -> Case {
        let m = rng.int(1, maxDim), n = rng.int(1, maxDim), k = rng.int(1, maxDim)
        let ta = rng.bool(), tb = rng.bool()
        let alphas: [Float] = [1, 1, 0.5, -2]
        let betas: [Float] = [0, 0, 1, 0.25]
        let eps: [[EpilogueOp]] = [[], [.bias(perRow: false)], [.bias(perRow: true), .activation(.relu)],
                                   [.activation(.leakyRelu(0.2))], [.bias(perRow: false), .activation(.tanh)],
                                   [.activation(.sigmoid)], [.bias(perRow: false), .activation(.relu)],
                                   [.bias(perRow: true), .activation(.leakyRelu(0.1))],
                                   [.bias(perRow: false), .activation(.clip(0, 0.5))]]
        return Case(transA: ta, transB: tb, m: m, n: n, k: k,
                    alpha: alphas[rng.int(0, 3)], beta: betas[rng.int(0, 3)],
                    lda: (ta ? m : k) + rng.int(0, 3), ldb: (tb ? k : n) + rng.int(0, 3), ldc: n + rng.int(0, 3),
                    epilogue: eps[rng.int(0, eps.count - 1)])
    }

    /// Runs the fast kernel at 1 and 2 threads and the reference; returns (fast1, fast2, ref).
    func run(_ t: Case, _ rng: inout SeededRandom) -> ([Float], [Float], [Float]) {
        let a = rng.floats((t.transA ? t.k : t.m) * t.lda)
        let b = rng.floats((t.transB ? t.n : t.k) * t.ldb)
        let c0 = rng.floats(t.m * t.ldc)
        let bias = rng.floats(max(t.m, t.n))
        var outs: [[Float]] = []
        for which in 0..<3 {
            var c = c0
            a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in
                c.withUnsafeMutableBufferPointer { cp in bias.withUnsafeBufferPointer { biasp in
                    if which == 2 {
                        Gemm.reference(transA: t.transA, transB: t.transB, m: t.m, n: t.n, k: t.k, alpha: t.alpha,
                                       a: ap.baseAddress!, lda: t.lda, b: bp.baseAddress!, ldb: t.ldb, beta: t.beta,
                                       c: cp.baseAddress!, ldc: t.ldc, bias: biasp.baseAddress!, epilogue: t.epilogue)
                    } else {
                        Gemm.sgemm(transA: t.transA, transB: t.transB, m: t.m, n: t.n, k: t.k, alpha: t.alpha,
                                   a: ap.baseAddress!, lda: t.lda, b: bp.baseAddress!, ldb: t.ldb, beta: t.beta,
                                   c: cp.baseAddress!, ldc: t.ldc, bias: biasp.baseAddress!, epilogue: t.epilogue,
                                   pool: which == 0 ? .serial : GemmTests.pool2)
                    }
                }}
            }}
            outs.append(c)
        }
        return (outs[0], outs[1], outs[2])
    }

    func check(_ t: Case, _ rng: inout SeededRandom, file: StaticString = #filePath, line: UInt = #line) {
        let (f1, f2, r) = run(t, &rng)
        let desc = "\(t)"
        XCTAssertEqual(f1, f2, "1 vs 2 threads not bit-identical: \(desc)", file: file, line: line)
        assertClose(f1, r, tol: 2e-6, scale: Float(t.k) * max(1, abs(t.alpha)) + 4, desc, file: file, line: line)
    }

    /// Multi-threaded calls with enough column panels pack op(A) once (shared) and split N:
    /// odd sizes, all transposes, a wide row (pack of many full B panels), beta and epilogues.
    func testSharedPackedASplitN() {
        var rng = SeededRandom(seed: 21)
        let sizes: [(Int, Int, Int)] = [(64, 1000, 300), (67, 301, 129), (13, 257, 513), (4, 200, 33), (100, 130, 70)]
        for (i, (m, n, k)) in sizes.enumerated() {
            for ta in [false, true] {
                for tb in [false, true] {
                    let eps: [[EpilogueOp]] = [[], [.bias(perRow: false)], [.bias(perRow: true), .activation(.relu)]]
                    let t = Case(transA: ta, transB: tb, m: m, n: n, k: k, alpha: i % 2 == 0 ? 1 : 0.5,
                                 beta: i == 2 ? 0.25 : 0, lda: (ta ? m : k) + i % 2, ldb: (tb ? k : n) + i % 3,
                                 ldc: n + i % 2, epilogue: eps[(i + (ta ? 1 : 0)) % 3])
                    check(t, &rng)
                }
            }
        }
    }

    /// Edge row panels (m % 12 in 1…4 → 4-row kernel, 5…8 → 8-row kernel), register-transposed
    /// B panels (k tails not a multiple of 16, several K blocks accumulated), vectorised A^T
    /// packs, the rows-outer order for small K blocks and the fused per-panel B pack for one row
    /// block: all four transpose combinations, alpha/beta/epilogues, 1 vs 2 threads bit-identical.
    func testEdgeKernelsAndTransposedPacks() {
        var rng = SeededRandom(seed: 31)
        let sizes: [(Int, Int, Int)] = [(64, 300, 290), (76, 97, 40), (20, 65, 530), (17, 129, 16), (8, 64, 15),
                                        (200, 70, 64), (5, 1100, 33), (101, 40, 257), (64, 96, 1030)]
        let eps: [[EpilogueOp]] = [[], [.bias(perRow: false)], [.bias(perRow: true), .activation(.relu)],
                                   [.activation(.leakyRelu(0.2))]]
        for (i, (m, n, k)) in sizes.enumerated() {
            for ta in [false, true] {
                for tb in [false, true] {
                    let j = i * 4 + (ta ? 2 : 0) + (tb ? 1 : 0)
                    let t = Case(transA: ta, transB: tb, m: m, n: n, k: k, alpha: [1, 0.5, -2][j % 3],
                                 beta: [0, 0.25, 1, 0][j % 4], lda: (ta ? m : k) + j % 3, ldb: (tb ? k : n) + (j / 3) % 3,
                                 ldc: n + j % 2, epilogue: eps[j % eps.count])
                    check(t, &rng)
                }
            }
        }
    }

    /// A last column tile of at most 16 columns runs the 16-column kernels (12, 8 and 4 rows):
    /// each C element gets the same bits as when more columns make that tile run the 32-column
    /// kernel (the same B with 16 more columns; the first n columns compared).
    func testSixteenColumnTailSameBitsAsFullTile() {
        var rng = SeededRandom(seed: 34)
        for (m, n, k) in [(12, 9, 70), (37, 48, 300), (20, 1, 5), (100, 169, 512), (44, 81, 257), (7, 16, 33)] {
            for tb in [false, true] {
                let wide = n + 16
                let a = rng.floats(m * k), bWide = rng.floats(k * wide)
                // op(B) as k×n (row-major, ldb = n) or as its transpose n×k; the wide one adds columns.
                func b(_ cols: Int) -> [Float] {
                    tb ? (0..<cols * k).map { i in bWide[(i % k) * wide + i / k] }
                       : (0..<k * cols).map { i in bWide[(i / cols) * wide + i % cols] }
                }
                let bn = b(n), bw = b(wide)
                var cn = [Float](repeating: 0, count: m * n), cw = [Float](repeating: 0, count: m * wide)
                Gemm.sgemm(transA: false, transB: tb, m: m, n: n, k: k, alpha: 1, a: a, lda: k, b: bn, ldb: tb ? k : n,
                           beta: 0, c: &cn, ldc: n, pool: .serial)
                Gemm.sgemm(transA: false, transB: tb, m: m, n: wide, k: k, alpha: 1, a: a, lda: k, b: bw, ldb: tb ? k : wide,
                           beta: 0, c: &cw, ldc: wide, pool: .serial)
                let firstColumns = (0..<m * n).map { cw[($0 / n) * wide + $0 % n] }
                XCTAssertEqual(cn.map(\.bitPattern), firstColumns.map(\.bitPattern), "m\(m) n\(n) k\(k) tb\(tb)")
            }
        }
    }

    /// `transpose16`-based B^T packing and every other path against sgemmPacked, bit for bit, on
    /// shapes whose last row panel uses an edge kernel.
    func testEdgeKernelsPrepackedBitIdentical() {
        var rng = SeededRandom(seed: 32)
        for (m, n, k) in [(64, 200, 300), (44, 70, 48), (16, 33, 17)] {
            for tb in [false, true] {
                let ldb = tb ? k : n
                let a = rng.floats(m * k), b = rng.floats((tb ? n : k) * ldb)
                var c1 = [Float](repeating: 0, count: m * n), c2 = c1
                var packed = [Float](repeating: .nan, count: Gemm.packedACount(m: m, k: k))
                Gemm.sgemm(transA: false, transB: tb, m: m, n: n, k: k, alpha: 1, a: a, lda: k, b: b, ldb: ldb,
                           beta: 0, c: &c1, ldc: n, pool: GemmTests.pool2)
                Gemm.packA(transA: false, m: m, k: k, a: a, lda: k, into: &packed, pool: .serial)
                packed.withUnsafeBufferPointer { pa in
                    Gemm.sgemmPacked(m: m, n: n, k: k, alpha: 1, packedA: pa.baseAddress!, transB: tb, b: b, ldb: ldb,
                                     beta: 0, c: &c2, ldc: n, pool: .serial)
                }
                XCTAssertEqual(c1, c2, "m\(m) n\(n) k\(k) tb\(tb)")
            }
        }
    }

    /// B packed beforehand (`packB`, as for weights at load time) is read with prefetching
    /// (`StreamedPanel`): by every row panel where a K block's panels are too large to stay in
    /// L2 (columns outside rows), by the first row panel where they stay (rows outside columns):
    /// the same bits as `sgemm` packing it per call, with edge rows, a last column tile of at
    /// most 16 columns, several K blocks, several row blocks and 1 or 2 threads.
    func testPrepackedBStreamedSameBits() {
        var rng = SeededRandom(seed: 35)
        for (m, n, k) in [(16, 1100, 300), (37, 600, 513), (5, 530, 260), (12, 1040, 256), (49, 512, 700), (200, 90, 300)] {
            for tb in [false, true] {
                let ldb = tb ? k : n
                let a = rng.floats(m * k), b = rng.floats((tb ? n : k) * ldb)
                var c1 = [Float](repeating: 0, count: m * n), c2 = c1
                var packed = [Float](repeating: .nan, count: Gemm.packedBCount(k: k, n: n))
                Gemm.packB(transB: tb, k: k, n: n, b: b, ldb: ldb, into: &packed, pool: .serial)
                Gemm.sgemm(transA: false, transB: tb, m: m, n: n, k: k, alpha: 1, a: a, lda: k, b: b, ldb: ldb,
                           beta: 0, c: &c1, ldc: n, pool: .serial)
                for pool in [ThreadPool.serial, GemmTests.pool2] {
                    packed.withUnsafeBufferPointer { pb in
                        Gemm.sgemmPackedB(transA: false, m: m, n: n, k: k, alpha: 1, a: a, lda: k, packedB: pb.baseAddress!,
                                          transB: tb, b: b, ldb: ldb, beta: 0, c: &c2, ldc: n, pool: pool)
                    }
                    XCTAssertTrue(c1.map(\.bitPattern) == c2.map(\.bitPattern), "m\(m) n\(n) k\(k) tb\(tb)")
                }
            }
        }
    }

    func testRandomSmallSizes() {
        var rng = SeededRandom(seed: 1)
        for _ in 0..<300 { check(randomCase(&rng, maxDim: 40), &rng) }
    }

    func testRandomMediumSizes() {
        var rng = SeededRandom(seed: 2)
        for _ in 0..<25 { check(randomCase(&rng, maxDim: 300), &rng) }
    }

    func testBlockBoundaries() {
        // Sizes around the tile (12×32) and cache blocks (K 256, M 192, N 2048), all transposes.
        var rng = SeededRandom(seed: 3)
        let dims: [(Int, Int, Int)] = [(1, 1, 1), (12, 32, 256), (13, 33, 257), (11, 31, 255), (192, 64, 512),
                                       (193, 65, 513), (1, 2100, 3), (200, 1, 300), (24, 2049, 17), (2, 3, 600)]
        for (m, n, k) in dims {
            for ta in [false, true] {
                for tb in [false, true] {
                    let t = Case(transA: ta, transB: tb, m: m, n: n, k: k, alpha: 1, beta: 0,
                                 lda: ta ? m : k, ldb: tb ? k : n, ldc: n, epilogue: [.bias(perRow: true)])
                    check(t, &rng)
                }
            }
        }
    }

    func testPrepackedAMatchesSgemmBitForBit() {
        var rng = SeededRandom(seed: 5)
        for _ in 0..<30 {
            let m = rng.int(4, 150), n = rng.int(1, 300), k = rng.int(1, 600), ta = rng.bool(), tb = rng.bool()
            let lda = ta ? m : k, ldb = tb ? k : n
            let a = rng.floats((ta ? k : m) * lda), b = rng.floats((tb ? n : k) * ldb), bias = rng.floats(m)
            let ops: [EpilogueOp] = [.bias(perRow: true), .activation(.leakyRelu(0.1))]
            var c1 = [Float](repeating: 0, count: m * n), c2 = c1, c3 = c1
            var packed = [Float](repeating: .nan, count: Gemm.packedACount(m: m, k: k))
            Gemm.sgemm(transA: ta, transB: tb, m: m, n: n, k: k, alpha: 1, a: a, lda: lda, b: b, ldb: ldb,
                       beta: 0, c: &c1, ldc: n, bias: bias, epilogue: ops, pool: .serial)
            Gemm.packA(transA: ta, m: m, k: k, a: a, lda: lda, into: &packed, pool: GemmTests.pool2)
            packed.withUnsafeBufferPointer { pa in
                Gemm.sgemmPacked(m: m, n: n, k: k, alpha: 1, packedA: pa.baseAddress!, transB: tb, b: b, ldb: ldb,
                                 beta: 0, c: &c2, ldc: n, bias: bias, epilogue: ops, pool: .serial)
                Gemm.sgemmPacked(m: m, n: n, k: k, alpha: 1, packedA: pa.baseAddress!, transB: tb, b: b, ldb: ldb,
                                 beta: 0, c: &c3, ldc: n, bias: bias, epilogue: ops, pool: GemmTests.pool2)
            }
            XCTAssertEqual(c1, c2, "m\(m) n\(n) k\(k) ta\(ta) tb\(tb)")
            XCTAssertEqual(c1, c3, "2 threads: m\(m) n\(n) k\(k) ta\(ta) tb\(tb)")
        }
    }

    /// `sgemmPacked(b: .direct)` — B's rows read at arbitrary offsets of one buffer, unpacked —
    /// against `sgemmPacked` on the same B stored as a matrix, bit for bit, 1 and 2 threads: odd
    /// sizes, K over one K block, N over one NC block, every row kernel (m % 12 of 1–4, 5–8, 0).
    /// B's rows are shuffled and overlap in the buffer, with NaN slack past the last one (read by
    /// the last register tile's lanes past n, never used).
    func testDirectBMatchesPackedBitForBit() {
        var rng = SeededRandom(seed: 8)
        for i in 0..<24 {
            let m = [rng.int(4, 11), rng.int(12, 40), rng.int(41, 150)][i % 3]
            let n = i % 6 == 0 ? rng.int(1025, 1400) : rng.int(1, 300), k = rng.int(1, 600)
            let step = rng.int(n / 2, n + 3)
            var offsets = (0..<k).map { $0 * step }
            for p in stride(from: k - 1, to: 0, by: -1) { offsets.swapAt(p, rng.int(0, p)) }
            var buffer = rng.floats((k - 1) * step + n)
            buffer += [Float](repeating: .nan, count: 32)
            var b = [Float](repeating: 0, count: k * n)
            for p in 0..<k { for j in 0..<n { b[p * n + j] = buffer[offsets[p] + j] } }
            let a = rng.floats(m * k), bias = rng.floats(m)
            let ops: [EpilogueOp] = [.bias(perRow: true), .activation(.relu)]
            var c1 = [Float](repeating: .nan, count: m * n), c2 = c1, c3 = c1
            var packed = [Float](repeating: .nan, count: Gemm.packedACount(m: m, k: k))
            Gemm.packA(transA: false, m: m, k: k, a: a, lda: k, into: &packed, pool: .serial)
            packed.withUnsafeBufferPointer { pa in buffer.withUnsafeBufferPointer { bp in offsets.withUnsafeBufferPointer { op in
                let direct = Gemm.DirectB(base: bp.baseAddress!, offsets: op.baseAddress!)
                Gemm.sgemmPacked(m: m, n: n, k: k, alpha: 1, packedA: pa.baseAddress!, transB: false, b: b, ldb: n,
                                 beta: 0, c: &c1, ldc: n, bias: bias, epilogue: ops, pool: .serial)
                Gemm.sgemmPacked(m: m, n: n, k: k, alpha: 1, packedA: pa.baseAddress!, b: .direct(direct),
                                 beta: 0, c: &c2, ldc: n, bias: bias, epilogue: ops, pool: .serial)
                Gemm.sgemmPacked(m: m, n: n, k: k, alpha: 1, packedA: pa.baseAddress!, b: .direct(direct),
                                 beta: 0, c: &c3, ldc: n, bias: bias, epilogue: ops, pool: GemmTests.pool2)
            }}}
            XCTAssertTrue(c1.map(\.bitPattern) == c2.map(\.bitPattern), "m\(m) n\(n) k\(k)")
            XCTAssertTrue(c1.map(\.bitPattern) == c3.map(\.bitPattern), "2 threads: m\(m) n\(n) k\(k)")
        }
    }

    /// `sgemmPacked(b: .direct)` with `CompactRows` against the same GEMM storing every virtual
    /// column, bit for bit, 1 and 2 threads: each kept column gets the full C's value, and nothing
    /// else of C is written (its NaN fill stays, past the last kept column too). Virtual rows
    /// narrower and wider than a register tile, one dropped column or most of a row, K over one
    /// K block (C accumulated through the tile buffer), every row kernel, and a C row stride
    /// wider than its kept columns.
    func testDirectBCompactRowsBitForBit() {
        var rng = SeededRandom(seed: 45)
        for i in 0..<24 {
            let m = [rng.int(4, 11), rng.int(12, 40), rng.int(41, 100)][i % 3]
            let width = [rng.int(1, 12), rng.int(13, 40), rng.int(41, 120)][(i / 3) % 3]
            let virtualWidth = width + (i % 4 == 0 ? 1 : rng.int(1, 2 * width + 3))
            let rows = rng.int(1, 2000 / virtualWidth + 1), n = rows * virtualWidth
            let k = i % 5 == 0 ? rng.int(257, 600) : rng.int(1, 256)
            let stored = rows * width, ldc = stored + (i % 2) * rng.int(1, 9)
            let offsets = (0..<k).map { _ in rng.int(0, 64) }
            let buffer = rng.floats(64 + n) + [Float](repeating: .nan, count: 32)
            let a = rng.floats(m * k), bias = rng.floats(m)
            let ops: [EpilogueOp] = [.bias(perRow: true), .activation(.leakyRelu(0.2))]
            var full = [Float](repeating: .nan, count: m * n)
            var c1 = [Float](repeating: .nan, count: m * ldc), c2 = c1
            var packed = [Float](repeating: .nan, count: Gemm.packedACount(m: m, k: k))
            Gemm.packA(transA: false, m: m, k: k, a: a, lda: k, into: &packed, pool: .serial)
            packed.withUnsafeBufferPointer { pa in buffer.withUnsafeBufferPointer { bp in offsets.withUnsafeBufferPointer { op in
                let plain = Gemm.DirectB(base: bp.baseAddress!, offsets: op.baseAddress!)
                let compact = Gemm.DirectB(base: bp.baseAddress!, offsets: op.baseAddress!,
                                           compact: Gemm.CompactRows(virtualWidth: virtualWidth, width: width))
                Gemm.sgemmPacked(m: m, n: n, k: k, alpha: 1, packedA: pa.baseAddress!, b: .direct(plain),
                                 beta: 0, c: &full, ldc: n, bias: bias, epilogue: ops, pool: .serial)
                Gemm.sgemmPacked(m: m, n: n, k: k, alpha: 1, packedA: pa.baseAddress!, b: .direct(compact),
                                 beta: 0, c: &c1, ldc: ldc, bias: bias, epilogue: ops, pool: .serial)
                Gemm.sgemmPacked(m: m, n: n, k: k, alpha: 1, packedA: pa.baseAddress!, b: .direct(compact),
                                 beta: 0, c: &c2, ldc: ldc, bias: bias, epilogue: ops, pool: GemmTests.pool2)
            }}}
            var want = [Float](repeating: .nan, count: m * ldc)
            for r in 0..<m { for t in 0..<n where t % virtualWidth < width {
                want[r * ldc + t / virtualWidth * width + t % virtualWidth] = full[r * n + t]
            } }
            let what = "m\(m) k\(k) width \(width) of \(virtualWidth), \(rows) rows, ldc \(ldc)"
            XCTAssertTrue(want.map(\.bitPattern) == c1.map(\.bitPattern), what)
            XCTAssertTrue(want.map(\.bitPattern) == c2.map(\.bitPattern), "2 threads: " + what)
        }
    }

    /// `packB` + `sgemmPackedB` against `sgemm`, bit for bit, 1 and 2 threads: odd sizes, both B
    /// layouts, K over one K block, N over one NC block (1024), m from 1 (row-SIMD path, which
    /// reads the unpacked B) up, beta 0 and 1.
    func testPrepackedBMatchesSgemmBitForBit() {
        var rng = SeededRandom(seed: 6)
        for i in 0..<36 {
            let m = [rng.int(1, 3), rng.int(4, 40), rng.int(41, 150)][i % 3]
            let n = i % 5 == 0 ? rng.int(1025, 1500) : rng.int(1, 300), k = rng.int(1, 600)
            let ta = rng.bool(), tb = rng.bool(), beta: Float = rng.bool() ? 0 : 1
            let lda = ta ? m : k, ldb = tb ? k : n
            let a = rng.floats((ta ? k : m) * lda), b = rng.floats((tb ? n : k) * ldb), bias = rng.floats(n)
            let ops: [EpilogueOp] = [.bias(perRow: false), .activation(.tanh)]
            let c0 = rng.floats(m * n)
            var c1 = c0, c2 = c0, c3 = c0
            var packed = [Float](repeating: .nan, count: Gemm.packedBCount(k: k, n: n))
            Gemm.sgemm(transA: ta, transB: tb, m: m, n: n, k: k, alpha: 1, a: a, lda: lda, b: b, ldb: ldb,
                       beta: beta, c: &c1, ldc: n, bias: bias, epilogue: ops, pool: .serial)
            Gemm.packB(transB: tb, k: k, n: n, b: b, ldb: ldb, into: &packed, pool: GemmTests.pool2)
            packed.withUnsafeBufferPointer { pb in
                Gemm.sgemmPackedB(transA: ta, m: m, n: n, k: k, alpha: 1, a: a, lda: lda, packedB: pb.baseAddress!,
                                  transB: tb, b: b, ldb: ldb, beta: beta, c: &c2, ldc: n, bias: bias, epilogue: ops, pool: .serial)
                Gemm.sgemmPackedB(transA: ta, m: m, n: n, k: k, alpha: 1, a: a, lda: lda, packedB: pb.baseAddress!,
                                  transB: tb, b: b, ldb: ldb, beta: beta, c: &c3, ldc: n, bias: bias, epilogue: ops,
                                  pool: GemmTests.pool2)
            }
            XCTAssertEqual(c1.map(\.bitPattern), c2.map(\.bitPattern), "m\(m) n\(n) k\(k) ta\(ta) tb\(tb)")
            XCTAssertEqual(c1.map(\.bitPattern), c3.map(\.bitPattern), "2 threads: m\(m) n\(n) k\(k) ta\(ta) tb\(tb)")
        }
    }

    /// One row block (m ≤ MC) with column panels outer (kc·nc > 128 Ki floats) packs each B panel
    /// just before its use into one slot, stored or transposed: same bits as B packed up front
    /// (`packB`) and read in place, on 1 and 2 threads, and close to the reference.
    func testSingleRowBlockPanelwisePackingSameBits() {
        var rng = SeededRandom(seed: 17)
        for (m, n, k) in [(5, 600, 300), (12, 1100, 520), (100, 777, 257), (192, 1030, 300), (193, 700, 300)] {
            for tb in [false, true] {
                let ta = m % 2 == 1, lda = ta ? m : k, ldb = tb ? k : n
                let a = rng.floats((ta ? k : m) * lda), b = rng.floats((tb ? n : k) * ldb), bias = rng.floats(n)
                let ops: [EpilogueOp] = [.bias(perRow: false), .activation(.leakyRelu(0.2))]
                var c1 = [Float](repeating: 0, count: m * n), c2 = c1, c3 = c1, ref = c1
                Gemm.sgemm(transA: ta, transB: tb, m: m, n: n, k: k, alpha: 1, a: a, lda: lda, b: b, ldb: ldb,
                           beta: 0, c: &c1, ldc: n, bias: bias, epilogue: ops, pool: .serial)
                Gemm.sgemm(transA: ta, transB: tb, m: m, n: n, k: k, alpha: 1, a: a, lda: lda, b: b, ldb: ldb,
                           beta: 0, c: &c2, ldc: n, bias: bias, epilogue: ops, pool: GemmTests.pool2)
                var packed = [Float](repeating: .nan, count: Gemm.packedBCount(k: k, n: n))
                Gemm.packB(transB: tb, k: k, n: n, b: b, ldb: ldb, into: &packed, pool: .serial)
                packed.withUnsafeBufferPointer { pb in
                    Gemm.sgemmPackedB(transA: ta, m: m, n: n, k: k, alpha: 1, a: a, lda: lda, packedB: pb.baseAddress!,
                                      transB: tb, b: b, ldb: ldb, beta: 0, c: &c3, ldc: n, bias: bias, epilogue: ops,
                                      pool: .serial)
                }
                Gemm.reference(transA: ta, transB: tb, m: m, n: n, k: k, alpha: 1, a: a, lda: lda, b: b, ldb: ldb,
                               beta: 0, c: &ref, ldc: n, bias: bias, epilogue: ops)
                let what = "m\(m) n\(n) k\(k) tb\(tb)"
                XCTAssertEqual(c1.map(\.bitPattern), c2.map(\.bitPattern), "1 vs 2 threads: " + what)
                XCTAssertEqual(c1.map(\.bitPattern), c3.map(\.bitPattern), "panelwise vs packed up front: " + what)
                assertClose(c1, ref, tol: 2e-6, scale: Float(k) + 4, what)
            }
        }
    }

    func testLargerFirstChunksPartitionInClaimOrder() {
        for total in 1...70 {
            for count in 1...min(total, 12) {
                let parts = (0..<count).map { Gemm.largerFirst($0, count, total) }
                XCTAssertEqual(parts.first?.lowerBound, 0, "total \(total) count \(count)")
                XCTAssertEqual(parts.last?.upperBound, total, "total \(total) count \(count)")
                for q in 1..<count { XCTAssertEqual(parts[q].lowerBound, parts[q - 1].upperBound) }
                XCTAssertLessThanOrEqual(parts.map(\.count).max()! - parts.map(\.count).min()!, 1)
                // Two threads claim 0, count−1, 1, count−2, …: sizes never grow along that order.
                var order: [Int] = []
                var (front, back) = (0, count - 1)
                while front <= back {
                    order.append(front); front += 1
                    if front <= back { order.append(back); back -= 1 }
                }
                let sizes = order.map { parts[$0].count }
                XCTAssertEqual(sizes, sizes.sorted(by: >), "total \(total) count \(count)")
            }
        }
    }

    func testThreadSplitsOfFewPanelsSameBits() {
        // 10, 6 and 3 column panels (split N) and few row panels (split M), packed A or not, on 1,
        // 2 and 3 threads (largerFirst chunks of different sizes): every split computes the same bits.
        var rng = SeededRandom(seed: 23)
        let pool3 = ThreadPool(threads: 3)
        for (m, n, k) in [(192, 289, 300), (40, 169, 700), (64, 70, 129), (130, 20, 300), (300, 40, 64)] {
            let a = rng.floats(m * k), b = rng.floats(k * n)
            var packedA = [Float](repeating: .nan, count: Gemm.packedACount(m: m, k: k))
            Gemm.packA(transA: false, m: m, k: k, a: a, lda: k, into: &packedA, pool: .serial)
            var results: [[UInt32]] = []
            for pool in [ThreadPool.serial, GemmTests.pool2, pool3] {
                var c = [Float](repeating: 0, count: m * n), cp = c
                Gemm.sgemm(transA: false, transB: false, m: m, n: n, k: k, alpha: 1, a: a, lda: k, b: b, ldb: n,
                           beta: 0, c: &c, ldc: n, pool: pool)
                packedA.withUnsafeBufferPointer { pa in
                    Gemm.sgemmPacked(m: m, n: n, k: k, alpha: 1, packedA: pa.baseAddress!, transB: false, b: b, ldb: n,
                                     beta: 0, c: &cp, ldc: n, pool: pool)
                }
                results.append(c.map(\.bitPattern))
                results.append(cp.map(\.bitPattern))
            }
            for r in results.dropFirst() { XCTAssertEqual(r, results[0], "m\(m) n\(n) k\(k)") }
            var ref = [Float](repeating: 0, count: m * n)
            Gemm.reference(transA: false, transB: false, m: m, n: n, k: k, alpha: 1, a: a, lda: k, b: b, ldb: n,
                           beta: 0, c: &ref, ldc: n)
            assertClose(results[0].map(Float.init(bitPattern:)), ref, tol: 2e-6, scale: Float(k) + 4, "m\(m) n\(n) k\(k)")
        }
    }

    func testTinyMLargeN() {
        // m < 4 takes a dedicated path; wide n exercises its 8192-column blocks (untransposed B) and tails.
        var rng = SeededRandom(seed: 6)
        for m in 1...4 {
            for (n, k) in [(1000, 37), (77, 300), (64, 1), (129, 16), (8300, 9)] {
                for ta in [false, true] {
                    for tb in [false, true] {
                        let t = Case(transA: ta, transB: tb, m: m, n: n, k: k, alpha: 0.5, beta: 0.25,
                                     lda: (ta ? m : k) + 1, ldb: (tb ? k : n) + 2, ldc: n + 3,
                                     epilogue: [.bias(perRow: false), .activation(.relu)])
                        check(t, &rng)
                    }
                }
            }
        }
    }

    func testKZeroAndBetaOnly() {
        var c: [Float] = [1, 2, 3, 4]
        let a: [Float] = [0], b: [Float] = [0]
        Gemm.sgemm(transA: false, transB: false, m: 2, n: 2, k: 0, alpha: 1, a: a, lda: 1, b: b, ldb: 2,
                   beta: 0.5, c: &c, ldc: 2, pool: .serial)
        XCTAssertEqual(c, [0.5, 1, 1.5, 2])
    }

    func testAlphaZeroStillPropagatesNaNAndInfinity() {
        // Y = 0·A·B + beta·C: a NaN or ∞ in A makes its row of A·B NaN (0·∞, 0·NaN), as the
        // reference and ONNX Runtime compute it; the fast path used to skip A·B when alpha was 0.
        var rng = SeededRandom(seed: 29)
        for (m, n, k) in [(2, 40, 9), (20, 40, 9), (30, 70, 300)] {
            var a = rng.floats(m * k)
            let b = rng.floats(k * n), c0 = rng.floats(m * n)
            a[1] = .nan
            a[(m - 1) * k] = .infinity
            for pool in [ThreadPool.serial, GemmTests.pool2] {
                var c = c0, ref = c0
                Gemm.sgemm(transA: false, transB: false, m: m, n: n, k: k, alpha: 0, a: a, lda: k, b: b, ldb: n,
                           beta: 0.5, c: &c, ldc: n, pool: pool)
                Gemm.reference(transA: false, transB: false, m: m, n: n, k: k, alpha: 0, a: a, lda: k, b: b, ldb: n,
                               beta: 0.5, c: &ref, ldc: n)
                XCTAssertEqual(c.map(\.isNaN), ref.map(\.isNaN), "m\(m) n\(n) k\(k)")
                XCTAssertTrue(c[0].isNaN && c[(m - 1) * n].isNaN, "m\(m) n\(n) k\(k)")
                for i in 0..<(m * n) where !ref[i].isNaN { XCTAssertEqual(c[i], 0.5 * c0[i], "m\(m) n\(n) k\(k) at \(i)") }
            }
        }
    }

    func testBetaZeroIgnoresNaN() {
        var rng = SeededRandom(seed: 4)
        let m = 20, n = 40, k = 9
        let a = rng.floats(m * k), b = rng.floats(k * n)
        var c = [Float](repeating: .nan, count: m * n)
        Gemm.sgemm(transA: false, transB: false, m: m, n: n, k: k, alpha: 1, a: a, lda: k, b: b, ldb: n,
                   beta: 0, c: &c, ldc: n, pool: .serial)
        XCTAssertFalse(c.contains { $0.isNaN })
    }
}
