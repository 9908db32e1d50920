// KernelSupport: shared pieces of the non-GEMM kernels (errors, partial SIMD loads and stores,
// shape collapsing, a fixed-capacity odometer, deterministic work splitting, huge-page buffers).
//
// Contract: nothing here allocates during a kernel call. Plans (computed once, at compile time,
// by the runtime) collapse shapes so that kernels only loop. Work is split over independent
// outputs only, so results are bit-identical for any thread count.

#if canImport(Glibc)
import CSIMD
import Glibc
#endif

/// Errors a kernel or a plan reports instead of trapping.
public enum KernelError: Error, Equatable, CustomStringConvertible {
    /// A Gather index outside [-size, size).
    case indexOutOfRange(index: Int, size: Int)
    /// Shapes (or axes, perms, slice parameters) that do not fit together.
    case invalidShape(String)

    public var description: String {
        switch self {
        case .indexOutOfRange(let i, let n): return "index \(i) is out of range for an axis of size \(n)"
        case .invalidShape(let s): return s
        }
    }
}

/// The largest number of collapsed outer dimensions a plan may have (an odometer's capacity).
let maxOuterRank = 8

@usableFromInline typealias V16 = SIMD16<Float>

/// Loads `n` (0…16) floats, filling the other lanes with `fill`; reads nothing past p[n − 1]
/// (one masked load: CSIMD `gannet_load_partial16`).
@inline(__always) @usableFromInline
func loadPartial(_ p: UnsafePointer<Float>, _ n: Int, fill: Float = 0) -> V16 {
    gannet_load_partial16(p, n, fill)
}

/// Stores the first `n` (0…16) lanes of `v`; writes nothing past p[n − 1] (one masked store).
@inline(__always) @usableFromInline
func storePartial(_ v: V16, _ p: UnsafeMutablePointer<Float>, _ n: Int) {
    gannet_store_partial16(p, v, n)
}

@inline(__always) @usableFromInline
func load16(_ p: UnsafePointer<Float>) -> V16 { UnsafeRawPointer(p).loadUnaligned(as: V16.self) }

@inline(__always) @usableFromInline
func store16(_ v: V16, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: V16.self) }

/// Row-major strides of a dense shape.
/// The greatest common divisor of a and b (≥ 0).
func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }

func denseStrides(_ shape: [Int]) -> [Int] {
    var s = [Int](repeating: 1, count: shape.count)
    var acc = 1
    for d in stride(from: shape.count - 1, through: 0, by: -1) { s[d] = acc; acc *= shape[d] }
    return s
}

/// Strides of a dense `shape` read as broadcast to `outShape` (numpy rules, right-aligned):
/// 0 along a broadcast (or size-1) dimension; an error when `shape` does not broadcast.
func broadcastStrides(_ shape: [Int], to outShape: [Int]) throws -> [Int] {
    guard shape.count <= outShape.count else { throw KernelError.invalidShape("shape \(shape) has more dimensions than \(outShape)") }
    let pad = outShape.count - shape.count
    let dense = denseStrides(shape)
    return try (0..<outShape.count).map { d in
        if d < pad { return 0 }
        let n = shape[d - pad]
        if n == outShape[d] { return n == 1 ? 0 : dense[d - pad] }
        if n == 1 { return 0 }
        throw KernelError.invalidShape("shape \(shape) does not broadcast to \(outShape)")
    }
}

/// Drops size-1 dimensions and merges dimension d into d+1 whenever every operand's stride
/// satisfies stride[d] == stride[d+1] · size[d+1]. Operands are described by strides over
/// `shape` (0 for a broadcast dimension, any sign otherwise).
func collapseDims(_ shape: [Int], _ strides: [[Int]]) -> (shape: [Int], strides: [[Int]]) {
    var outShape: [Int] = []
    var outStrides = [[Int]](repeating: [], count: strides.count)
    for d in 0..<shape.count where shape[d] != 1 {
        if let last = outShape.last,
           strides.indices.allSatisfy({ strides[$0][d] * shape[d] == outStrides[$0].last! }) {
            outShape[outShape.count - 1] = last * shape[d]
            for k in strides.indices { outStrides[k][outStrides[k].count - 1] = strides[k][d] }
        } else {
            outShape.append(shape[d])
            for k in strides.indices { outStrides[k].append(strides[k][d]) }
        }
    }
    return (outShape, outStrides)
}

/// Walks the outer dimensions of a plan in row-major order, tracking up to three offsets.
@usableFromInline
struct Odometer {
    var index = InlineArray<8, Int>(repeating: 0)
    var o0 = 0, o1 = 0, o2 = 0

    /// Positions the odometer at linear outer index `start`.
    @inline(__always)
    init(start: Int, sizes: [Int], _ s0: [Int], _ s1: [Int], _ s2: [Int]) {
        var rest = start
        for d in stride(from: sizes.count - 1, through: 0, by: -1) {
            let i = rest % sizes[d]
            rest /= sizes[d]
            index[d] = i
            o0 += i * s0[d]; o1 += i * s1[d]; o2 += i * s2[d]
        }
    }

    /// Advances by one in row-major order.
    @inline(__always)
    mutating func next(sizes: [Int], _ s0: [Int], _ s1: [Int], _ s2: [Int]) {
        var d = sizes.count - 1
        while d >= 0 {
            index[d] += 1
            o0 += s0[d]; o1 += s1[d]; o2 += s2[d]
            if index[d] < sizes[d] { return }
            o0 -= s0[d] * sizes[d]; o1 -= s1[d] * sizes[d]; o2 -= s2[d] * sizes[d]
            index[d] = 0
            d -= 1
        }
    }
}

/// Work below this many elements runs on the calling thread.
let parallelThreshold = 1 << 15

extension ThreadPool {
    /// Splits `units` independent work units over the pool when `work` (elements touched) is
    /// large enough, otherwise runs them serially. Units never share outputs.
    @inline(__always)
    func splitWork(_ units: Int, work: Int, _ body: (Range<Int>) -> Void) {
        if units <= 0 { return }
        if threads == 1 || units == 1 || work < parallelThreshold { body(0..<units) } else { parallelFor(units, body) }
    }
}

/// Per-thread scratch (pthread TLS): each thread's buffer is allocated on its first `get` and
/// grown only when a larger one is asked for (the old contents are then lost), so a steady state
/// allocates nothing. Each instance is its own key: a kernel holding one instance's buffer may
/// call code that uses another's (the GEMM uses `Gemm.packStorage`).
public final class ThreadBuffer: @unchecked Sendable {
    private var key = pthread_key_t()
    /// Floats allocated at least.
    let minimum: Int

    init(minimum: Int) {
        self.minimum = minimum
        pthread_key_create(&key) { p in free(p) }
    }

    /// This thread's buffer, 64-byte aligned, of at least `count` floats (a header before it
    /// holds the capacity).
    func get(_ count: Int) -> UnsafeMutablePointer<Float> {
        if let raw = pthread_getspecific(key) {
            let cap = raw.load(as: Int.self)
            if cap >= count { return (raw + 64).assumingMemoryBound(to: Float.self) }
            free(raw)
        }
        let cap = max(count, minimum)
        let mem = HugePages.allocate(64 + cap * 4)
        mem.storeBytes(of: cap, as: Int.self)
        pthread_setspecific(key, mem)
        return (mem + 64).assumingMemoryBound(to: Float.self)
    }
}

/// Large buffers backed by transparent huge pages (where the kernel allows them on request).
/// Physically contiguous 2 MiB pages give the physically indexed L2 the same set mapping in every
/// process; with 4 KiB pages it depends on which pages the kernel hands out, which made 512³
/// SGEMM run at 106 or 145 GFLOP/s from one process to the next.
public enum HugePages {
    /// `bytes` rounded up to 2 MiB, aligned to 2 MiB, advised MADV_HUGEPAGE. Release with `free`.
    public static func allocate(_ bytes: Int) -> UnsafeMutableRawPointer {
        let huge = 2 << 20
        let size = (max(bytes, 1) + huge - 1) / huge * huge
        var mem: UnsafeMutableRawPointer? = nil
        guard posix_memalign(&mem, huge, size) == 0, let mem else { fatalError("out of memory: \(size) bytes") }
        _ = madvise(mem, size, 14 /* MADV_HUGEPAGE */)
        return mem
    }

    /// Huge pages for buffers of at least 1 MiB, an ordinary 64-byte aligned allocation below.
    /// Release with `free`.
    public static func allocateIfLarge(_ bytes: Int) -> UnsafeMutableRawPointer {
        if bytes >= 1 << 20 { return allocate(bytes) }
        var mem: UnsafeMutableRawPointer? = nil
        guard posix_memalign(&mem, 64, max(bytes, 64)) == 0, let mem else { fatalError("out of memory: \(bytes) bytes") }
        return mem
    }
}

/// The lane mask of lanes lo ..< hi, clamped to 0 … 16 (bit l: lane l): which lanes of a vector
/// load at column b lie in a row of w columns is `laneMask(-b, w - b)`.
@inline(__always) @usableFromInline
func laneMask(_ lo: Int, _ hi: Int) -> UInt16 {
    let l = max(0, min(16, lo)), h = max(l, min(16, hi))
    return UInt16(truncatingIfNeeded: (1 &<< h) - (1 &<< l))
}

/// a[0], a[2], …, a[14], b[0], b[2], …, b[14]: one two-source permute.
@inline(__always) @usableFromInline
func evenLanes(_ a: V16, _ b: V16) -> V16 {
    V16(a[0], a[2], a[4], a[6], a[8], a[10], a[12], a[14], b[0], b[2], b[4], b[6], b[8], b[10], b[12], b[14])
}

/// The 16 even-indexed floats of p[0 ..< 32] (p[0], p[2], …, p[30]): two vector loads and one
/// two-source permute (`SIMD32.evenHalf` compiles to 16 single-lane inserts).
@inline(__always) @usableFromInline
func loadEven16(_ p: UnsafePointer<Float>) -> V16 { evenLanes(load16(p), load16(p + 16)) }

/// a[1], a[3], …, a[15], b[1], b[3], …, b[15]: one two-source permute.
@inline(__always) @usableFromInline
func oddLanes(_ a: V16, _ b: V16) -> V16 {
    V16(a[1], a[3], a[5], a[7], a[9], a[11], a[13], a[15], b[1], b[3], b[5], b[7], b[9], b[11], b[13], b[15])
}

/// v[1 …] then b[i]: the tap one column pair to the right (one permute; i = 0 or 1).
@inline(__always) @usableFromInline
func shiftIn(_ v: V16, _ b: V16, _ i: Int) -> V16 {
    i == 0 ? V16(v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12], v[13], v[14], v[15], b[0])
           : V16(v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12], v[13], v[14], v[15], b[1])
}

/// v[2 …] then b[0], b[2]: the tap two column pairs to the right of even lanes v.
@inline(__always) @usableFromInline
func shiftIn2(_ v: V16, _ b: V16) -> V16 {
    V16(v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12], v[13], v[14], v[15], b[0], b[2])
}

/// a[0], b[0], a[1], b[1], …, a[7], b[7].
@inline(__always) @usableFromInline
func interleaveLow(_ a: V16, _ b: V16) -> V16 {
    V16(a[0], b[0], a[1], b[1], a[2], b[2], a[3], b[3], a[4], b[4], a[5], b[5], a[6], b[6], a[7], b[7])
}

/// a[8], b[8], a[9], b[9], …, a[15], b[15].
@inline(__always) @usableFromInline
func interleaveHigh(_ a: V16, _ b: V16) -> V16 {
    V16(a[8], b[8], a[9], b[9], a[10], b[10], a[11], b[11], a[12], b[12], a[13], b[13], a[14], b[14], a[15], b[15])
}

/// The 16 odd-indexed floats of p[0 ..< 32] (p[1], p[3], …, p[31]).
@inline(__always) @usableFromInline
func loadOdd16(_ p: UnsafePointer<Float>) -> V16 { oddLanes(load16(p), load16(p + 16)) }
