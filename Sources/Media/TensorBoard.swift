// TensorBoard event files: Event/Summary protobufs encoded by hand (ProtobufWire.swift) in
// TFRecord framing (TensorBoardRecord.swift), written by `EventWriter`.
//
// Why hand-written encoding and not protoc-c code from TensorBoard's protos: the writer
// needs five messages and about a dozen fields (reference/tensorboard-format.md §3–4), while
// event.proto pulls in summary.proto, tensor.proto, tensor_shape.proto, types.proto and
// resource_handle.proto (thousands of generated lines) and would make Media depend on
// protobuf-c. The encoding is checked byte for byte against vectors that the official
// protobuf serializer produced, and Tools/interop/check_tensorboard.py reads our files with
// TensorBoard itself.

import Core
import CPNG
import Foundation

/// SessionLog.status.
public enum SessionStatus: Int64, Sendable {
    case unspecified = 0
    case start = 1
    case stop = 2
    case checkpoint = 3
}

/// Serialized `tensorboard.Event` messages.
public enum TensorBoardEvent {
    public static let fileVersion = "brain.Event:2"

    /// Event{wall_time, file_version: "brain.Event:2"}: the first record of every file.
    public static func fileVersion(wallTime: Double) -> [UInt8] {
        var w = ProtobufWriter()
        w.double(1, wallTime)
        w.string(3, fileVersion)
        return w.bytes
    }

    /// Event{wall_time, step, summary{value{tag, simple_value}}}.
    public static func scalar(tag: String, value: Float, step: Int64, wallTime: Double) -> [UInt8] {
        summary(step: step, wallTime: wallTime) { v in
            v.string(1, tag)
            v.float(2, value)
        }
    }

    /// Event{wall_time, step, summary{value{tag, image{height, width, colorspace,
    /// encoded_image_string}}}}. Colorspace is the channel count (1 gray, 2 gray+alpha,
    /// 3 RGB, 4 RGBA).
    public static func image(tag: String, png: [UInt8], width: Int, height: Int, channels: Int,
                             step: Int64, wallTime: Double) -> [UInt8] {
        summary(step: step, wallTime: wallTime) { v in
            v.string(1, tag)
            v.message(4) { img in
                img.int(1, Int64(height))
                img.int(2, Int64(width))
                img.int(3, Int64(channels))
                img.bytes(4, png)
            }
        }
    }

    /// Event{wall_time, step, session_log{status}}.
    public static func sessionLog(_ status: SessionStatus, step: Int64, wallTime: Double) -> [UInt8] {
        var w = ProtobufWriter()
        w.double(1, wallTime)
        if step != 0 { w.int(2, step) }
        w.message(7) { s in
            if status != .unspecified { s.int(1, status.rawValue) }
        }
        return w.bytes
    }

    static func summary(step: Int64, wallTime: Double, _ value: (inout ProtobufWriter) -> Void) -> [UInt8] {
        var w = ProtobufWriter()
        w.double(1, wallTime)
        if step != 0 { w.int(2, step) }
        w.message(5) { s in s.message(1, value) }
        return w.bytes
    }
}

/// A decoded event (the parts Gannet writes), for tests and tools.
public struct DecodedEvent: Equatable, Sendable {
    public struct Image: Equatable, Sendable {
        public var tag: String
        public var width: Int
        public var height: Int
        public var colorspace: Int
        public var png: [UInt8]
    }

    public var wallTime: Double = 0
    public var step: Int64 = 0
    public var fileVersion: String?
    public var scalars: [String: Float] = [:]
    public var images: [Image] = []
    public var sessionStatus: SessionStatus?

    public init(_ bytes: [UInt8]) throws {
        for f in try ProtobufReader.fields(bytes) {
            switch f.number {
            case 1: wallTime = f.double ?? 0
            case 2: step = f.int64 ?? 0
            case 3: fileVersion = f.string
            case 5:
                for v in try ProtobufReader.fields(f.data ?? []) where v.number == 1 {
                    let vf = try ProtobufReader.fields(v.data ?? [])
                    let tag = vf.first { $0.number == 1 }?.string ?? ""
                    if let x = vf.first(where: { $0.number == 2 })?.float { scalars[tag] = x }
                    if let img = vf.first(where: { $0.number == 4 })?.data {
                        let fi = try ProtobufReader.fields(img)
                        func int(_ n: Int) -> Int { Int(fi.first { $0.number == n }?.int64 ?? 0) }
                        images.append(Image(tag: tag, width: int(2), height: int(1), colorspace: int(3),
                                            png: fi.first { $0.number == 4 }?.data ?? []))
                    }
                }
            case 7:
                let s = try ProtobufReader.fields(f.data ?? [])
                sessionStatus = SessionStatus(rawValue: s.first { $0.number == 1 }?.int64 ?? 0) ?? .unspecified
            default: break
            }
        }
    }

    /// Every event of an event file, checking the record CRCs.
    public static func read(file path: String) throws -> [DecodedEvent] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw MediaError("\(path): cannot read event file")
        }
        return try rethrowing(ProtobufError.self, as: { MediaError("\(path): \($0.message)") }) {
            try TFRecord.records([UInt8](data)).map { try DecodedEvent($0) }
        }
    }
}

/// Writes one TensorBoard event file, `events.out.tfevents.<unix time>.<hostname>` in
/// `directory` (created if missing; a `.<pid>.<n>` suffix is added if that name exists).
///
/// Records are buffered and written with single `write()` calls when `flushEvery` events
/// have accumulated, when `flushInterval` seconds have passed since the last flush (checked
/// on each event), on `flush()`, `close()` and deinit. A record is never split across two
/// writes, so a reader never sees a torn record except at the very end of a crashed run,
/// which TensorBoard tolerates. Not thread-safe: use from one thread.
public final class EventWriter {
    public let path: String
    public let flushEvery: Int
    public let flushInterval: Double
    private var fd: Int32
    private var buffer: [UInt8] = []
    private var pending = 0
    private var lastFlush: Double

    /// Creates the file and writes (and flushes) the file_version event.
    public init(directory: String, flushEvery: Int = 10, flushInterval: Double = 5, wallTime: Double? = nil) throws {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw MediaError("\(directory): cannot create event directory: \(error.localizedDescription)")
        }
        let now = wallTime ?? Date().timeIntervalSince1970
        var host = [CChar](repeating: 0, count: 256)
        let hostname = gethostname(&host, host.count - 1) == 0 ? String(cString: host) : "localhost"
        let stamp = String(format: "%010d", Int(now))
        let base = "\(directory)/events.out.tfevents.\(stamp).\(hostname.isEmpty ? "localhost" : hostname)"
        var candidate = base
        var fd: Int32 = -1
        var n = 0
        while true {
            fd = open(candidate, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            if fd >= 0 { break }
            guard errno == EEXIST, n < 1000 else {
                throw MediaError("\(candidate): cannot create event file: \(String(cString: strerror(errno)))")
            }
            n += 1
            candidate = "\(base).\(getpid()).\(n)"
        }
        self.fd = fd
        self.path = candidate
        self.flushEvery = max(1, flushEvery)
        self.flushInterval = flushInterval
        self.lastFlush = Date().timeIntervalSince1970
        try append(TensorBoardEvent.fileVersion(wallTime: now))
        try flush()
    }

    deinit { try? close() }

    /// A scalar (Summary.Value.simple_value, float32). `wallTime` defaults to now.
    public func scalar(tag: String, value: Float, step: Int64, wallTime: Double? = nil) throws {
        try append(TensorBoardEvent.scalar(tag: tag, value: value, step: step, wallTime: wallTime ?? Self.now()))
    }

    /// An already encoded PNG image; `channels` is the PNG's channel count (1 gray, 3 RGB).
    public func image(tag: String, png: [UInt8], width: Int, height: Int, channels: Int, step: Int64,
                      wallTime: Double? = nil) throws {
        try append(TensorBoardEvent.image(tag: tag, png: png, width: width, height: height, channels: channels,
                                          step: step, wallTime: wallTime ?? Self.now()))
    }

    /// An image, encoded as PNG.
    public func image(tag: String, image: Image8, step: Int64, wallTime: Double? = nil) throws {
        let png = try TensorBoardPNG.encode(image)
        try self.image(tag: tag, png: png, width: image.width, height: image.height, channels: image.channels,
                       step: step, wallTime: wallTime)
    }

    /// SessionLog START at `step`, flushed at once. Call it at the start of every run: step 0
    /// (or the first step) for a fresh run, T when resuming at step T. TensorBoard then drops
    /// the earlier files' points with step ≥ T. The server's accumulator
    /// (plugin_event_accumulator) ignores the *first* START of a run, so a resume's START only
    /// purges if the original run wrote one too.
    public func sessionLogStart(step: Int64, wallTime: Double? = nil) throws {
        try append(TensorBoardEvent.sessionLog(.start, step: step, wallTime: wallTime ?? Self.now()))
        try flush()
    }

    /// Appends one serialized Event as a record.
    public func append(_ event: [UInt8]) throws {
        guard fd >= 0 else { throw MediaError("\(path): event file is closed") }
        TFRecord.append(event, to: &buffer)
        pending += 1
        if pending >= flushEvery || Self.now() - lastFlush >= flushInterval { try flush() }
    }

    /// Writes buffered records to the file.
    public func flush() throws {
        guard fd >= 0 else { return }
        lastFlush = Self.now()
        pending = 0
        guard !buffer.isEmpty else { return }
        var offset = 0
        while offset < buffer.count {
            let n = buffer.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 {
                if errno == EINTR { continue }
                let msg = String(cString: strerror(errno))
                buffer.removeFirst(offset)
                throw MediaError("\(path): cannot write event file: \(msg)")
            }
            offset += n
        }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Flushes and closes the file; later calls do nothing.
    public func close() throws {
        guard fd >= 0 else { return }
        defer {
            Foundation.close(fd)
            fd = -1
        }
        try flush()
    }

    static func now() -> Double { Date().timeIntervalSince1970 }
}

/// In-memory PNG encoding for image summaries.
public enum TensorBoardPNG {
    public static func encode(_ image: Image8) throws -> [UInt8] {
        var img = png_image()
        img.version = UInt32(PNG_IMAGE_VERSION)
        img.width = UInt32(image.width)
        img.height = UInt32(image.height)
        img.format = image.channels == 1 ? 0 : image.channels == 3 ? 2 : 3
        let stride = Int32(image.width * image.channels)
        var size: Int = 0
        let ok1 = image.pixels.withUnsafeBytes { png_image_write_to_memory(&img, nil, &size, 0, $0.baseAddress, stride, nil) }
        guard ok1 != 0, size > 0 else {
            png_image_free(&img)
            throw MediaError("cannot encode \(image.width)x\(image.height) PNG")
        }
        var out = [UInt8](repeating: 0, count: size)
        let ok2 = out.withUnsafeMutableBytes { dst in
            image.pixels.withUnsafeBytes { png_image_write_to_memory(&img, dst.baseAddress, &size, 0, $0.baseAddress, stride, nil) }
        }
        guard ok2 != 0 else {
            png_image_free(&img)
            throw MediaError("cannot encode \(image.width)x\(image.height) PNG")
        }
        return Array(out.prefix(size))
    }
}
