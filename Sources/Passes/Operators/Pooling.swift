// Pooling: MaxPool, AveragePool (1-D and 2-D), GlobalAveragePool and GlobalMaxPool over NCHW.
//
// Contract: window geometry comes from `ConvGeometry.pool`; MaxPool's optional Indices output is
// typed int64 but not computed (lowering rejects it); AveragePool honours count_include_pad.
// GlobalAveragePool and GlobalMaxPool keep the spatial axes as size 1; GlobalMaxPool is a
// max-reduction over the spatial axes (the `Reduce` kernel). GlobalAveragePool's pullback is
// dY/size broadcast back; GlobalMaxPool's is ReduceMax's (dY to the maximum, shared equally
// among ties: `ReductionOps.extremumGradient`); the windowed pools have no pullback.

import GraphIR
import Kernels

public enum PoolingOps: OperatorFamily {
    public static func outputTypes(_ node: Node, _ ts: [TensorType?], _ g: Graph) throws -> [TensorType] {
        let x = ts[0]!
        guard x.rank >= 3 else { throw GraphError("input must have rank >= 3, got \(x)") }
        switch node.op {
        case .maxPool, .averagePool:
            let spatial = try ShapeRules.fixed(TensorType(x.dtype, Array(x.shape[2...])), "spatial dims")
            let geo = try ConvGeometry.pool(node, input: spatial)
            let shape = [x.shape[0], x.shape[1]] + geo.output.map { Dim.fixed($0) }
            return [TensorType(x.dtype, shape), TensorType(.int64, shape)].prefix(node.outputs.count).map { $0 }
        case .globalAveragePool, .globalMaxPool:
            return [TensorType(x.dtype, [x.shape[0], x.shape[1]] + Array(repeating: .fixed(1), count: x.rank - 2))]
        default: throw notInFamily(node.op)
        }
    }

    public static func evaluate(_ node: Node, _ x: [Tensor?], _ outTypes: [TensorType], _ g: Graph) throws -> [Tensor] {
        let outShape = outTypes[0].fixedShape ?? []
        var y = [Float](repeating: 0, count: outShape.reduce(1, *))
        let xs = x[0]!.shape
        switch node.op {
        case .maxPool, .averagePool:
            guard xs.count == 4 else { throw GraphError("reference pooling supports 2-D only") }
            let geo = try ConvGeometry.pool(node, input: Array(xs[2...]))
            let p = Pool2DShape(batch: xs[0], channels: xs[1], inH: xs[2], inW: xs[3], outH: outShape[2], outW: outShape[3],
                                kernelH: geo.kernel[0], kernelW: geo.kernel[1], strideH: geo.strides[0], strideW: geo.strides[1],
                                padTop: geo.pads[0], padLeft: geo.pads[1], padBottom: geo.pads[2], padRight: geo.pads[3],
                                dilationH: geo.dilations[0], dilationW: geo.dilations[1],
                                countIncludePad: try node.attributes.int("count_include_pad", default: 0) != 0)
            Pool2D.reference(p, x[0]!.floats, &y, average: node.op == .averagePool)
        case .globalAveragePool:
            Pool2D.referenceGlobalAverage(x[0]!.floats, &y, planes: xs[0] * xs[1], spatial: xs[2...].reduce(1, *))
        case .globalMaxPool:
            Reduce.reference(.max, shape: xs, axes: Array(2..<xs.count), x[0]!.floats, &y)
        default: throw notInFamily(node.op)
        }
        return [Tensor(shape: outShape, floats: y)]
    }

    public static func lower(_ node: Node, _ ctx: LoweringContext) throws -> Lowered {
        let (x, y) = try ctx.kernelShapes(node)
        switch node.op {
        case .maxPool, .averagePool:
            guard x.count == 4 || x.count == 3 else { throw GraphError("only 1-D and 2-D pooling is supported, got input \(x)") }
            if node.outputs.count > 1 { throw GraphError("MaxPool's Indices output is not supported") }
            let geo = try ConvGeometry.pool(node, input: Array(x[2...]))
            let two = x.count == 4
            let p = Pool2DShape(batch: x[0], channels: x[1], inH: two ? x[2] : 1, inW: two ? x[3] : x[2],
                                outH: two ? y[2] : 1, outW: two ? y[3] : y[2],
                                kernelH: two ? geo.kernel[0] : 1, kernelW: geo.kernel[two ? 1 : 0],
                                strideH: two ? geo.strides[0] : 1, strideW: geo.strides[two ? 1 : 0],
                                padTop: two ? geo.pads[0] : 0, padLeft: geo.pads[two ? 1 : 0],
                                padBottom: two ? geo.pads[2] : 0, padRight: geo.pads[two ? 3 : 1],
                                dilationH: two ? geo.dilations[0] : 1, dilationW: geo.dilations[two ? 1 : 0],
                                countIncludePad: try node.attributes.int("count_include_pad", default: 0) != 0)
            return .kernel(.pool(p, max: node.op == .maxPool))
        case .globalAveragePool:
            return .kernel(.globalAveragePool(planes: x[0] * x[1], size: x[2...].reduce(1, *)))
        case .globalMaxPool:
            return .kernel(.reduce(.max, try ReducePlan(shape: x, axes: Array(2..<x.count))))
        default: throw notInFamily(node.op)
        }
    }

    /// Each image on its own.
    public static func mixesSamples(_ node: Node, _ batched: [Bool], _ graph: Graph) throws -> Bool {
        batchedBeyondFirst(batched)
    }
    public static func pullback(_ op: Op) -> Pullback? {
        switch op {
        case .globalAveragePool:
            return { b, n, dy, _ in
                let xd = try b.fixed(n.inputs[0]!)
                return [try b.mul(b.expand(dy[0]!, to: b.dims(n.inputs[0]!)), 1 / Float(xd[2...].reduce(1, *)))]
            }
        case .globalMaxPool:
            return { b, n, dy, _ in
                let x = n.inputs[0]!
                return [try ReductionOps.extremumGradient(b, x: x, y: n.outputs[0], dy: dy[0]!, axes: Array(2..<b.rank(x)), keepdims: true)]
            }
        default: return nil
        }
    }
}
