// InferShapesTests+NormResample: the shape rules of InstanceNormalization, LayerNormalization,
// GroupNormalization, Resize and Pad, and their errors.

import XCTest
import GraphIR
import Passes

extension InferShapesTests {
    func testStatisticNormalizations() throws {
        let x = In.t("f32[N,6,4,5]")
        XCTAssertEqual(shape(.instanceNormalization, [x, .t("f32[6]"), .t("f32[6]")]), "f32[N,6,4,5]")
        assertError(inferError(.instanceNormalization, [x, .t("f32[5]"), .t("f32[6]")]), "(InstanceNormalization)", "scale has type f32[5]")
        XCTAssertEqual(shape(.groupNormalization, [x, .t("f32[6]"), .t("f32[6]")], ["num_groups": .int(3)]), "f32[N,6,4,5]")
        assertError(inferError(.groupNormalization, [x, .t("f32[6]"), .t("f32[6]")], ["num_groups": .int(4)]), "do not split into num_groups=4")
        assertError(inferError(.groupNormalization, [x, .t("f32[6]"), .t("f32[6]")]), "needs num_groups")
        assertError(inferError(.groupNormalization, [x, .t("f32[3]"), .t("f32[3]")], ["num_groups": .int(3)]), "scale has type f32[3]")
        XCTAssertEqual(shape(.layerNormalization, [x, .t("f32[5]")]), "f32[N,6,4,5]")
        let outs = try infer(.layerNormalization, [x, .t("f32[4,5]"), .t("f32[4,5]")], ["axis": .int(-2)], outputs: 3)
        XCTAssertEqual(outs.map(\.description), ["f32[N,6,4,5]", "f32[N,6,1,1]", "f32[N,6,1,1]"])
        assertError(inferError(.layerNormalization, [x, .t("f32[4]")]), "Scale has type f32[4], expected [5]")
        assertError(inferError(.layerNormalization, [x, .t("f32[5]")], ["axis": .int(4)]), "axis 4 is out of range")
    }

    func testResize() {
        let x = In.t("f32[N,3,4,5]")
        let f = { (v: [Float]) in In.c(Tensor(shape: [v.count], floats: v)) }
        XCTAssertEqual(shape(.resize, [x, .none, f([1, 1, 2, 1.5])]), "f32[N,3,8,7]")
        XCTAssertEqual(shape(.resize, [x, .none, f([0.5, 2.25])], ["axes": .ints([3, 2])]), "f32[N,3,9,2]")
        XCTAssertEqual(shape(.resize, [x, .none, .none, .ints([7, 3])], ["axes": .ints([2, 3])]), "f32[N,3,7,3]")
        // keep_aspect_ratio_policy: one scale for all axes (round half up).
        XCTAssertEqual(shape(.resize, [x, .none, .none, .ints([7, 20])], ["axes": .ints([2, 3]), "keep_aspect_ratio_policy": .string("not_larger")]),
                       "f32[N,3,7,9]")
        XCTAssertEqual(shape(.resize, [x, .none, .none, .ints([7, 20])], ["axes": .ints([2, 3]), "keep_aspect_ratio_policy": .string("not_smaller")]),
                       "f32[N,3,16,20]")
        XCTAssertEqual(shape(.resize, [.t("f32[1,3,4,5]"), .none, f([]), .ints([1, 3, 2, 2])]), "f32[1,3,2,2]")
        assertError(inferError(.resize, [x, .none, f([1, 1, 2, 2]), .ints([1, 3, 2, 2])]), "(Resize)", "exactly one of scales and sizes")
        assertError(inferError(.resize, [x, .none, f([2, 1, 2, 2])]), "symbolic dim N")
        XCTAssertEqual(shape(.resize, [x, .none, f([1, 1, 2, 2])], ["mode": .string("cubic"), "cubic_coeff_a": .float(-0.5)]), "f32[N,3,8,10]")
        assertError(inferError(.resize, [x, .none, f([1, 1, 2, 2])], ["mode": .string("bicubic")]), "unknown Resize mode 'bicubic'")
        assertError(inferError(.resize, [x, .none, f([1, 1, 0.5, 0.5])], ["mode": .string("cubic"), "antialias": .int(1)]), "antialias")
        assertError(inferError(.resize, [x, .none, f([1, 1, 2])]), "3 values for 4 axes")
        assertError(inferError(.resize, [x, .none, f([1, 1, 2, 2])], ["coordinate_transformation_mode": .string("sideways")]), "unknown coordinate_transformation_mode")
        assertError(inferError(.resize, [x, .none, f([1, 1, 0.5, 0.5])], ["mode": .string("linear"), "antialias": .int(1)]), "antialias")
        assertError(inferError(.resize, [x, .none, f([1, 1, 1e30, 1])]), "out of range")
        assertError(inferError(.resize, [x, .none, .t("f32[4]")]), "scales ('in2') must be a constant")
    }

    func testPad() {
        let x = In.t("f32[N,3,4]")
        XCTAssertEqual(shape(.pad, [x, .ints([0, 1, 2, 0, 1, -1])]), "f32[N,5,5]")
        XCTAssertEqual(shape(.pad, [x, .ints([2, 3]), .none, .ints([-1])], ["mode": .string("reflect")]), "f32[N,3,9]")
        assertError(inferError(.pad, [x, .ints([0, 1, 2, 0, 1])]), "(Pad)", "5 pads for 3 axes")
        assertError(inferError(.pad, [x, .ints([1, 0, 0, 0, 0, 0])]), "symbolic dim N")
        assertError(inferError(.pad, [x, .ints([0, -3, 0, 0, -1, 0])]), "below zero")
        assertError(inferError(.pad, [x, .ints([0, 0, 1, 0, 0, 1])], ["mode": .string("mirror")]), "unknown Pad mode 'mirror'")
        assertError(inferError(.pad, [x, .ints([0, 0, 1, 0, 0, 1]), .c(Tensor(shape: [2], floats: [1, 2]))]), "constant_value must be a scalar")
    }
}
