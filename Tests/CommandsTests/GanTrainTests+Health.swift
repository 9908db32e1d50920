// The health monitor inside gan-train (issue 18 item 2): a forced warning reaches TensorBoard as
// text with its iteration and evidence, the checks' scalars go to `health/…`, and `health: false`
// turns it all off.

import Commands
import Foundation
import Media
import XCTest

extension GanTrainTests {
    /// Every text summary and scalar tag of the run's event files.
    func healthEvents(_ dir: String) throws -> (texts: [(Int64, String, String)], scalarTags: Set<String>) {
        var texts: [(Int64, String, String)] = []
        var tags: Set<String> = []
        for f in files(dir) where f.hasPrefix("events.out.tfevents.") {
            let records = try TFRecord.records([UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + "/" + f))))
            for r in records {
                let e = try DecodedEvent(r)
                tags.formUnion(e.scalars.keys)
                for (tag, text) in try DecodedEvent.texts(r) { texts.append((e.step, tag, text)) }
            }
        }
        return (texts, tags)
    }

    func testHealthWarningsReachTensorBoard() throws {
        let spec = try writeSpec(schedule: "{epochs: 2, batch_size: 6, image_frequency: 0}")
        // No warm-up and an impossible diversity bar: mode collapse at the first check (iteration 2).
        try (String(contentsOfFile: spec, encoding: .utf8) + "\nhealth: {every: 2, warmup: 0, collapse_diversity: 100}\n")
            .write(toFile: spec, atomically: true, encoding: .utf8)
        let dir = root + "/health"
        try train([spec, "--out", dir])
        let (texts, tags) = try healthEvents(dir)
        XCTAssertEqual(texts.map(\.0), [2], "\(texts)")
        XCTAssertEqual(texts.first?.1, "health/mode_collapse")
        XCTAssertTrue(texts.first?.2.hasPrefix("iteration 2: frame diversity ") ?? false, "\(texts)")
        XCTAssertTrue(tags.isSuperset(of: ["health/diversity", "health/frame_change", "health/score_gap"]), "\(tags.sorted())")

        let off = try writeSpec(schedule: "{epochs: 2, batch_size: 6, image_frequency: 0}")
        try (String(contentsOfFile: off, encoding: .utf8) + "\nhealth: false\n").write(toFile: off, atomically: true, encoding: .utf8)
        let quiet = root + "/nohealth"
        try train([off, "--out", quiet])
        let (t2, tags2) = try healthEvents(quiet)
        XCTAssertTrue(t2.isEmpty)
        XCTAssertFalse(tags2.contains { $0.hasPrefix("health/") }, "\(tags2.sorted())")
    }
}
