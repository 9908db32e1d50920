// Program+Text: the printed form of a Program (`gannet print`, golden files).
//
// Contract: one header line (arena, constants, threads), one line per input, one per
// instruction `outputs = call (inputs) [scratch=…]  # node label`, one per output.

import Kernels

extension Program {
    /// The printed program: arena size, inputs, one line per instruction, outputs.
    public var text: String {
        var s = "program arena=\(plan.arenaBytes) bytes (unshared \(plan.unsharedBytes)) constants=\(constantBytes) bytes threads=\(pool.threads)\n"
        for v in inputs { s += "  input \(v.name) \(v.dtype.rawValue)\(v.shape) @\(v.location)\n" }
        for ins in instructions {
            let ins_ = ins.inputs.map { $0?.description ?? "_" }.joined(separator: ", ")
            let outs = ins.outputs.map(\.description).joined(separator: ", ")
            s += "  \(outs) = \(ins.call) (\(ins_))"
            if let sc = ins.scratch { s += " scratch=\(sc)" }
            s += "  # \(ins.label)\n"
        }
        for v in outputs { s += "  output \(v.name) \(v.dtype.rawValue)\(v.shape) @\(v.location)\n" }
        return s
    }
}
