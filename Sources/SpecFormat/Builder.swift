// Builder: expands a network spec's layer macros into a verified GraphIR graph.
//
// Contract: each macro becomes standard ONNX ops only —
//   linear → Gemm(x, W (out,in), b) transB=1;  conv → Conv(x, W, b);  conv_transpose →
//   ConvTranspose(x, W (in,out,k,k), b);  batchnorm → BatchNormalization(x, γ, β, mean 0, var 1)
//   with epsilon and momentum = 1 − PyTorch momentum (ONNX's convention);  leaky_relu → LeakyRelu;
//   relu/sigmoid/tanh;  dropout: p → Dropout(x, ratio p as a Constant node) (inference form;
//   GraphComposer turns training on);  reshape → Reshape with a constant shape;  flatten → Flatten axis 1;
//   embedding → Gather(table, indices) axis 0;  concat → Concat;  broadcast → Unsqueeze (axes
//   as a constant input) then Expand to a constant shape;  elu → Elu(alpha);  upsample → Resize(x, roi
//   absent, scales [1, 1, s, s] as a Constant node `<layer>.scales`) — nearest: asymmetric/floor
//   (PyTorch's nn.Upsample), linear: half_pixel;  instance_norm → InstanceNormalization(x, γ, β)
//   (γ/β trainable with the batch-norm roles, or Constant nodes 1/0 with affine: false);  pad → Pad(x,
//   pads [0, 0, top, left, 0, 0, bottom, right] as `<layer>.pads`) with mode constant/reflect/edge.
// Graph inputs have the symbolic batch `N`. Parameters are named `<layer>.weight`, `.bias`,
// `.running_mean`, `.running_var` (PyTorch state-dict style); constants `<layer>.shape` /
// `.axes`. Each node is typed as it is added (a GraphBuilder with the InferShapes rules); a
// failure is a SpecError at its layer's position. The result is verified, fully typed, with
// inputs then initializers first in the value list (so a print/parse round trip is equal),
// and metadata (GraphIR's ModelMetadata): gannet.spec, gannet.network, gannet.role, gannet.seed, gannet.parameters
// (comma-separated trainable initializer names), and for generators gannet.latent_size,
// gannet.latent_distribution, gannet.latent_input, gannet.num_classes, gannet.label_input,
// gannet.output_range ("0,1" or "-1,1") and gannet.image_shape ("C,H,W").
// Sizes: a layer's parameters are declared (typed, not allocated), the layer's new nodes are
// shape-checked, and only then are its parameters drawn; every parameter and every value is
// checked with `Limits` (per tensor, with the batch bound to schedule.batch_size, and to
// output.fixed_samples for generators; parameters and activations against the total), so an
// absurd size is a SpecError before any allocation. A shape walk (`materialize: false`: the
// check in `Spec.parse`, `parameterCount`) allocates no parameter at all: parameters stay typed
// graph inputs instead of initializers, so checking a 24M-parameter spec costs kilobytes, not
// 96 MB of zeros (the graph is for shapes only; `buildGraph` makes the real one). Building is linear in the layer count:
// each layer infers only its own nodes and names are looked up in a dictionary.

import Core
import GraphIR
import Passes

extension Spec {
    /// Builds network `network` with weights drawn from `seed` (default: the spec's seed).
    public func buildGraph(network name: String, seed: UInt64? = nil) throws -> Graph {
        guard let n = network(name) else {
            throw SpecError(file: file, line: 1, column: 1,
                            message: "no network named '\(name)' (the spec has: \(networkNames.joined(separator: ", ")))")
        }
        return try NetworkBuilder.build(self, n, seed: seed ?? self.seed, materialize: true)
    }

    /// Builds every network, in spec order.
    public func buildGraphs(seed: UInt64? = nil) throws -> [(name: String, graph: Graph)] {
        try networks.map { ($0.name, try buildGraph(network: $0.name, seed: seed)) }
    }

    /// The number of trainable parameters of a network (weights, biases, BN γ/β, embeddings).
    public func parameterCount(network name: String) throws -> Int {
        guard let n = network(name) else {
            throw SpecError(file: file, line: 1, column: 1, message: "no network named '\(name)'")
        }
        return Spec.parameterCount(try NetworkBuilder.build(self, n, seed: seed, materialize: false))
    }

    /// The trainable parameter names of a built graph (from `gannet.parameters`).
    public static func trainableParameters(_ g: Graph) -> [String] {
        g.gannet.parameters ?? []
    }

    /// The trainable parameter count of a built graph.
    public static func parameterCount(_ g: Graph) -> Int {
        // Counted from the types: a shape walk's parameters have no initializer.
        trainableParameters(g).reduce(0) { acc, name in
            guard let v = g.value(named: name), let n = g.type(of: v)?.elementCount else { return acc }
            return acc + n
        }
    }
}

/// Builds one network through a GraphBuilder typed as InferShapes types (each node is
/// shape-checked as it is added).
struct NetworkBuilder {
    let spec: Spec
    let net: NetworkSpec
    let seed: UInt64
    /// false: parameters are zero-filled (a shape walk, no random draws).
    let materialize: Bool
    let builder: GraphBuilder
    var g: Graph { builder.graph }
    var ctx: SpecContext
    var trainable: [String] = []
    /// The declared parameters (initializers, or graph inputs in a shape walk).
    var parameterValues: Set<ValueID> = []
    /// Parameters declared by the current layer, drawn once its shapes check out.
    var pending: [(value: ValueID, scheme: Initializer, role: ParameterRole, shape: [Int], weightShape: [Int]?, name: String)] = []
    var parameterBytes = 0

    init(spec: Spec, network: NetworkSpec, seed: UInt64, materialize: Bool) {
        self.spec = spec
        self.net = network
        self.seed = seed
        self.materialize = materialize
        builder = GraphBuilder(name: network.name, typer: ShapeRules.checkedTyper)
        ctx = SpecContext(file: spec.file)
    }

    static func build(_ spec: Spec, _ n: NetworkSpec, seed: UInt64, materialize: Bool) throws -> Graph {
        var nb = NetworkBuilder(spec: spec, network: n, seed: seed, materialize: materialize)
        return try nb.build()
    }

    func fail(_ pos: SpecPosition, _ msg: String) -> SpecError { ctx.error(pos, msg) }

    mutating func build() throws -> Graph {
        for inp in net.inputs {
            let t = TensorType(inp.dtype == "i64" ? .int64 : .float32, [.symbol("N")] + inp.shape.map { .fixed($0) })
            try rethrowing(GraphError.self, as: { fail(net.position, $0.message) }) {
                try Limits.checkType(t, "networks.\(net.name).input '\(inp.name)'")
            }
            builder.addInput(inp.name, t)
        }
        var current: ValueID = g.inputs[0]
        for (i, layer) in net.layers.enumerated() {
            current = try rethrowing(GraphError.self, as: { fail(layer.position, "networks.\(net.name).layers[\(i)] (\(layer.layer.kind)): \($0.message)") }) {
                try add(layer, index: i, previous: current)
            }
        }
        if net.outputs.isEmpty {
            builder.setOutputs([current])
        } else {
            builder.setOutputs(try net.outputs.map { o in
                guard let v = builder.value(named: o) else { throw fail(net.position, "networks.\(net.name).output: no value named '\(o)'") }
                return v
            })
        }
        builder.orderValuesCanonically()
        metadata()
        var g = builder.graph
        try rethrowing(GraphError.self, as: { fail(net.position, "networks.\(net.name): \($0.message)") }) {
            try g.verify()
            try InferShapes().run(&g)
            try checkBatchSizes(g)
        }
        return g
    }

    /// Every value with the batch bound to the sizes training and sampling run at
    /// (schedule.batch_size; output.fixed_samples for a generator) fits `Limits`, one tensor
    /// and all values together (a lower bound on what a step allocates).
    func checkBatchSizes(_ g: Graph) throws {
        let parameters = Set(trainable)
        var batches = [("schedule.batch_size", spec.schedule.batchSize)]
        if net.role == .generator { batches.append(("output.fixed_samples", spec.output.fixedSamples)) }
        for (setting, n) in batches {
            var total = parameterBytes
            // Parameters are counted in `parameterBytes` (a shape walk's are inputs, not initializers).
            for (i, v) in g.values.enumerated() where g.initializers[ValueID(i)] == nil && !parameters.contains(v.name) {
                guard let t = v.type else { continue }
                let bound = t.shape.map { $0.value ?? n }
                let bytes = try Limits.checkTensor(bound, t.dtype, "value '\(v.name)' at \(setting) \(n)")
                total = try Limits.add(total, bytes, "memory at \(setting) \(n)")
            }
            try Limits.checkTotal(total, "at \(setting) \(n), the network's parameters and values")
        }
    }

    mutating func metadata() {
        var m = ModelMetadata()
        m.spec = spec.name
        m.network = net.name
        m.role = net.role.rawValue
        m.seed = seed
        m.parameters = trainable
        if net.role == .generator {
            if let l = spec.latent {
                m.latentSize = l.size
                m.latentDistribution = l.distribution
            }
            m.latentInput = net.inputs.first(where: { $0.kind == "latent" })?.name
            m.outputRange = ModelMetadata.rangeText(low: spec.dataset.range.low)
            m.imageShape = spec.dataset.imageShape
        }
        if let c = spec.conditional, let y = net.inputs.first(where: { $0.kind == "label" }) {
            m.numClasses = c.classes
            m.labelInput = y.name
        }
        builder.setMetadata(m.entries, docString: spec.description)
    }

    // MARK: layers

    func type(_ v: ValueID) -> TensorType { g.type(of: v)! }

    func shapeText(_ t: TensorType) -> String { "(\(t.shape.map(\.description).joined(separator: ",")))" }

    /// Declares a trainable parameter: typed now, drawn by `drawPending` once the layer's
    /// shapes check out. Errors when its size is over `Limits`.
    mutating func param(_ name: String, _ role: ParameterRole, _ shape: [Int], weightShape: [Int]? = nil,
                        override: Initializer?) throws -> ValueID {
        let bytes = try Limits.checkTensor(shape, .float32, "parameter '\(name)'")
        parameterBytes = try Limits.add(parameterBytes, bytes, "parameters of network '\(net.name)'")
        try Limits.checkTotal(parameterBytes, "the parameters of network '\(net.name)'")
        let scheme = override ?? net.initRule.scheme(for: role)
        trainable.append(name)
        let type = TensorType(.float32, fixed: shape)
        let v = materialize ? builder.addValue(name, type) : builder.addInput(name, type)
        parameterValues.insert(v)
        pending.append((v, scheme, role, shape, weightShape, name))
        return v
    }

    func multiply(_ a: Int, _ b: Int, _ pos: SpecPosition, _ what: String) throws -> Int {
        try rethrowing(GraphError.self, as: { fail(pos, $0.message) }) { try Limits.multiply(a, b, "\(what): size") }
    }

    /// Draws the parameters the current layer declared (a shape walk leaves them inputs).
    mutating func drawPending() {
        if materialize {
            for p in pending {
                builder.setInitializer(p.value, initialize(p.scheme, role: p.role, shape: p.shape, weightShape: p.weightShape,
                                                           seed: seed, name: "\(net.name)/\(p.name)"))
            }
        }
        pending = []
    }

    mutating func constant(_ name: String, _ values: [Int]) -> ValueID {
        builder.addInitializer(name, Tensor(shape: [values.count], int64s: values.map(Int64.init)))
    }

    /// A float constant as a Constant node (a float initializer would be training state: GANSteps
    /// keeps every float initializer in the parameter store and feeds it at run time).
    mutating func floatConstant(_ name: String, _ t: Tensor) throws -> ValueID {
        try builder.addNode(.constant, [], outputs: [name], attributes: ["value": .tensor(t)], name: name)[0]
    }

    /// A 4-D (N, C, H, W) input with static C, H and W, or an error naming the layer.
    func requireImage(_ t: TensorType, _ pos: SpecPosition, _ what: String) throws {
        guard t.rank == 4, t.shape[1...].allSatisfy({ $0.value != nil }) else {
            throw fail(pos, "\(what): expects a 4-D input (N, C, H, W), got \(shapeText(t)); add a reshape first")
        }
    }

    mutating func add(_ l: LayerSpec, index: Int, previous: ValueID) throws -> ValueID {
        let what = "networks.\(net.name).layers[\(index)] (\(l.layer.kind))"
        let pos = l.position
        // Resolve inputs.
        var ins: [ValueID] = []
        for name in l.inputs {
            guard let v = builder.value(named: name), g.type(of: v) != nil, g.initializers[v] == nil, !parameterValues.contains(v) else {
                throw fail(pos, "\(what): no value named '\(name)' (inputs and earlier layers' names can be read)")
            }
            ins.append(v)
        }
        if ins.isEmpty { ins = [previous] }
        if case .concat = l.layer {
            if ins.count < 2 { throw fail(pos, "\(what): concat needs at least two inputs (input: [a, b, …])") }
        } else if ins.count != 1 {
            throw fail(pos, "\(what): takes one input, got \(ins.count)")
        }
        let x = ins[0], xt = type(x)
        let baseName: String
        switch l.layer {
        case .linear: baseName = "fc"
        case .conv: baseName = "conv"
        case .convTranspose: baseName = "deconv"
        case .batchNorm: baseName = "bn"
        case .leakyRelu: baseName = "lrelu"
        case .embedding: baseName = "embedding"
        case .minibatchDiscrimination: baseName = "mbd"
        default: baseName = l.layer.kind
        }
        let name: String
        if let n = l.name {
            guard builder.value(named: n) == nil else { throw fail(pos, "\(what): the name '\(n)' is already used") }
            name = n
        } else {
            name = builder.freshName(baseName, style: .numbered)
        }
        switch l.layer {
        case .concat, .embedding: break
        default:
            if xt.dtype != .float32 { throw fail(pos, "\(what): input '\(g.name(of: x))' is \(xt), a float tensor is needed") }
        }
        // Each node is typed as it is added; a failure belongs to this layer.
        let out: ValueID = try rethrowing(GraphError.self, as: { e in
            pending = []
            return fail(pos, "\(what): \(e.message)")
        }) {
            let out: ValueID
            switch l.layer {
            case .linear(let nOut, let bias):
                guard xt.rank == 2, let nIn = xt.shape[1].value else {
                    throw fail(pos, "\(what): expects a 2-D input (N, features), got \(shapeText(xt)); add a flatten or reshape first")
                }
                let wShape = [nOut, nIn]
                let w = try param("\(name).weight", .weight, wShape, override: l.weightInit)
                let b = bias ? try param("\(name).bias", .bias, [nOut], weightShape: wShape, override: l.biasInit) : nil
                out = try builder.addNode(.gemm, [x, w] + (b.map { [$0] } ?? []), outputs: [name], attributes: ["transB": .int(1)], name: name)[0]
            case .conv(let cOut, let k, let s, let p, let bias), .convTranspose(let cOut, let k, let s, let p, _, let bias):
                guard xt.rank == 4, let cIn = xt.shape[1].value else {
                    throw fail(pos, "\(what): expects a 4-D input (N, C, H, W), got \(shapeText(xt)); add a reshape first")
                }
                let transpose: Bool
                var attrs: [String: Attribute] = [
                    "kernel_shape": .ints([k, k]), "strides": .ints([s, s]), "pads": .ints([p, p, p, p]),
                    "dilations": .ints([1, 1]), "group": .int(1),
                ]
                if case .convTranspose(_, _, _, _, let op, _) = l.layer {
                    transpose = true
                    if op != 0 { attrs["output_padding"] = .ints([op, op]) }
                } else {
                    transpose = false
                }
                let wShape = transpose ? [cIn, cOut, k, k] : [cOut, cIn, k, k]
                let w = try param("\(name).weight", .weight, wShape, override: l.weightInit)
                let b = bias ? try param("\(name).bias", .bias, [cOut], weightShape: wShape, override: l.biasInit) : nil
                out = try builder.addNode(transpose ? .convTranspose : .conv, [x, w] + (b.map { [$0] } ?? []), outputs: [name],
                                attributes: attrs, name: name)[0]
            case .batchNorm(let rank, let eps, let momentum):
                if let rank, xt.rank != rank {
                    throw fail(pos, "\(what): expects a \(rank)-D input, got \(shapeText(xt))")
                }
                guard xt.rank == 2 || xt.rank == 4, let c = xt.shape[1].value else {
                    throw fail(pos, "\(what): expects a 2-D (N, C) or 4-D (N, C, H, W) input, got \(shapeText(xt))")
                }
                let gamma = try param("\(name).weight", .batchNormScale, [c], override: l.weightInit)
                let beta = try param("\(name).bias", .batchNormBias, [c], override: l.biasInit)
                let mean = builder.addInitializer("\(name).running_mean", Tensor(shape: [c], repeating: 0))
                let variance = builder.addInitializer("\(name).running_var", Tensor(shape: [c], repeating: 1))
                out = try builder.addNode(.batchNormalization, [x, gamma, beta, mean, variance], outputs: [name],
                                attributes: ["epsilon": .float(Float(eps)), "momentum": .float(Float(1 - momentum))], name: name)[0]
            case .leakyRelu(let slope):
                out = try builder.addNode(.leakyRelu, [x], outputs: [name], attributes: ["alpha": .float(Float(slope))], name: name)[0]
            case .relu:
                out = try builder.addNode(.relu, [x], outputs: [name], name: name)[0]
            case .sigmoid:
                out = try builder.addNode(.sigmoid, [x], outputs: [name], name: name)[0]
            case .tanh:
                out = try builder.addNode(.tanh, [x], outputs: [name], name: name)[0]
            case .dropout(let p):
                let ratio = try builder.addNode(.constant, [], outputs: ["\(name).ratio"],
                                      attributes: ["value": .tensor(Tensor(shape: [], floats: [Float(p)]))], name: "\(name).ratio")[0]
                out = try builder.addNode(.dropout, [x, ratio], outputs: [name], name: name)[0]
            case .reshape(let shape):
                let s = constant("\(name).shape", shape)
                out = try builder.addNode(.reshape, [x, s], outputs: [name], name: name)[0]
            case .flatten:
                out = try builder.addNode(.flatten, [x], outputs: [name], attributes: ["axis": .int(1)], name: name)[0]
            case .embedding(let classes, let dim):
                guard xt.dtype != .float32 else {
                    throw fail(pos, "\(what): indices must be integers (an input of kind label or dtype i64), got \(xt)")
                }
                let table = try param("\(name).weight", .embedding, [classes, dim], override: l.weightInit)
                out = try builder.addNode(.gather, [table, x], outputs: [name], attributes: ["axis": .int(0)], name: name)[0]
            case .concat(let axis):
                for v in ins where type(v).dtype != .float32 {
                    throw fail(pos, "\(what): input '\(g.name(of: v))' is \(type(v)), a float tensor is needed")
                }
                out = try builder.addNode(.concat, ins, outputs: [name], attributes: ["axis": .int(axis)], name: name)[0]
            case .broadcast(let shape):
                guard xt.rank == 2, let c = xt.shape[1].value else {
                    throw fail(pos, "\(what): expects a 2-D input (N, C), got \(shapeText(xt))")
                }
                guard shape[0] == c else {
                    throw fail(pos, "\(what): cannot broadcast \(shapeText(xt)) to (N,\(shape.map(String.init).joined(separator: ","))): \(c) channels, target has \(shape[0])")
                }
                let axes = constant("\(name).axes", Array(2..<(shape.count + 1)))
                let u = try builder.addNode(.unsqueeze, [x, axes], outputs: ["\(name).unsqueezed"], name: "\(name).unsqueeze")[0]
                let s = constant("\(name).shape", [1] + shape)
                out = try builder.addNode(.expand, [u, s], outputs: [name], name: name)[0]
            case .elu(let alpha):
                out = try builder.addNode(.unary(.elu), [x], outputs: [name], attributes: ["alpha": .float(Float(alpha))], name: name)[0]
            case .upsample(let scale, let linear):
                try requireImage(xt, pos, what)
                let scales = try floatConstant("\(name).scales", Tensor(shape: [4], floats: [1, 1, Float(scale), Float(scale)]))
                let attrs: [String: Attribute] = linear
                    ? ["mode": .string("linear"), "coordinate_transformation_mode": .string("half_pixel")]
                    : ["mode": .string("nearest"), "coordinate_transformation_mode": .string("asymmetric"), "nearest_mode": .string("floor")]
                out = try builder.addNode(.resize, [x, nil, scales], outputs: [name], attributes: attrs, name: name)[0]
            case .instanceNorm(let eps, let affine):
                try requireImage(xt, pos, what)
                let c = xt.shape[1].value!
                let gamma = affine ? try param("\(name).weight", .batchNormScale, [c], override: l.weightInit)
                    : try floatConstant("\(name).weight", Tensor(shape: [c], repeating: 1))
                let beta = affine ? try param("\(name).bias", .batchNormBias, [c], override: l.biasInit)
                    : try floatConstant("\(name).bias", Tensor(shape: [c], repeating: 0))
                out = try builder.addNode(.instanceNormalization, [x, gamma, beta], outputs: [name],
                                          attributes: ["epsilon": .float(Float(eps))], name: name)[0]
            case .pad(let p, let mode):
                try requireImage(xt, pos, what)
                if mode == "reflect", let h = xt.shape[2].value, let w = xt.shape[3].value,
                   max(p[0], p[2]) >= h || max(p[1], p[3]) >= w {
                    throw fail(pos, "\(what): reflect pads \(p) must be smaller than the input's H \(h) and W \(w)")
                }
                let pads = constant("\(name).pads", [0, 0, p[0], p[1], 0, 0, p[2], p[3]])
                out = try builder.addNode(.pad, [x, pads], outputs: [name], attributes: ["mode": .string(mode)], name: name)[0]
            case .minibatchDiscrimination(let kernels, let dims):
                guard xt.rank == 2, let f = xt.shape[1].value else {
                    throw fail(pos, "\(what): expects a 2-D input (N, features), got \(shapeText(xt)); add a flatten or reshape first")
                }
                // T (F, B·C); M = x·T (N, B·C) → (N, B, C); |M_i − M_j| over (N, N, B, C) by
                // broadcasting (N,1,B,C) − (1,N,B,C); L1 over C; exp(−·); sum over j → (N, B).
                let t = try param("\(name).weight", .weight, [f, try multiply(kernels, dims, pos, what)], override: l.weightInit)
                let m = try builder.addNode(.gemm, [x, t], outputs: ["\(name).m"], name: "\(name).gemm")[0]
                let m3 = try builder.addNode(.reshape, [m, constant("\(name).shape", [-1, kernels, dims])], outputs: ["\(name).m3"], name: "\(name).reshape")[0]
                let mi = try builder.addNode(.unsqueeze, [m3, constant("\(name).axes_i", [1])], outputs: ["\(name).mi"], name: "\(name).unsqueeze_i")[0]
                let mj = try builder.addNode(.unsqueeze, [m3, constant("\(name).axes_j", [0])], outputs: ["\(name).mj"], name: "\(name).unsqueeze_j")[0]
                let diff = try builder.addNode(.sub, [mi, mj], outputs: ["\(name).diff"], name: "\(name).sub")[0]
                let absd = try builder.addNode(.abs, [diff], outputs: ["\(name).abs"], name: "\(name).abs")[0]
                let l1 = try builder.addNode(.reduceSum, [absd, constant("\(name).axes_l1", [3])], outputs: ["\(name).l1"],
                                   attributes: ["keepdims": .int(0)], name: "\(name).l1")[0]
                let neg = try builder.addNode(.neg, [l1], outputs: ["\(name).neg"], name: "\(name).neg")[0]
                let c = try builder.addNode(.exp, [neg], outputs: ["\(name).c"], name: "\(name).exp")[0]
                let o = try builder.addNode(.reduceSum, [c, constant("\(name).axes_j_sum", [1])], outputs: ["\(name).o"],
                                  attributes: ["keepdims": .int(0)], name: "\(name).o")[0]
                out = try builder.addNode(.concat, [x, o], outputs: [name], attributes: ["axis": .int(1)], name: name)[0]
            }
            return out
        }
        drawPending()
        return out
    }
}
