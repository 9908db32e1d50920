// FuzzSpec: libFuzzer target for the spec YAML reader. Input: YAML text. `Spec.parse` reads,
// checks and shape-builds every network (parameters zero-filled); errors are fine, traps and
// stack overflows are bugs.

import FuzzSupport
import SpecFormat

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSpec(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    _ = try? Spec.parse(yaml: text, file: "fuzz.yaml")
    return 0
}
