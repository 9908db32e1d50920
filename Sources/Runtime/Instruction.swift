// Instruction: the operands of a Program — buffer locations, instructions (a KernelCall with
// its operand locations) and program inputs/outputs.
//
// Contract: a Location is a byte offset into the arena or the constant pool, or a named
// persistent buffer of the program's ParameterStore; an instruction's inputs are positional as
// its KernelCall describes (nil for an absent optional input).

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
}

/// A program input or output: a graph value at a location.
public struct ProgramValue {
    public var name: String
    public var dtype: DType
    public var shape: [Int]
    public var location: Location
    public var count: Int { shape.reduce(1, *) }
}
