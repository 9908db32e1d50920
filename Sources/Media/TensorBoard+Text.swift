// TensorBoard+Text: text summaries, as TensorFlow's `tf.summary.text` writes them, shown in
// TensorBoard's Text dashboard.
//
// Contract: Event{wall_time, step, summary{value{tag, metadata{plugin_data{plugin_name:
// "text"}}, tensor{dtype: DT_STRING (7), tensor_shape: {} (rank 0), string_val: [UTF-8]}}}}
// (reference/tensorboard-format.md §3; checked by Tools/interop/check_tensorboard.py).

extension TensorBoardEvent {
    /// A text summary (markdown, as TensorBoard renders it).
    public static func text(tag: String, text: String, step: Int64, wallTime: Double) -> [UInt8] {
        summary(step: step, wallTime: wallTime) { v in
            v.string(1, tag)
            v.message(9) { meta in meta.message(1) { plugin in plugin.string(1, "text") } }
            v.message(8) { t in
                t.int(1, 7)
                t.message(2) { _ in }
                t.string(8, text)
            }
        }
    }
}

extension EventWriter {
    /// A text summary at `step`. `wallTime` defaults to now.
    public func text(tag: String, text: String, step: Int64, wallTime: Double? = nil) throws {
        try append(TensorBoardEvent.text(tag: tag, text: text, step: step, wallTime: wallTime ?? Self.now()))
    }
}

extension DecodedEvent {
    /// The text summaries of an event's raw bytes, by tag (plugin "text", DT_STRING tensors).
    public static func texts(_ bytes: [UInt8]) throws -> [String: String] {
        var out: [String: String] = [:]
        for f in try ProtobufReader.fields(bytes) where f.number == 5 {
            for v in try ProtobufReader.fields(f.data ?? []) where v.number == 1 {
                let vf = try ProtobufReader.fields(v.data ?? [])
                guard let tensor = vf.first(where: { $0.number == 8 })?.data else { continue }
                let tf = try ProtobufReader.fields(tensor)
                guard tf.first(where: { $0.number == 1 })?.int64 == 7, let s = tf.first(where: { $0.number == 8 })?.string else { continue }
                out[vf.first { $0.number == 1 }?.string ?? ""] = s
            }
        }
        return out
    }
}
