// ChannelsLastIslands: runs chains of depthwise and 1×1 convolutions (MobileNet, EfficientNet and
// ShuffleNet blocks) in channels-last (NHWC) layout, with one layout change where a chain starts
// and one where it ends, instead of NCHW kernels that fill vectors badly on small planes.
//
// Contract: input — a typed graph with fixed shapes, in topological order (a lowering copy:
// `Pipelines.lowering`). Candidates are 2-D Conv/FusedConv nodes with a constant weight and an
// input plane of at most `maxPlane` pixels that are depthwise (one input and one output channel
// per group) or 1×1, stride 1, unpadded, group 1 with at least `minPointwiseOut` outputs; and the
// layout-free nodes between them: point-wise one-input ops (Unary, Clip), Add/Sub/Mul/Div
// whose other operand is the same shape, a scalar or one value per channel, and
// GlobalAveragePool. Candidates joined through their data inputs form islands; an island is
// rewritten when it holds a depthwise convolution and no more layout changes at its border than
// convolutions. In a rewritten island every convolution gets `channels_last` (ConvOps), reading
// the NHWC twin of its input and writing an NHWC twin of its output; a layout-free node whose
// data input already has a twin runs on the twins (a per-channel operand reshaped to
// (N, 1, 1, C), GlobalAveragePool as ReduceMean over H and W). A twin is a Transpose (a Reshape
// when H = W = 1, where the layouts share their bytes), made once per value. Every original value
// keeps its id: where something outside still reads it (or it is a graph output), a Transpose or
// Reshape back to NCHW makes it from its twin; back-conversions nothing reads are dropped. Values
// equal the NCHW program's up to float rounding: the GEMMs block their sums differently, and the
// depthwise kernel skips taps in the padding where the NCHW ones add w·0 (Conv+ChannelsLast.swift).
// `GANNET_BASELINE=channelsLast` turns the pass off.

import GraphIR
import Kernels

public struct ChannelsLastIslands: Pass {
    public let name = "ChannelsLastIslands"
    public init() {}

    /// Largest input plane (H·W) of a candidate convolution. Measured at batch 1 and 32 on
    /// mobilenet_v2, mobilenet_v3_small, efficientnet_b0 and shufflenet_v2 (1 thread): 14×14
    /// beat 28×28 and 56×56 on every model; on larger planes the NHWC GEMMs, which pack their
    /// activation operand on every call, lose more than the depthwise kernel gains.
    static let maxPlane = 196
    /// Fewest output channels of a candidate 1×1 convolution: below 64 the NHWC GEMM's columns
    /// (output channels) fill its 32-wide register tile badly and each packed input value feeds
    /// too few multiply-adds (28×28 → 24 channels at batch 32: 2.66 ms NHWC, 1.38 ms NCHW).
    static let minPointwiseOut = 64

    /// What a candidate node is.
    enum Role { case depthwise, pointwise, layoutFree }

    public func run(_ graph: inout Graph) throws {
        if Baseline.channelsFirstOnly { return }
        var constants = Set(graph.initializers.keys)
        for n in graph.nodes where n.op == .constant { constants.formUnion(n.outputs) }
        var producer: [ValueID: Int] = [:]
        for (i, n) in graph.nodes.enumerated() { for v in n.outputs { producer[v] = i } }

        // 1. Candidates, and the data inputs that join them into islands.
        var role: [Int: Role] = [:]
        for (i, n) in graph.nodes.enumerated() {
            if let r = try self.role(n, graph, constants) { role[i] = r }
        }
        if !role.values.contains(.depthwise) { return }
        var parent = Array(graph.nodes.indices)
        func find(_ i: Int) -> Int {
            var i = i
            while parent[i] != i { parent[i] = parent[parent[i]]; i = parent[i] }
            return i
        }
        for i in role.keys.sorted() {
            for v in dataInputs(graph.nodes[i], graph) {
                if let p = producer[v], role[p] != nil { parent[find(p)] = find(i) }
            }
        }
        // 2. Islands worth rewriting: a depthwise convolution, and border layout changes (values
        // entering from outside, values read outside or returned) no more than convolutions.
        var members: [Int: [Int]] = [:]
        for i in role.keys.sorted() { members[find(i), default: []].append(i) }
        var readers: [ValueID: [Int]] = [:]
        for (i, n) in graph.nodes.enumerated() { for case let v? in n.inputs { readers[v, default: []].append(i) } }
        let outputs = Set(graph.outputs)
        var chosen = Set<Int>()
        for (_, island) in members {
            let inside = Set(island)
            let convs = island.filter { role[$0] != .layoutFree }.count
            guard island.contains(where: { role[$0] == .depthwise }) else { continue }
            var entering = Set<ValueID>(), leaving = Set<ValueID>()
            for i in island {
                for v in dataInputs(graph.nodes[i], graph) where !(producer[v].map(inside.contains) ?? false) { entering.insert(v) }
                for v in graph.nodes[i].outputs
                where outputs.contains(v) || (readers[v] ?? []).contains(where: { !inside.contains($0) }) { leaving.insert(v) }
            }
            if entering.count + leaving.count <= convs { chosen.formUnion(island) }
        }
        if chosen.isEmpty { return }

        // 3. The rewrite, in node order.
        let b = GraphBuilder.typed(graph)
        let old = b.takeNodes()
        var twin: [ValueID: ValueID] = [:]
        var backConversions: [ValueID] = []
        /// The NHWC twin of NCHW value `v`, made before the node being appended.
        func channelsLast(_ v: ValueID) throws -> ValueID {
            if let t = twin[v] { return t }
            let t = b.addValue(b.freshName(b.graph.name(of: v) + "/nhwc"))
            try b.append(conversion(v, to: t, toChannelsLast: true, b))
            twin[v] = t
            return t
        }
        for (i, node) in old.enumerated() {
            guard chosen.contains(i), let rewritten = try rewrite(node, role[i]!, b, channelsLast, twin) else {
                try b.append(node)
                continue
            }
            try b.append(rewritten)
            // Each original output is made back from its twin (dropped below if nothing reads it).
            for (o, t) in zip(node.outputs, rewritten.outputs) {
                twin[o] = t
                try b.append(conversion(t, to: o, toChannelsLast: false, b))
                backConversions.append(o)
            }
        }
        let created = b.created
        graph = b.finish()
        // Drop back-conversions nothing reads, then the shape constants only they read.
        for droppable in [Set(backConversions), created] {
            var read = Set(graph.outputs)
            for n in graph.nodes { for case let v? in n.inputs { read.insert(v) } }
            graph.nodes.removeAll { n in n.outputs.count == 1 && droppable.contains(n.outputs[0]) && !read.contains(n.outputs[0]) }
        }
    }

    /// The role of `node` as a candidate, or nil.
    func role(_ node: Node, _ g: Graph, _ constants: Set<ValueID>) throws -> Role? {
        switch node.op {
        case .conv, .fusedConv:
            guard try !ConvOps.isChannelsLast(node), let x = node.inputs[0], let w = node.input(1), constants.contains(w),
                  let xs = g.type(of: x)?.fixedShape, xs.count == 4, let ws = g.type(of: w)?.fixedShape, ws.count == 4
            else { return nil }
            guard xs[2] * xs[3] <= Self.maxPlane else { return nil }
            let geo = try ConvGeometry.conv(node, input: Array(xs[2...]), weightKernel: Array(ws[2...]))
            if geo.group > 1 && geo.group == xs[1] && ws[0] == geo.group && ws[1] == 1 { return .depthwise }
            if geo.group == 1 && geo.kernel == [1, 1] && geo.strides == [1, 1] && geo.pads.allSatisfy({ $0 == 0 })
                && ws[0] >= Self.minPointwiseOut { return .pointwise }
            return nil
        case .unary, .clip:
            return rank4(node.outputs[0], g) ? .layoutFree : nil
        case .binary(let f) where [.add, .sub, .mul, .div].contains(f):
            guard node.inputs.count == 2, let a = node.inputs[0], let c = node.inputs[1],
                  let ys = g.type(of: node.outputs[0])?.fixedShape, ys.count == 4 else { return nil }
            return [a, c].allSatisfy({ operandKind($0, ys, g) != nil }) ? .layoutFree : nil
        case .globalAveragePool:
            return rank4(node.outputs[0], g) ? .layoutFree : nil
        default:
            return nil
        }
    }

    func rank4(_ v: ValueID, _ g: Graph) -> Bool { g.type(of: v)?.fixedShape?.count == 4 }

    /// How an operand of a rewritten binary node of output shape `ys` is read: the full tensor's
    /// twin, as it is (a scalar), or reshaped to (N or 1, 1, 1, C) (one value per channel).
    enum OperandKind { case full, scalar, perChannel }

    func operandKind(_ v: ValueID, _ ys: [Int], _ g: Graph) -> OperandKind? {
        guard let s = g.type(of: v)?.fixedShape else { return nil }
        if s == ys { return .full }
        if s.reduce(1, *) == 1 { return .scalar }
        if s.count == 4 && s[2] == 1 && s[3] == 1 && s[1] == ys[1] && (s[0] == ys[0] || s[0] == 1) { return .perChannel }
        return nil
    }

    /// The inputs of `node` that carry its data (not weights, bounds or scalars).
    func dataInputs(_ node: Node, _ g: Graph) -> [ValueID] {
        switch node.op {
        case .conv, .fusedConv, .unary, .clip, .globalAveragePool: return node.inputs[0].map { [$0] } ?? []
        default:
            guard let ys = g.type(of: node.outputs[0])?.fixedShape else { return [] }
            return node.inputs.compactMap { $0 }.filter { operandKind($0, ys, g) == .full }
        }
    }

    /// `node` over twins with new NHWC outputs, or nil to keep it NCHW (a layout-free node whose
    /// data inputs have no twin yet: converting it would only add layout changes).
    func rewrite(_ node: Node, _ role: Role, _ b: GraphBuilder, _ channelsLast: (ValueID) throws -> ValueID,
                 _ twin: [ValueID: ValueID]) throws -> Node? {
        let g = b.graph
        var n = node
        let out = b.addValue(b.freshName(g.name(of: node.outputs[0]) + "/nhwc"))
        switch role {
        case .depthwise, .pointwise:
            n.inputs[0] = try channelsLast(node.inputs[0]!)
            n.attributes[ConvOps.channelsLastAttribute] = .int(1)
        case .layoutFree:
            guard dataInputs(node, g).contains(where: { twin[$0] != nil }) else { return nil }
            if node.op == .globalAveragePool {
                // ReduceMean over H and W of the twin: (N, 1, 1, C), the twin of (N, C, 1, 1).
                n = Node(.reduceMean, name: node.name, inputs: [try channelsLast(node.inputs[0]!), b.ints([1, 2])],
                         outputs: [out], attributes: Attributes(["keepdims": .int(1)]))
                return n
            }
            let ys = g.type(of: node.outputs[0])!.fixedShape!
            for (k, v) in node.inputs.enumerated() {
                guard let v else { continue }
                if k > 0 && node.op == .clip { continue }
                switch operandKind(v, ys, g) {
                // A per-channel operand's twin is a Reshape: (N or 1, C, 1, 1) and (N or 1, 1, 1, C)
                // share their bytes.
                case .full?, .perChannel?: n.inputs[k] = try channelsLast(v)
                case .scalar?, nil: break
                }
            }
        }
        n.outputs = [out]
        return n
    }

    /// The node writing `v` in the other layout into existing value `out`: a Transpose, or a
    /// Reshape when H = W = 1 (the layouts share their bytes).
    func conversion(_ v: ValueID, to out: ValueID, toChannelsLast: Bool, _ b: GraphBuilder) -> Node {
        let s = b.graph.type(of: v)!.fixedShape!
        let name = b.freshNodeName(b.graph.name(of: out) + (toChannelsLast ? "" : "/nchw"))
        if toChannelsLast ? s[2] == 1 && s[3] == 1 : s[1] == 1 && s[2] == 1 {
            let target = toChannelsLast ? [s[0], 1, 1, s[1]] : [s[0], s[3], 1, 1]
            return Node(.reshape, name: name, inputs: [v, b.ints(target)], outputs: [out], attributes: Attributes([:]))
        }
        return Node(.transpose, name: name, inputs: [v], outputs: [out],
                    attributes: Attributes(["perm": .ints(toChannelsLast ? ConvOps.toChannelsLast : ConvOps.toChannelsFirst)]))
    }
}
