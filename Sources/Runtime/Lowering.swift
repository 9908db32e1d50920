// Lowering: turns a fully typed, statically shaped graph into a memory-planned Program.
//
// Contract: input — a verified graph whose every value has a fixed shape (run InferShapes with
// the batch bound first). Each node becomes one kernel call, except: Constant nodes and
// initializers go to the constant pool; Reshape, Flatten, Squeeze, Unsqueeze, Identity and
// inference Dropout (its optional mask output a constant of trues) alias their input's
// storage and emit nothing. Every other value gets an arena buffer live
// from its producing step to its last reader (graph inputs from the start, graph outputs to
// the end); convolution scratch is live for its own step only. Errors name the node and op.
// Each buffer is checked against `Limits.maxTensorBytes` and the planned arena plus constants
// against `Limits.maxTotalBytes` before anything is allocated.

import GraphIR
import Passes
import Kernels

public enum Lowering {
    enum Operand { case buffer(Int), constant(Int), state(String) }

    struct PendingInstruction {
        var call: KernelCall
        var inputs: [Operand?]
        var outputs: [Operand]
        var scratchFloats: Int
        var label: String
    }

    /// Bytes a runtime element of this type takes (integers are widened to Int64).
    static func runtimeBytes(_ d: DType) -> Int { d == .float32 ? 4 : 8 }

    /// Lowers `graph`. Graph inputs named in `store` read its persistent buffers (they are not
    /// program inputs); `updates` run after the graph, in order (optimizer steps, assignments).
    public static func lower(_ graph: Graph, pool: ThreadPool, store: ParameterStore? = nil,
                             updates: [StateUpdate] = []) throws -> Program {
        var constantData: [UInt8] = []
        var operand: [ValueID: Operand] = [:]
        var buffers: [BufferRequest] = []
        var bufferOf: [ValueID: Int] = [:]

        func shape(_ v: ValueID) throws -> [Int] {
            guard let t = graph.type(of: v), let s = t.fixedShape else {
                throw GraphError("value '\(graph.name(of: v))' has no static shape (\(graph.type(of: v)?.description ?? "untyped"))")
            }
            return s
        }
        func appendConstant(_ t: Tensor) -> Operand {
            while constantData.count % MemoryPlan.alignment != 0 { constantData.append(0) }
            let offset = constantData.count
            switch t.storage {
            case .float(let f): f.withUnsafeBytes { constantData.append(contentsOf: $0) }
            case .int64(let i): i.withUnsafeBytes { constantData.append(contentsOf: $0) }
            }
            return .constant(offset)
        }
        func addConstant(_ v: ValueID, _ t: Tensor) { operand[v] = appendConstant(t) }
        func newBuffer(_ v: ValueID, first: Int) throws -> Operand {
            let t = graph.type(of: v)!
            let bytes = try Limits.checkTensor(try shape(v), elementBytes: runtimeBytes(t.dtype), "value '\(graph.name(of: v))'")
            buffers.append(BufferRequest(bytes: bytes, first: first, last: first))
            bufferOf[v] = buffers.count - 1
            return .buffer(buffers.count - 1)
        }

        // Initializers enter the constant pool when an instruction or output first reads them.
        func resolve(_ v: ValueID) -> Operand? {
            if let o = operand[v] { return o }
            guard let t = graph.initializers[v] else { return nil }
            addConstant(v, t)
            return operand[v]
        }
        for v in graph.inputs where operand[v] == nil {
            let s = try shape(v)
            if let store, let e = store.entry(graph.name(of: v)) {
                guard e.shape == s else {
                    throw GraphError("input '\(graph.name(of: v))' has shape \(s) but its stored state has \(e.shape)")
                }
                operand[v] = .state(e.name)
            } else {
                operand[v] = try newBuffer(v, first: -1)
            }
        }

        var pending: [PendingInstruction] = []
        for (i, node) in graph.nodes.enumerated() {
            do {
                switch node.op {
                case .constant:
                    addConstant(node.outputs[0], try Graph.constantTensor(of: node))
                    continue
                case .reshape, .flatten, .squeeze, .unsqueeze, .identity:
                    operand[node.outputs[0]] = resolve(node.inputs[0]!)
                    continue
                case .dropout:
                    // Inference Dropout is the identity; its mask, if asked for, is all true.
                    if try ExpandDropout.isTraining(node, graph: graph) {
                        throw GraphError("training-mode Dropout must be expanded first (ExpandDropout)")
                    }
                    operand[node.outputs[0]] = resolve(node.inputs[0]!)
                    if node.outputs.count > 1 {
                        let s = try shape(node.outputs[1])
                        addConstant(node.outputs[1], Tensor(shape: s, int64s: [Int64](repeating: 1, count: s.reduce(1, *)), dtype: .bool))
                    }
                    continue
                default: break
                }
                var call = try lowerNode(node, graph, shape)
                var override: [Int: Operand] = [:]
                // A constant B of a transposed Gemm is stored pre-transposed, so the kernel packs
                // contiguous rows.
                if case let .gemm(tA, true, m, n, k, alpha, beta, lda, _, epi, batches, fill) = call,
                   let w = graph.constantValue(node.inputs[1]!), w.dtype == .float32 {
                    let f = w.floats
                    var t = [Float](repeating: 0, count: f.count)
                    for r in 0..<n { for c in 0..<k { t[c * n + r] = f[r * k + c] } }
                    override[1] = appendConstant(Tensor(shape: [k, n], floats: t))
                    call = .gemm(transA: tA, transB: false, m: m, n: n, k: k, alpha: alpha, beta: beta,
                                 lda: lda, ldb: n, epilogue: epi, batches: batches, fillC: fill)
                }
                // Integer constants feeding float arithmetic (Pow's exponent, say) become float.
                if [.add, .sub, .mul, .div, .pow].contains(node.op), let b = node.inputs[1],
                   let bt = graph.type(of: b), bt.dtype != .float32 {
                    guard let c = graph.constantValue(b) else {
                        throw GraphError("\(node.op.rawValue) with a \(bt.dtype.rawValue) operand that is not constant is not supported")
                    }
                    override[1] = appendConstant(Tensor(shape: c.shape, floats: c.floats))
                }
                let step = pending.count
                var ins: [Operand?] = []
                for (slot, v) in node.inputs.enumerated() {
                    if let o = override[slot] { ins.append(o); continue }
                    guard let v else { ins.append(nil); continue }
                    guard let o = resolve(v) else { throw GraphError("input '\(graph.name(of: v))' is undefined") }
                    if case .buffer(let b) = o { buffers[b].last = max(buffers[b].last, step) }
                    ins.append(o)
                }
                let outs = try node.outputs.map { try newBuffer($0, first: step) }
                for (v, o) in zip(node.outputs, outs) { operand[v] = o }
                pending.append(PendingInstruction(call: call, inputs: trimInputs(node, ins), outputs: outs,
                                                  scratchFloats: call.scratchFloats(threads: pool.threads),
                                                  label: node.name.isEmpty ? node.op.rawValue : "\(node.op.rawValue) \(node.name)"))
            } catch let e as GraphError {
                throw GraphError("\(graph.describeNode(i)): \(e.message)")
            }
        }
        for v in graph.outputs {
            guard let o = resolve(v) else { throw GraphError("graph output '\(graph.name(of: v))' is undefined") }
            if case .buffer(let b) = o { buffers[b].last = Int.max }
        }
        for u in updates {
            guard let store else { throw GraphError("state updates need a ParameterStore") }
            let step = pending.count
            func read(_ v: ValueID) throws -> Operand {
                guard let o = resolve(v) else { throw GraphError("update reads undefined value '\(graph.name(of: v))'") }
                if case .buffer(let b) = o { buffers[b].last = max(buffers[b].last, step) }
                return o
            }
            func param(_ name: String, _ grad: ValueID) throws -> Int {
                guard let e = store.entry(name) else { throw GraphError("update of unknown state '\(name)'") }
                guard try shape(grad) == e.shape else {
                    throw GraphError("gradient '\(graph.name(of: grad))' has shape \(try shape(grad)), parameter '\(name)' has \(e.shape)")
                }
                return e.count
            }
            switch u {
            case let .adam(name, grad, config):
                let n = try param(name, grad)
                store.ensure(name + "/adam.m", shape: store.entry(name)!.shape)
                store.ensure(name + "/adam.v", shape: store.entry(name)!.shape)
                pending.append(PendingInstruction(call: .adam(config, count: n, counter: name + "/adam.step"), inputs: [try read(grad)],
                                                  outputs: [.state(name), .state(name + "/adam.m"), .state(name + "/adam.v")],
                                                  scratchFloats: 0, label: "adam \(name)"))
            case let .sgd(name, grad, config):
                let n = try param(name, grad)
                store.ensure(name + "/sgd.momentum", shape: store.entry(name)!.shape)
                pending.append(PendingInstruction(call: .sgd(config, count: n, counter: name + "/sgd.step"), inputs: [try read(grad)],
                                                  outputs: [.state(name), .state(name + "/sgd.momentum")],
                                                  scratchFloats: 0, label: "sgd \(name)"))
            case let .rmsprop(name, grad, config):
                let n = try param(name, grad)
                store.ensure(name + "/rmsprop.square", shape: store.entry(name)!.shape)
                pending.append(PendingInstruction(call: .rmsprop(config, count: n), inputs: [try read(grad)],
                                                  outputs: [.state(name), .state(name + "/rmsprop.square")],
                                                  scratchFloats: 0, label: "rmsprop \(name)"))
            case let .assign(name, value):
                _ = try param(name, value)
                pending.append(PendingInstruction(call: .copy(bytes: try shape(value).reduce(1, *) * 4), inputs: [try read(value)],
                                                  outputs: [.state(name)], scratchFloats: 0, label: "assign \(name)"))
            }
        }
        // Inputs are read by the caller before step 0 and must survive until their last reader.
        var scratchBuffer: [Int: Int] = [:]
        for (step, p) in pending.enumerated() where p.scratchFloats > 0 {
            buffers.append(BufferRequest(bytes: p.scratchFloats * 4, first: step, last: step))
            scratchBuffer[step] = buffers.count - 1
        }
        let plan = MemoryPlan.plan(buffers)
        func location(_ o: Operand) -> Location {
            switch o {
            case .buffer(let b): return .arena(plan.offsets[b])
            case .constant(let c): return .constant(c)
            case .state(let n): return .state(n)
            }
        }
        let instructions = pending.enumerated().map { step, p in
            Instruction(call: p.call, inputs: p.inputs.map { $0.map(location) }, outputs: p.outputs.map(location),
                        scratch: scratchBuffer[step].map { .arena(plan.offsets[$0]) }, label: p.label)
        }
        func programValue(_ v: ValueID) throws -> ProgramValue {
            ProgramValue(name: graph.name(of: v), dtype: graph.type(of: v)!.dtype, shape: try shape(v), location: location(operand[v]!))
        }
        let fed = graph.inputs.filter { if case .state = operand[$0]! { return false }; return true }
        try Limits.checkTotal(try Limits.add(plan.arenaBytes, constantData.count, "program memory"),
                              "graph '\(graph.name)' (arena \(Limits.describeBytes(plan.arenaBytes)), constants \(Limits.describeBytes(constantData.count)))")
        return Program(instructions: instructions, inputs: try fed.map(programValue),
                       outputs: try graph.outputs.map(programValue), plan: plan,
                       constantData: constantData, pool: pool, store: store)
    }

    /// Drops shape-like operands the kernel does not read (they are folded into the call).
    static func trimInputs(_ node: Node, _ ins: [Operand?]) -> [Operand?] {
        switch node.op {
        case .slice, .expand, .reduceMean, .reduceSum, .unsqueeze, .squeeze: return [ins[0]]
        default: return ins
        }
    }

    static func floatOnly(_ node: Node, _ g: Graph) throws {
        for case let v? in node.inputs.prefix(1) where g.type(of: v)?.dtype != .float32 {
            throw GraphError("\(node.op.rawValue) on \(g.type(of: v)!.dtype.rawValue) data is not supported (float32 only)")
        }
    }

    static func lowerNode(_ node: Node, _ g: Graph, _ shape: (ValueID) throws -> [Int]) throws -> KernelCall {
        let a = node.attributes
        let x = try shape(node.inputs[0]!)
        let y = try shape(node.outputs[0])
        try floatOnly(node, g)
        if node.op.isInternal { return try lowerFused(node, g, shape) }
        switch node.op {
        case .relu: return .unary(.relu, count: y.reduce(1, *))
        case .leakyRelu: return .unary(.leakyRelu(try a.float("alpha", default: 0.01)), count: y.reduce(1, *))
        case .sigmoid: return .unary(.sigmoid, count: y.reduce(1, *))
        case .tanh: return .unary(.tanh, count: y.reduce(1, *))
        case .softplus: return .unary(.softplus, count: y.reduce(1, *))
        case .exp: return .unary(.exp, count: y.reduce(1, *))
        case .log: return .unary(.log, count: y.reduce(1, *))
        case .sqrt: return .unary(.sqrt, count: y.reduce(1, *))
        case .neg: return .unary(.neg, count: y.reduce(1, *))
        case .abs: return .unary(.abs, count: y.reduce(1, *))
        case .sign: return .sign(count: y.reduce(1, *))
        case .leakyReluGrad: return .leakyReluGrad(alpha: try a.float("alpha", default: 0), count: y.reduce(1, *))
        case .gatherGrad:
            let axis = try a.int("axis", default: 0)
            return .gatherGrad(outer: y[..<axis].reduce(1, *), axisSize: y[axis], inner: y[(axis + 1)...].reduce(1, *),
                               indexCount: try shape(node.inputs[1]!).reduce(1, *))
        case .add, .sub, .mul, .div, .pow:
            let op: BinaryOp = [.add: .add, .sub: .sub, .mul: .mul, .div: .div, .pow: .pow][node.op]!
            return .binary(op, try BroadcastPlan(outShape: y, aShape: x, bShape: try shape(node.inputs[1]!)))
        case .expand:
            return .expand(try BroadcastPlan(outShape: y, aShape: x, bShape: y))
        case .gemm:
            let tA = try a.int("transA", default: 0) != 0, tB = try a.int("transB", default: 0) != 0
            let bShape = try shape(node.inputs[1]!)
            let m = y[0], n = y[1], k = tA ? x[0] : x[1]
            var epilogue: [EpilogueOp] = []
            var fill: BroadcastPlan? = nil
            var beta: Float = 0
            if let c = node.input(2) {
                let cs = try shape(c)
                let b = try a.float("beta", default: 1)
                if b == 1 && cs.reduce(1, *) == n && (cs.last == n || n == 1) {
                    epilogue = [.bias(perRow: false)]
                } else {
                    fill = try BroadcastPlan(outShape: y, aShape: cs, bShape: y)
                    beta = b
                }
            }
            return .gemm(transA: tA, transB: tB, m: m, n: n, k: k, alpha: try a.float("alpha", default: 1), beta: beta,
                         lda: x[1], ldb: bShape[1], epilogue: epilogue, batches: [(0, 0, 0)], fillC: fill)
        case .matMul:
            return try lowerMatMul(x, try shape(node.inputs[1]!), y)
        case .conv, .convTranspose:
            let w = try shape(node.inputs[1]!)
            guard x.count == 4 || x.count == 3 else { throw GraphError("only 1-D and 2-D convolutions are supported, got input \(x)") }
            let spatial = Array(x[2...]), ws = Array(w[2...])
            let geo = node.op == .conv
                ? try ConvGeometry.conv(node, input: spatial, weightKernel: ws)
                : try ConvGeometry.convTranspose(node, input: spatial, weightKernel: ws)
            let two = x.count == 4
            let s = Conv2DShape(batch: x[0], inChannels: x[1], inHeight: two ? x[2] : 1, inWidth: two ? x[3] : x[2],
                                outChannels: y[1], outHeight: two ? y[2] : 1, outWidth: two ? y[3] : y[2],
                                kernelH: two ? geo.kernel[0] : 1, kernelW: geo.kernel[two ? 1 : 0],
                                strideH: two ? geo.strides[0] : 1, strideW: geo.strides[two ? 1 : 0],
                                padTop: two ? geo.pads[0] : 0, padLeft: geo.pads[two ? 1 : 0],
                                dilationH: two ? geo.dilations[0] : 1, dilationW: geo.dilations[two ? 1 : 0],
                                group: geo.group)
            let epi: [EpilogueOp] = node.input(2) != nil ? [.bias(perRow: true)] : []
            return node.op == .conv ? .conv(s, epilogue: epi) : .convTranspose(s, epilogue: epi)
        case .batchNormalization:
            if try a.int("training_mode", default: 0) != 0 || node.outputs.count > 1 {
                throw GraphError("training-mode BatchNormalization is not supported by the inference runtime")
            }
            return .batchNorm(batch: x[0], channels: x[1], spatial: x[2...].reduce(1, *),
                              epsilon: try a.float("epsilon", default: 1e-5), activation: nil)
        case .transpose:
            let perm = try a.ints("perm") ?? Array((0..<x.count).reversed())
            return .transpose(try TransposePlan(shape: x, perm: perm))
        case .concat:
            let axis = try a.int("axis")!
            let r = x.count
            let ax = axis < 0 ? axis + r : axis
            let sizes = try node.inputs.map { try shape($0!)[ax] }
            return .concat(axisSizes: sizes, outer: x[..<ax].reduce(1, *), inner: x[(ax + 1)...].reduce(1, *))
        case .gather:
            let idx = try shape(node.inputs[1]!)
            var axis = try a.int("axis", default: 0)
            if axis < 0 { axis += x.count }
            return .gather(outer: x[..<axis].reduce(1, *), axisSize: x[axis], inner: x[(axis + 1)...].reduce(1, *),
                           indexCount: idx.reduce(1, *))
        case .slice:
            let rule = try SliceRule.resolve(node, g.type(of: node.inputs[0]!)!, g)
            return .slice(try SlicePlan(shape: x, starts: rule.starts, steps: rule.steps, outShape: y))
        case .reduceMean, .reduceSum:
            let axes = try ReduceRule.axes(node, x.count, g)
            return .reduce(node.op == .reduceMean ? .mean : .sum, try ReducePlan(shape: x, axes: axes))
        case .softmax, .logSoftmax:
            var axis = try a.int("axis", default: -1)
            if axis < 0 { axis += x.count }
            return .softmax(outer: x[..<axis].reduce(1, *), axis: x[axis], inner: x[(axis + 1)...].reduce(1, *),
                            log: node.op == .logSoftmax)
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
                                countIncludePad: try a.int("count_include_pad", default: 0) != 0)
            return .pool(p, max: node.op == .maxPool)
        case .globalAveragePool:
            return .globalAveragePool(planes: x[0] * x[1], size: x[2...].reduce(1, *))
        case .constant, .reshape, .flatten, .squeeze, .unsqueeze, .identity, .dropout, .fusedConv, .fusedConvTranspose, .fusedGemm,
             .fusedConvTransposeBatchNorm:
            throw GraphError("internal: \(node.op.rawValue) has no kernel")
        }
    }

    /// The activation a fused op's `activation`/`activation_alpha` attributes name.
    public static func fusedActivation(_ node: Node) throws -> Activation? {
        guard let name = try node.attributes.string("activation") else { return nil }
        switch name {
        case "Relu": return .relu
        case "LeakyRelu": return .leakyRelu(try node.attributes.float("activation_alpha", default: 0.01))
        case "Sigmoid": return .sigmoid
        case "Tanh": return .tanh
        default: throw GraphError("unknown fused activation '\(name)'")
        }
    }

    /// A fused op: its base op's call with the activation appended to the epilogue.
    static func lowerFused(_ node: Node, _ g: Graph, _ shape: (ValueID) throws -> [Int]) throws -> KernelCall {
        if node.op == .fusedConvTransposeBatchNorm {
            guard case let .convTranspose(s, _) = try lowerNode(node.fusedConvTransposePart, g, shape) else {
                throw GraphError("internal: ConvTranspose lowering")
            }
            guard try shape(node.inputs[0]!).count == 4 else { throw GraphError("FusedConvTransposeBatchNorm supports 2-D only") }
            return .convTransposeBatchNorm(s, epsilon: try node.attributes.float("epsilon", default: 1e-5), activation: try fusedActivation(node))
        }
        var base = node
        base.op = node.op.baseOp
        base.attributes.values = node.attributes.values.filter { !$0.key.hasPrefix("activation") }
        let call = try lowerNode(base, g, shape)
        guard let act = try fusedActivation(node) else { return call }
        switch call {
        case let .gemm(tA, tB, m, n, k, alpha, beta, lda, ldb, epi, batches, nil):
            return .gemm(transA: tA, transB: tB, m: m, n: n, k: k, alpha: alpha, beta: beta, lda: lda, ldb: ldb,
                         epilogue: epi + [.activation(act)], batches: batches, fillC: nil)
        case let .conv(s, epi): return .conv(s, epilogue: epi + [.activation(act)])
        case let .convTranspose(s, epi): return .convTranspose(s, epilogue: epi + [.activation(act)])
        default: throw GraphError("\(node.op.rawValue) with a general C input cannot take an activation")
        }
    }

    /// numpy MatMul as one GEMM per broadcast batch.
    static func lowerMatMul(_ a0: [Int], _ b0: [Int], _ y: [Int]) throws -> KernelCall {
        var a = a0, b = b0
        if a.count == 1 { a.insert(1, at: 0) }
        if b.count == 1 { b.append(1) }
        let m = a[a.count - 2], k = a[a.count - 1], n = b[b.count - 1]
        let batchA = Array(a.dropLast(2)), batchB = Array(b.dropLast(2))
        // B shared by every batch: fold A's batch into M.
        if batchB.reduce(1, *) == 1 {
            return .gemm(transA: false, transB: false, m: batchA.reduce(1, *) * m, n: n, k: k, alpha: 1, beta: 0,
                         lda: k, ldb: n, epilogue: [], batches: [(0, 0, 0)], fillC: nil)
        }
        let batch = try ShapeRulesBridge.broadcast(batchA, batchB)
        let count = batch.reduce(1, *)
        var batches: [(Int, Int, Int)] = []
        func offset(_ idx: [Int], _ shape: [Int]) -> Int {
            var o = 0
            let pad = idx.count - shape.count
            for (i, s) in shape.enumerated() { o = o * s + (s == 1 ? 0 : idx[i + pad]) }
            return o
        }
        for flat in 0..<count {
            var idx = [Int](repeating: 0, count: batch.count)
            var r = flat
            for d in stride(from: batch.count - 1, through: 0, by: -1) { idx[d] = r % batch[d]; r /= batch[d] }
            batches.append((offset(idx, batchA) * m * k, offset(idx, batchB) * k * n, flat * m * n))
        }
        return .gemm(transA: false, transB: false, m: m, n: n, k: k, alpha: 1, beta: 0, lda: k, ldb: n,
                     epilogue: [], batches: batches, fillC: nil)
    }
}

enum ShapeRulesBridge {
    static func broadcast(_ a: [Int], _ b: [Int]) throws -> [Int] {
        try ShapeRules.broadcast(a.map { .fixed($0) }, b.map { .fixed($0) }).map { $0.value! }
    }
}
