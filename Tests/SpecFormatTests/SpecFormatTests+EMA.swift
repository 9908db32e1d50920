// The spec's `ema` section (the generator's weight average): absent by default, the short and
// the long form, and errors at the key.

import SpecFormat
import XCTest

extension SpecFormatTests {
    func testEMAOption() throws {
        XCTAssertNil(try Spec.parse(yaml: Self.good).ema)
        XCTAssertEqual(try Spec.parse(yaml: Self.good + "\nema: 0.999").ema, EMASpec(decay: 0.999, start: 0))
        XCTAssertEqual(try Spec.parse(yaml: Self.good + "\nema: {decay: 0.99, start: 500}").ema, EMASpec(decay: 0.99, start: 500))
        XCTAssertEqual(try loadSpec("fashion_dcgan").ema, EMASpec(decay: 0.999, start: 1000))

        var e = specError(Self.good + "\nema: 1.0")
        XCTAssertTrue(e.hasPrefix("bad.yaml:14:6: ema must be a number in (0, 1)"), e)
        e = specError(Self.good + "\nema: {decay: 0}")
        XCTAssertTrue(e.hasPrefix("bad.yaml:14:14: ema.decay must be a number in (0, 1)"), e)
        e = specError(Self.good + "\nema: {decay: fast}")
        XCTAssertTrue(e.contains("ema.decay must be a number in (0, 1)") && e.contains("fast"), e)
        e = specError(Self.good + "\nema: {start: 10}")
        XCTAssertTrue(e.hasPrefix("bad.yaml:14:6: ema: missing 'decay'"), e)
        e = specError(Self.good + "\nema: {decay: 0.9, start: -1}")
        XCTAssertTrue(e.contains("ema.start"), e)
        e = specError(Self.good + "\nema: {decay: 0.9, warmup: 3}")
        XCTAssertTrue(e.contains("warmup"), e)
    }
}
