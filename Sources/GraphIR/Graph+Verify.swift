// Graph+Verify: structural checks that every later stage relies on.
//
// Contract: `verify()` throws the first problem found, naming the node (index, name, op) or
// value. A verified graph has: value ids in range; unique value names; each value defined once
// (graph input, initializer or one node output); nodes in topological order (every input
// defined before use, which also rules out cycles); op arities respected; attributes known to
// the op and of the right kind; graph outputs defined.

extension Graph {
    /// A description of node `i` for messages: `node 3 'conv1' (Conv)`.
    public func describeNode(_ i: Int) -> String {
        let n = nodes[i]
        return n.name.isEmpty ? "node \(i) (\(n.op.rawValue))" : "node \(i) '\(n.name)' (\(n.op.rawValue))"
    }

    public func verify() throws {
        func check(_ v: ValueID, _ context: @autoclosure () -> String) throws {
            guard v.index >= 0 && v.index < values.count else {
                throw GraphError("\(context()): value id \(v.index) is out of range (graph has \(values.count) values)")
            }
        }
        var names: [String: ValueID] = [:]
        for (i, v) in values.enumerated() {
            if v.name.isEmpty { throw GraphError("value \(i) has an empty name") }
            if let other = names[v.name] {
                throw GraphError("value name '\(v.name)' is used by two values (\(other.index) and \(i))")
            }
            names[v.name] = ValueID(i)
        }
        var defined = Set<ValueID>()
        for v in inputs {
            try check(v, "graph input")
            guard defined.insert(v).inserted else { throw GraphError("graph input '\(name(of: v))' is listed twice") }
        }
        for (v, t) in initializers {
            try check(v, "initializer")
            if let ty = values[v.index].type, ty.dtype != t.dtype || (ty.fixedShape != nil && ty.fixedShape! != t.shape) {
                throw GraphError("initializer '\(name(of: v))' holds \(t.type) but its value is declared \(ty)")
            }
            if inputs.contains(v) { continue }
            defined.insert(v)
        }
        let producer = producers()
        for (i, n) in nodes.enumerated() {
            let here = describeNode(i)
            if !n.op.inputArity.contains(n.inputs.count) {
                throw GraphError("\(here) takes \(arity(n.op.inputArity)) inputs, got \(n.inputs.count)")
            }
            if !n.op.outputArity.contains(n.outputs.count) {
                throw GraphError("\(here) produces \(arity(n.op.outputArity)) outputs, got \(n.outputs.count)")
            }
            for k in 0..<n.op.inputArity.lowerBound where n.inputs[k] == nil && !n.op.optionalInputs.contains(k) {
                throw GraphError("\(here) is missing its required input \(k)")
            }
            for case let v? in n.inputs {
                try check(v, here)
                if !defined.contains(v) {
                    if let p = producer[v], p >= i {
                        throw GraphError("\(here) reads '\(name(of: v))' before \(describeNode(p)) produces it (cycle or nodes out of order)")
                    }
                    throw GraphError("\(here) reads '\(name(of: v))', which no input, initializer or node defines")
                }
            }
            for v in n.outputs {
                try check(v, here)
                guard defined.insert(v).inserted else {
                    throw GraphError("\(here) writes '\(name(of: v))', which is already defined")
                }
            }
            let schema = n.op.attributeSchema
            for key in n.attributes.sortedKeys {
                guard let kind = schema[key] else {
                    throw GraphError("\(here) has unknown attribute '\(key)'")
                }
                let got = n.attributes[key]!.kind
                if got != kind && !(kind == "float" && got == "int") {
                    throw GraphError("\(here): attribute '\(key)' must be \(kind), got \(got)")
                }
            }
        }
        if outputs.isEmpty { throw GraphError("graph '\(name)' has no outputs") }
        for v in outputs {
            try check(v, "graph output")
            if !defined.contains(v) { throw GraphError("graph output '\(name(of: v))' is never defined") }
        }
    }

    private func arity(_ r: ClosedRange<Int>) -> String {
        if r.lowerBound == r.upperBound { return "\(r.lowerBound)" }
        if r.upperBound == Int.max { return "at least \(r.lowerBound)" }
        return "\(r.lowerBound) to \(r.upperBound)"
    }

    /// Reorders nodes topologically (stable: keeps the given order where it is valid).
    /// Throws when the graph has a cycle or reads an undefined value, naming it.
    public mutating func sortTopologically() throws {
        var defined = Set<ValueID>(inputs)
        defined.formUnion(initializers.keys)
        var remaining = Array(nodes.indices)
        var order: [Int] = []
        while !remaining.isEmpty {
            var progressed = false
            var next: [Int] = []
            for i in remaining {
                if nodes[i].inputs.allSatisfy({ $0 == nil || defined.contains($0!) }) {
                    order.append(i)
                    defined.formUnion(nodes[i].outputs)
                    progressed = true
                } else {
                    next.append(i)
                }
            }
            if !progressed {
                let producer = producers()
                let i = next[0]
                let missing = nodes[i].inputs.compactMap { $0 }.first { !defined.contains($0) }!
                if producer[missing] != nil {
                    throw GraphError("graph has a cycle through \(describeNode(i)) and value '\(name(of: missing))'")
                }
                throw GraphError("\(describeNode(i)) reads '\(name(of: missing))', which no input, initializer or node defines")
            }
            remaining = next
        }
        nodes = order.map { nodes[$0] }
    }
}
