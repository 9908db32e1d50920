// FuzzIR: libFuzzer target for the IR text parser. Input: text (any bytes, decoded as UTF-8
// with replacement). Parse, verify, then the inference passes; errors are fine, traps are bugs.

import FuzzSupport
import GraphIR
import Passes

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzIR(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    do {
        var g = try Graph.parse(text)
        try g.verify()
        try Pipelines.run(Pipelines.inference, on: &g)
    } catch {}
    return 0
}
