// KernelCall+Flops: the arithmetic each kernel call performs, for profiles (`bench step --profile`).
//
// Contract: `flops` counts a multiply-add as 2 FLOPs over the call's whole GEMM/convolution work
// (padding taps included, as `KernelBench.convFlops` counts them); memory-bound calls
// (elementwise, reductions, copies, optimizer updates) count 0. `family` names the kernel for
// per-family totals.

import Kernels

extension KernelCall {
    /// Multiply-add FLOPs (2 per MAC) of the GEMM or convolution; 0 for memory-bound kernels.
    public var flops: Double {
        switch self {
        case let .gemm(_, _, m, n, k, _, _, _, _, _, batches, _):
            return 2 * Double(m) * Double(n) * Double(k) * Double(max(1, batches.count))
        case let .conv(s, _), let .convChannelsLast(s, _): return KernelBench.convFlops(s, transposed: false)
        case let .convTranspose(s, _), let .convTransposeBatchNorm(s, _, _): return KernelBench.convFlops(s, transposed: true)
        case let .attention(plan): return plan.flops
        default: return 0
        }
    }

    /// The kernel's name without its parameters (`gemm`, `conv2d`, `adam`, …).
    public var family: String {
        String(description.prefix { $0 != " " && $0 != "(" })
    }
}
