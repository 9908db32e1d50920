// GraphComposer: builds a training graph by inlining network graphs (G, D, …) into one graph.
//
// Contract: each network's float initializers (weights, BatchNorm statistics) become graph
// inputs named `<network>/<initializer>` (one per name, shared by every inlined copy), which the
// runtime binds to ParameterStore buffers by name; integer initializers (shapes) are copied as
// constants. Each inlined
// copy gets its own value names (`<copy>/<name>`). In `training` mode, inference
// BatchNormalization nodes become training-mode ones whose running statistics are threaded
// through copies in call order (the second pass sees the statistics the first one updated, as
// in PyTorch); `finalState` names the values to assign back after the step. Dropout nodes get
// training_mode true (a constant ratio, a unique node name) in training mode and lose it
// otherwise; `dropoutMasks` lists the mask inputs ExpandDropout will add.

import GraphIR
import Passes

public struct GraphComposer {
    /// Holds the composed graph: values, nodes, fresh names (`name`, `name#2`, …).
    public let builder: GraphBuilder
    public var graph: Graph { builder.graph }
    /// State name → the value holding its latest version in the composed graph.
    public private(set) var current: [String: ValueID] = [:]
    private var stateInputs: [String: ValueID] = [:]
    private var copies: [String: Int] = [:]
    private var constants: [String: ValueID] = [:]

    public init(name: String) { builder = GraphBuilder(name: name) }

    /// Adds a graph input fed by the caller each step (latents, real batches, labels, α).
    public mutating func input(_ name: String, _ type: TensorType) -> ValueID {
        builder.addInput(name, type)
    }

    /// The graph input bound to state `name` (created on first use).
    public mutating func stateInput(_ name: String, _ tensor: Tensor) -> ValueID {
        if let v = stateInputs[name] { return v }
        let v = builder.addInput(name, tensor.type)
        stateInputs[name] = v
        current[name] = v
        return v
    }

    /// State names whose value changed during the step, with their new values.
    public var finalState: [(name: String, value: ValueID)] {
        current.keys.sorted().compactMap { k in current[k] != stateInputs[k] ? (k, current[k]!) : nil }
    }

    /// Inlines `net` with its graph inputs bound to `args` (in order) and returns its outputs.
    /// `training` switches BatchNormalization to batch statistics.
    public mutating func call(_ net: Graph, _ args: [ValueID], training: Bool, label: String? = nil) throws -> [ValueID] {
        try call(net, args, training: training, label: label, returning: []).outputs
    }

    /// As `call`, and also returns the composed values of `net`'s internal values named
    /// `internals` (e.g. a discriminator layer's activations, for feature matching), in order.
    public mutating func call(_ net: Graph, _ args: [ValueID], training: Bool, label: String? = nil,
                              returning internals: [String]) throws -> (outputs: [ValueID], internals: [ValueID]) {
        let wanted = try internals.map { name -> ValueID in
            guard let v = net.value(named: name) else { throw GraphError("network '\(net.name)' has no value named '\(name)'") }
            return v
        }
        guard args.count == net.inputs.count else {
            throw GraphError("network '\(net.name)' takes \(net.inputs.count) inputs, got \(args.count)")
        }
        let base = label ?? net.name
        copies[base, default: 0] += 1
        let prefix = copies[base]! == 1 ? base : "\(base)#\(copies[base]!)"
        var map: [ValueID: ValueID] = [:]
        for (v, a) in zip(net.inputs, args) { map[v] = a }
        for (v, t) in net.initializers.sorted(by: { $0.key < $1.key }) {
            let name = "\(net.name)/\(net.name(of: v))"
            if t.dtype == .float32 {
                map[v] = stateInput(name, t)
            } else {
                if constants[name] == nil { constants[name] = builder.addInitializer(name, t) }
                map[v] = constants[name]
            }
        }
        for node in net.nodes {
            var n = node
            n.inputs = node.inputs.map { $0.map { map[$0]! } }
            if node.op == .batchNormalization && training {
                let mean = node.inputs[3]!, variance = node.inputs[4]!
                let meanName = "\(net.name)/\(net.name(of: mean))", varName = "\(net.name)/\(net.name(of: variance))"
                n.inputs[3] = current[meanName]
                n.inputs[4] = current[varName]
                n.attributes["training_mode"] = .int(1)
                let y = builder.addValue("\(prefix)/\(net.name(of: node.outputs[0]))", net.type(of: node.outputs[0]))
                let rm = builder.addValue("\(prefix)/\(net.name(of: mean)).next", net.type(of: mean))
                let rv = builder.addValue("\(prefix)/\(net.name(of: variance)).next", net.type(of: variance))
                n.outputs = [y, rm, rv]
                map[node.outputs[0]] = y
                current[meanName] = rm
                current[varName] = rv
            } else {
                n.outputs = node.outputs.map { o in
                    let nv = builder.addValue("\(prefix)/\(net.name(of: o))", net.type(of: o))
                    map[o] = nv
                    return nv
                }
            }
            n.name = node.name.isEmpty ? "" : "\(prefix)/\(node.name)"
            if node.op == .dropout { try setDropoutMode(&n, node, net, prefix: prefix, training: training) }
            builder.appendUntyped(n)
        }
        return (net.outputs.map { map[$0]! }, wanted.map { map[$0]! })
    }

    /// Mask inputs ("dropout/<node>") the training-mode Dropout nodes will need once
    /// ExpandDropout runs (in TrainStep), with their drop ratios; shapes are those of the
    /// dropped values after binding (TrainStep.dropoutMasks lists them bound).
    public private(set) var dropoutMasks: [(name: String, ratio: Float)] = []

    /// Makes an inlined Dropout node train (constant ratio, training_mode true, a unique name)
    /// or infer (training_mode removed).
    private mutating func setDropoutMode(_ n: inout Node, _ node: Node, _ net: Graph, prefix: String, training: Bool) throws {
        guard training else {
            if n.inputs.count > 2 { n.inputs[2] = nil }
            return
        }
        let p = try ExpandDropout.ratio(node, graph: net)
        if n.name.isEmpty { n.name = "\(prefix)/\(net.name(of: node.outputs[0]))" }
        n.inputs = [n.inputs[0], addConstant(Tensor(shape: [], floats: [p]), name: "\(n.name)/ratio"),
                    addConstant(Tensor(shape: [], int64s: [1], dtype: .bool), name: "\(n.name)/training_mode")]
        dropoutMasks.append((name: "dropout/\(n.name)", ratio: p))
    }

    /// Appends `op` with one output; the output and the node are named `base` made fresh.
    mutating func graphAddNode(_ op: Op, _ inputs: [ValueID?], _ base: String, _ attributes: [String: Attribute]) -> ValueID {
        let name = builder.freshName(base, style: .hash)
        let v = builder.addValue(name)
        builder.appendUntyped(Node(op, name: name, inputs: inputs, outputs: [v], attributes: Attributes(attributes)))
        return v
    }

    /// An initializer named "const/<name>" (made unique).
    public mutating func addConstant(_ t: Tensor, name: String) -> ValueID {
        builder.addInitializer(builder.freshName("const/\(name)", style: .hash), t)
    }

    /// Marks graph outputs.
    public mutating func output(_ values: [ValueID]) { builder.setOutputs(values) }
}
