// Bench: micro-benchmarks of the machine and the kernels, used by `gannet bench` and reports.
import Foundation

public enum KernelBench {
    @inline(__always)
    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    /// FMA loop with 24 independent SIMD16 accumulators per thread (enough to cover both FMA
    /// ports' latency), run on every thread; returns GFLOP/s of the whole pool (best of 5).
    public static func peakGflops(threads: Int, pool: ThreadPool) -> Double {
        let iters = 2_000_000
        let t = min(threads, pool.threads)
        var best = 0.0
        for _ in 0..<5 {
            let start = now()
            pool.parallelFor(t) { r in
                for _ in r { sink(fmaLoop(iters)) }
            }
            let dt = now() - start
            best = max(best, Double(t) * Double(iters) * 24 * 32 / dt / 1e9)
        }
        return best
    }

    nonisolated(unsafe) static var sinkValue: Float = 0
    @inline(never) static func sink(_ x: Float) { sinkValue += x }

    @inline(never)
    static func fmaLoop(_ iters: Int) -> Float {
        typealias V = SIMD16<Float>
        let m = V(repeating: 0.999999), d = V(repeating: 1e-7)
        var a0 = V(repeating: 0.1), a1 = V(repeating: 0.2), a2 = V(repeating: 0.3), a3 = V(repeating: 0.4)
        var a4 = V(repeating: 0.5), a5 = V(repeating: 0.6), a6 = V(repeating: 0.7), a7 = V(repeating: 0.8)
        var a8 = V(repeating: 0.9), a9 = V(repeating: 1.0), a10 = V(repeating: 1.1), a11 = V(repeating: 1.2)
        var b0 = V(repeating: 0.1), b1 = V(repeating: 0.2), b2 = V(repeating: 0.3), b3 = V(repeating: 0.4)
        var b4 = V(repeating: 0.5), b5 = V(repeating: 0.6), b6 = V(repeating: 0.7), b7 = V(repeating: 0.8)
        var b8 = V(repeating: 0.9), b9 = V(repeating: 1.0), b10 = V(repeating: 1.1), b11 = V(repeating: 1.2)
        for _ in 0..<iters {
            a0 = a0.addingProduct(a0, m); a1 = a1.addingProduct(a1, m); a2 = a2.addingProduct(a2, m)
            a3 = a3.addingProduct(a3, m); a4 = a4.addingProduct(a4, m); a5 = a5.addingProduct(a5, m)
            a6 = a6.addingProduct(a6, m); a7 = a7.addingProduct(a7, m); a8 = a8.addingProduct(a8, m)
            a9 = a9.addingProduct(a9, m); a10 = a10.addingProduct(a10, m); a11 = a11.addingProduct(a11, m)
            b0 = b0.addingProduct(b0, d); b1 = b1.addingProduct(b1, d); b2 = b2.addingProduct(b2, d)
            b3 = b3.addingProduct(b3, d); b4 = b4.addingProduct(b4, d); b5 = b5.addingProduct(b5, d)
            b6 = b6.addingProduct(b6, d); b7 = b7.addingProduct(b7, d); b8 = b8.addingProduct(b8, d)
            b9 = b9.addingProduct(b9, d); b10 = b10.addingProduct(b10, d); b11 = b11.addingProduct(b11, d)
        }
        let s = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11
            + b0 + b1 + b2 + b3 + b4 + b5 + b6 + b7 + b8 + b9 + b10 + b11
        return s.sum()
    }

    /// Median GFLOP/s of `Gemm.sgemm` (alpha 1, beta 0; op(A) m×k, op(B) k×n, optionally stored
    /// transposed) over `repeats` runs.
    public static func gemmGflops(m: Int, n: Int, k: Int, transA: Bool = false, transB: Bool = false,
                                  pool: ThreadPool, repeats: Int) -> Double {
        gemmGflops(m: m, n: n, k: k, transA: transA, transB: transB, pools: [pool], repeats: repeats)[0]
    }

    /// Median GFLOP/s of the same SGEMM on each pool, the pools' runs interleaved (pool 0, pool 1,
    /// pool 0, …) so that slow drifts of the machine (a busy host, clock changes) affect every
    /// pool alike: the ratio of two entries is the thread scaling measured in one process.
    public static func gemmGflops(m: Int, n: Int, k: Int, transA: Bool = false, transB: Bool = false,
                                  pools: [ThreadPool], repeats: Int) -> [Double] {
        // Operands on huge pages, as the runtime's arena and constant pool are.
        let a = HugePages.allocateIfLarge(m * k * 4).bindMemory(to: Float.self, capacity: m * k)
        let b = HugePages.allocateIfLarge(k * n * 4).bindMemory(to: Float.self, capacity: k * n)
        let c = HugePages.allocateIfLarge(m * n * 4).bindMemory(to: Float.self, capacity: m * n)
        defer { free(a); free(b); free(c) }
        for i in 0..<(m * k) { a[i] = Float(i % 7) * 0.1 - 0.3 }
        for i in 0..<(k * n) { b[i] = Float(i % 5) * 0.1 - 0.2 }
        var times = [[Double]](repeating: [], count: pools.count)
        for rep in 0...max(1, repeats) {
            for (i, pool) in pools.enumerated() {
                let start = now()
                Gemm.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 1, a: a, lda: transA ? m : k,
                           b: b, ldb: transB ? k : n, beta: 0, c: c, ldc: n, pool: pool)
                let dt = now() - start
                if rep > 0 { times[i].append(dt) }   // the first run warms caches and buffers
            }
        }
        return times.map { t in 2 * Double(m) * Double(n) * Double(k) / t.sorted()[t.count / 2] / 1e9 }
    }
}

extension KernelBench {
    /// Median milliseconds of one `Conv2D.forward` (or `ConvTranspose2D.forward`) call on random
    /// data, with a bias + leakyRelu epilogue.
    public static func convMs(_ s: Conv2DShape, transposed: Bool, pool: ThreadPool, repeats: Int) -> Double {
        let xCount = s.batch * s.inChannels * s.inHeight * s.inWidth
        let yCount = s.batch * s.outChannels * s.outHeight * s.outWidth
        let wCount = s.inChannels * (s.outChannels / s.group) * s.kernelH * s.kernelW
        let sc = transposed ? ConvTranspose2D.scratchCount(s, threads: pool.threads) : Conv2D.scratchCount(s, threads: pool.threads)
        let x = UnsafeMutablePointer<Float>.allocate(capacity: xCount)
        let w = UnsafeMutablePointer<Float>.allocate(capacity: wCount)
        let bias = UnsafeMutablePointer<Float>.allocate(capacity: s.outChannels)
        let y = UnsafeMutablePointer<Float>.allocate(capacity: yCount)
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: max(1, sc))
        defer { x.deallocate(); w.deallocate(); bias.deallocate(); y.deallocate(); scratch.deallocate() }
        for i in 0..<xCount { x[i] = Float(i % 13) * 0.05 - 0.3 }
        for i in 0..<wCount { w[i] = Float(i % 11) * 0.02 - 0.1 }
        for i in 0..<s.outChannels { bias[i] = 0.01 * Float(i % 3) }
        let ops: [EpilogueOp] = [.bias(perRow: true), .activation(.leakyRelu(0.2))]
        var times: [Double] = []
        for rep in 0...max(1, repeats) {
            let start = now()
            if transposed {
                ConvTranspose2D.forward(s, x: x, weight: w, bias: bias, y: y, epilogue: ops, scratch: scratch, pool: pool)
            } else {
                Conv2D.forward(s, x: x, weight: w, bias: bias, y: y, epilogue: ops, scratch: scratch, pool: pool)
            }
            if rep > 0 { times.append(now() - start) }
        }
        times.sort()
        return times[times.count / 2] * 1e3
    }

    /// Multiply-add FLOPs of a (transposed) convolution, counted as 2 per MAC over valid taps
    /// ignored: 2·N·outC·(inC/group)·kH·kW·(outH·outW) for Conv, ·(inH·inW) for ConvTranspose.
    public static func convFlops(_ s: Conv2DShape, transposed: Bool) -> Double {
        let macs = Double(s.batch) * Double(s.outChannels) * Double(s.inChannels / s.group)
            * Double(s.kernelH * s.kernelW) * Double(transposed ? s.inHeight * s.inWidth : s.outHeight * s.outWidth)
        return 2 * macs
    }
}
