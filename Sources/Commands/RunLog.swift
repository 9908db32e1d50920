// RunLog: a training run's logs — metrics.jsonl (one JSON object per logged step) and, when the
// spec asks for TensorBoard, event files with the same scalars and images (and text: the
// health monitor's warnings). A failed write is an error naming the file and the reason;
// `close` may be called more than once.

import Foundation
import Media

final class RunLog {
    let jsonl: FileHandle
    let path: String
    let events: TensorBoardLog?
    var closed = false

    init(directory: String, resumedAt: Int?, tensorboard: Bool = true) throws {
        let path = (directory as NSString).appendingPathComponent("metrics.jsonl")
        self.path = path
        if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
        guard let h = FileHandle(forWritingAtPath: path) else { throw CommandError("\(path): cannot open for writing: \(String(cString: strerror(errno)))") }
        do { try h.seekToEnd() } catch { throw CommandError("\(path): cannot append: \(IOFailure.reason(error))") }
        jsonl = h
        events = tensorboard ? try TensorBoardLog.open(directory: directory, resumedAt: resumedAt) : nil
    }

    func scalars(_ values: [String: Float], step: Int, epoch: Int, time: Double) throws {
        var fields = ["\"step\": \(step)", "\"epoch\": \(epoch)", String(format: "\"time\": %.3f", time)]
        for k in values.keys.sorted() {
            let v = values[k]!
            fields.append("\"\(k)\": " + (v.isFinite ? "\(v)" : "null"))
        }
        do { try jsonl.write(contentsOf: ("{" + fields.joined(separator: ", ") + "}\n").data(using: .utf8)!) }
        catch { throw CommandError("\(path): cannot write: \(IOFailure.reason(error))") }
        try events?.scalars(values, step: step)
    }

    func image(tag: String, image: Image8, step: Int) throws {
        try events?.image(tag: tag, image: image, step: step)
    }

    /// A TensorBoard text summary (not in metrics.jsonl).
    func text(tag: String, text: String, step: Int) throws {
        try events?.writer.text(tag: tag, text: text, step: Int64(step))
    }

    func close() throws {
        if closed { return }
        closed = true
        do {
            try jsonl.synchronize()
            try jsonl.close()
        } catch {
            throw CommandError("\(path): cannot write: \(IOFailure.reason(error))")
        }
        try events?.close()
    }
}

/// TensorBoard scalars under `loss/…` (losses and their terms), `train/…` (rates) and
/// `began/…` (BEGAN's k_t and convergence measure M_global), `health/…` (the health monitor's
/// diversity, frame change, score gap and G gradient ratio at its checks), images
/// under their tags; a resumed run starts a new event file with a SessionLog START.
final class TensorBoardLog {
    let writer: EventWriter

    init(_ writer: EventWriter) { self.writer = writer }

    static func open(directory: String, resumedAt: Int?) throws -> TensorBoardLog? {
        let w = try EventWriter(directory: directory)
        // TensorBoard's Python loader ignores the first START of a run, so a fresh run writes
        // one at step 0; a resume's START then purges the steps after the checkpoint.
        try w.sessionLogStart(step: Int64(resumedAt ?? 0))
        return TensorBoardLog(w)
    }

    static func tag(_ key: String) -> String {
        switch key {
        case "it_s", "images_s", "lr_d", "lr_g": return "train/\(key)"
        case "k_t", "m_global": return "began/\(key)"
        case "diversity", "frame_change", "score_gap", "g_grad_ratio": return "health/\(key)"
        default: return "loss/\(key)"
        }
    }

    func scalars(_ values: [String: Float], step: Int) throws {
        for k in values.keys.sorted() { try writer.scalar(tag: Self.tag(k), value: values[k]!, step: Int64(step)) }
    }

    func image(tag: String, image: Image8, step: Int) throws {
        try writer.image(tag: tag, image: image, step: Int64(step))
    }

    func close() throws { try writer.close() }
}
