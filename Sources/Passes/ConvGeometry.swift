// ConvGeometry: ONNX output-size and padding rules for Conv, ConvTranspose and pooling.
//
// Contract: all arithmetic on kernel, stride, dilation, pad and input sizes is overflow-checked
// (`Limits`): a size that does not fit is a `GraphError` naming the node, never a trap.

import GraphIR

/// Resolved geometry of a 2-D (or N-D) convolution-like op over the spatial dims.
public struct ConvGeometry: Equatable {
    public var kernel: [Int]
    public var strides: [Int]
    public var dilations: [Int]
    /// Begin pads then end pads, as in ONNX `pads`.
    public var pads: [Int]
    public var outputPadding: [Int]
    public var group: Int
    public var output: [Int]

    public var padBegin: [Int] { Array(pads[0..<kernel.count]) }
    public var padEnd: [Int] { Array(pads[kernel.count...]) }

    enum Kind { case conv, convTranspose, pool }

    /// Geometry of a Conv node over input spatial sizes `input` with weight spatial `kernel`.
    public static func conv(_ node: Node, input: [Int], weightKernel: [Int]) throws -> ConvGeometry {
        try resolve(node, .conv, input: input, kernel: weightKernel)
    }

    /// Geometry of a ConvTranspose node.
    public static func convTranspose(_ node: Node, input: [Int], weightKernel: [Int]) throws -> ConvGeometry {
        try resolve(node, .convTranspose, input: input, kernel: weightKernel)
    }

    /// Geometry of a MaxPool or AveragePool node.
    public static func pool(_ node: Node, input: [Int]) throws -> ConvGeometry {
        guard let k = try node.attributes.ints("kernel_shape") else {
            throw GraphError("\(node.op.rawValue) node '\(node.name)' needs kernel_shape")
        }
        return try resolve(node, .pool, input: input, kernel: k)
    }

    static func resolve(_ node: Node, _ kind: Kind, input: [Int], kernel weightKernel: [Int]) throws -> ConvGeometry {
        let a = node.attributes
        let r = input.count
        let what = "\(node.op.rawValue) node '\(node.name)'"
        let kernel = try a.ints("kernel_shape") ?? weightKernel
        guard kernel.count == r else { throw GraphError("\(what): kernel_shape has \(kernel.count) dims, input has \(r) spatial dims") }
        if kind != .pool && kernel != weightKernel {
            throw GraphError("\(what): kernel_shape \(kernel) disagrees with the weight's \(weightKernel)")
        }
        let strides = try a.ints("strides") ?? Array(repeating: 1, count: r)
        let dilations = try a.ints("dilations") ?? Array(repeating: 1, count: r)
        var pads = try a.ints("pads") ?? Array(repeating: 0, count: 2 * r)
        var outputPadding = try a.ints("output_padding") ?? Array(repeating: 0, count: r)
        let group = try a.int("group", default: 1)
        let autoPad = try a.string("auto_pad") ?? "NOTSET"
        let ceilMode = try a.int("ceil_mode", default: 0) != 0
        guard strides.count == r, dilations.count == r, pads.count == 2 * r, outputPadding.count == r else {
            throw GraphError("\(what): strides, dilations, pads or output_padding do not match \(r) spatial dims")
        }
        guard strides.allSatisfy({ $0 > 0 }), dilations.allSatisfy({ $0 > 0 }), kernel.allSatisfy({ $0 > 0 }),
              pads.allSatisfy({ $0 >= 0 }), group > 0 else {
            throw GraphError("\(what): strides, dilations and kernel must be positive and pads non-negative")
        }
        var out = [Int](repeating: 0, count: r)
        func mul(_ a: Int, _ b: Int) throws -> Int { try Limits.multiply(a, b, what) }
        func add(_ a: Int, _ b: Int) throws -> Int { try Limits.add(a, b, what) }
        func sub(_ a: Int, _ b: Int) throws -> Int { try Limits.subtract(a, b, what) }
        for i in 0..<r {
            let eff = try add(try mul(kernel[i] - 1, dilations[i]), 1)
            switch kind {
            case .conv, .pool:
                switch autoPad {
                case "NOTSET":
                    let span = try sub(try add(try add(input[i], pads[i]), pads[i + r]), eff)
                    if ceilMode && kind == .pool {
                        let up = span >= 0 ? span / strides[i] + (span % strides[i] == 0 ? 0 : 1) : (span + strides[i] - 1) / strides[i]
                        out[i] = try add(up, 1)
                        if try mul(out[i] - 1, strides[i]) >= (try add(input[i], pads[i])) { out[i] -= 1 }
                    } else {
                        out[i] = span < 0 ? 0 : span / strides[i] + 1
                    }
                case "VALID":
                    pads[i] = 0; pads[i + r] = 0
                    out[i] = max(0, (input[i] - eff) / strides[i] + 1)
                case "SAME_UPPER", "SAME_LOWER":
                    out[i] = input[i] / strides[i] + (input[i] % strides[i] == 0 ? 0 : 1)
                    let total = max(0, try sub(try add(try mul(out[i] - 1, strides[i]), eff), input[i]))
                    let small = total / 2, large = total - total / 2
                    (pads[i], pads[i + r]) = autoPad == "SAME_UPPER" ? (small, large) : (large, small)
                default:
                    throw GraphError("\(what): unknown auto_pad '\(autoPad)'")
                }
            case .convTranspose:
                // strides·(input − 1) + output_padding + eff: the full (unpadded) output size.
                let full = try add(try add(try mul(strides[i], input[i] - 1), outputPadding[i]), eff)
                if let shape = try a.ints("output_shape") {
                    let target = shape.count == r ? shape[i] : (shape.count == r + 2 ? shape[i + 2] : -1)
                    guard target > 0 else { throw GraphError("\(what): output_shape \(shape) does not match \(r) spatial dims") }
                    let total = full - target
                    let small = total / 2, large = total - total / 2
                    if total < 0 { outputPadding[i] = try add(outputPadding[i], -total); pads[i] = 0; pads[i + r] = 0 } else {
                        (pads[i], pads[i + r]) = autoPad == "SAME_UPPER" ? (small, large) : (large, small)
                    }
                    out[i] = target
                } else {
                    switch autoPad {
                    case "NOTSET": break
                    case "VALID": pads[i] = 0; pads[i + r] = 0
                    case "SAME_UPPER", "SAME_LOWER":
                        let target = try mul(input[i], strides[i])
                        let total = max(0, full - target)
                        let small = total / 2, large = total - total / 2
                        (pads[i], pads[i + r]) = autoPad == "SAME_UPPER" ? (small, large) : (large, small)
                    default: throw GraphError("\(what): unknown auto_pad '\(autoPad)'")
                    }
                    out[i] = try sub(full, try add(pads[i], pads[i + r]))
                }
            }
            guard out[i] > 0 else {
                throw GraphError("\(what): output size along spatial dim \(i) would be \(out[i]) (input \(input[i]), kernel \(kernel[i]))")
            }
        }
        return ConvGeometry(kernel: kernel, strides: strides, dilations: dilations, pads: pads,
                            outputPadding: outputPadding, group: group, output: out)
    }
}
