// Lowering: turns a fully typed, statically shaped graph into a memory-planned Program.
//
// Contract: input — a verified graph whose every value has a fixed shape (run InferShapes with
// the batch bound first). The graph rewrites kernels need (`Pipelines.lowering`: Gemm's
// constant B pre-transposed, variadic Sum/Max/Min/Mean made two-input chains, integer
// constant operands of float arithmetic made float) run
// first, on a copy; lowering itself rewrites nothing. Each node becomes what its op family's
// `lower` says (Passes/Operators): one kernel call, except: Constant nodes and
// initializers go to the constant pool; Reshape, Flatten, Squeeze, Unsqueeze, Identity and
// inference Dropout (its optional mask output a constant of trues) alias their input's
// storage and emit nothing; so does a Concat whose inputs its producers write in place
// (Lowering+ConcatViews.swift; programs without updates). Every other value gets an arena buffer live
// from its producing step to its last reader (graph inputs for the whole run, so that a run
// leaves them as set and runs again on the same data; graph outputs to the end); convolution scratch is live for its own step only. A training program's
// gradients (what its optimizer updates read, in update order), then the values its state
// assignments copy, then a tail of `collectiveTailFloats(outputs:)` floats are pinned back to
// back at the start of the arena (MemoryPlan's pinned buffers, each 64-byte aligned): the flat
// gradient region its fused optimizer update and its data-parallel collective work on in place
// (Program+FusedUpdate, Program+Collective). Errors name the node and op.
// Each buffer is checked against `Limits.maxTensorBytes` and the planned arena plus constants
// (plus the constant convolution weights the Program packs once, `prepackedWeightFloats`)
// against `Limits.maxTotalBytes` before anything is allocated.

import Core
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
        var graph = graph
        try Pipelines.run(Pipelines.lowering, on: &graph)
        var constantData: [UInt8] = []
        var operand: [ValueID: Operand] = [:]
        var buffers: [BufferRequest] = []
        var views = ConcatViews()
        let viewsAllowed = updates.isEmpty && !Baseline.concatCopies
        /// The instruction that writes each value (not for aliases), and each value's readers.
        var producer: [ValueID: Int] = [:]
        var readers = graph.consumers().mapValues(\.count)
        for v in graph.outputs { readers[v, default: 0] += 1 }

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
            try rethrowing(GraphError.self, as: { GraphError("\(graph.describeNode(i)): \($0.message)") }) {
                let ctx = LoweringContext(graph: graph, shape: shape)
                let lowered = try node.op.family.lower(node, ctx)
                let call: KernelCall
                let operands: Int?
                switch lowered {
                case .constant(let tensors):
                    for (v, t) in zip(node.outputs, tensors) { addConstant(v, t) }
                    return  // next node
                case .alias(let constants):
                    operand[node.outputs[0]] = resolve(node.inputs[0]!)
                    for (k, t) in constants { addConstant(node.outputs[k], t) }
                    return  // next node
                case let .kernel(c, n):
                    call = c
                    operands = n
                }
                let step = pending.count
                if viewsAllowed, case let .concat(sizes, outer, inner) = call, node.outputs.count == 1,
                   let dtype = graph.type(of: node.outputs[0])?.dtype {
                    // Inputs written in place into the output (Lowering+ConcatViews.swift).
                    var members: [ConcatViews.Member] = []
                    for (v, size) in zip(node.inputs, sizes) {
                        guard let v, case .buffer(let b)? = resolve(v), buffers[b].first >= 0 else { break }
                        var conv: Conv2DShape? = nil
                        if let st = producer[v], pending[st].outputs.count == 1, case let .conv(s, _) = pending[st].call { conv = s }
                        members.append(ConcatViews.Member(buffer: b, bytes: size * inner * runtimeBytes(dtype), storedBytes: buffers[b].bytes,
                                                          readers: readers[v] ?? 0, conv: conv))
                    }
                    let outputBytes = try Limits.checkTensor(try shape(node.outputs[0]), elementBytes: runtimeBytes(dtype),
                                                             "value '\(graph.name(of: node.outputs[0]))'")
                    if members.count == sizes.count,
                       let stride = views.place(members, outer: outer, into: buffers.count, outputBytes: outputBytes,
                                                bytes: { buffers[$0].bytes }) {
                        // The output's buffer is the next one, the `into:` above.
                        operand[node.outputs[0]] = try newBuffer(node.outputs[0], first: step)
                        // Strided members: their convolutions write each image at the output's stride.
                        for m in members where stride > 0 {
                            guard case let .conv(s, e) = pending[buffers[m.buffer].first].call else { continue }
                            var strided = s
                            strided.outImageStride = stride
                            pending[buffers[m.buffer].first].call = .conv(strided, epilogue: e)
                        }
                        return  // next node
                    }
                }
                var ins: [Operand?] = []
                for v in node.inputs {
                    guard let v else { ins.append(nil); continue }
                    guard let o = resolve(v) else { throw GraphError("input '\(graph.name(of: v))' is undefined") }
                    if case .buffer(let b) = o { buffers[b].last = max(buffers[b].last, step) }
                    ins.append(o)
                }
                let outs = try node.outputs.map { try newBuffer($0, first: step) }
                for (v, o) in zip(node.outputs, outs) { operand[v] = o; producer[v] = step }
                pending.append(PendingInstruction(call: call, inputs: operands.map { Array(ins.prefix($0)) } ?? ins, outputs: outs,
                                                  scratchFloats: call.scratchFloats(threads: pool.threads),
                                                  label: node.name.isEmpty ? node.op.rawValue : "\(node.op.rawValue) \(node.name)"))
            }
        }
        for v in graph.outputs {
            guard let o = resolve(v) else { throw GraphError("graph output '\(graph.name(of: v))' is undefined") }
            if case .buffer(let b) = o { buffers[b].last = Int.max }
        }
        // Inputs keep their buffers to the end: a run must not overwrite what setInput wrote, so
        // that running again without setting them computes the same outputs.
        for v in graph.inputs {
            if case .buffer(let b)? = operand[v] { buffers[b].last = Int.max }
        }
        let firstUpdate = pending.count
        var regionBuffers: [Int] = []
        for u in updates {
            guard let store else { throw GraphError("state updates need a ParameterStore") }
            let step = pending.count
            func read(_ v: ValueID) throws -> Operand {
                guard let o = resolve(v) else { throw GraphError("update reads undefined value '\(graph.name(of: v))'") }
                if case .buffer(let b) = o {
                    buffers[b].last = max(buffers[b].last, step)
                    if !regionBuffers.contains(b) { regionBuffers.append(b) }
                }
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
                for suffix in StateUpdate.adamStates { store.ensure("\(name)/\(suffix)", shape: store.entry(name)!.shape) }
                pending.append(PendingInstruction(call: .adam(config, count: n, counter: name + "/adam.step"), inputs: [try read(grad)],
                                                  outputs: [.state(name), .state(name + "/adam.m"), .state(name + "/adam.v")],
                                                  scratchFloats: 0, label: "adam \(name)"))
            case let .sgd(name, grad, config):
                let n = try param(name, grad)
                for suffix in StateUpdate.sgdStates { store.ensure("\(name)/\(suffix)", shape: store.entry(name)!.shape) }
                pending.append(PendingInstruction(call: .sgd(config, count: n, counter: name + "/sgd.step"), inputs: [try read(grad)],
                                                  outputs: [.state(name), .state(name + "/sgd.momentum")],
                                                  scratchFloats: 0, label: "sgd \(name)"))
            case let .rmsprop(name, grad, config):
                let n = try param(name, grad)
                for suffix in StateUpdate.rmspropStates { store.ensure("\(name)/\(suffix)", shape: store.entry(name)!.shape) }
                pending.append(PendingInstruction(call: .rmsprop(config, count: n), inputs: [try read(grad)],
                                                  outputs: [.state(name), .state(name + "/rmsprop.square")],
                                                  scratchFloats: 0, label: "rmsprop \(name)"))
            case let .assign(name, value):
                _ = try param(name, value)
                pending.append(PendingInstruction(call: .copy(bytes: try shape(value).reduce(1, *) * 4), inputs: [try read(value)],
                                                  outputs: [.state(name)], scratchFloats: 0, label: "assign \(name)"))
            }
        }
        // The flat gradient region's tail: live from the first update to the end.
        var tail: Int? = nil
        if !updates.isEmpty {
            buffers.append(BufferRequest(bytes: Program.collectiveTailFloats(outputs: graph.outputs.count) * 4, first: firstUpdate, last: Int.max))
            tail = buffers.count - 1
            regionBuffers.append(buffers.count - 1)
        }
        // Inputs are read by the caller before step 0 and must survive until their last reader.
        var scratchBuffer: [Int: Int] = [:]
        for (step, p) in pending.enumerated() where p.scratchFloats > 0 {
            buffers.append(BufferRequest(bytes: p.scratchFloats * 4, first: step, last: step))
            scratchBuffer[step] = buffers.count - 1
        }
        let plan = views.plan(buffers, pinned: regionBuffers)
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
        let packedBytes = instructions.reduce(0) { $0 + $1.prepackedWeightSlotFloats * 4 }
        try Limits.checkTotal(try Limits.add(try Limits.add(plan.arenaBytes, constantData.count, "program memory"), packedBytes, "program memory"),
                              "graph '\(graph.name)' (arena \(Limits.describeBytes(plan.arenaBytes)), constants \(Limits.describeBytes(constantData.count)), packed weights \(Limits.describeBytes(packedBytes)))")
        return Program(instructions: instructions, inputs: try fed.map(programValue),
                       outputs: try graph.outputs.map(programValue), plan: plan,
                       constantData: constantData, pool: pool, store: store,
                       collectiveTail: tail.map { .arena(plan.offsets[$0]) })
    }
}
