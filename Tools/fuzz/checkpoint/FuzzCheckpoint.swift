// FuzzCheckpoint: libFuzzer target for checkpoint reading (`Checkpoint.read`, which takes a
// path: the input is written to a scratch file first). Errors are fine, traps are bugs.

import FuzzSupport
import GAN

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCheckpoint(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    FuzzInput.withFile(data, size, ext: "gck") { path in _ = try? Checkpoint.read(path) }
    return 0
}
