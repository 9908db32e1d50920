// GanTrain+RunConfig: which spec and overrides a run trains with, and their enforcement on
// --resume.
//
// Contract: a fresh run reads SPEC, applies the command-line overrides (validated as the spec
// is: Spec.applyTrainingOverrides) and records both in a RunConfig saved with every
// checkpoint. `--resume DIR` continues under the checkpoint's RunConfig: without SPEC the
// saved spec text is used (not DIR/spec.yaml, which is only a copy), and an override left out
// keeps its saved value. A SPEC whose text differs from the saved one, or an override that
// differs from the saved value, is an error naming both unless `--allow-spec-change`, which
// continues under the new values (and saves them). `--seed` cannot change on resume. Version-1
// checkpoints carry no RunConfig: their spec comes from SPEC or DIR/spec.yaml, unchecked.

import Foundation
import GAN
import SpecFormat

/// The spec a run trains with: its text, where it came from, and the overrides.
struct ResolvedRun {
    var specFile: String
    var config: RunConfig
    /// The spec with `config`'s overrides applied.
    var spec: Spec
}

extension GanTrain {
    static func readText(_ path: String) throws -> String {
        do { return try String(contentsOfFile: path, encoding: .utf8) }
        catch { throw CommandError("\(path): cannot read the spec: \(IOFailure.reason(error))") }
    }

    /// Parses `text` (named `file` in errors) and applies `config`'s overrides.
    static func effectiveSpec(_ text: String, file: String, _ config: RunConfig) throws -> Spec {
        var s = try Spec.parse(yaml: text, file: file)
        let b = config.betas.map { ($0[0], $0[1]) }
        try s.applyTrainingOverrides(generatorFrequency: config.generatorFrequency, dLR: config.dLR, gLR: config.gLR, betas: b)
        return s
    }

    /// `--betas b1,b2` as two numbers.
    func parsedBetas() throws -> [Double]? {
        guard let betas else { return nil }
        let parts = betas.split(separator: ",", omittingEmptySubsequences: false).map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 2, let b1 = parts[0], let b2 = parts[1] else { throw CommandError("--betas must be b1,b2, got '\(betas)'") }
        return [b1, b2]
    }

    /// The run's spec and configuration, from the command line and the checkpoint being
    /// resumed (`resumeDir`'s), enforced as the file header says.
    func resolveRun(checkpoint: Checkpoint.Contents?, resumeDir: String?) throws -> ResolvedRun {
        let given = RunConfig(spec: "", dataset: dataset, generatorFrequency: generatorFrequency, dLR: dLr, gLR: gLr,
                              betas: try parsedBetas())
        guard let checkpoint, let resumeDir else {
            let file = spec!
            var config = given
            config.spec = try Self.readText(file)
            config.specHash = RunConfig.hash(config.spec)
            return ResolvedRun(specFile: file, config: config, spec: try Self.effectiveSpec(config.spec, file: file, config))
        }
        if let seed, seed != checkpoint.seed {
            throw CommandError("--seed \(seed): the run in \(resumeDir) was started with seed \(checkpoint.seed); a resumed run keeps its seed")
        }
        let copy = (resumeDir as NSString).appendingPathComponent("spec.yaml")
        guard let saved = checkpoint.run else {
            // Format version 1: no saved configuration to enforce.
            let file = spec ?? copy
            var config = given
            config.spec = try Self.readText(file)
            config.specHash = RunConfig.hash(config.spec)
            if !quiet {
                FileHandle.standardError.write("note: the checkpoint (format version \(checkpoint.version)) does not record its spec and overrides; resuming with \(file) unchecked\n".data(using: .utf8)!)
            }
            return ResolvedRun(specFile: file, config: config, spec: try Self.effectiveSpec(config.spec, file: file, config))
        }
        var config = saved
        var changes: [String] = []
        var file = copy
        if let spec {
            let text = try Self.readText(spec)
            if text != saved.spec {
                changes.append("\(spec) (spec hash \(RunConfig.hash(text))) differs from the spec the run was started with (hash \(saved.specHash))")
                config.spec = text
                config.specHash = RunConfig.hash(text)
            }
            file = spec
        }
        func show<T>(_ v: T?) -> String { v.map { "\($0)" } ?? "spec value" }
        func check<T: Equatable>(_ flag: String, _ new: T?, _ old: T?, _ set: (T) -> Void) {
            guard let new else { return }
            if new != old { changes.append("\(flag) \(new) differs from the run's \(show(old))") }
            set(new)
        }
        check("--dataset", given.dataset, saved.dataset) { config.dataset = $0 }
        check("--generator-frequency", given.generatorFrequency, saved.generatorFrequency) { config.generatorFrequency = $0 }
        check("--d-lr", given.dLR, saved.dLR) { config.dLR = $0 }
        check("--g-lr", given.gLR, saved.gLR) { config.gLR = $0 }
        check("--betas", given.betas, saved.betas) { config.betas = $0 }
        if !changes.isEmpty {
            guard allowSpecChange else {
                throw CommandError("\(resumeDir): cannot resume: " + changes.joined(separator: "; ")
                                   + ". Resume without them to continue the same run, or pass --allow-spec-change")
            }
            if !quiet { FileHandle.standardError.write("note: resuming with changes: \(changes.joined(separator: "; "))\n".data(using: .utf8)!) }
        }
        return ResolvedRun(specFile: file, config: config, spec: try Self.effectiveSpec(config.spec, file: file, config))
    }
}
