// SpecReader+Network: reads one `networks.<name>` section (role, inputs, layers, outputs).
//
// Contract: throws a `SpecError` at the offending node for unknown input kinds, inputs that
// need a missing `latent`/`conditional` section, empty input or layer lists and bad shapes.

import Foundation
import Yams

extension SpecReader {
    func network(_ name: String, _ node: Node, _ keyNode: Node, rule: InitRule, dataset: DatasetSpec, latent: LatentSpec?,
                 conditional: ConditionalSpec?, latentNode: Node?, conditionalNode: Node?) throws -> NetworkSpec {
        let what = "networks.\(name)"
        let m = try MapReader(node, what, ctx, keys: ["role", "inputs", "layers", "output", "init"])
        let roleName = try m.choice("role", NetworkRole.allCases.map(\.rawValue))
        let role = roleName.flatMap(NetworkRole.init(rawValue:)) ?? NetworkRole(rawValue: name) ?? .other
        let netRule = try m.value("init").map { try ctx.initRule($0, "\(what).init", base: rule) } ?? rule

        let inputsNode = try m.required("inputs")
        let im = try MapReader(inputsNode, "\(what).inputs", ctx, keys: nil)
        guard !im.entries.isEmpty else { throw ctx.error(inputsNode, "\(what).inputs: a network needs at least one input") }
        var inputs: [InputSpec] = []
        for e in im.entries {
            let w = "\(what).inputs.\(e.key)"
            guard ctx.isIdentifier(e.key) else { throw ctx.error(e.keyNode, "\(w): '\(e.key)' is not a valid value name") }
            let pos = ctx.position(e.keyNode)
            var input = InputSpec(kind: "tensor", name: e.key, shape: [], dtype: "f32", position: pos)
            if case .scalar = e.value {
                let k = try ctx.string(e.value, w)
                switch k {
                case "latent":
                    guard let latent else { throw ctx.error(e.value, "\(w): a latent input needs a 'latent' section") }
                    input.kind = k
                    input.shape = [latent.size]
                case "label":
                    guard conditional != nil else { throw ctx.error(e.value, "\(w): a label input needs a 'conditional' section") }
                    input.kind = k
                    input.dtype = "i64"
                case "image":
                    input.kind = k
                    input.shape = dataset.imageShape
                default:
                    throw ctx.error(e.value, "\(w): unknown input kind '\(k)' (expected latent, label, image, or a mapping with shape and dtype)")
                }
            } else {
                let r = try MapReader(e.value, w, ctx, keys: ["shape", "dtype"])
                input.shape = try ctx.ints(try r.required("shape"), "\(w).shape")
                if input.shape.contains(where: { $0 <= 0 }) { throw ctx.error(r.value("shape")!, "\(w).shape: sizes must be positive") }
                input.dtype = try r.choice("dtype", ["f32", "i64"]) ?? "f32"
            }
            inputs.append(input)
        }

        let layersNode = try m.required("layers")
        let items = try ctx.list(layersNode, "\(what).layers")
        guard !items.isEmpty else { throw ctx.error(layersNode, "\(what).layers: a network needs at least one layer") }
        var layers: [LayerSpec] = []
        for (i, item) in items.enumerated() {
            layers.append(try ctx.layer(item, "\(what).layers[\(i)]"))
        }
        var outputs: [String] = []
        if let o = m.value("output") {
            if case .sequence = o {
                outputs = try ctx.list(o, "\(what).output").map { try ctx.string($0, "\(what).output element") }
            } else {
                outputs = [try ctx.string(o, "\(what).output")]
            }
        }
        return NetworkSpec(name: name, role: role, inputs: inputs, layers: layers, outputs: outputs,
                           initRule: netRule, position: ctx.position(keyNode))
    }
}
