// ParameterStore: named, persistent float buffers (weights, optimizer moments, BatchNorm
// running statistics) and step counters that programs read and update in place.
//
// Contract: a buffer keeps its address for the store's lifetime, so programs compiled against
// the store bind pointers once. Several programs (a D step and a G step, say) share one store.
// Names are the graph value names of the parameters; derived state uses "<param>/<what>".

import GraphIR
import Kernels

public final class ParameterStore {
    public struct Entry {
        public let name: String
        public let shape: [Int]
        public let pointer: UnsafeMutablePointer<Float>
        public var count: Int { shape.reduce(1, *) }
    }

    public private(set) var entries: [Entry] = []
    private var index: [String: Int] = [:]
    private var counterPointers: [String: UnsafeMutablePointer<Int>] = [:]

    public init() {}

    deinit {
        for e in entries { e.pointer.deallocate() }
        for p in counterPointers.values { p.deallocate() }
    }

    /// Adds (or overwrites, when the shape matches) a float buffer holding `tensor`.
    public func set(_ name: String, _ tensor: Tensor) throws {
        if let i = index[name] {
            guard entries[i].shape == tensor.shape else {
                throw RuntimeError("state '\(name)' has shape \(entries[i].shape), cannot set \(tensor.shape)")
            }
            tensor.floats.withUnsafeBufferPointer { entries[i].pointer.update(from: $0.baseAddress!, count: tensor.count) }
            return
        }
        let p = UnsafeMutablePointer<Float>.allocate(capacity: max(tensor.count, 1))
        tensor.floats.withUnsafeBufferPointer { p.initialize(from: $0.baseAddress!, count: tensor.count) }
        index[name] = entries.count
        entries.append(Entry(name: name, shape: tensor.shape, pointer: p))
    }

    /// Adds a zero buffer of `shape` unless `name` exists.
    public func ensure(_ name: String, shape: [Int]) {
        if index[name] != nil { return }
        try! set(name, Tensor(shape: shape, repeating: 0))
    }

    public func contains(_ name: String) -> Bool { index[name] != nil }
    public func entry(_ name: String) -> Entry? { index[name].map { entries[$0] } }
    public func pointer(_ name: String) -> UnsafeMutablePointer<Float>? { entry(name)?.pointer }

    /// A copy of buffer `name`.
    public func tensor(_ name: String) -> Tensor? {
        guard let e = entry(name) else { return nil }
        return Tensor(shape: e.shape, floats: Array(UnsafeBufferPointer(start: e.pointer, count: e.count)))
    }

    /// A persistent integer counter (created at 0).
    public func counter(_ name: String) -> UnsafeMutablePointer<Int> {
        if let p = counterPointers[name] { return p }
        let p = UnsafeMutablePointer<Int>.allocate(capacity: 1)
        p.initialize(to: 0)
        counterPointers[name] = p
        return p
    }

    /// Counter names and values, sorted by name (for checkpoints).
    public var counters: [(String, Int)] { counterPointers.keys.sorted().map { ($0, counterPointers[$0]!.pointee) } }

    public func setCounter(_ name: String, _ value: Int) { counter(name).pointee = value }
}

/// Work a training program does after its graph: optimizer updates and state assignments.
public enum StateUpdate {
    /// Adam on parameter `param` with gradient value `grad` (moments `<param>/adam.m`, `.v`).
    case adam(param: String, grad: ValueID, config: AdamConfig)
    /// SGD (momentum buffer `<param>/sgd.momentum`).
    case sgd(param: String, grad: ValueID, config: SGDConfig)
    /// RMSprop (square average `<param>/rmsprop.square`).
    case rmsprop(param: String, grad: ValueID, config: RMSpropConfig)
    /// Copies a graph value into state (BatchNorm running statistics).
    case assign(state: String, value: ValueID)
}
