// FoldUpsampleIntoConv: a 2× nearest upsample followed by a 3×3 convolution becomes one stride-2
// transposed convolution that reads the small image (2.25× fewer multiply-adds, no upsampled copy).
//
// Contract: input — a graph typed by InferShapes. A Conv whose input X is the output of a
// Resize (read by nothing else, not a graph output) is rewritten when
// - the Resize has a 4-D input [N, C, H, W] (C, H, W static) and maps output row o to input row ⌊o/2⌋
//   and output column o to input column ⌊o/2⌋ with no blending (nearest; any coordinate mode and
//   nearest_mode whose taps come out so, checked on the taps themselves), to [N, C, 2H, 2W];
// - the Conv has a constant float32 weight [M, C/g, 3, 3], strides 1, dilations 1 and pads 1 on
//   every side (explicitly or by auto_pad SAME), any group g; its bias, if any, is kept as is.
// The Conv becomes a ConvTranspose on the Resize's input with kernel 4, stride 2, pads 1 and the
// same group: per axis the upsampled image's rows 2m−1, 2m, 2m+1 are input rows m−1, m, m (output
// row 2m) and m, m, m+1 (output row 2m+1), so the four transposed-convolution taps are sums of
// the 3×3 taps: tap 0 = w[2], tap 1 = w[1] + w[2], tap 2 = w[0] + w[1], tap 3 = w[0] (the 2-D
// taps the products of those sets), laid out [C, M/g, 4, 4]. Out-of-range rows are the same
// zeros in both forms. The sums round once more than the plain graph does (within 1e-6
// relative per tap). With an infinite input the sums reassociate: where the plain graph adds
// w₁·inf and w₂·inf of opposite signs (NaN), the folded graph multiplies inf by w₁ + w₂ and gives
// ±inf (through a Relu, possibly 0); `gannet run --no-fuse` runs the plain graph. The output value keeps
// its name; the new weight is an initializer named `<weight>.upfold` (the old one and the Resize
// are left for EliminateDeadValues).

import GraphIR
import Kernels

public struct FoldUpsampleIntoConv: Pass {
    public let name = "FoldUpsampleIntoConv"
    public init() {}

    public func run(_ graph: inout Graph) throws {
        let b = GraphBuilder(graph)
        let producers = graph.producers()
        let convolutions = graph.nodes.indices.filter { graph.nodes[$0].op == .conv }
        for i in convolutions { try fold(i, b, producers) }
        graph = b.finish()
    }

    /// For each of the four transposed-convolution taps along one axis, the 3×3 taps it sums.
    static let tapSources: [[Int]] = [[2], [1, 2], [0, 1], [0]]

    /// `producers`: the graph's, from before any rewrite (node indices stay valid until `finish`).
    func fold(_ ci: Int, _ b: GraphBuilder, _ producers: [ValueID: Int]) throws {
        let g = b.graph
        var conv = g.nodes[ci]
        guard let up = conv.inputs.first ?? nil, b.soleReader(of: up) == ci,
              let ri = producers[up], g.nodes[ri].op == .resize, let x = g.nodes[ri].inputs[0],
              let xd = g.type(of: x)?.shape, xd.count == 4, let h = xd[2].value, let wd = xd[3].value,
              let channels = xd[1].value, h > 0, wd > 0,
              let ws = conv.input(1).flatMap({ g.initializers[$0] }), ws.dtype == .float32,
              ws.shape.count == 4, Array(ws.shape[2...]) == [3, 3] else { return }
        let resize = g.nodes[ri]
        let rule = try ResizeRule.resolve(resize, xd, g)
        guard rule.outShape == [xd[0], xd[1], .fixed(2 * h), .fixed(2 * wd)], rule.isIdentity(0), rule.isIdentity(1),
              try Self.halves(rule, axis: 2, h), try Self.halves(rule, axis: 3, wd) else { return }
        let geometry = try ConvGeometry.conv(conv, input: [2 * h, 2 * wd], weightKernel: [3, 3])
        guard geometry.strides == [1, 1], geometry.dilations == [1, 1], geometry.pads == [1, 1, 1, 1] else { return }
        let group = geometry.group
        let m = ws.shape[0], perGroupIn = ws.shape[1]
        guard group > 0, perGroupIn * group == channels, m % group == 0 else { return }
        let perGroupOut = m / group
        let w = ws.floats
        var t = [Float](repeating: 0, count: channels * perGroupOut * 16)
        for o in 0..<m {
            let gi = o / perGroupOut, oj = o % perGroupOut
            for cl in 0..<perGroupIn {
                let src = (o * perGroupIn + cl) * 9
                let dst = ((gi * perGroupIn + cl) * perGroupOut + oj) * 16
                for ky in 0..<4 {
                    for kx in 0..<4 {
                        var s: Float = 0
                        for dy in Self.tapSources[ky] { for dx in Self.tapSources[kx] { s += w[src + dy * 3 + dx] } }
                        t[dst + ky * 4 + kx] = s
                    }
                }
            }
        }
        let weightName = b.freshName(g.name(of: conv.inputs[1]!) + ".upfold", style: .suffix)
        let weight = b.addInitializer(weightName, Tensor(shape: [channels, perGroupOut, 4, 4], floats: t))
        conv.op = .convTranspose
        conv.inputs[0] = x
        conv.inputs[1] = weight
        conv.attributes = Attributes(["kernel_shape": .ints([4, 4]), "strides": .ints([2, 2]), "pads": .ints([1, 1, 1, 1]),
                           "dilations": .ints([1, 1]), "group": .int(group)])
        b.setNode(ci, conv)
        b.remove(nodeAt: ri)
    }

    /// True when `rule` maps output coordinate o of `axis` (n inputs, 2n outputs) to input ⌊o/2⌋
    /// with no second tap.
    static func halves(_ rule: ResizeRule, axis: Int, _ n: Int) throws -> Bool {
        let taps = try rule.taps(axis, n, 2 * n)
        guard taps.count == 2 * n, !taps.blends else { return false }
        let (index, weight) = taps.tap(0)
        return index.indices.allSatisfy { index[$0] == Int32($0 / 2) && weight[$0] == 1 }
    }
}
