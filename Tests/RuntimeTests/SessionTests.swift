import XCTest
import GraphIR
import Runtime
import SeedModels

final class SessionTests: XCTestCase {
    func testRunsWithSymbolicBatchAndCaches() throws {
        let g = try Graph.parse("""
        graph "small" {
          input %x: f32[N,3]
          init %w: f32[2,3] = [1.0, 2.0, 3.0, -1.0, 0.5, 0.25]
          init %b: f32[2] = [0.5, -0.5]
          init %shape: i64[2] = [-1, 2]
          %y = Gemm(%x, %w, %b) {transB=1}
          %r = Relu(%y)
          %s = Reshape(%r, %shape)
          output %s
        }
        """)
        let s = try Session(graph: g)
        let out1 = try s.run(["x": Tensor(shape: [1, 3], floats: [1, 1, 1])])["s"]!
        XCTAssertEqual(out1.shape, [1, 2])
        XCTAssertEqual(out1.floats, [6.5, 0.0])        // [1+2+3+0.5, max(0,-1+0.5+0.25-0.5)]
        let out2 = try s.run(["x": Tensor(shape: [2, 3], floats: [1, 0, 0, 0, 4, 0])])["s"]!
        XCTAssertEqual(out2.floats, [1.5, 0, 8.5, 1.5])
        _ = try s.run(["x": Tensor(shape: [1, 3], floats: [0, 0, 0])])
        XCTAssertEqual(s.compiledCount, 2)
    }

    func testInputErrorsNameTheInput() throws {
        let g = SeedGraphs.mnistGenerator()
        let s = try Session(graph: g)
        XCTAssertThrowsError(try s.run(["zz": Tensor(shape: [1, 100], repeating: 0)])) { e in
            XCTAssertTrue("\(e)".contains("missing input 'z'"), "\(e)")
        }
        XCTAssertThrowsError(try s.run([Tensor(shape: [1, 99], repeating: 0)])) { e in
            XCTAssertTrue("\(e)".contains("input 'z' must have shape"), "\(e)")
        }
    }
}
