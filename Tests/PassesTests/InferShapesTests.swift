import XCTest
import GraphIR
import Passes

final class InferShapesTests: XCTestCase {
    func assertError(_ m: String, _ parts: String..., file: StaticString = #filePath, line: UInt = #line) {
        XCTAssert(m.contains("node 0 'n0'"), "'\(m)' does not name the node", file: file, line: line)
        for p in parts { XCTAssert(m.contains(p), "'\(m)' lacks '\(p)'", file: file, line: line) }
    }

    func testUnaryOps() {
        for op in [Op.identity, .relu, .leakyRelu, .sigmoid, .tanh, .softplus, .exp, .log, .sqrt, .neg, .abs, .sign,
                   .elu, .selu, .erf, .hardSigmoid, .hardSwish, .gelu, .clip] {
            XCTAssertEqual(shape(op, [.t("f32[N,3,5]")]), "f32[N,3,5]", "\(op)")
        }
        XCTAssertEqual(shape(.softmax, [.t("f32[N,10]")]), "f32[N,10]")
        XCTAssertEqual(shape(.logSoftmax, [.t("f32[N,10]")], ["axis": .int(1)]), "f32[N,10]")
        assertError(inferError(.softmax, [.t("f32[N,10]")], ["axis": .int(2)]), "(Softmax)", "axis 2 is out of range for rank 2")
        XCTAssertEqual(shape(.clip, [.t("f32[N,3]"), zeros([]), .none]), "f32[N,3]")
        assertError(inferError(.clip, [.t("f32[N,3]"), .none, zeros([2])]), "(Clip)", "must be a scalar")
        assertError(inferError(.gelu, [.t("f32[N,3]")], ["approximate": .string("fast")]), "(Gelu)", "not one of none, tanh")
    }

    /// Sum/Max/Min/Mean broadcast all their inputs; PRelu keeps X's shape.
    func testVariadicAndPRelu() {
        for op in [Op.sum, .max, .min, .mean] {
            XCTAssertEqual(shape(op, [.t("f32[N,3,1]")]), "f32[N,3,1]", "\(op)")
            XCTAssertEqual(shape(op, [.t("f32[N,3,1]"), zeros([4]), .t("f32[3,1]")]), "f32[N,3,4]", "\(op)")
            assertError(inferError(op, [.t("f32[N,3]"), zeros([3]), zeros([2])]), "(\(op.rawValue))", "do not broadcast")
        }
        XCTAssertEqual(shape(.prelu, [.t("f32[N,3,4,5]"), zeros([3, 1, 1])]), "f32[N,3,4,5]")
        assertError(inferError(.prelu, [.t("f32[N,3]"), zeros([2, 3])]), "(PRelu)", "does not broadcast to X")
    }

    func testGradientOps() throws {
        XCTAssertEqual(shape(.leakyReluGrad, [.t("f32[N,3,5]"), .t("f32[N,3,5]")], ["alpha": .float(0.2)]), "f32[N,3,5]")
        assertError(inferError(.leakyReluGrad, [.t("f32[N,3,5]"), .t("f32[N,3,4]")]), "(LeakyReluGrad)", "same shape")
        XCTAssertEqual(shape(.eluGrad, [.t("f32[N,3,5]"), .t("f32[N,3,5]")], ["alpha": .float(0.5)]), "f32[N,3,5]")
        assertError(inferError(.eluGrad, [.t("f32[N,3,5]"), .t("f32[N,2,5]")]), "(EluGrad)", "same shape")
        let idx = In.c(Tensor(shape: [2, 3], int64s: [0, 1, 2, 3, 4, 5]))
        XCTAssertEqual(shape(.gatherGrad, [.t("f32[N,2,3,4]"), idx], ["axis": .int(1), "size": .int(9)]), "f32[N,9,4]")
        assertError(inferError(.gatherGrad, [.t("f32[N,2,3,4]"), idx], ["axis": .int(1)]), "(GatherGrad)", "positive size")
        assertError(inferError(.gatherGrad, [.t("f32[N,3,2,4]"), idx], ["axis": .int(1), "size": .int(9)]), "(GatherGrad)", "does not hold indices")
        let c3 = In.t("f32[3]"), x = In.t("f32[N,3,5]")
        let relu: [String: Attribute] = ["activation": .string("Relu")]
        XCTAssertEqual(try infer(.batchNormTraining, [x, c3, c3], outputs: 3).map(\.description), ["f32[N,3,5]", "f32[3]", "f32[3]"])
        XCTAssertEqual(try infer(.batchNormTrainingGrad, [x, x, c3, c3, c3, c3], relu, outputs: 3).map(\.description), ["f32[N,3,5]", "f32[3]", "f32[3]"])
        assertError(inferError(.batchNormTraining, [.t("f32[N,C,5]"), c3, c3], outputs: 3), "(BatchNormTraining)", "static channel count")
        assertError(inferError(.batchNormTraining, [x, In.t("f32[4]"), c3], outputs: 3), "(BatchNormTraining)", "scale must be f32[3]")
        assertError(inferError(.batchNormTrainingGrad, [In.t("f32[N,3,4]"), x, c3, c3, c3, c3], outputs: 3), "(BatchNormTrainingGrad)", "dY must have")
        assertError(inferError(.batchNormTrainingGrad, [x, x, c3, c3, In.t("f32[2]"), c3], outputs: 3), "(BatchNormTrainingGrad)", "scale must be f32[3]")
    }

    func testConv() {
        let x = In.t("f32[N,3,32,32]")
        XCTAssertEqual(shape(.conv, [x, zeros([8, 3, 3, 3])], ["strides": ints([2, 2]), "pads": ints([1, 1, 1, 1])]), "f32[N,8,16,16]")
        XCTAssertEqual(shape(.conv, [x, zeros([8, 3, 3, 3]), zeros([8])], ["dilations": ints([2, 2])]), "f32[N,8,28,28]")
        XCTAssertEqual(shape(.conv, [x, zeros([8, 3, 3, 5])], ["pads": ints([0, 2, 1, 2]), "kernel_shape": ints([3, 5])]), "f32[N,8,31,32]")
        XCTAssertEqual(shape(.conv, [.t("f32[2,4,10,10]"), zeros([8, 2, 3, 3])], ["group": .int(2)]), "f32[2,8,8,8]")
        XCTAssertEqual(shape(.conv, [.t("f32[N,4,10,10]"), zeros([4, 1, 3, 3])], ["group": .int(4)]), "f32[N,4,8,8]")
        let x7 = In.t("f32[N,3,7,7]"), w3 = zeros([5, 3, 3, 3])
        XCTAssertEqual(shape(.conv, [x7, w3], ["auto_pad": .string("SAME_UPPER"), "strides": ints([2, 2])]), "f32[N,5,4,4]")
        XCTAssertEqual(shape(.conv, [x7, w3], ["auto_pad": .string("SAME_LOWER"), "strides": ints([2, 2])]), "f32[N,5,4,4]")
        XCTAssertEqual(shape(.conv, [x7, w3], ["auto_pad": .string("SAME_UPPER")]), "f32[N,5,7,7]")
        XCTAssertEqual(shape(.conv, [x7, w3], ["auto_pad": .string("VALID"), "strides": ints([2, 2]), "pads": ints([5, 5, 5, 5])]), "f32[N,5,3,3]")
        // 1-D conv.
        XCTAssertEqual(shape(.conv, [.t("f32[N,2,10]"), zeros([3, 2, 4])], ["strides": ints([3])]), "f32[N,3,3]")
        // The seed discriminator's convs.
        XCTAssertEqual(shape(.conv, [.t("f32[N,1,28,28]"), zeros([64, 1, 4, 4])], ["strides": ints([2, 2]), "pads": ints([1, 1, 1, 1])]), "f32[N,64,14,14]")
    }

    func testConvSamePadsSplit() throws {
        // k4 s1 over 5: total pad 3; SAME_UPPER puts the extra at the end, SAME_LOWER at the start.
        func pads(_ mode: String) throws -> [Int] {
            let n = Node(.conv, inputs: [], outputs: [], attributes: Attributes(["auto_pad": .string(mode)]))
            return try ConvGeometry.conv(n, input: [5, 5], weightKernel: [4, 4]).pads
        }
        XCTAssertEqual(try pads("SAME_UPPER"), [1, 1, 2, 2])
        XCTAssertEqual(try pads("SAME_LOWER"), [2, 2, 1, 1])
        XCTAssertEqual(try pads("VALID"), [0, 0, 0, 0])
        let n = Node(.conv, inputs: [], outputs: [], attributes: Attributes(["auto_pad": .string("SAME")]))
        XCTAssertThrowsError(try ConvGeometry.conv(n, input: [5], weightKernel: [3]))
    }

    func testConvErrors() {
        assertError(inferError(.conv, [.t("f32[N,3,8,8]"), zeros([8, 4, 3, 3])]), "(Conv)", "X has 3 channels, W expects 4 × group 1")
        assertError(inferError(.conv, [.t("f32[N,3,8,8]"), zeros([8, 3, 3, 3]), zeros([4])]), "bias f32[4] must be [8]")
        assertError(inferError(.conv, [.t("f32[N,3,H,8]"), zeros([8, 3, 3, 3])]), "spatial dims needs static sizes")
        assertError(inferError(.conv, [.t("f32[N,3,2,2]"), zeros([8, 3, 3, 3])]), "output size along spatial dim 0 would be 0")
        assertError(inferError(.conv, [.t("f32[N,3,8,8]"), zeros([8, 3, 3, 3])], ["kernel_shape": ints([5, 5])]), "disagrees with the weight")
        assertError(inferError(.convTranspose, [.t("f32[N,3,8,8]"), zeros([4, 2, 3, 3])]), "(ConvTranspose)", "X has 3 channels, W expects 4")
    }

    func testConvTranspose() {
        let s2p1: [String: Attribute] = ["strides": ints([2, 2]), "pads": ints([1, 1, 1, 1]), "kernel_shape": ints([4, 4])]
        XCTAssertEqual(shape(.convTranspose, [.t("f32[N,128,7,7]"), zeros([128, 64, 4, 4]), zeros([64])], s2p1), "f32[N,64,14,14]")
        XCTAssertEqual(shape(.convTranspose, [.t("f32[N,64,14,14]"), zeros([64, 32, 4, 4])], s2p1), "f32[N,32,28,28]")
        XCTAssertEqual(shape(.convTranspose, [.t("f32[N,100,1,1]"), zeros([100, 1024, 4, 4])], ["strides": ints([1, 1])]), "f32[N,1024,4,4]")
        // stride 2, k3, p1, output_padding 1: 2·6 + 1 + 3 − 2 = 14.
        XCTAssertEqual(shape(.convTranspose, [.t("f32[N,8,7,7]"), zeros([8, 4, 3, 3])],
                             ["strides": ints([2, 2]), "pads": ints([1, 1, 1, 1]), "output_padding": ints([1, 0])]), "f32[N,4,14,13]")
        XCTAssertEqual(shape(.convTranspose, [.t("f32[N,8,7,7]"), zeros([8, 4, 4, 4])],
                             ["strides": ints([2, 2]), "output_shape": ints([15, 16])]), "f32[N,4,15,16]")
        XCTAssertEqual(shape(.convTranspose, [.t("f32[N,8,7,7]"), zeros([8, 4, 4, 4])],
                             ["strides": ints([2, 2]), "output_shape": ints([1, 4, 14, 14])]), "f32[N,4,14,14]")
        XCTAssertEqual(shape(.convTranspose, [.t("f32[N,8,7,7]"), zeros([8, 4, 3, 3])],
                             ["strides": ints([2, 2]), "auto_pad": .string("SAME_UPPER")]), "f32[N,4,14,14]")
        XCTAssertEqual(shape(.convTranspose, [.t("f32[N,4,5,5]"), zeros([4, 3, 3, 3])], ["group": .int(2)]), "f32[N,6,7,7]")
        XCTAssertEqual(shape(.convTranspose, [.t("f32[N,4,5,5]"), zeros([4, 3, 3, 3])], ["dilations": ints([2, 2])]), "f32[N,3,9,9]")
    }

    func testConvTransposeOutputShapePads() throws {
        // ONNX: total = s·(in−1) + out_pad + k − target; SAME_UPPER gives the extra to the end.
        let n = Node(.convTranspose, inputs: [], outputs: [], attributes: Attributes(["strides": ints([2]), "output_shape": ints([14])]))
        let g = try ConvGeometry.convTranspose(n, input: [7], weightKernel: [3])
        XCTAssertEqual(g.output, [14])
        XCTAssertEqual(g.pads[0] + g.pads[1], 2 * 6 + 3 - 14)
    }

    func testPools() {
        let k2s2: [String: Attribute] = ["kernel_shape": ints([2, 2]), "strides": ints([2, 2])]
        XCTAssertEqual(shape(.maxPool, [.t("f32[N,3,7,7]")], k2s2), "f32[N,3,3,3]")
        XCTAssertEqual(shape(.maxPool, [.t("f32[N,3,7,7]")], k2s2.merging(["ceil_mode": .int(1)]) { a, _ in a }), "f32[N,3,4,4]")
        // ceil_mode never starts a window in the end padding: in 5, k2, s2, pads 1 → 3 (PyTorch agrees).
        XCTAssertEqual(shape(.maxPool, [.t("f32[N,3,5,5]")], k2s2.merging(["ceil_mode": .int(1), "pads": ints([1, 1, 1, 1])]) { a, _ in a }), "f32[N,3,3,3]")
        XCTAssertEqual(shape(.averagePool, [.t("f32[N,3,8,8]")], ["kernel_shape": ints([3, 3]), "strides": ints([2, 2]), "ceil_mode": .int(1)]), "f32[N,3,4,4]")
        XCTAssertEqual(shape(.averagePool, [.t("f32[N,3,8,8]")], ["kernel_shape": ints([3, 3]), "strides": ints([2, 2])]), "f32[N,3,3,3]")
        XCTAssertEqual(shape(.averagePool, [.t("f32[N,3,8,8]")], ["kernel_shape": ints([3, 3]), "pads": ints([1, 1, 1, 1]), "count_include_pad": .int(1)]), "f32[N,3,8,8]")
        XCTAssertEqual(shape(.maxPool, [.t("f32[N,3,9,9]")], ["kernel_shape": ints([3, 3]), "strides": ints([2, 2]), "auto_pad": .string("SAME_UPPER")]), "f32[N,3,5,5]")
        XCTAssertEqual(try infer(.maxPool, [.t("f32[N,3,8,8]")], k2s2, outputs: 2).map(\.description), ["f32[N,3,4,4]", "i64[N,3,4,4]"])
        XCTAssertEqual(shape(.globalAveragePool, [.t("f32[N,8,5,7]")]), "f32[N,8,1,1]")
        assertError(inferError(.maxPool, [.t("f32[N,3,8,8]")]), "needs kernel_shape")
    }

    func testBatchNormalization() throws {
        let c = zeros([64])
        XCTAssertEqual(shape(.batchNormalization, [.t("f32[N,64,14,14]"), c, c, c, c]), "f32[N,64,14,14]")
        XCTAssertEqual(shape(.batchNormalization, [.t("f32[N,1024]"), zeros([1024]), zeros([1024]), zeros([1024]), zeros([1024])]), "f32[N,1024]")
        XCTAssertEqual(try infer(.batchNormalization, [.t("f32[N,64,2,2]"), c, c, c, c], outputs: 3).map(\.description),
                       ["f32[N,64,2,2]", "f32[64]", "f32[64]"])
        assertError(inferError(.batchNormalization, [.t("f32[N,64,2,2]"), zeros([32]), c, c, c]), "(BatchNormalization)", "parameter 1 has type f32[32], expected [64]")
    }

    func testGemm() {
        XCTAssertEqual(shape(.gemm, [.t("f32[N,100]"), zeros([1024, 100]), zeros([1024])], ["transB": .int(1)]), "f32[N,1024]")
        XCTAssertEqual(shape(.gemm, [.t("f32[N,100]"), zeros([100, 7])]), "f32[N,7]")
        XCTAssertEqual(shape(.gemm, [.t("f32[100,5]"), zeros([100, 7]), zeros([5, 1])], ["transA": .int(1)]), "f32[5,7]")
        XCTAssertEqual(shape(.gemm, [.t("f32[100,5]"), zeros([7, 100]), zeros([])], ["transA": .int(1), "transB": .int(1)]), "f32[5,7]")
        XCTAssertEqual(shape(.gemm, [.t("f32[N,4]"), zeros([4, 3]), zeros([1, 3])]), "f32[N,3]")
        assertError(inferError(.gemm, [.t("f32[N,100]"), zeros([1024, 100])]), "(Gemm)", "inner dimensions differ: 100 and 1024")
        assertError(inferError(.gemm, [.t("f32[5,4]"), zeros([4, 3]), zeros([2, 3])]), "(Gemm)", "do not broadcast")
        assertError(inferError(.gemm, [.t("f32[5,4]"), zeros([4, 3]), zeros([2, 5, 3])]), "C f32[2,5,3] does not broadcast to [5,3]")
    }

    func testMatMul() {
        XCTAssertEqual(shape(.matMul, [.t("f32[3,4]"), zeros([4])]), "f32[3]")
        XCTAssertEqual(shape(.matMul, [.t("f32[4]"), zeros([4, 5])]), "f32[5]")
        XCTAssertEqual(shape(.matMul, [.t("f32[4]"), zeros([4])]), "f32[]")
        XCTAssertEqual(shape(.matMul, [.t("f32[2,1,3,4]"), zeros([5, 4, 6])]), "f32[2,5,3,6]")
        XCTAssertEqual(shape(.matMul, [.t("f32[N,3,4]"), zeros([4, 2])]), "f32[N,3,2]")
        XCTAssertEqual(shape(.matMul, [.t("f32[7,4]"), .t("f32[N,4,2]")]), "f32[N,7,2]")
        assertError(inferError(.matMul, [.t("f32[3,4]"), zeros([5, 2])]), "(MatMul)", "inner dimensions differ: 4 and 5")
    }

    func testBroadcastBinary() {
        for op in [Op.add, .sub, .mul, .div, .pow] {
            XCTAssertEqual(shape(op, [.t("f32[N,3,1,5]"), zeros([4, 1])]), "f32[N,3,4,5]", "\(op)")
        }
        XCTAssertEqual(shape(.add, [.t("f32[N,4]"), .t("f32[N,4]")]), "f32[N,4]")
        XCTAssertEqual(shape(.add, [.t("f32[N,4]"), .t("f32[1,4]")]), "f32[N,4]")
        XCTAssertEqual(shape(.mul, [.t("f32[1,4]"), .t("f32[N,1]")]), "f32[N,4]")
        XCTAssertEqual(shape(.mul, [.t("f32[N,4]"), zeros([])]), "f32[N,4]")
        XCTAssertEqual(shape(.mul, [.t("f32[]"), .t("f32[]")]), "f32[]")
        XCTAssertEqual(shape(.add, [.t("i64[3]"), .t("i64[2,1]")]), "i64[2,3]")
        assertError(inferError(.add, [.t("f32[N,3,4]"), zeros([5])]), "(Add)", "shapes [N,3,4] and [5] do not broadcast")
        assertError(inferError(.sub, [.t("f32[2,3]"), zeros([3, 3])]), "(Sub)", "do not broadcast")
        XCTAssertEqual(try ShapeRules.broadcast([.symbol("N"), .fixed(1)], [.fixed(3)]), [.symbol("N"), .fixed(3)])
    }

    func testReshape() {
        XCTAssertEqual(shape(.reshape, [.t("f32[N,6272]"), .ints([-1, 128, 7, 7])]), "f32[N,128,7,7]")
        XCTAssertEqual(shape(.reshape, [.t("f32[N,128,7,7]"), .ints([-1, 6272])]), "f32[N,6272]")
        XCTAssertEqual(shape(.reshape, [.t("f32[N,128,7,7]"), .ints([0, -1])]), "f32[N,6272]")
        XCTAssertEqual(shape(.reshape, [.t("f32[N,1]"), .ints([-1])]), "f32[N]")
        XCTAssertEqual(shape(.reshape, [.t("f32[2,3,4]"), .ints([4, -1])]), "f32[4,6]")
        XCTAssertEqual(shape(.reshape, [.t("f32[2,3,4]"), .ints([0, 0, 2, 2])]), "f32[2,3,2,2]")
        XCTAssertEqual(shape(.reshape, [.t("f32[2,3,4]"), .ints([24])]), "f32[24]")
        XCTAssertEqual(shape(.reshape, [.t("f32[0,3]"), .ints([0, 3])], ["allowzero": .int(1)]), "f32[0,3]")
        // A Constant node can supply the shape.
        var g = Graph()
        let x = g.addInput("x", T("f32[N,12]"))
        let s = g.add(.constant, output: "s", attributes: ["value_ints": ints([-1, 3, 4])])
        g.outputs = [g.add(.reshape, x, s, output: "y")]
        XCTAssertNoThrow(try InferShapes().run(&g))
        XCTAssertEqual(g.type(of: g.outputs[0])?.description, "f32[N,3,4]")
        XCTAssertEqual(g.type(of: s)?.description, "i64[3]")
    }

    func testReshapeErrors() {
        assertError(inferError(.reshape, [.t("f32[N,6272]"), .t("i64[4]")]), "(Reshape)", "shape ('in1') must be a constant")
        assertError(inferError(.reshape, [.t("f32[2,3,4]"), .ints([5, -1])]), "(Reshape)", "cannot reshape f32[2,3,4] to [5, -1]")
        assertError(inferError(.reshape, [.t("f32[2,3,4]"), .ints([5, 5])]), "cannot reshape f32[2,3,4] (24 elements) to [5, 5]")
        assertError(inferError(.reshape, [.t("f32[N,6272]"), .ints([-1, 100])]), "cannot reshape f32[N,6272] to [-1, 100]")
        assertError(inferError(.reshape, [.t("f32[N,6]"), .ints([6, 2])]), "per batch")
        assertError(inferError(.reshape, [.t("f32[6]"), .ints([-1, -1])]), "more than one -1")
        assertError(inferError(.reshape, [.t("f32[6]"), .ints([-2, 3])]), "negative size -2")
    }

    func testFlattenAndTranspose() {
        XCTAssertEqual(shape(.flatten, [.t("f32[N,128,7,7]")]), "f32[N,6272]")
        XCTAssertEqual(shape(.flatten, [.t("f32[2,3,4]")], ["axis": .int(0)]), "f32[1,24]")
        XCTAssertEqual(shape(.flatten, [.t("f32[2,3,4]")], ["axis": .int(-1)]), "f32[6,4]")
        XCTAssertEqual(shape(.flatten, [.t("f32[2,3,4]")], ["axis": .int(3)]), "f32[24,1]")
        assertError(inferError(.flatten, [.t("f32[N,3]")], ["axis": .int(0)]), "(Flatten)", "cannot flatten")
        XCTAssertEqual(shape(.transpose, [.t("f32[N,3,4]")]), "f32[4,3,N]")
        XCTAssertEqual(shape(.transpose, [.t("f32[N,3,4,5]")], ["perm": ints([0, 2, 3, 1])]), "f32[N,4,5,3]")
        assertError(inferError(.transpose, [.t("f32[N,3]")], ["perm": ints([0, 0])]), "(Transpose)", "not a permutation")
    }

    func testConcatAndGather() {
        XCTAssertEqual(shape(.concat, [.t("f32[N,3,4]"), .t("f32[N,5,4]"), .t("f32[N,1,4]")], ["axis": .int(1)]), "f32[N,9,4]")
        XCTAssertEqual(shape(.concat, [.t("f32[N,3,4]"), .t("f32[N,3,2]")], ["axis": .int(-1)]), "f32[N,3,6]")
        XCTAssertEqual(shape(.concat, [.t("f32[N,3]")], ["axis": .int(0)]), "f32[N,3]")
        assertError(inferError(.concat, [.t("f32[N,3,4]"), .t("f32[N,3,5]")], ["axis": .int(1)]), "(Concat)", "off the concat axis")
        assertError(inferError(.concat, [.t("f32[N,3]"), .t("f32[N,3]")], ["axis": .int(0)]), "symbolic dim")
        XCTAssertEqual(shape(.gather, [.t("f32[5,4,3]"), .t("i64[2,7]")], ["axis": .int(1)]), "f32[5,2,7,3]")
        XCTAssertEqual(shape(.gather, [.t("f32[5,4,3]"), .c(Tensor(shape: [], int64s: [2]))]), "f32[4,3]")
        XCTAssertEqual(shape(.gather, [.t("f32[N,4]"), .ints([0, -1])], ["axis": .int(-1)]), "f32[N,2]")
        assertError(inferError(.gather, [.t("f32[5,4]"), .t("f32[2]")]), "(Gather)", "indices must be integers")
    }

    func testUnsqueezeSqueeze() {
        XCTAssertEqual(shape(.unsqueeze, [.t("f32[3,4]"), .ints([0, -1])]), "f32[1,3,4,1]")
        XCTAssertEqual(shape(.unsqueeze, [.t("f32[N,4]"), .ints([1])]), "f32[N,1,4]")
        XCTAssertEqual(shape(.unsqueeze, [.t("f32[]"), .ints([0])]), "f32[1]")
        assertError(inferError(.unsqueeze, [.t("f32[3]"), .ints([0, 0])]), "(Unsqueeze)", "repeat")
        XCTAssertEqual(shape(.squeeze, [.t("f32[1,3,1,4]"), .ints([0])]), "f32[3,1,4]")
        XCTAssertEqual(shape(.squeeze, [.t("f32[1,3,1,4]"), .ints([-2])]), "f32[1,3,4]")
        XCTAssertEqual(shape(.squeeze, [.t("f32[1,3,1,4]")]), "f32[3,4]")
        XCTAssertEqual(shape(.squeeze, [.t("f32[N,1]")]), "f32[N]")
        assertError(inferError(.squeeze, [.t("f32[1,3]"), .ints([1])]), "(Squeeze)", "cannot squeeze axis 1")
        assertError(inferError(.squeeze, [.t("f32[1,3]"), .t("i64[1]")]), "axes ('in1') must be a constant")
    }

    func testSlice() {
        let x = In.t("f32[10,20,30]")
        // numpy x[1:8, :, -5:100] → (7, 20, 5)
        XCTAssertEqual(shape(.slice, [x, .ints([1, -5]), .ints([8, 100]), .ints([0, 2])]), "f32[7,20,5]")
        // x[:, -1:-100:-2] → indices 19, 17, …, 1 → 10
        XCTAssertEqual(shape(.slice, [x, .ints([-1]), .ints([-100]), .ints([1]), .ints([-2])]), "f32[10,10,30]")
        // x[8:2:-3] over 10 → 8, 5 → 2
        XCTAssertEqual(shape(.slice, [x, .ints([8]), .ints([2]), .none, .ints([-3])]), "f32[2,20,30]")
        // x[::3] over 10 → 0, 3, 6, 9 → 4; x[5:2] → empty; x[:, :, ::-1] with INT64 extremes → 30
        XCTAssertEqual(shape(.slice, [x, .ints([0]), .ints([10]), .none, .ints([3])]), "f32[4,20,30]")
        XCTAssertEqual(shape(.slice, [x, .ints([5]), .ints([2])]), "f32[0,20,30]")
        XCTAssertEqual(shape(.slice, [x, .ints([-1]), .ints([.min]), .ints([-1]), .ints([-1])]), "f32[10,20,30]")
        XCTAssertEqual(shape(.slice, [x, .ints([0]), .ints([.max]), .ints([-1])]), "f32[10,20,30]")
        // x[-3:, 2:-2] → (3, 16)
        XCTAssertEqual(shape(.slice, [x, .ints([-3, 2]), .ints([.max, -2])]), "f32[3,16,30]")
        // Symbolic dims pass through when not sliced.
        XCTAssertEqual(shape(.slice, [.t("f32[N,20]"), .ints([2]), .ints([4]), .ints([1])]), "f32[N,2]")
        assertError(inferError(.slice, [x, .ints([0]), .ints([1]), .none, .ints([0])]), "(Slice)", "step must not be 0")
        assertError(inferError(.slice, [.t("f32[N,20]"), .ints([0]), .ints([1])]), "cannot slice symbolic dim 0")
        assertError(inferError(.slice, [x, .ints([0, 1]), .ints([1])]), "differ in length")
    }

    func testExpand() {
        XCTAssertEqual(shape(.expand, [.t("f32[3,1]"), .ints([2, 1, 4])]), "f32[2,3,4]")
        XCTAssertEqual(shape(.expand, [.t("f32[N,1]"), .ints([1, 5])]), "f32[N,5]")
        assertError(inferError(.expand, [.t("f32[3,2]"), .ints([4, 4])]), "(Expand)", "do not broadcast")
    }

    func testReduce() {
        let x = In.t("f32[N,3,4,5]")
        XCTAssertEqual(shape(.reduceMean, [x, .ints([2, 3])]), "f32[N,3,1,1]")
        XCTAssertEqual(shape(.reduceMean, [x, .ints([2, -1])], ["keepdims": .int(0)]), "f32[N,3]")
        XCTAssertEqual(shape(.reduceMean, [x, .ints([-1])], ["keepdims": .int(0)]), "f32[N,3,4]")
        XCTAssertEqual(shape(.reduceSum, [x, .ints([1])]), "f32[N,1,4,5]")
        XCTAssertEqual(shape(.reduceSum, [x], ["keepdims": .int(0)]), "f32[]")
        XCTAssertEqual(shape(.reduceSum, [x]), "f32[1,1,1,1]")
        XCTAssertEqual(shape(.reduceSum, [x, .ints([])], ["noop_with_empty_axes": .int(1)]), "f32[N,3,4,5]")
        assertError(inferError(.reduceMean, [x, .ints([4])]), "(ReduceMean)", "axis 4 is out of range for rank 4")
        // The IR has one form: axes are input 1, never an attribute.
        assertError(inferError(.reduceMean, [x], ["axes": ints([1])]), "(ReduceMean)", "unknown attribute 'axes'")
        assertError(inferError(.reduceSum, [x, .ints([1, -3])]), "(ReduceSum)", "repeat")
        for op in [Op.reduceSumSquare, .reduceL2, .reduceMax, .reduceMin, .reduceProd] {
            XCTAssertEqual(shape(op, [x, .ints([1, -1])]), "f32[N,1,4,1]", op.rawValue)
            XCTAssertEqual(shape(op, [x, .ints([2])], ["keepdims": .int(0)]), "f32[N,3,5]", op.rawValue)
            assertError(inferError(op, [x], ["axes": ints([2])]), "(\(op.rawValue))", "unknown attribute 'axes'")
            XCTAssertEqual(shape(op, [x], ["keepdims": .int(0)]), "f32[]", op.rawValue)
            assertError(inferError(op, [x, .ints([7])]), "(\(op.rawValue))", "axis 7 is out of range for rank 4")
        }
    }

    func testShapeSizeCast() {
        let x = In.t("f32[N,3,4,5]")
        XCTAssertEqual(shape(.shape, [x]), "i64[4]")
        XCTAssertEqual(shape(.shape, [x], ["start": .int(1), "end": .int(-1)]), "i64[2]")
        XCTAssertEqual(shape(.shape, [x], ["start": .int(-10), "end": .int(10)]), "i64[4]")   // clamped
        XCTAssertEqual(shape(.shape, [x], ["start": .int(3), "end": .int(1)]), "i64[0]")
        XCTAssertEqual(shape(.shape, [In.t("i64[2]")]), "i64[1]")
        XCTAssertEqual(shape(.size, [x]), "i64[]")
        // ConstantOfShape: the shape from a constant, the type from `value` (float32 0 by default).
        XCTAssertEqual(shape(.constantOfShape, [.ints([2, 0, 3])]), "f32[2,0,3]")
        XCTAssertEqual(shape(.constantOfShape, [.ints([])], ["value": .tensor(Tensor(shape: [1], int64s: [7]))]), "i64[]")
        XCTAssertEqual(shape(.constantOfShape, [.ints([4])], ["value": .tensor(Tensor(shape: [1], int64s: [1], dtype: .bool))]), "bool[4]")
        assertError(inferError(.constantOfShape, [.t("i64[2]")]), "(ConstantOfShape)", "must be a constant")
        assertError(inferError(.constantOfShape, [.ints([2, -1])]), "(ConstantOfShape)", "negative dim")
        assertError(inferError(.constantOfShape, [.c(Tensor(shape: [2], floats: [2, 3]))]), "(ConstantOfShape)", "1-D int64")
        assertError(inferError(.constantOfShape, [.ints([2])], ["value": .tensor(Tensor(shape: [2], floats: [1, 2]))]),
                    "(ConstantOfShape)", "one element")
        XCTAssertEqual(shape(.cast, [x], ["to": .int(10)]), "f32[N,3,4,5]")
        XCTAssertEqual(shape(.cast, [x], ["to": .int(11)]), "f32[N,3,4,5]")
        XCTAssertEqual(shape(.cast, [x], ["to": .int(7)]), "i64[N,3,4,5]")
        XCTAssertEqual(shape(.cast, [In.t("i64[2]")], ["to": .int(9)]), "bool[2]")
        assertError(inferError(.cast, [x], ["to": .int(16)]), "(Cast)", "data type 16 is not supported")
        assertError(inferError(.cast, [x]), "(Cast)", "needs the 'to' attribute")
    }

    func testLRNAndGlobalMaxPool() {
        let x = In.t("f32[N,3,4,5]")
        XCTAssertEqual(shape(.lrn, [x], ["size": .int(3)]), "f32[N,3,4,5]")
        XCTAssertEqual(shape(.globalMaxPool, [x]), "f32[N,3,1,1]")
        XCTAssertEqual(shape(.globalMaxPool, [In.t("f32[2,3,7]")]), "f32[2,3,1]")
        assertError(inferError(.lrn, [x]), "(LRN)", "needs the 'size' attribute")
        assertError(inferError(.lrn, [x], ["size": .int(0)]), "(LRN)", "at least 1")
        assertError(inferError(.lrn, [In.t("f32[3,4]")], ["size": .int(3)]), "(LRN)", "rank >= 3")
        assertError(inferError(.globalMaxPool, [In.t("f32[3,4]")]), "(GlobalMaxPool)", "rank >= 3")
    }

    func testConstant() {
        XCTAssertEqual(shape(.constant, [], ["value": .tensor(Tensor(shape: [2, 3], repeating: 1))]), "f32[2,3]")
        XCTAssertEqual(shape(.constant, [], ["value": .tensor(Tensor(shape: [2], int64s: [1, 2], dtype: .int32))]), "i32[2]")
        XCTAssertEqual(shape(.constant, [], ["value_ints": ints([1, 2, 3])]), "i64[3]")
        XCTAssertEqual(shape(.constant, [], ["value_float": .float(2)]), "f32[]")
        XCTAssertEqual(shape(.constant, [], ["value_floats": .floats([1, 2])]), "f32[2]")
        XCTAssertEqual(shape(.constant, [], ["value_int": .int(4)]), "i64[]")
        XCTAssert(inferError(.constant, []).contains("no value attribute"))
    }

    func testDropout() {
        XCTAssertEqual(shape(.dropout, [In.t("f32[N,3,4,5]")]), "f32[N,3,4,5]")
    }

    func testUntypedInputIsAnError() {
        var g = Graph()
        let x = g.addValue("x")
        g.inputs = [x]
        g.outputs = [g.addNode(.relu, [x], outputs: ["y"], name: "r")[0]]
        XCTAssertThrowsError(try InferShapes().run(&g)) { e in
            XCTAssertEqual((e as? GraphError)?.message, "node 0 'r' (Relu): input 0 'x' has no known type")
        }
    }

    func testEveryOpCovered() {
        // Keeps this file honest when a plain Op case is added (fused ops are checked in
        // FusionTests; the point-wise functions below, each by its declaration).
        XCTAssertEqual(Op.plainCases.filter { !$0.isInternal }.count, 64)
    }

    /// Every point-wise function: a unary one keeps its input's type; a binary one broadcasts
    /// (a unidirectional one keeps input 0's shape and refuses a wider input 1).
    func testEveryPointwiseFunction() {
        for f in UnaryFunction.allCases {
            XCTAssertEqual(shape(.unary(f), [.t("f32[N,3,5]")]), "f32[N,3,5]", f.rawValue)
        }
        for f in BinaryFunction.allCases {
            if f.unidirectional {
                XCTAssertEqual(shape(.binary(f), [.t("f32[N,3,1]"), zeros([3, 1])]), "f32[N,3,1]", f.rawValue)
                assertError(inferError(.binary(f), [.t("f32[N,3,1]"), zeros([4])]), "(\(f.rawValue))", "does not broadcast")
            } else {
                XCTAssertEqual(shape(.binary(f), [.t("f32[N,3,1]"), zeros([4])]), "f32[N,3,4]", f.rawValue)
                assertError(inferError(.binary(f), [.t("f32[N,3]"), zeros([2])]), "(\(f.rawValue))", "broadcast")
            }
        }
    }
}
