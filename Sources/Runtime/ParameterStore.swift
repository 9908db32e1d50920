// ParameterStore: named, persistent float buffers (weights, optimizer moments, BatchNorm
// running statistics) and step counters that programs read and update in place.
//
// Contract: a buffer keeps its address once a program has bound it (`pin`), so programs
// compiled against the store bind pointers once. Several programs (a D step and a G step, say)
// share one store. Names are the graph value names of the parameters; derived state uses
// "<param>/<what>".
// Flat groups (`arrange`): the buffers of a list of names can live in one contiguous
// allocation, each at a 16-float (64-byte) aligned slot (`slot(_:)` floats), zero padding
// between them — the per-parameter entries are views into it. A group's derived state
// (`<param>/<suffix>`, one allocation per suffix) mirrors the parameters' layout, so an
// optimizer can update a whole network as one flat array (Program's fused updates). An
// unpinned buffer may move into a group; a pinned one never moves (`arrange` then leaves the
// layout as it is and says so). Padding stays zero: only a flat update writes it, from zeros.

#if canImport(Glibc)
import Glibc
#endif
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
    /// Allocations the store owns (single buffers and flat groups), freed with the store.
    private var allocations: Set<UnsafeMutableRawPointer> = []
    /// Allocations that hold one buffer (made by `set`).
    private var single: Set<UnsafeMutablePointer<Float>> = []
    /// Buffers a program has bound: they never move.
    private var pinned: Set<String> = []

    public init() {}

    deinit {
        for a in allocations { free(a) }
        for p in counterPointers.values { p.deallocate() }
    }

    /// Floats a buffer of `count` takes in a flat group: `count` rounded up to 16 (64 bytes).
    public static func slot(_ count: Int) -> Int { (max(count, 1) + 15) / 16 * 16 }

    private func allocate(_ floats: Int) -> UnsafeMutablePointer<Float> {
        let raw = HugePages.allocateIfLarge(max(floats, 16) * 4)
        raw.initializeMemory(as: Float.self, repeating: 0, count: max(floats, 16))
        allocations.insert(raw)
        return raw.assumingMemoryBound(to: Float.self)
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
        let p = allocate(tensor.count)
        single.insert(p)
        tensor.floats.withUnsafeBufferPointer { p.update(from: $0.baseAddress!, count: tensor.count) }
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

    /// Marks buffer `name` as bound by a program (it never moves afterwards).
    public func pin(_ name: String) { pinned.insert(name) }

    /// A copy of buffer `name`.
    public func tensor(_ name: String) -> Tensor? {
        guard let e = entry(name) else { return nil }
        return Tensor(shape: e.shape, floats: Array(UnsafeBufferPointer(start: e.pointer, count: e.count)))
    }

    /// Whether `names` (all existing) lie back to back, each at its slot after the previous one.
    public func isFlat(_ names: [String]) -> Bool {
        let es = names.compactMap(entry)
        guard es.count == names.count else { return false }
        return zip(es, es.dropFirst()).allSatisfy { $0.pointer + Self.slot($0.count) == $1.pointer }
    }

    /// Lays `names` (existing buffers) out as one flat group and each `<name>/<suffix>` of
    /// `states` (created at zero when missing, keeping its values otherwise) as one flat group
    /// in the same layout. A group already flat stays where it is; one that is not moves when
    /// none of its buffers is pinned. Returns whether every group is flat afterwards (false:
    /// the layout is unchanged where a pinned buffer prevented the move; callers then update
    /// buffer by buffer).
    @discardableResult
    public func arrange(_ names: [String], states: [String] = []) -> Bool {
        let shapes = names.compactMap { entry($0)?.shape }
        guard !names.isEmpty, shapes.count == names.count, Set(names).count == names.count else { return false }
        var flat = regroup(names, shapes: shapes)
        for suffix in states {
            flat = regroup(names.map { "\($0)/\(suffix)" }, shapes: shapes) && flat
        }
        return flat
    }

    /// Makes `names` one flat group (missing ones created at zero with `shapes`), unless pinned.
    private func regroup(_ names: [String], shapes: [[Int]]) -> Bool {
        if isFlat(names) { return true }
        guard !names.contains(where: pinned.contains) else { return false }
        let slots = shapes.map { Self.slot($0.reduce(1, *)) }
        let base = allocate(slots.reduce(0, +))
        var offset = 0
        for (name, (shape, slot)) in zip(names, zip(shapes, slots)) {
            let p = base + offset
            let entry = Entry(name: name, shape: shape, pointer: p)
            if let i = index[name] {
                p.update(from: entries[i].pointer, count: entry.count)
                release(entries[i].pointer)
                entries[i] = entry
            } else {
                index[name] = entries.count
                entries.append(entry)
            }
            offset += slot
        }
        return true
    }

    /// Frees `p` when it is a single buffer's own allocation (a group's allocation stays until
    /// the store goes).
    private func release(_ p: UnsafeMutablePointer<Float>) {
        guard single.remove(p) != nil else { return }
        allocations.remove(UnsafeMutableRawPointer(p))
        free(UnsafeMutableRawPointer(p))
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

    /// The state suffixes (`<param>/<suffix>`) of each optimizer, in the order its instruction
    /// writes them after the parameter.
    public static let adamStates = ["adam.m", "adam.v"]
    public static let sgdStates = ["sgd.momentum"]
    public static let rmspropStates = ["rmsprop.square"]
}
