// IntegerIndexing: row-major index arithmetic for the integer (shape-computation) evaluations
// of the data-movement and arithmetic families.
//
// Contract: `broadcastIndex(i)` maps flat output index i (over `outShape`) to the flat index of
// the numpy-broadcast input element (over `inShape`, right-aligned, size-1 dims repeat).
// `generate` fills an integer tensor of `outShape` element by element; `permuted` reads each
// output element from an input coordinate computed per axis (Slice, Transpose).

import GraphIR

struct IntegerIndexing {
    let outStrides: [Int]
    let inStrides: [Int]
    let outShape: [Int]
    let inShape: [Int]

    init(_ outShape: [Int], _ inShape: [Int]) {
        self.outShape = outShape
        self.inShape = inShape
        outStrides = Self.strides(outShape)
        inStrides = Self.strides(inShape)
    }

    static func strides(_ s: [Int]) -> [Int] {
        var r = [Int](repeating: 1, count: s.count)
        for i in stride(from: s.count - 2, through: 0, by: -1) { r[i] = r[i + 1] * s[i + 1] }
        return r
    }

    func broadcastIndex(_ i: Int) -> Int {
        var rest = i, at = 0
        let pad = outShape.count - inShape.count
        for d in 0..<outShape.count {
            let c = rest / outStrides[d]
            rest %= outStrides[d]
            if d >= pad && inShape[d - pad] != 1 { at += c * inStrides[d - pad] }
        }
        return at
    }

    /// An integer tensor of `shape` whose element i is `source(i)`.
    static func generate(_ shape: [Int], _ dtype: DType, _ source: (Int) throws -> Int64) rethrows -> Tensor {
        let count = shape.reduce(1, *)
        var out = [Int64](repeating: 0, count: count)
        for i in 0..<count { out[i] = try source(i) }
        return Tensor(shape: shape, int64s: out, dtype: dtype)
    }

    /// An integer tensor of `outShape` whose element at output coordinate c_d (per output axis d)
    /// is `data` at input coordinate `source(d, c_d).coordinate` along input axis `.axis`
    /// (Slice: start + c·step on the same axis; Transpose: c on axis perm[d]).
    static func permuted(_ outShape: [Int], _ inShape: [Int], _ dtype: DType, _ data: [Int64],
                         _ source: (Int, Int) -> (coordinate: Int, axis: Int)) -> Tensor {
        let os = strides(outShape), ins = strides(inShape)
        return generate(outShape, dtype) { i in
            var rest = i, at = 0
            for d in 0..<outShape.count {
                let c = rest / os[d]
                rest %= os[d]
                let (coordinate, axis) = source(d, c)
                at += coordinate * ins[axis]
            }
            return data[at]
        }
    }
}
