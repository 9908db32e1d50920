// ConvertSpec: `gannet convert SPEC --out DIR [--seed S]` — every network of a spec, built and
// initialised, written as DIR/<network>.pb (ONNX).
//
// Contract: the spec is read and checked by SpecFormat (its errors keep their
// `file:line:column:` form, as CommandError messages); DIR is created when missing; the seed
// defaults to the spec's own. Returns the written paths in spec order.

import Foundation
import GraphIR
import SpecFormat

public enum SpecConversion {
    /// Whether `path` names a spec (by extension).
    public static func isSpec(_ path: String) -> Bool {
        let l = path.lowercased()
        return l.hasSuffix(".yaml") || l.hasSuffix(".yml")
    }

    /// Builds every network of the spec at `specPath` and writes `outDir/<network>.pb`.
    /// `seed` nil takes the spec's seed.
    @discardableResult
    public static func convert(specPath: String, outDir: String, seed: UInt64? = nil) throws -> [String] {
        let spec = try Spec.load(path: specPath)
        try IOFailure.createDirectory(outDir)
        var written: [String] = []
        for name in spec.networkNames {
            let g = try spec.buildGraph(network: name, seed: seed)
            let path = (outDir as NSString).appendingPathComponent("\(name).pb")
            try saveGraph(g, path: path)
            written.append(path)
        }
        return written
    }

    /// The same with a non-optional seed (as the brief's signature).
    @discardableResult
    public static func convert(specPath: String, outDir: String, seed: UInt64) throws -> [String] {
        try convert(specPath: specPath, outDir: outDir, seed: Optional(seed))
    }
}
