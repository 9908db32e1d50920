import XCTest
import Foundation
import GraphIR
import Passes
import Runtime

/// Batches run as chunks (Program+BatchChunks) and the analysis that allows it
/// (SampleSeparability): chunked runs match whole ones, give the same bits on any thread count,
/// and graphs that combine samples always run whole.
final class BatchChunksTests: XCTestCase {
    /// `count` deterministic weights in [-0.5, 0.5], as IR text.
    func weights(_ count: Int, _ seed: Double) -> String {
        (0..<count).map { String(format: "%.4f", 0.5 * sin(Double($0) * 0.731 + seed)) }.joined(separator: ", ")
    }

    /// A small conditional CNN: a float image and an int64 label per sample; Conv+ReLU, a
    /// depthwise Conv, GlobalAveragePool, a label embedding concatenated on axis 1, Gemm, Softmax.
    func network() throws -> Graph {
        try Graph.parse("""
        graph "cnn" {
          input %x: f32[N,3,9,7]
          input %label: i64[N]
          init %w: f32[8,3,3,3] = [\(weights(216, 0.1))]
          init %b: f32[8] = [\(weights(8, 0.7))]
          init %dw: f32[8,1,3,3] = [\(weights(72, 1.3))]
          init %table: f32[5,4] = [\(weights(20, 2.1))]
          init %fc: f32[3,12] = [\(weights(36, 2.9))]
          init %flat: i64[2] = [-1, 8]
          %c = Conv(%x, %w, %b) {pads=[1, 1, 1, 1]}
          %r = Relu(%c)
          %d = Conv(%r, %dw) {pads=[1, 1, 1, 1], strides=[2, 2], group=8}
          %p = GlobalAveragePool(%d)
          %f = Reshape(%p, %flat)
          %e = Gather(%table, %label)
          %j = Concat(%f, %e) {axis=1}
          %y = Gemm(%j, %fc) {transB=1}
          %s = Softmax(%y) {axis=1}
          output %s
          output %d
        }
        """)
    }

    func inputs(_ n: Int) -> [Tensor] {
        [Tensor(shape: [n, 3, 9, 7], floats: (0..<(n * 189)).map { Float(sin(Double($0) * 0.37)) }),
         Tensor(shape: [n], int64s: (0..<n).map { Int64($0 * 3 % 5) })]
    }

    func testChunkedRunsMatchWholeAndKeepTheirBitsOnAnyThreadCount() throws {
        let g = try network()
        let n = 6
        let whole = try Session(graph: g, chunking: .whole)
        let reference = try whole.run(inputs(n))
        XCTAssertNil(try whole.program(for: [[n, 3, 9, 7], [n]]).chunks)
        for size in [1, 2, 3] {
            var first: [Tensor]? = nil
            for threads in [1, 2, 3] {
                let s = try Session(graph: g, threads: threads, chunking: .size(size))
                let p = try s.program(for: [[n, 3, 9, 7], [n]])
                XCTAssertEqual(p.chunks?.chunkBatch, size)
                XCTAssertEqual(p.chunks?.programs.count, threads)
                XCTAssertEqual(p.inputs.map(\.shape), [[n, 3, 9, 7], [n]])
                XCTAssertEqual(p.outputs.map(\.shape), [[n, 3], [n, 8, 5, 4]])
                for _ in 0..<3 {
                    let out = try s.run(inputs(n))
                    for (o, r) in zip(out, reference) {
                        XCTAssertEqual(o.shape, r.shape)
                        for (a, b) in zip(o.floats, r.floats) { XCTAssertEqual(a, b, accuracy: 1e-5 + 1e-5 * abs(b)) }
                    }
                    if let first {
                        XCTAssertEqual(out.map(\.floats), first.map(\.floats), "chunks of \(size) on \(threads) threads")
                    } else {
                        first = out
                    }
                }
                // The profile sums every chunk's instruction times.
                XCTAssertEqual(try p.runProfiled().count, p.instructions.count)
            }
        }
        // A size that does not divide the batch runs it whole.
        XCTAssertNil(try Session(graph: g, chunking: .size(4)).program(for: [[n, 3, 9, 7], [n]]).chunks)
    }

    /// More threads than chunk programs (one bit each in a 64-bit word): threads wait for a free
    /// program instead of sharing one (the build drops preconditions).
    func testMoreThreadsThanChunkPrograms() throws {
        let g = try network()
        let n = 140
        let reference = try Session(graph: g, chunking: .size(1)).run(inputs(n))
        let s = try Session(graph: g, threads: 70, chunking: .size(1))
        XCTAssertEqual(try s.program(for: [[n, 3, 9, 7], [n]]).chunks?.programs.count, BatchChunks.maxPrograms)
        for _ in 0..<3 { XCTAssertEqual(try s.run(inputs(n)).map(\.floats), reference.map(\.floats)) }
    }

    func testAnErrorInAChunkIsThrown() throws {
        let s = try Session(graph: try network(), threads: 2, chunking: .size(1))
        var bad = inputs(4)
        bad[1] = Tensor(shape: [4], int64s: [0, 1, 9, 2])
        XCTAssertThrowsError(try s.run(bad))
        // The program still runs good inputs afterwards.
        XCTAssertNoThrow(try s.run(inputs(4)))
    }

    /// One-node graphs that combine samples: each must run whole, and the analysis must say why.
    func testGraphsThatCombineSamplesRunWhole() throws {
        let cases: [(String, String)] = [
            ("Softmax over the batch", "%y = Softmax(%x) {axis=0}"),
            ("a mean over the batch, kept", "%m = ReduceMean(%x, %ax)\n  %y = Sub(%x, %m)"),
            ("a batch reversed", "%y = Slice(%x, %st, %en, %ax, %sp)"),
            ("a Transpose that moves it", "%y = Transpose(%x) {perm=[1, 0]}"),
            ("a Gemm over it", "%y = Gemm(%x, %x) {transA=1}"),
            ("an ArgMax over it", "%y = ArgMax(%x) {axis=0}"),
        ]
        for (what, body) in cases {
            let text = """
            graph "mix" {
              input %x: f32[N,4]
              init %st: i64[1] = [-1]
              init %en: i64[1] = [-100000]
              init %ax: i64[1] = [0]
              init %sp: i64[1] = [-1]
              init %sc: f32[4] = [1.0, 1.0, 1.0, 1.0]
              \(body)
              output %y
            }
            """
            let g = try Graph.parse(text)
            let n = what.contains("Transpose") || what.contains("Gemm") ? 4 : 6
            let shapes = [[n, 4]]
            XCTAssertNil(try Session(graph: g, chunking: .size(2)).program(for: shapes).chunks, what)
            var full = try Session.bind(g, shapes), chunk = try Session.bind(g, [[2, 4]])
            try Pipelines.run(Pipelines.inference, on: &full)
            try Pipelines.run(Pipelines.inference, on: &chunk)
            let why = try SampleSeparability.reason(full: full, chunk: chunk, batch: n, chunkBatch: 2)
            XCTAssertNotNil(why, what)
        }
    }

    /// Graphs that keep their shapes but move data by the batch size or along the batch (the
    /// hostile check's four): a channel picked by N, channels shifted by N, samples shifted by a
    /// Pad that pads one end of axis 0 and crops the other, a Resize cropping axis 0 to an roi.
    func testGraphsThatMoveDataByTheBatchRunWhole() throws {
        let bodies = [
            ("a channel picked by N", """
              %sh = Shape(%x)
              %n = Slice(%sh, %z, %o)
              %st = Sub(%n, %o)
              %y = Slice(%x, %st, %n, %o)
            """),
            ("channels shifted by N", """
              %sh = Shape(%x)
              %n = Slice(%sh, %z, %o)
              %m = Sub(%z, %n)
              %pads = Concat(%z, %n, %z, %m) {axis=0}
              %y = Pad(%x, %pads)
            """),
            ("samples shifted by a Pad", "%y = Pad(%x, %shift)"),
            ("axis 0 cropped to an roi", """
              %sh = Shape(%x)
              %y = Resize(%x, %roi, _, %sh) {mode="linear", coordinate_transformation_mode="tf_crop_and_resize"}
            """),
        ]
        for (what, body) in bodies {
            let g = try Graph.parse("""
            graph "moves" {
              input %x: f32[N,8]
              init %z: i64[1] = [0]
              init %o: i64[1] = [1]
              init %shift: i64[4] = [1, 0, -1, 0]
              init %roi: f32[4] = [0.5, 0.0, 1.0, 1.0]
            \(body)
              output %y
            }
            """)
            let n = 6
            let x = Tensor(shape: [n, 8], floats: (0..<(n * 8)).map { Float($0) })
            let whole = try Session(graph: g, chunking: .whole).run([x])[0]
            let s = try Session(graph: g, chunking: .size(2))
            XCTAssertNil(try s.program(for: [[n, 8]]).chunks, what)
            XCTAssertEqual(try s.run([x])[0].floats, whole.floats, what)
        }
    }

    /// What the families answer for nodes that shapes cannot judge.
    func testFamiliesSayWhatMixesSamples() throws {
        let g = try Graph.parse("""
        graph "families" {
          input %x: f32[6,4]
          input %img: f32[6,2,5,5]
          init %sc: f32[4] = [1.0, 1.0, 1.0, 1.0]
          init %idx: i64[2] = [0, 1]
          %l0 = LayerNormalization(%x, %sc) {axis=1}
          %g0 = Gather(%x, %idx) {axis=0}
          %g1 = Gather(%x, %idx) {axis=1}
          output %l0
          output %g0
          output %g1
        }
        """)
        var layerNorm = g.nodes[0]
        XCTAssertFalse(try layerNorm.op.family.mixesSamples(layerNorm, [true, false], g))
        layerNorm.attributes["axis"] = .int(0)
        XCTAssertTrue(try layerNorm.op.family.mixesSamples(layerNorm, [true, false], g))
        XCTAssertTrue(try g.nodes[1].op.family.mixesSamples(g.nodes[1], [true, false], g), "Gather on axis 0 picks samples")
        XCTAssertFalse(try g.nodes[2].op.family.mixesSamples(g.nodes[2], [true, false], g))
        XCTAssertFalse(try g.nodes[1].op.family.mixesSamples(g.nodes[1], [false, true], g), "an embedding lookup per sample")
        let conv = Node(.conv, inputs: [g.inputs[1], g.inputs[1]], outputs: [g.inputs[1]])
        XCTAssertTrue(try conv.op.family.mixesSamples(conv, [true, true], g), "a weight from data")
        XCTAssertFalse(try conv.op.family.mixesSamples(conv, [true, false], g))
    }

    /// A constant folded at the batch size (a latent broadcast to [N, 4]) repeats per chunk;
    /// one that differs between samples does not.
    func testFoldedBatchConstants() throws {
        let repeatsEachSample = Tensor(shape: [4, 2], floats: [1, 2, 1, 2, 1, 2, 1, 2])
        XCTAssertTrue(SampleSeparability.repeatsChunk(repeatsEachSample, Tensor(shape: [1, 2], floats: [1, 2]), chunkBatch: 1))
        XCTAssertTrue(SampleSeparability.repeatsChunk(Tensor(shape: [4, 1], floats: [1, 2, 1, 2]),
                                                      Tensor(shape: [2, 1], floats: [1, 2]), chunkBatch: 2))
        XCTAssertFalse(SampleSeparability.repeatsChunk(Tensor(shape: [4, 1], floats: [1, 2, 3, 4]),
                                                       Tensor(shape: [2, 1], floats: [1, 2]), chunkBatch: 2))
    }

    /// The rule: chunk memory-bound networks whose whole batch spills the cache, at the largest
    /// divisor of the batch whose largest node fits 1 MiB; never compute-bound ones, small
    /// batches, or where the weights re-read per chunk outweigh the activations.
    func testRule() {
        typealias F = SampleSeparability.Footprint
        // mobilenet_v2 (batch 32, as footprint measures it): largest node 6.0 MB, 0.094 B/FLOP.
        let mobile = F(largestNodeBytes: 6_021_120, trafficBytes: 56_648_096, flops: 601_548_544, weightBytes: 13_951_264)
        XCTAssertEqual(BatchChunks.chunkBatch(mobile, batch: 32), 1)
        XCTAssertNil(BatchChunks.chunkBatch(mobile, batch: 5), "5 × 6 MB fits the cache")
        XCTAssertNil(BatchChunks.chunkBatch(mobile, batch: 1))
        // resnet18: 0.010 B/FLOP.
        let resnet = F(largestNodeBytes: 4_014_080, trafficBytes: 37_844_896, flops: 3_628_146_688, weightBytes: 46_738_848)
        XCTAssertNil(BatchChunks.chunkBatch(resnet, batch: 32))
        // Small images at a large batch: chunks of the largest divisor whose node fits 1 MiB.
        let small = F(largestNodeBytes: 300_000, trafficBytes: 3_000_000, flops: 20_000_000, weightBytes: 100_000)
        XCTAssertEqual(BatchChunks.chunkBatch(small, batch: 240), 3)
        XCTAssertEqual(BatchChunks.chunkBatch(small, batch: 256), 2)
        XCTAssertEqual(BatchChunks.chunkBatch(small, batch: 251), 1)
        // Weights beyond the activations one chunk moves stay whole.
        let heavy = F(largestNodeBytes: 6_000_000, trafficBytes: 20_000_000, flops: 100_000_000, weightBytes: 40_000_000)
        XCTAssertNil(BatchChunks.chunkBatch(heavy, batch: 32))
        // An absurd batch does not overflow.
        XCTAssertEqual(BatchChunks.chunkBatch(mobile, batch: Int.max / 2), 1)
    }

    func testFootprintCountsPerSampleBytesAndFlops() throws {
        let g = try network()
        var bound = try Session.bind(g, [[4, 3, 9, 7], [4]])
        try Pipelines.run(Pipelines.inference, on: &bound)
        let f = SampleSeparability.footprint(bound, batch: 4)
        // The first Conv (+bias+ReLU, fused) reads 3·9·7 and writes 8·9·7 floats a sample.
        XCTAssertEqual(f.largestNodeBytes, (189 + 504) * 4)
        // Conv 2·504·27, depthwise 2·160·9, Gemm 2·3·12 FLOPs a sample.
        XCTAssertEqual(f.flops, Double(2 * 504 * 27 + 2 * 160 * 9 + 2 * 3 * 12))
        XCTAssertEqual(f.weightBytes, (216 + 8 + 72 + 20 + 36) * 4)
    }
}
