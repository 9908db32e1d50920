// FlatUpdateTests: each network's parameters and optimizer state as flat groups in the store
// (ParameterStore.arrange) and the training program's fused optimizer update over them
// (Program+FusedUpdate) — bit-identical to updating buffer by buffer, for every rule.

import GraphIR
import Kernels
import Runtime
import Training
import XCTest

final class FlatUpdateTests: XCTestCase {
    func testArrangeMakesViewsAtSlotsKeepsValuesAndRespectsPins() throws {
        let store = ParameterStore()
        try store.set("a", Tensor(shape: [3], floats: [1, 2, 3]))
        try store.set("b", Tensor(shape: [17], floats: (0..<17).map(Float.init)))
        try store.set("c", Tensor(shape: [], floats: [9]))
        try store.set("b/adam.m", Tensor(shape: [17], floats: Array(repeating: 0.5, count: 17)))
        XCTAssertFalse(store.isFlat(["a", "b", "c"]))
        XCTAssertTrue(store.arrange(["a", "b", "c"], states: ["adam.m", "adam.v"]))
        XCTAssertTrue(store.isFlat(["a", "b", "c"]))
        XCTAssertTrue(store.isFlat(["a/adam.m", "b/adam.m", "c/adam.m"]))
        XCTAssertTrue(store.isFlat(["a/adam.v", "b/adam.v", "c/adam.v"]))
        XCTAssertEqual(store.pointer("b")!, store.pointer("a")! + 16)
        XCTAssertEqual(store.pointer("c")!, store.pointer("a")! + 48)
        XCTAssertEqual(ParameterStore.slot(17), 32)
        XCTAssertEqual(store.tensor("a")!.floats, [1, 2, 3])
        XCTAssertEqual(store.tensor("b")!.floats, (0..<17).map(Float.init))
        XCTAssertEqual(store.tensor("c")!.floats, [9])
        XCTAssertEqual(store.tensor("b/adam.m")!.floats, Array(repeating: 0.5, count: 17), "existing state keeps its values")
        XCTAssertEqual(store.tensor("c/adam.v")!.shape, [])
        XCTAssertEqual(Array(UnsafeBufferPointer(start: store.pointer("a")! + 3, count: 13)), Array(repeating: 0, count: 13), "padding is zero")
        // A view is written through `set` like any buffer.
        try store.set("b", Tensor(shape: [17], floats: Array(repeating: -1, count: 17)))
        XCTAssertEqual(store.tensor("b")!.floats, Array(repeating: -1, count: 17))
        XCTAssertEqual(store.tensor("c")!.floats, [9])
        // Already flat: nothing moves. Another order with a pinned buffer: nothing moves, false.
        let a = store.pointer("a")!
        XCTAssertTrue(store.arrange(["a", "b", "c"]))
        XCTAssertEqual(store.pointer("a")!, a)
        store.pin("c")
        XCTAssertFalse(store.arrange(["c", "a"]))
        XCTAssertEqual(store.pointer("a")!, a)
        XCTAssertTrue(store.arrange(["a", "b"]), "a flat prefix is flat")
    }

    /// loss = Σ ((x·w1 + b1)·w2)² over a [4, 5] x: three parameters of 15, 3 and 3 floats.
    func makeStep(_ store: ParameterStore, _ optimizer: OptimizerChoice, pinFirst: Bool) throws -> TrainStep {
        var c = GraphComposer(name: "flat_step")
        let x = c.input("x", TensorType(.float32, fixed: [4, 5]))
        let w1 = c.input("w1", TensorType(.float32, fixed: [5, 3]))
        let b1 = c.input("b1", TensorType(.float32, fixed: [3]))
        let w2 = c.input("w2", TensorType(.float32, fixed: [3, 1]))
        var g = c.graph
        let h = g.add(.add, g.add(.matMul, x, w1, output: "xw"), b1, output: "h")
        let y = g.add(.matMul, h, w2, output: "y")
        let loss = g.add(.reduceSum, g.add(.mul, y, y, output: "sq"), output: "loss", attributes: ["keepdims": .int(0)])
        g.outputs = [loss]
        try store.set("w1", Tensor(shape: [5, 3], floats: (0..<15).map { Float(($0 * 7) % 11) / 10 - 0.5 }))
        try store.set("b1", Tensor(shape: [3], floats: [0.1, -0.2, 0.3]))
        try store.set("w2", Tensor(shape: [3, 1], floats: [0.5, -0.25, 0.75]))
        // Pinned before the step is compiled (as if another program had bound them): the
        // buffers cannot move into a flat group, so the step updates them one by one.
        if pinFirst { for n in ["w1", "b1", "w2"] { store.pin(n) } }
        let plan = StepPlan(graph: g, loss: loss, trainable: ["w1", "b1", "w2"], optimizer: optimizer, assignments: [])
        return try TrainStep(plan: plan, store: store, inputShapes: [:], pool: ThreadPool(threads: 2))
    }

    func testFusedUpdateIsBitIdenticalToPerBufferUpdates() throws {
        let rules: [OptimizerChoice] = [
            .adam(AdamConfig(lr: 0.01, beta1: 0.5, beta2: 0.9)),
            .adam(AdamConfig(lr: 0.01, weightDecay: 0.05)),
            .sgd(SGDConfig(lr: 0.01, momentum: 0.9, weightDecay: 0.01, nesterov: true)),
            .rmsprop(RMSpropConfig(lr: 0.01, alpha: 0.9, weightDecay: 0.01)),
        ]
        for rule in rules {
            let flatStore = ParameterStore(), plainStore = ParameterStore()
            let flat = try makeStep(flatStore, rule, pinFirst: false)
            let plain = try makeStep(plainStore, rule, pinFirst: true)
            XCTAssertEqual(flat.program.fusedUpdateRuns.map(\.count), [3], "\(rule)")
            XCTAssertEqual(plain.program.fusedUpdateRuns, [], "\(rule)")
            XCTAssertEqual(flat.program.text, plain.program.text, "the printed program does not change")
            for step in 0..<4 {
                let x = Tensor(shape: [4, 5], floats: (0..<20).map { Float(($0 * 13 + step * 5) % 17) / 8 - 1 })
                _ = try flat.run(["x": x])
                _ = try plain.run(["x": x])
            }
            XCTAssertEqual(flatStore.entries.map(\.name).sorted(), plainStore.entries.map(\.name).sorted())
            for e in plainStore.entries {
                XCTAssertEqual(flatStore.tensor(e.name)!.floats.map(\.bitPattern), plainStore.tensor(e.name)!.floats.map(\.bitPattern), "\(rule): \(e.name)")
            }
            XCTAssertEqual(flatStore.counters.map(\.0), plainStore.counters.map(\.0))
            XCTAssertEqual(flatStore.counters.map(\.1), plainStore.counters.map(\.1))
            XCTAssertNotEqual(plainStore.tensor("w1")!.floats, (0..<15).map { Float(($0 * 7) % 11) / 10 - 0.5 }, "the step trains")
        }
    }

    /// Step counters set apart (one parameter restored with another count): the fused update
    /// falls back to one call per buffer, each with its own step, as the unfused program does.
    func testDisagreeingCountersFallBackToOwnSteps() throws {
        let rule = OptimizerChoice.adam(AdamConfig(lr: 0.01, beta1: 0.5, beta2: 0.9))
        let flatStore = ParameterStore(), plainStore = ParameterStore()
        let flat = try makeStep(flatStore, rule, pinFirst: false)
        let plain = try makeStep(plainStore, rule, pinFirst: true)
        for store in [flatStore, plainStore] { store.setCounter("b1/adam.step", 7) }
        let x = Tensor(shape: [4, 5], floats: (0..<20).map { Float($0 % 6) / 3 - 1 })
        for _ in 0..<2 {
            _ = try flat.run(["x": x])
            _ = try plain.run(["x": x])
        }
        XCTAssertEqual(flatStore.counters.map(\.1), plainStore.counters.map(\.1))
        for e in plainStore.entries {
            XCTAssertEqual(flatStore.tensor(e.name)!.floats.map(\.bitPattern), plainStore.tensor(e.name)!.floats.map(\.bitPattern), e.name)
        }
    }

    /// ZeRO-1's blocks: they tile the span in rank order, start at multiples of 16 and depend
    /// on the sizes only.
    func testShardBlocksTileTheSpan() {
        for n in [0, 1, 15, 100, 4099, 6_422_545] {
            for k in 2...5 {
                let s = ShardedUpdate(rank: 0, size: k, reduceScatter: { _, _, _ in }, allgather: { _, _ in })
                let b = s.blocks(n)
                XCTAssertEqual(b.count, k)
                XCTAssertEqual(b.reduce(0, +), n, "n \(n), k \(k)")
                XCTAssertTrue(b.allSatisfy { $0 >= 0 })
                XCTAssertTrue(b.dropLast().reduce(into: [0]) { $0.append($0.last! + $1) }.allSatisfy { $0 % 16 == 0 })
                if n >= 16 * k * 16 { XCTAssertLessThanOrEqual(b.max()! - b.min()!, 16 + 16) }
            }
        }
        XCTAssertEqual(ShardedUpdate(rank: 1, size: 2, reduceScatter: { _, _, _ in }, allgather: { _, _ in }).blocks(100), [48, 52])
    }
}
