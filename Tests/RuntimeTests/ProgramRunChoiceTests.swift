// ProgramRunChoiceTests: a program on two threads that picks, run by run, parallel or serial
// loops from its measured times (ThreadPool.RunChoice) computes the same bits on every run as
// on one thread, whichever mode each run took.

import XCTest
import GraphIR
import Runtime
import Kernels

final class ProgramRunChoiceTests: XCTestCase {
    func testEveryRunSameBitsAsOneThread() throws {
        var g = Graph(name: "sites")
        let x = g.addInput("x", TensorType(.float32, [.fixed(3), .fixed(5), .fixed(17), .fixed(19)]))
        func values(_ n: Int, _ seed: Int) -> [Float] { (0..<n).map { Float(($0 * 7919 + seed) % 211) / 211 - 0.5 } }
        let w = g.addInitializer("w", Tensor(shape: [9, 5, 3, 3], floats: values(405, 1)))
        let b = g.addInitializer("b", Tensor(shape: [9], floats: values(9, 2)))
        var y = g.addNode(.conv, [x, w, b], outputs: ["c"], attributes: ["kernel_shape": .ints([3, 3]), "pads": .ints([1, 1, 1, 1])])[0]
        y = g.add(.relu, y, output: "r")
        let w2 = g.addInitializer("w2", Tensor(shape: [4, 9, 3, 3], floats: values(324, 3)))
        y = g.addNode(.conv, [y, w2], outputs: ["c2"], attributes: ["kernel_shape": .ints([3, 3]), "strides": .ints([2, 2])])[0]
        g.outputs = [g.add(.tanh, y, output: "out")]
        let input = Tensor(shape: [3, 5, 17, 19], floats: values(3 * 5 * 17 * 19, 4))
        let want = try Session(graph: g, threads: 1).run([input])[0]
        let two = try Session(graph: g, threads: 2)
        // Past the warm-up and the first samples (3 parallel runs), through exploring runs either way.
        for run in 0..<40 {
            XCTAssertEqual(try two.run([input])[0], want, "run \(run)")
        }
        let choice = try two.program(for: [input.shape]).choice
        XCTAssertGreaterThan(choice.serialRuns, 0)
        XCTAssertGreaterThan(choice.parallelRuns, 3)
    }
}
