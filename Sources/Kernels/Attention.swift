// Attention: softmax(op(A)·op(B)) multiplied by values, a block of query rows at a time, so the
// m × n score matrix is never written out whole (self-attention: SAGAN's 1024 × 1024 scores per
// image at 32², the GEMM → Softmax → GEMM of every attention block).
//
// Contract: per batch b (operands at b·(their matrix size)), S = op(A)·op(B) (m × n, inner
// dimension d; A is m × d, or d × m when transA; B is d × n, or n × d when transB), P = the
// softmax of each row of S, and
//   valueFirst: O (c × m) = op(V)·Pᵀ, op(V) c × n (V stored c × n, or n × c when transV);
//   otherwise:  O (m × c) = P·op(V),  op(V) n × c (V stored n × c, or c × n when transV).
// First every batch's op(V) is packed for the value GEMM into `scratch` (`scratchFloats`: as
// A of O = op(V)·Pᵀ, or as B of O = P·op(V)), once. Then the rows of S are cut into blocks of
// `rows` (a size that depends on n only); each block's S, its softmax in place and its part of
// O are computed by `Gemm.sgemm`, `Softmax.run` and the packed-operand GEMM in a per-thread
// buffer, blocks handed to whichever thread is free (with one block, the GEMMs share the pool).
// With valueFirst the block is held transposed, Sᵀ (n × rows): its softmax runs down columns
// and the value GEMM takes Sᵀ as B without packing it through a transpose (SAGAN's 1024 × 1024
// block at 32², d = 4, c = 32: see BENCHMARKS.md "Twenty-fifth pass";
// `GANNET_BASELINE=attentionRows` keeps S row by row).
// A GEMM's element does not depend on how its rows or columns are cut (its k order is fixed),
// nor a softmax row on the others, so the result has the same bits for any thread count, and
// agrees with the three unfused kernels to float rounding. An empty batch, m or c writes
// nothing; n = 0 (no keys) writes zeros, as the value GEMM over no terms does.

public enum Attention {
    public struct Plan: Equatable, CustomStringConvertible {
        public var batch: Int, m: Int, n: Int, d: Int, c: Int
        public var transA: Bool, transB: Bool, transV: Bool, valueFirst: Bool
        public init(batch: Int, m: Int, n: Int, d: Int, c: Int, transA: Bool, transB: Bool, transV: Bool, valueFirst: Bool) {
            (self.batch, self.m, self.n, self.d, self.c) = (batch, m, n, d, c)
            (self.transA, self.transB, self.transV, self.valueFirst) = (transA, transB, transV, valueFirst)
        }
        public var description: String {
            "batches=\(batch) m=\(m) n=\(n) d=\(d) c=\(c)" + (transA ? " transA" : "") + (transB ? " transB" : "")
                + (transV ? " transV" : "") + (valueFirst ? " valueFirst" : "")
        }
        /// Query rows per block: about 64 Ki floats of scores, at least `Gemm.smallM`.
        public var rows: Int { min(m, max(Gemm.smallM, min(256, (1 << 16) / max(n, 1)))) }
        /// Floats of one batch's packed op(V).
        var packedValueFloats: Int { valueFirst ? Gemm.packedACount(m: c, k: n) : Gemm.packedBCount(k: n, n: c) }
        /// Scratch floats `run` needs: every batch's packed op(V).
        public var scratchFloats: Int { batch * packedValueFloats }
        /// FLOPs of the two GEMMs (2 per multiply-add).
        public var flops: Double { 2 * Double(batch) * Double(m) * Double(n) * Double(d + c) }
    }

    /// Per-thread score blocks.
    static let storage = ThreadBuffer(minimum: 0)

    public static func run(_ p: Plan, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ v: UnsafePointer<Float>,
                           _ out: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>, pool: ThreadPool) {
        if p.batch == 0 || p.m == 0 || p.c == 0 { return }
        if p.n == 0 {   // softmax over no keys: O sums no terms
            out.update(repeating: 0, count: p.batch * p.m * p.c)
            return
        }
        let rows = p.rows
        let blocks = (p.m + rows - 1) / rows
        let per = p.packedValueFloats
        let ldv = p.valueFirst != p.transV ? p.n : p.c
        pool.dynamicFor(p.batch) { bi in
            let vb = v + bi * p.n * p.c
            if p.valueFirst {
                Gemm.packA(transA: p.transV, m: p.c, k: p.n, a: vb, lda: ldv, into: scratch + bi * per, pool: pool)
            } else {
                Gemm.packB(transB: p.transV, k: p.n, n: p.c, b: vb, ldb: ldv, into: scratch + bi * per, pool: pool)
            }
        }
        // Sᵀ's row offsets for the value GEMM of a full block of whole register tiles (valueFirst):
        // the same for every such block, so made once per call.
        let directRows = p.valueFirst && !Baseline.attentionRowScores && rows % Gemm.nr == 0
        let sOffsets = directRows ? (0..<p.n).map { $0 * rows } : []
        pool.dynamicFor(p.batch * blocks) { u in
            let bi = u / blocks, r0 = (u % blocks) * rows, r = min(rows, p.m - r0)
            let s = storage.get(rows * p.n)
            let ab = a + bi * p.m * p.d, bb = b + bi * p.d * p.n, vb = v + bi * p.n * p.c, ob = out + bi * p.m * p.c
            let packed = UnsafePointer(scratch + bi * per)
            if p.valueFirst && !Baseline.attentionRowScores {
                // Sᵀ (n × r) = op(B)ᵀ·op(A)ᵀ: keys down, the block's queries across, so the softmax
                // runs down the columns (16 queries a vector) and the value GEMM reads Sᵀ's rows as
                // its B operand as they lie, with no transposing pack.
                Gemm.sgemm(transA: !p.transB, transB: !p.transA, m: p.n, n: r, k: p.d, alpha: 1,
                           a: bb, lda: p.transB ? p.d : p.n,
                           b: p.transA ? ab + r0 : ab + r0 * p.d, ldb: p.transA ? p.m : p.d, beta: 0, c: s, ldc: r, pool: pool)
                Softmax.run(s, s, outer: 1, axis: p.n, inner: r, log: false, pool: pool)
                guard directRows && r == rows else {
                    Gemm.sgemmPacked(m: p.c, n: r, k: p.n, alpha: 1, packedA: packed, transB: false, b: s, ldb: r,
                                     beta: 0, c: ob + r0, ldc: p.m, pool: pool)
                    return
                }
                // Whole register tiles: the GEMM reads Sᵀ's rows where they lie (the same sums as packed).
                sOffsets.withUnsafeBufferPointer { offsets in
                    Gemm.sgemmPacked(m: p.c, n: r, k: p.n, alpha: 1, packedA: packed,
                                     b: .direct(Gemm.DirectB(base: s, offsets: offsets.baseAddress!)),
                                     beta: 0, c: ob + r0, ldc: p.m, pool: pool)
                }
                return
            }
            Gemm.sgemm(transA: p.transA, transB: p.transB, m: r, n: p.n, k: p.d, alpha: 1,
                       a: p.transA ? ab + r0 : ab + r0 * p.d, lda: p.transA ? p.m : p.d,
                       b: bb, ldb: p.transB ? p.d : p.n, beta: 0, c: s, ldc: p.n, pool: pool)
            Softmax.run(s, s, outer: r, axis: p.n, inner: 1, log: false, pool: pool)
            if p.valueFirst {
                Gemm.sgemmPacked(m: p.c, n: r, k: p.n, alpha: 1, packedA: packed, transB: true, b: s, ldb: p.n,
                                 beta: 0, c: ob + r0, ldc: p.m, pool: pool)
            } else {
                Gemm.sgemmPackedB(transA: false, m: r, n: p.c, k: p.n, alpha: 1, a: s, lda: p.n, packedB: packed,
                                  transB: p.transV, b: vb, ldb: ldv, beta: 0, c: ob + r0 * p.c, ldc: p.c, pool: pool)
            }
        }
    }
}
