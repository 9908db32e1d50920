// FuzzIDX: libFuzzer target for the IDX reader (plain or gzipped, via a scratch file), with
// and without the images magic. Errors are fine, traps are bugs.

import Data
import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzIDX(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    FuzzInput.withFile(data, size, ext: "idx") { path in
        _ = try? IDX.read(path)
        _ = try? IDX.read(path, magic: IDX.imagesMagic)
    }
    return 0
}
