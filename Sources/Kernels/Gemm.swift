// Gemm: single-precision matrix multiply C = alpha·op(A)·op(B) + beta·C, then an epilogue.
//
// Row-major throughout: A is m×k (k×m when transA) with row stride lda, B is k×n (n×k when
// transB) with row stride ldb, C is m×n with row stride ldc. `beta == 0` never reads C.
//
// Fast path (BLIS-style): loop over column blocks (NC) → K blocks (KC; B block packed into
// NR-wide panels) → row blocks (MC; A block packed into MR-high panels) → NR × MR register
// tiles computed by `kernel12x32` (the last row panel, when m % 12 is 1–4 or 5–8, by
// `kernel4x32` / `kernel8x32`). Partial tiles come from zero-padded panels and are computed
// into a per-thread tile buffer, then merged with the same arithmetic as full tiles.
// Within a K block, small blocks (kc·nc ≤ 128 Ki floats, e.g. k = 64) run row panels outer so
// each C row panel is written as contiguous streams; larger ones run column panels outer.
// Transposed B is packed by 16×16 register transposes (`transpose16`), panel by panel just
// before the first row block uses it, as is any B of a GEMM with a single row block (its panels
// are used once, so one L1-resident slot serves them all); transposed A by contiguous 12-float
// copies.
// After the last K block of a row block, the epilogue runs on that block while it is in cache.
// m < 4 (e.g. a convolution to 1–3 channels) skips the tile and uses a row-SIMD loop instead.
// `packA` + `sgemmPacked` let a caller pack a reused A once (convolution weights) and share it
// between threads and calls, `packB` + `sgemmPackedB` the same for B; results are
// bit-identical to `sgemm`. `sgemmPacked(b: .direct)` reads B where it lies (row p at a per-row
// offset, e.g. a convolution's padded planes: Conv+Direct.swift) instead of packing it; the
// microkernels take B through `PanelB` (Gemm+PanelB.swift), so the same bits again. Such a GEMM
// may also store C compacted (`CompactRows`: the virtual columns a direct convolution drops are
// never stored), each tile through the tile buffer, with the partial-tile merge's arithmetic.
//
// Threads: the work is split into chunks of NR-wide column panels handed to whichever thread
// is free (`dynamicFor`: a core slowed by a neighbour takes fewer), or, when N is narrow, into
// two contiguous ranges of MR-high row panels per thread, also claimed by whichever is free;
// each runs the whole serial algorithm on its part. Every C element is computed by the same
// microkernel with the same k order, so the result is bit-identical for any thread count and
// any schedule.
//
// Packing buffers live in per-thread storage (pthread TLS), allocated on a thread's first
// GEMM and grown only when a larger problem arrives; no allocation in a steady state.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CSIMD

public enum Gemm {
    /// Register tile height (rows of C) and width (columns of C).
    public static let mr = 12
    public static let nr = 32
    /// Cache blocking: K block, rows per A block, columns per B block.
    /// (kc 192…384 and either loop order measured within noise of each other at 512³: ~76–79%
    /// of the FMA peak per CPU-second.) A 32-wide B micro-panel (kc·128 B = 32 KiB) stays in L1
    /// while the MC×KC A block (192 KiB) streams from L2. NC = 1024 keeps the packed B block
    /// (1 MiB) within L2 (2 MiB), which matters for small m where B is the streamed operand.
    static let kcBlock = 256
    static let mcBlock = 12 * 16
    static let ncBlock = 32 * 32

    /// Floats of per-thread packing storage needed for one thread's part.
    static func packCount() -> Int {
        kcBlock * mcBlock + kcBlock * ncBlock + mr * nr + 64
    }

    // MARK: per-thread packing storage

    /// The GEMM's packing storage (see the file header); kernels that call no GEMM while they
    /// hold it borrow it too.
    static let packStorage = ThreadBuffer(minimum: packCount())

    /// A 64-byte aligned per-thread buffer of at least `count` floats: `packStorage`'s.
    static func threadBuffer(_ count: Int) -> UnsafeMutablePointer<Float> { packStorage.get(count) }

    // MARK: public API

    /// C = alpha·op(A)·op(B) + beta·C, then `epilogue` (bias per column, or per row when
    /// `.bias(perRow: true)`; then activations), parallel over `pool`.
    public static func sgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                             a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                             beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int,
                             bias: UnsafePointer<Float>? = nil, epilogue: [EpilogueOp] = [],
                             pool: ThreadPool) {
        drive(transA: transA, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, packedA: nil, transB: transB,
              b: b, ldb: ldb, packedB: nil, beta: beta, c: c, ldc: ldc, bias: bias, epilogue: epilogue, pool: pool)
    }

    // MARK: pre-packed A (a matrix reused across many GEMMs, e.g. convolution weights)

    /// Floats needed to hold op(A) (m×k) packed by `packA(transA:m:k:a:lda:into:pool:)`.
    public static func packedACount(m: Int, k: Int) -> Int {
        ((m + mr - 1) / mr) * mr * max(k, 0)
    }

    /// Packs the whole op(A) (m×k) into `into` (`packedACount(m:k:)` floats) for `sgemmPacked`:
    /// for each K block, all MR-high panels of M.
    public static func packA(transA: Bool, m: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
                             into dst: UnsafeMutablePointer<Float>, pool: ThreadPool) {
        let mPad = ((m + mr - 1) / mr) * mr
        let panels = mPad / mr
        let kBlocks = (k + kcBlock - 1) / kcBlock
        let body: (Range<Int>) -> Void = { r in
            for idx in r {
                let pb = idx / panels, q = idx % panels
                let pc = pb * kcBlock, kc = min(kcBlock, k - pc)
                let i0 = q * mr
                packA(transA, a, lda, i0, min(mr, m - i0), pc, kc, dst + pc * mPad + i0 * kc)
            }
        }
        if m * k < 65536 { body(0..<(kBlocks * panels)) } else { pool.parallelFor(kBlocks * panels, body) }
    }

    /// `sgemm` with op(A) already packed by `packA`. Bit-identical to `sgemm` on the same A.
    public static func sgemmPacked(m: Int, n: Int, k: Int, alpha: Float, packedA: UnsafePointer<Float>,
                                   transB: Bool, b: UnsafePointer<Float>, ldb: Int,
                                   beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int,
                                   bias: UnsafePointer<Float>? = nil, epilogue: [EpilogueOp] = [],
                                   pool: ThreadPool) {
        drive(transA: false, m: m, n: n, k: k, alpha: alpha, a: packedA, lda: 0, packedA: packedA, transB: transB,
              b: b, ldb: ldb, packedB: nil, beta: beta, c: c, ldc: ldc, bias: bias, epilogue: epilogue, pool: pool)
    }

    /// Fills one block of B in `packB` layout: (first row p0, rows kc, first column j0, columns
    /// nc, destination); see `UnstoredB.packing`.
    public typealias BBlockPacker = (_ p0: Int, _ kc: Int, _ j0: Int, _ nc: Int, _ dst: UnsafeMutablePointer<Float>) -> Void

    /// A B (k×n) that is never stored as a matrix.
    public enum UnstoredB {
        /// The closure writes each block the GEMM needs exactly as `packB` would write it from the
        /// stored matrix, e.g. straight from a convolution's input images (`Im2Col.packBlock`). It
        /// may run on any pool thread, for disjoint or (when threads split M) repeated blocks.
        case packing(BBlockPacker)
        /// B[p, j] = `base[offsets[p] + j]`, read where it lies by the microkernels, never packed
        /// (the rows of a convolution's padded input planes: Conv+Direct.swift).
        case direct(DirectB)
    }

    /// `sgemmPacked` whose B is `UnstoredB`: the same bits as `sgemmPacked` on that B stored.
    public static func sgemmPacked(m: Int, n: Int, k: Int, alpha: Float, packedA: UnsafePointer<Float>,
                                   b unstored: UnstoredB,
                                   beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int,
                                   bias: UnsafePointer<Float>? = nil, epilogue: [EpilogueOp] = [],
                                   pool: ThreadPool) {
        var packingB: BBlockPacker?, directB: DirectB?
        switch unstored {
        case .packing(let f): packingB = f
        case .direct(let d): directB = d
        }
        // `b` is never read for an unstored B (the pointer only fills the parameter).
        drive(transA: false, m: m, n: n, k: k, alpha: alpha, a: packedA, lda: 0, packedA: packedA, transB: false,
              b: packedA, ldb: 0, packedB: nil, packingB: packingB, directB: directB, beta: beta, c: c, ldc: ldc,
              bias: bias, epilogue: epilogue, pool: pool)
    }

    /// C = op(A)·op(B) with op(A) packed by `packA` and op(B) packed by `packB`. With k ≤
    /// `kcBlock` (one K block) `packedA` may be the start of any row panel of a larger packed A
    /// (row i0, a multiple of MR, at `packedA + i0·k`): the GEMM then covers rows from there.
    /// Bit-identical to `sgemm` on the same A and B.
    static func sgemmPackedAB(m: Int, n: Int, k: Int, packedA: UnsafePointer<Float>, packedB: UnsafePointer<Float>,
                              c: UnsafeMutablePointer<Float>, ldc: Int, pool: ThreadPool) {
        // With both operands packed the stored ones are never read (the pointers only fill the parameters).
        drive(transA: false, m: m, n: n, k: k, alpha: 1, a: packedA, lda: 0, packedA: packedA, transB: false,
              b: packedB, ldb: 0, packedB: packedB, beta: 0, c: c, ldc: ldc, bias: nil, epilogue: [], pool: pool)
    }

    // MARK: pre-packed B (a weight matrix on the right, reused across calls)

    /// Floats needed to hold op(B) (k×n) packed by `packB(transB:k:n:b:ldb:into:pool:)`.
    public static func packedBCount(k: Int, n: Int) -> Int {
        ((n + nr - 1) / nr) * nr * max(k, 0)
    }

    /// Packs the whole op(B) (k×n) into `into` (`packedBCount(k:n:)` floats) for `sgemmPackedB`:
    /// for each K block at p0 (kc rows), the NR-wide panels of all columns, the panel of column
    /// j0 at `into + p0·nPad + j0·kc` (nPad = n rounded up to NR), zero-padded past column n.
    public static func packB(transB: Bool, k: Int, n: Int, b: UnsafePointer<Float>, ldb: Int,
                             into dst: UnsafeMutablePointer<Float>, pool: ThreadPool) {
        let nPad = ((n + nr - 1) / nr) * nr
        let kBlocks = (k + kcBlock - 1) / kcBlock
        let nBlocks = (n + ncBlock - 1) / ncBlock
        let body: (Range<Int>) -> Void = { r in
            for idx in r {
                let pc = (idx / nBlocks) * kcBlock, kc = min(kcBlock, k - pc)
                let j0 = (idx % nBlocks) * ncBlock
                packB(transB, b, ldb, pc, kc, j0, min(ncBlock, n - j0), dst + pc * nPad + j0 * kc)
            }
        }
        if n * k < 65536 { body(0..<(kBlocks * nBlocks)) } else { pool.parallelFor(kBlocks * nBlocks, body) }
    }

    /// `sgemm` with op(B) already packed by `packB` (`b`, the unpacked op(B), is still read when
    /// m < `smallM`, whose row-SIMD loop packs nothing). Bit-identical to `sgemm` on the same B.
    public static func sgemmPackedB(transA: Bool, m: Int, n: Int, k: Int, alpha: Float,
                                    a: UnsafePointer<Float>, lda: Int, packedB: UnsafePointer<Float>,
                                    transB: Bool, b: UnsafePointer<Float>, ldb: Int,
                                    beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int,
                                    bias: UnsafePointer<Float>? = nil, epilogue: [EpilogueOp] = [],
                                    pool: ThreadPool) {
        drive(transA: transA, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, packedA: nil, transB: transB,
              b: b, ldb: ldb, packedB: packedB, beta: beta, c: c, ldc: ldc, bias: bias, epilogue: epilogue, pool: pool)
    }

    static func drive(transA: Bool, m: Int, n: Int, k: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
                      packedA: UnsafePointer<Float>?, transB: Bool, b: UnsafePointer<Float>, ldb: Int,
                      packedB: UnsafePointer<Float>?, packingB: BBlockPacker? = nil, directB: DirectB? = nil,
                      beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int,
                      bias: UnsafePointer<Float>?, epilogue: [EpilogueOp], pool: ThreadPool) {
        if m <= 0 || n <= 0 { return }
        // alpha = 0 still multiplies: 0·∞ and 0·NaN are NaN, as in `reference` and ONNX Runtime.
        if k <= 0 {
            let stored = directB?.compact?.stored(n) ?? n
            scaleC(m: m, n: stored, beta: beta, c: c, ldc: ldc)
            EpilogueApply.applyRows(c: c, ldc: ldc, rows: 0..<m, cols: 0..<stored, bias: bias, ops: epilogue)
            return
        }
        let nPanels = (n + nr - 1) / nr
        let mPanels = (m + mr - 1) / mr
        let threads = pool.sharingThreads
        let work = Double(m) * Double(n) * Double(k)
        let run: (Range<Int>, Range<Int>) -> Void = { rows, cols in
            if m < smallM && packedA == nil {
                smallMRows(transA, rows, cols, k, alpha, a, lda, transB, b, ldb, beta, c, ldc, bias, epilogue)
            } else {
                serial(transA, transB, rows, cols, k, alpha, a, lda, packedA, m, b, ldb, packedB, n, beta, c, ldc, bias, epilogue,
                       packingB: packingB, directB: directB)
            }
        }
        if threads == 1 || work < 200_000 || (nPanels < 2 && mPanels < 2) {
            run(0..<m, 0..<n)
            return
        }
        // Split so that the operand every thread packs in full is the cheaper one: splitting N
        // repacks A (free when pre-packed), splitting M repacks B. Transposed packs cost more.
        let costA = packedA != nil ? 0 : Double(m) * Double(k) * (transA ? 1 : 3)
        // A pre-packed B is not repacked, only read again by each thread that splits M.
        let costB = directB != nil ? 0 : Double(k) * Double(n) * (packedB != nil ? 0.5 : (transB ? 3 : 1))
        var splitN = costA <= costB
        if m < smallM || mPanels < threads { splitN = true }
        if nPanels < threads && mPanels >= threads { splitN = false }
        // Whole column panels (split N) or row panels (split M) per chunk; row splits take two
        // chunks per thread: each repacks B, so fewer than for elementwise loops.
        let panels = splitN ? nPanels : mPanels
        let part: (Range<Int>) -> Void = splitN
            ? { p in run(0..<m, (p.lowerBound * nr)..<min(n, p.upperBound * nr)) }
            : { p in run((p.lowerBound * mr)..<min(m, p.upperBound * mr), 0..<n) }
        if Baseline.equalPanelChunks {
            if splitN {
                let per = panelsPerChunk(nPanels, threads)
                pool.dynamicFor((nPanels + per - 1) / per) { q in part((q * per)..<min(nPanels, (q + 1) * per)) }
            } else {
                pool.parallelFor(mPanels, chunks: min(mPanels, 2 * threads), part)
            }
            return
        }
        let count = splitN ? columnChunks(nPanels, threads) : min(mPanels, 2 * threads)
        pool.dynamicFor(count) { q in part(largerFirst(q, count, panels)) }
    }

    /// Column panels per dynamically scheduled chunk before `columnChunks` (`GANNET_BASELINE=panelChunks`):
    /// whole chunks of nPanels / (2·threads) panels and a remainder chunk.
    static func panelsPerChunk(_ nPanels: Int, _ threads: Int) -> Int {
        max(1, min(ncBlock / nr, nPanels / (2 * threads)))
    }

    /// Dynamically scheduled chunks of column panels: two per thread, so a slower core takes
    /// fewer while each chunk still reuses its packed A blocks over several B panels (at 512³,
    /// 2 threads: 1.9× one thread, against 1.6× for one contiguous range per thread and 1.6× for
    /// an A packed once and shared), and at most one NC block each.
    static func columnChunks(_ nPanels: Int, _ threads: Int) -> Int {
        min(nPanels, max(2 * threads, (nPanels + ncBlock / nr - 1) / (ncBlock / nr)))
    }

    /// Chunk q of `count` near-equal chunks of 0..<total, sized for the pool's claim order: the
    /// caller claims from the front and the workers from the back (ThreadPool.swift), so on two
    /// threads the chunks go 0, count−1, 1, count−2, …; the larger chunks are the early claims and
    /// the threads end within one panel of each other. (Equal chunks of total / (2·threads) panels
    /// plus a remainder left one thread a whole chunk behind: a 1×7 convolution 192 → 192 on 17²
    /// at batch 1, 10 column panels, ran its 2 threads 2+2+2 against 2+2, 1.6× one thread.)
    public static func largerFirst(_ q: Int, _ count: Int, _ total: Int) -> Range<Int> {
        let base = total / count, extra = total % count
        func claimRank(_ i: Int) -> Int { i <= (count - 1) / 2 ? 2 * i : 2 * (count - 1 - i) + 1 }
        var lo = q * base
        for i in 0..<q where claimRank(i) < extra { lo += 1 }
        return lo..<(lo + base + (claimRank(q) < extra ? 1 : 0))
    }

    /// Below this many rows the register tile would be mostly padding: a row-by-row SIMD loop instead.
    public static let smallM = 4
    /// Columns per block of the small-M, untransposed-B loop: its accumulators (32 KiB per row)
    /// stay in L2 while whole rows of B stream past in storage order (with 4 KiB row segments,
    /// m=1 n=6272 k=1024 ran at 0.9 GFLOP/s: the prefetchers never got going).
    static let smallMBlock = 8192

    /// C[rows, cols] for tiny m: each C element sums k in order (alpha·Σ + beta·C, then epilogue).
    static func smallMRows(_ transA: Bool, _ rows: Range<Int>, _ cols: Range<Int>, _ k: Int, _ alpha: Float,
                           _ a: UnsafePointer<Float>, _ lda: Int, _ transB: Bool,
                           _ b: UnsafePointer<Float>, _ ldb: Int, _ beta: Float,
                           _ c: UnsafeMutablePointer<Float>, _ ldc: Int,
                           _ bias: UnsafePointer<Float>?, _ epilogue: [EpilogueOp]) {
        for i in rows {
            let crow = c + i * ldc
            if transB {
                // C[i, j] = Σ_p A[i, p]·B[j, p]: a dot product per column.
                for j in cols {
                    let brow = b + j * ldb
                    var acc = SIMD16<Float>(repeating: 0)
                    var p = 0
                    if !transA {
                        let arow = a + i * lda
                        while p + 16 <= k {
                            acc.addProduct(UnsafeRawPointer(arow + p).loadUnaligned(as: V.self),
                                           UnsafeRawPointer(brow + p).loadUnaligned(as: V.self))
                            p += 16
                        }
                    }
                    var s = acc.sum()
                    while p < k { s += (transA ? a[p * lda + i] : a[i * lda + p]) * brow[p]; p += 1 }
                    crow[j] = beta == 0 ? s * alpha : s * alpha + crow[j] * beta
                }
            }
        }
        if !transB {
            // All (< smallM) rows at once, `smallMBlock` columns at a time: for each p in order, the
            // contiguous segment of B row p is read once and multiply-added into every row's
            // accumulator (L1-resident, in the per-thread buffer). Each C element sums p in order,
            // one fused multiply-add per p. (Walking p inside 64-column register blocks instead read
            // B down its columns at a stride of a whole row, a cache and TLB miss per access:
            // 0.33 GFLOP/s for m=1, n=6272, k=1024.)
            let r0 = rows.lowerBound, nrow = rows.count
            let acc = threadBuffer(smallM * smallMBlock)
            var j0 = cols.lowerBound
            while j0 < cols.upperBound {
                let w = min(smallMBlock, cols.upperBound - j0)
                let full = w / 16 * 16
                acc.update(repeating: 0, count: nrow * smallMBlock)
                for p in 0..<k {
                    let brow = b + p * ldb + j0
                    for i in 0..<nrow {
                        let av = V(repeating: transA ? a[p * lda + r0 + i] : a[(r0 + i) * lda + p])
                        let arow = acc + i * smallMBlock
                        var t = 0
                        while t < full {
                            store16(load16(arow + t).addingProduct(av, load16(brow + t)), arow + t)
                            t += 16
                        }
                        if t < w { storePartial(loadPartial(arow + t, w - t).addingProduct(av, loadPartial(brow + t, w - t)), arow + t, w - t) }
                    }
                }
                for i in 0..<nrow {
                    let crow = c + (r0 + i) * ldc + j0, arow = acc + i * smallMBlock
                    for t in 0..<w {
                        let v = arow[t] * alpha
                        crow[t] = beta == 0 ? v : v + crow[t] * beta
                    }
                }
                j0 += w
            }
        }
        EpilogueApply.applyRows(c: c, ldc: ldc, rows: rows, cols: cols, bias: bias, ops: epilogue)
    }

    /// Scalar reference with the same contract as `sgemm` (each element a plain Float sum over k
    /// in order), for tests.
    public static func reference(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                                 a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                                 beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int,
                                 bias: UnsafePointer<Float>? = nil, epilogue: [EpilogueOp] = [],
                                 pool: ThreadPool = .serial) {
        for i in 0..<max(m, 0) {
            for j in 0..<max(n, 0) {
                var s: Float = 0
                for p in 0..<max(k, 0) {
                    let av = transA ? a[p * lda + i] : a[i * lda + p]
                    let bv = transB ? b[j * ldb + p] : b[p * ldb + j]
                    s += av * bv
                }
                c[i * ldc + j] = beta == 0 ? alpha * s : alpha * s + beta * c[i * ldc + j]
            }
        }
        if m > 0 && n > 0 {
            EpilogueApply.referenceRows(c: c, ldc: ldc, rows: 0..<m, cols: 0..<n, bias: bias, ops: epilogue)
        }
    }

    // MARK: implementation

    static func scaleC(m: Int, n: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        for i in 0..<m {
            let row = c + i * ldc
            if beta == 0 { row.update(repeating: 0, count: n) }
            else if beta != 1 { for j in 0..<n { row[j] *= beta } }
        }
    }

    /// The whole blocked algorithm on C[rows, cols], on the calling thread.
    static func serial(_ transA: Bool, _ transB: Bool, _ rows: Range<Int>, _ cols: Range<Int>, _ k: Int,
                       _ alpha: Float, _ a: UnsafePointer<Float>, _ lda: Int,
                       _ packedA: UnsafePointer<Float>?, _ mFull: Int,
                       _ b: UnsafePointer<Float>, _ ldb: Int, _ packedB: UnsafePointer<Float>?, _ nFull: Int,
                       _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int,
                       _ bias: UnsafePointer<Float>?, _ epilogue: [EpilogueOp], packingB: BBlockPacker? = nil,
                       directB: DirectB? = nil) {
        let buf = threadBuffer(packCount())
        let nPad = ((nFull + nr - 1) / nr) * nr
        let aPack = buf + kcBlock * ncBlock
        let tile = aPack + kcBlock * mcBlock
        let mPad = ((mFull + mr - 1) / mr) * mr
        var jc = cols.lowerBound
        while jc < cols.upperBound {
            let nc = min(ncBlock, cols.upperBound - jc)
            var pc = 0
            while pc < k {
                let kc = min(kcBlock, k - pc)
                let lastK = pc + kc == k
                let blockBeta: Float = pc == 0 ? beta : 1
                // Small K blocks (little compute per C tile): rows outer, so each 12-row panel of C
                // is written left to right (contiguous streams) with the whole B block (packed, or
                // read in place) in L2.
                // Otherwise columns outer: a B panel stays in L1 for all row tiles.
                let rowOuter = kc * nc <= 128 * 1024
                // Column panels outer, each panel is packed just before its first use (by the first
                // row block), into its own slot; with a single row block that use is the only one, so
                // one slot serves every panel and a fresh panel is still in L1. Transposed B is always
                // packed so (16×16 register transposes per panel); stored B (not transposed, or through
                // `packingB`) only with one row block. Otherwise the whole B block is packed up front,
                // row by row (long contiguous reads) — with one row block that block (up to 1 MiB)
                // would be written out to L2 or beyond and read back once.
                // A pre-packed B (`packB`) is used where it lies; a direct B is read where it lies.
                let singleRowBlock = rows.count <= mcBlock
                let bPack = packedB.map { UnsafeMutablePointer(mutating: $0 + pc * nPad + jc * kc) } ?? buf
                let panelwise = packedB == nil && directB == nil && !rowOuter
                    && (transB || (singleRowBlock && !Baseline.wholeBlockB))
                /// Packs B's columns j0..<j0+cols of this K block to `dst` (packB layout).
                func packColumns(_ j0: Int, _ cols: Int, _ dst: UnsafeMutablePointer<Float>) {
                    if let packingB { packingB(pc, kc, j0, cols, dst) } else { packB(transB, b, ldb, pc, kc, j0, cols, dst) }
                }
                if directB == nil && packedB == nil && !panelwise { packColumns(jc, nc, bPack) }
                var ic = rows.lowerBound
                while ic < rows.upperBound {
                    let mc = min(mcBlock, rows.upperBound - ic)
                    let firstRowBlock = ic == rows.lowerBound
                    let aBlock: UnsafePointer<Float>
                    if let packedA {
                        aBlock = packedA + pc * mPad + ic * kc
                    } else {
                        packA(transA, a, lda, ic, mc, pc, kc, aPack)
                        aBlock = UnsafePointer(aPack)
                    }
                    if rowOuter {
                        var ir = 0
                        while ir < mc {
                            var jr = 0
                            while jr < nc {
                                if let directB {
                                    directTile(kc, aBlock + ir * kc,
                                               OffsetPanel(base: UnsafeRawPointer(directB.base + jc + jr), offsets: directB.offsets + pc),
                                               c + (ic + ir) * ldc, ldc, jc + jr, min(mr, mc - ir), min(nr, nc - jr), alpha, blockBeta,
                                               tile, directB.compact)
                                } else if packedB != nil && firstRowBlock && ir == 0 && !Baseline.packedBNoPrefetch {
                                    // The first row panel streams the block in from memory; later ones find it in L2.
                                    tileOp(kc, aBlock, StreamedPanel(bPack + jr * kc), c + ic * ldc + jc + jr, ldc,
                                           min(mr, mc), min(nr, nc - jr), alpha, blockBeta, tile)
                                } else {
                                    tileOp(kc, aBlock + ir * kc, PackedPanel(bPack + jr * kc), c + (ic + ir) * ldc + jc + jr, ldc,
                                           min(mr, mc - ir), min(nr, nc - jr), alpha, blockBeta, tile)
                                }
                                jr += nr
                            }
                            ir += mr
                        }
                    } else if let directB {
                        var jr = 0
                        while jr < nc {
                            let panel = OffsetPanel(base: UnsafeRawPointer(directB.base + jc + jr), offsets: directB.offsets + pc)
                            var ir = 0
                            while ir < mc {
                                directTile(kc, aBlock + ir * kc, panel, c + (ic + ir) * ldc, ldc, jc + jr,
                                           min(mr, mc - ir), min(nr, nc - jr), alpha, blockBeta, tile, directB.compact)
                                ir += mr
                            }
                            jr += nr
                        }
                    } else {
                        var jr = 0
                        while jr < nc {
                            let bPanel = panelwise && singleRowBlock ? bPack : bPack + jr * kc
                            if panelwise && firstRowBlock {
                                packColumns(jc + jr, min(nr, nc - jr), bPanel)
                                if packingB == nil && jr + 2 * nr <= nc && !Baseline.panelNoPrefetch {
                                    prefetchPanel(transB, b, ldb, pc, kc, jc + jr + nr)
                                }
                            }
                            var ir = 0
                            while ir < mc {
                                if packedB != nil && !Baseline.packedBNoPrefetch {
                                    tileOp(kc, aBlock + ir * kc, StreamedPanel(bPanel), c + (ic + ir) * ldc + jc + jr, ldc,
                                           min(mr, mc - ir), min(nr, nc - jr), alpha, blockBeta, tile)
                                } else {
                                    tileOp(kc, aBlock + ir * kc, PackedPanel(bPanel), c + (ic + ir) * ldc + jc + jr, ldc,
                                           min(mr, mc - ir), min(nr, nc - jr), alpha, blockBeta, tile)
                                }
                                ir += mr
                            }
                            jr += nr
                        }
                    }
                    if lastK && !epilogue.isEmpty {
                        let stored = directB?.compact.map { $0.stored(jc)..<$0.stored(jc + nc) } ?? jc..<(jc + nc)
                        EpilogueApply.applyRows(c: c, ldc: ldc, rows: ic..<(ic + mc), cols: stored,
                                                bias: bias, ops: epilogue)
                    }
                    ic += mc
                }
                pc += kc
            }
            jc += nc
        }
    }

    /// One register tile: full tiles go straight to C, partial ones through `tile`.
    @inline(__always)
    static func tileOp<B: PanelB>(_ kc: Int, _ ap: UnsafePointer<Float>, _ bp: B, _ cp: UnsafeMutablePointer<Float>,
                       _ ldc: Int, _ mh: Int, _ nw: Int, _ alpha: Float, _ beta: Float, _ tile: UnsafeMutablePointer<Float>) {
        if mh == rowKernel(mh) && nw == nr {
            kernel32(mh, kc, ap, bp, cp, ldc, alpha, beta)
        } else {
            intoTile(kc, ap, bp, mh, nw, tile)
            for i in 0..<mh { storeTileRun(tile + i * nr, cp + i * ldc, nw, alpha, beta) }
        }
    }

    /// Rows of the kernel that computes a tile of `mh` rows. The last row panel of C may be
    /// partial (m % 12 rows): 1–4 rows use the 4-row kernel and 5–8 rows the 8-row one, instead
    /// of a 12-row tile that is mostly padding. Which kernel computes an element depends only on
    /// m and its row, never on the thread split.
    @inline(__always)
    static func rowKernel(_ mh: Int) -> Int { mh <= 4 ? 4 : (mh <= 8 ? 8 : mr) }

    /// A partial tile (`mh` rows, `nw` columns) into `tile` (row stride NR, alpha 1, beta 0) by
    /// the kernel of `rowKernel(mh)` rows; a last column tile of at most 16 columns (n % 32) runs
    /// a 16-column kernel.
    @inline(__always)
    static func intoTile<B: PanelB>(_ kc: Int, _ ap: UnsafePointer<Float>, _ bp: B, _ mh: Int, _ nw: Int,
                                    _ tile: UnsafeMutablePointer<Float>) {
        let rowsK = rowKernel(mh)
        if nw <= 16 && !Baseline.fullWidthTail {
            if rowsK == mr { kernel12x16(kc, ap, bp, tile, nr, 1, 0) }
            else if rowsK == 8 { kernel8x16(kc, ap, bp, tile, nr, 1, 0) }
            else { kernel4x16(kc, ap, bp, tile, nr, 1, 0) }
        } else {
            kernel32(rowsK, kc, ap, bp, tile, nr, 1, 0)
        }
    }

    /// The 32-column kernel of `rows` (`rowKernel`'s 4, 8 or 12) rows on C at `c`.
    @inline(__always)
    static func kernel32<B: PanelB>(_ rows: Int, _ kc: Int, _ ap: UnsafePointer<Float>, _ bp: B,
                                    _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ alpha: Float, _ beta: Float) {
        if rows == mr { kernel12x32(kc, ap, bp, c, ldc, alpha, beta) }
        else if rows == 8 { kernel8x32(kc, ap, bp, c, ldc, alpha, beta) }
        else { kernel4x32(kc, ap, bp, c, ldc, alpha, beta) }
    }

    /// dst[0..<n] = alpha·src (+ beta·dst when beta != 0): a tile row merged into C with the
    /// full-tile kernels' arithmetic (a product, then a sum; no fused multiply-add).
    @inline(__always)
    static func storeTileRun(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ n: Int,
                             _ alpha: Float, _ beta: Float) {
        let al = V(repeating: alpha), be = V(repeating: beta)
        var j = 0
        while j < n {
            let w = min(16, n - j)
            var v = loadPartial(src + j, w) * al
            if beta != 0 { v = v + loadPartial(dst + j, w) * be }
            storePartial(v, dst + j, w)
            j += 16
        }
    }

    /// One register tile of a direct B at virtual column t0: `tileOp` into row `cRow` of C, or,
    /// with `compact`, `compactTile`.
    @inline(__always)
    static func directTile(_ kc: Int, _ ap: UnsafePointer<Float>, _ bp: OffsetPanel, _ cRow: UnsafeMutablePointer<Float>,
                           _ ldc: Int, _ t0: Int, _ mh: Int, _ nw: Int, _ alpha: Float, _ beta: Float,
                           _ tile: UnsafeMutablePointer<Float>, _ compact: CompactRows?) {
        if let compact {
            compactTile(kc, ap, bp, cRow, ldc, t0, mh, nw, alpha, beta, tile, compact)
        } else {
            tileOp(kc, ap, bp, cRow + t0, ldc, mh, nw, alpha, beta, tile)
        }
    }

    /// One register tile of a compacted C (`CompactRows`) at virtual column t0: computed into
    /// `tile` as `tileOp` computes a partial tile (`intoTile`), then each run of kept columns (a
    /// tile spans parts of up to ⌈32 / width⌉ + 1 rows) merged into C by `storeTileRun`, so every
    /// stored element has `tileOp`'s bits.
    @inline(__always)
    static func compactTile<B: PanelB>(_ kc: Int, _ ap: UnsafePointer<Float>, _ bp: B, _ cRow: UnsafeMutablePointer<Float>,
                                       _ ldc: Int, _ t0: Int, _ mh: Int, _ nw: Int, _ alpha: Float, _ beta: Float,
                                       _ tile: UnsafeMutablePointer<Float>, _ cr: CompactRows) {
        intoTile(kc, ap, bp, mh, nw, tile)
        var u = 0
        while u < nw {
            let t = t0 + u
            let r = t / cr.virtualWidth, col = t - r * cr.virtualWidth
            let len = min(nw - u, cr.virtualWidth - col)
            if col < cr.width {
                let n = min(len, cr.width - col)
                let dst = cRow + r * cr.width + col
                for i in 0..<mh { storeTileRun(tile + i * nr + u, dst + i * ldc, n, alpha, beta) }
            }
            u += len
        }
    }

    /// Packs op(A)[i0..<i0+mc, p0..<p0+kc] into MR-high panels: panel q holds, for each p,
    /// the MR values op(A)[i0 + q·MR + r, p0 + p] (zero beyond the last row).
    @inline(__always)
    static func packA(_ transA: Bool, _ a: UnsafePointer<Float>, _ lda: Int, _ i0: Int, _ mc: Int,
                      _ p0: Int, _ kc: Int, _ dst: UnsafeMutablePointer<Float>) {
        var q = 0
        while q < mc {
            let h = min(mr, mc - q)
            let panel = dst + q * kc
            if transA && h == mr {
                // 12 contiguous floats of each stored row of A per k step.
                for p in 0..<kc {
                    let src = UnsafeRawPointer(a + (p0 + p) * lda + i0 + q)
                    let d = UnsafeMutableRawPointer(panel + p * mr)
                    d.storeBytes(of: src.loadUnaligned(as: SIMD8<Float>.self), as: SIMD8<Float>.self)
                    d.storeBytes(of: src.loadUnaligned(fromByteOffset: 32, as: SIMD4<Float>.self), toByteOffset: 32, as: SIMD4<Float>.self)
                }
            } else if transA {
                for p in 0..<kc {
                    let src = a + (p0 + p) * lda + i0 + q
                    let d = panel + p * mr
                    for r in 0..<h { d[r] = src[r] }
                    for r in h..<mr { d[r] = 0 }
                }
            } else if h == mr {
                // 16 k steps at a time: the 12×16 block of A, padded to 16 rows with zeros, is
                // transposed in registers and its 12-float columns stored. (The plain strided
                // loop below compiles to vscatterqps, microcoded and slow on AMD: 7% of a 512³
                // GEMM's time went there.)
                withUnsafeTemporaryAllocation(of: Float.self, capacity: 512) { tmp in
                    let t = tmp.baseAddress!
                    t.initialize(repeating: 0, count: 512)
                    let rows = a + (i0 + q) * lda + p0
                    var p = 0
                    while p + 16 <= kc {
                        for r in 0..<mr { store16(load16(rows + r * lda + p), t + r * 16) }
                        transpose16(t, 16, t + 256, 16)
                        for u in 0..<16 {
                            let src = UnsafeRawPointer(t + 256 + u * 16), d = UnsafeMutableRawPointer(panel + (p + u) * mr)
                            d.storeBytes(of: src.loadUnaligned(as: SIMD8<Float>.self), as: SIMD8<Float>.self)
                            d.storeBytes(of: src.loadUnaligned(fromByteOffset: 32, as: SIMD4<Float>.self), toByteOffset: 32, as: SIMD4<Float>.self)
                        }
                        p += 16
                    }
                    while p < kc {
                        for r in 0..<mr { panel[p * mr + r] = rows[r * lda + p] }
                        p += 1
                    }
                }
            } else {
                for r in 0..<h {
                    let src = a + (i0 + q + r) * lda + p0
                    for p in 0..<kc { panel[p * mr + r] = src[p] }
                }
                for p in 0..<kc { for r in h..<mr { panel[p * mr + r] = 0 } }
            }
            q += mr
        }
    }

    /// Prefetches into L2 the source lines of the full B panel at column j0 (K rows p0..<p0+kc),
    /// which `packB` reads next. Packed panel by panel, each panel's 32 columns are a different
    /// line of every one of kc rows (stored B) or kc floats of 32 rows (transposed B), far apart
    /// in memory: the hardware prefetchers do not follow, and the pack waits on each line.
    @inline(__always)
    static func prefetchPanel(_ transB: Bool, _ b: UnsafePointer<Float>, _ ldb: Int, _ p0: Int, _ kc: Int, _ j0: Int) {
        if transB {
            for c in 0..<nr {
                let row = UnsafeRawPointer(b + (j0 + c) * ldb + p0)
                var off = 0
                while off < kc * 4 { gannet_prefetch_l2(row + off); off += 64 }
            }
        } else {
            for p in 0..<kc {
                let row = UnsafeRawPointer(b + (p0 + p) * ldb + j0)
                gannet_prefetch_l2(row)
                gannet_prefetch_l2(row + 64)
            }
        }
    }

    /// Packs op(B)[p0..<p0+kc, j0..<j0+nc] into NR-wide panels: panel q holds, for each p,
    /// the NR values op(B)[p0 + p, j0 + q·NR + c] (zero beyond the last column).
    @inline(__always)
    static func packB(_ transB: Bool, _ b: UnsafePointer<Float>, _ ldb: Int, _ p0: Int, _ kc: Int,
                      _ j0: Int, _ nc: Int, _ dst: UnsafeMutablePointer<Float>) {
        var q = 0
        while q < nc {
            let w = min(nr, nc - q)
            let panel = dst + q * kc
            if transB && w == nr {
                // 16×16 blocks transposed in registers: rows of stored B (contiguous in k) become
                // the 16-column halves of each k step of the panel.
                var p = 0
                while p + 16 <= kc {
                    for h in 0..<2 {
                        transpose16(b + (j0 + q + 16 * h) * ldb + p0 + p, ldb, panel + p * nr + 16 * h, nr)
                    }
                    p += 16
                }
                if p < kc {
                    for cidx in 0..<nr {
                        let src = b + (j0 + q + cidx) * ldb + p0
                        for pp in p..<kc { panel[pp * nr + cidx] = src[pp] }
                    }
                }
            } else if transB {
                for cidx in 0..<w {
                    let src = b + (j0 + q + cidx) * ldb + p0
                    for p in 0..<kc { panel[p * nr + cidx] = src[p] }
                }
                if w < nr { for p in 0..<kc { for cidx in w..<nr { panel[p * nr + cidx] = 0 } } }
            } else if w == nr {
                // All full panels row by row: each row of B is read contiguously (prefetch- and
                // TLB-friendly when ldb is large), scattered into the panels.
                let full = (nc - q) / nr
                for p in 0..<kc {
                    let src = UnsafeRawPointer(b + (p0 + p) * ldb + j0 + q)
                    let d = UnsafeMutableRawPointer(panel + p * nr)
                    for t in 0..<full {
                        let so = t * nr * 4, dof = t * kc * nr * 4
                        d.storeBytes(of: src.loadUnaligned(fromByteOffset: so, as: V.self), toByteOffset: dof, as: V.self)
                        d.storeBytes(of: src.loadUnaligned(fromByteOffset: so + 64, as: V.self), toByteOffset: dof + 64, as: V.self)
                    }
                }
                q += full * nr
                continue
            } else {
                for p in 0..<kc {
                    let src = b + (p0 + p) * ldb + j0 + q
                    let d = panel + p * nr
                    for cidx in 0..<w { d[cidx] = src[cidx] }
                    for cidx in w..<nr { d[cidx] = 0 }
                }
            }
            q += nr
        }
    }
}
