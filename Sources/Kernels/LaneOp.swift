// LaneOp: a lane-wise operation on 16-float vectors as a type, for the element-wise loops.
//
// Contract: a generic loop over `F: LaneOp2` (or `LaneOp1`) is specialized for each concrete
// operation, so the operation is inlined into the loop body, including the body handed to the
// pool (ThreadPool.parallelFor), which is compiled as a function of its own. An operation holds
// only the values it needs (a slope, a constant vector); it computes what the closure it replaces
// computed, so results are the same bits.
//
// Why: the loops took their operation as a closure `(V16, V16) -> V16`. Once the loop body is a
// function of its own (always, for a body passed to the pool), the captured closure is called
// through a pointer for every 16 floats, its vectors passed in memory: Binary's Add over 64 K
// floats spent a fifth of its time in the call, the loop around it most of the rest.

/// y = f(a, b), lane by lane.
protocol LaneOp2 {
    func callAsFunction(_ a: V16, _ b: V16) -> V16
}

/// y = f(x), lane by lane.
protocol LaneOp1 {
    func callAsFunction(_ x: V16) -> V16
}
