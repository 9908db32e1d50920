// Text summaries (issue 18 item 2): the encoding's fields, read back by Gannet's own decoder.
// TensorBoard itself reads them in Tools/interop/check_tensorboard.py (the interop sample).

import Foundation
import Media
import XCTest

extension TensorBoardTests {
    func testTextSummaryRoundTrip() throws {
        let text = "iteration 200: mode collapse — diversity 2.49 ✓"
        let bytes = TensorBoardEvent.text(tag: "health/mode_collapse", text: text, step: 200, wallTime: 1.5)
        XCTAssertEqual(try DecodedEvent.texts(bytes), ["health/mode_collapse": text])
        let e = try DecodedEvent(bytes)
        XCTAssertEqual(e.step, 200)
        XCTAssertEqual(e.wallTime, 1.5)
        XCTAssertTrue(e.scalars.isEmpty)
        // Value{tag=1, metadata=9{plugin_data=1{plugin_name=1 "text"}}, tensor=8{dtype=1: 7, shape=2: {}, string_val=8}}.
        let summary = try XCTUnwrap(try ProtobufReader.fields(bytes).first { $0.number == 5 }?.data)
        let value = try ProtobufReader.fields(try XCTUnwrap(try ProtobufReader.fields(summary).first?.data))
        XCTAssertEqual(value.map(\.number), [1, 9, 8])
        let plugin = try ProtobufReader.fields(try XCTUnwrap(try ProtobufReader.fields(try XCTUnwrap(value[1].data)).first?.data))
        XCTAssertEqual(plugin.first?.string, "text")
        let tensor = try ProtobufReader.fields(try XCTUnwrap(value[2].data))
        XCTAssertEqual(tensor.map(\.number), [1, 2, 8])
        XCTAssertEqual(tensor[0].int64, 7)
        XCTAssertEqual(tensor[1].data, [])

        // Through the writer: the file holds it after the file_version event.
        let dir = NSTemporaryDirectory() + "gannet-tb-text-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let w = try EventWriter(directory: dir)
        try w.text(tag: "health/divergence", text: "x", step: 7)
        try w.close()
        let file = try XCTUnwrap(try FileManager.default.contentsOfDirectory(atPath: dir).first)
        let records = try TFRecord.records([UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + "/" + file))))
        XCTAssertEqual(records.count, 2)
        XCTAssertEqual(try DecodedEvent.texts(records[1]), ["health/divergence": "x"])
    }
}
