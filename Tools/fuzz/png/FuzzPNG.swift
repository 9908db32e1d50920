// FuzzPNG: libFuzzer target for the PNG reader (libpng's simplified API, via a scratch
// file). Errors are fine; traps, sanitizer reports and huge allocations are bugs.

import FuzzSupport
import Media

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPNG(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    FuzzInput.withFile(data, size, ext: "png") { path in _ = try? PNG.read(path) }
    return 0
}
