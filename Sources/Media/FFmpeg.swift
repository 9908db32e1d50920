// FFmpeg: MP4 (H.264, yuv420p) through an installed `ffmpeg`, fed raw frames on stdin.
//
// Contract: `ffmpeg` is looked up on PATH (or `GANNET_FFMPEG`); when missing, a MediaError says
// to install it or to write .gif/.png instead. Frames are padded to even sizes (libx264 with
// yuv420p needs them) and piped as rawvideo (gray or rgb24); ffmpeg's own error text is
// included when it fails. The file is written to a temporary name and renamed.

import Foundation

public enum FFmpeg {
    /// The ffmpeg executable, if one is installed.
    public static func locate() -> String? {
        let env = ProcessInfo.processInfo.environment
        if let p = env["GANNET_FFMPEG"], FileManager.default.isExecutableFile(atPath: p) { return p }
        for dir in (env["PATH"] ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":") {
            let p = "\(dir)/ffmpeg"
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return nil
    }

    /// Encodes same-sized frames as an H.264 MP4 at `fps` frames per second (x264 quality `crf`,
    /// 0–51, lower is better; nil: ffmpeg's default).
    public static func writeMP4(_ frames: [Image8], fps: Int, crf: Int? = nil, to path: String) throws {
        guard let exe = locate() else {
            throw MediaError("\(path): writing MP4 needs ffmpeg, which is not on PATH (install it, e.g. 'apt-get install ffmpeg', or write .gif or .png instead)")
        }
        guard let first = frames.first else { throw MediaError("\(path): no frames") }
        guard first.channels != 4 else { throw MediaError("\(path): MP4 frames must be gray or RGB") }
        let padded = frames.map { $0.paddedToEven() }
        let w = padded[0].width, h = padded[0].height
        let pixFmt = first.channels == 1 ? "gray" : "rgb24"
        let ext = (path as NSString).pathExtension
        let tmp = (path as NSString).deletingPathExtension + ".tmp\(getpid())." + (ext.isEmpty ? "mp4" : ext)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = ["-hide_banner", "-loglevel", "error", "-y", "-f", "rawvideo", "-pix_fmt", pixFmt,
                       "-s", "\(w)x\(h)", "-framerate", "\(max(1, fps))", "-i", "-",
                       "-c:v", "libx264"] + (crf.map { ["-crf", "\(min(max($0, 0), 51))"] } ?? [])
            + ["-pix_fmt", "yuv420p", "-movflags", "+faststart", tmp]
        let stdin = Pipe()
        let errPath = NSTemporaryDirectory() + "gannet-ffmpeg-\(getpid()).log"
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        defer { unlink(errPath) }
        p.standardInput = stdin
        p.standardError = FileHandle(forWritingAtPath: errPath)
        p.standardOutput = FileHandle.nullDevice
        do { try p.run() } catch { throw MediaError("\(path): cannot start \(exe): \(error.localizedDescription)") }
        signal(SIGPIPE, SIG_IGN)
        for f in padded {
            guard f.width == w, f.height == h else { break }
            do { try stdin.fileHandleForWriting.write(contentsOf: Data(f.pixels)) } catch { break }
        }
        try? stdin.fileHandleForWriting.close()
        p.waitUntilExit()
        let errData = FileManager.default.contents(atPath: errPath) ?? Data()
        guard p.terminationStatus == 0 else {
            unlink(tmp)
            let msg = String(decoding: errData, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            throw MediaError("\(path): ffmpeg failed (status \(p.terminationStatus))\(msg.isEmpty ? "" : ": " + msg.replacingOccurrences(of: "\n", with: "; "))")
        }
        guard rename(tmp, path) == 0 else {
            unlink(tmp)
            throw MediaError("\(path): cannot write: \(String(cString: strerror(errno)))")
        }
    }
}
