// FuzzONNX: libFuzzer target for ONNX import. Input: ModelProto bytes. Import, then the
// inference passes (shape inference, constant folding, fusion); every error is fine, a trap
// or sanitizer report is a bug.

import FuzzSupport
import GraphIR
import ONNX
import Passes

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzONNX(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    do {
        var g = try ONNXImport.graph(fromModelBytes: FuzzInput.bytes(data, size), file: "fuzz.onnx")
        try Pipelines.run(Pipelines.inference, on: &g)
    } catch {}
    return 0
}
