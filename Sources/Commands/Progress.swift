// Progress: a tqdm-style progress line on stderr (redrawn with \r on a terminal, plain lines
// every few seconds otherwise), silent with --quiet.

import Foundation

final class Progress {
    let total: Int
    let quiet: Bool
    let tty: Bool
    let start = Date()
    var lastDraw = Date.distantPast
    let startCount: Int

    init(total: Int, startCount: Int, quiet: Bool) {
        self.total = total
        self.startCount = startCount
        self.quiet = quiet
        tty = isatty(STDERR_FILENO) != 0
    }

    static func clock(_ s: Double) -> String {
        guard s.isFinite, s >= 0 else { return "--:--" }
        let t = Int(s)
        return t >= 3600 ? String(format: "%d:%02d:%02d", t / 3600, t / 60 % 60, t % 60) : String(format: "%02d:%02d", t / 60, t % 60)
    }

    func update(_ n: Int, epoch: Int, epochs: Int, postfix: String, force: Bool = false) {
        if quiet { return }
        let now = Date()
        let interval = tty ? 0.1 : 5
        guard force || now.timeIntervalSince(lastDraw) >= interval else { return }
        lastDraw = now
        let elapsed = now.timeIntervalSince(start)
        let rate = Double(n - startCount) / max(elapsed, 1e-9)
        let remaining = rate > 0 ? Double(total - n) / rate : .infinity
        let pct = total > 0 ? 100 * Double(n) / Double(total) : 0
        let width = 20
        let filled = Int(Double(width) * min(1, Double(n) / Double(max(total, 1))))
        let bar = String(repeating: "█", count: filled) + String(repeating: " ", count: width - filled)
        let line = String(format: "epoch %d/%d: %3.0f%%|%@| %d/%d [%@<%@, %.2fit/s] %@",
                          min(epoch + 1, epochs), epochs, pct, bar, n, total, Self.clock(elapsed), Self.clock(remaining), rate, postfix)
        FileHandle.standardError.write(((tty ? "\r\u{1B}[K" : "") + line + (tty ? "" : "\n")).data(using: .utf8)!)
    }

    func finish() {
        if !quiet && tty { FileHandle.standardError.write("\n".data(using: .utf8)!) }
    }
}
