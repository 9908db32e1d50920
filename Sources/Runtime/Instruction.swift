// Instruction: the operands of a Program — buffer locations, instructions (a KernelCall with
// its operand locations) and program inputs/outputs.
//
// Contract: a Location is a byte offset into the arena or the constant pool, or a named
// persistent buffer of the program's ParameterStore; an instruction's inputs are positional as
// its KernelCall describes (nil for an absent optional input). `prepackedWeightFloats` says
// which instructions get their constant weights packed once at bind time (Program+Bind).

import GraphIR
import Kernels

/// Where a runtime buffer lives: a byte offset into the arena or into the constant pool.
public enum Location: Equatable, CustomStringConvertible {
    case arena(Int)
    case constant(Int)
    /// A persistent buffer of the program's ParameterStore.
    case state(String)

    public var description: String {
        switch self {
        case .arena(let o): return "arena+\(o)"
        case .constant(let o): return "const+\(o)"
        case .state(let n): return "state[\(n)]"
        }
    }
}

/// A kernel call with its operand locations.
public struct Instruction {
    public var call: KernelCall
    public var inputs: [Location?]
    public var outputs: [Location]
    public var scratch: Location?
    /// The node it came from, for printing.
    public var label: String

    /// Floats of GEMM-packed weights the Program keeps for this instruction: a convolution or
    /// transposed convolution whose weight is a constant (an inference initializer), or a GEMM
    /// whose B is (one B for all its batches, m ≥ `Gemm.smallM`: fewer rows pack nothing), is
    /// packed once when the program is bound instead of on every run; 0 otherwise (weights in
    /// the arena or in a ParameterStore can change between runs and are packed per call).
    public var prepackedWeightFloats: Int {
        guard inputs.count > 1, case .constant? = inputs[1] else { return 0 }
        switch call {
        case .conv(let s, _): return Conv2D.packedWeightCount(s)
        case .convChannelsLast(let s, _): return Conv2D.channelsLastWeightCount(s)
        case .convTranspose(let s, _): return ConvTranspose2D.packedWeightCount(s)
        case let .gemm(_, _, m, n, k, _, _, _, _, _, batches, _):
            return m >= Gemm.smallM && batches.allSatisfy({ $0.1 == 0 }) ? Gemm.packedBCount(k: k, n: n) : 0
        default: return 0
        }
    }

    /// `prepackedWeightFloats` rounded up to 16 floats (each packed block 64-byte aligned).
    public var prepackedWeightSlotFloats: Int { (prepackedWeightFloats + 15) / 16 * 16 }
}

/// A program input or output: a graph value at a location.
public struct ProgramValue {
    public var name: String
    public var dtype: DType
    public var shape: [Int]
    public var location: Location
    public var count: Int { shape.reduce(1, *) }
}
