// KernelBench+Baseline: switches that put a kernel back on its previous algorithm, for
// interleaved before/after measurements in one build (Tools/bench/ab_step.sh).
//
// Contract: `GANNET_BASELINE` (environment, read once per process) is a comma-separated list
// of names; a kernel whose name is listed runs the algorithm it replaced. Unset (the normal
// case) every kernel runs its current algorithm. Both algorithms compute the same results
// within each kernel's own contract (the tests cover both), so the switch changes speed only.
import Foundation

public enum Baseline {
    /// The names listed in `GANNET_BASELINE`.
    public static let names: Set<String> = {
        guard let v = ProcessInfo.processInfo.environment["GANNET_BASELINE"] else { return [] }
        return Set(v.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
    }()

    /// `im2col` for small output planes, and for strided ones, row by row instead of through
    /// padded planes or a gather table.
    public static let im2colRows = names.contains("im2col")

    /// `im2colGather`: strided `im2col` row by row instead of through a gather table (same bits).
    public static let im2colNoGather = names.contains("im2colGather")

    /// `eluGrad`: ELU's pullback as the seven point-wise ops it was before the fused EluGrad
    /// (a graph-level switch: read when a backward graph is built).
    public static let eluPointwise = names.contains("eluGrad")

    /// `convTPadded`: the phased ConvTranspose runs its GEMM over the zero-padded AH×AW input grid
    /// instead of the unpadded planes (2.25× the FLOPs on 2×2 planes, 1.56× on 4×4).
    public static let convTransposePaddedGrid = names.contains("convTPadded")

    /// `convTGrid`: a column-stride-2 ConvTranspose accumulates its taps on zeroed phase grids and
    /// gathers the phases back (`forwardPhased`) instead of building each output row in registers
    /// (ConvTranspose+Stride2Rows.swift; same bits).
    public static let convTransposeGridCol2im = names.contains("convTGrid")

    /// `im2colGemm`: GEMM convolutions write the whole im2col matrix and let the GEMM pack it,
    /// as before the GEMM packed its B blocks straight from the images (Im2Col+Packed.swift; same bits).
    public static let im2colBuffer = names.contains("im2colGemm")

    /// `directConv`: stride-1 convolutions pack im2col panels for the GEMM (Im2Col+Packed.swift)
    /// instead of letting it read the padded planes where they lie (Conv+Direct.swift; same bits).
    public static let implicitConv = names.contains("directConv")

    /// `pointwiseDirect`: 1×1 convolutions with few output channels pack their input planes for
    /// the GEMM instead of letting it read them where they lie (Conv.swift; same bits).
    public static let pointwisePacked = names.contains("pointwiseDirect")

    /// `avgPoolStride1`: stride-1 AveragePool runs the general row-by-row pool kernel instead of
    /// whole padded planes (Pool+AverageStride1.swift; same bits).
    public static let averagePoolRows = names.contains("avgPoolStride1")

    /// `tallDirect`: kH × 1 convolutions price the implicit GEMM's packing like any other kernel's
    /// (12 units a k step), which sends Inception's 7×1 layers at batch > 1 to the implicit GEMM
    /// (Conv+Direct.swift; same bits).
    public static let tallKernelsImplicit = names.contains("tallDirect")

    /// `directCopy`: a direct convolution with dropped columns has its GEMM write a virtual
    /// output and copies the kept columns to y afterwards, instead of storing them compacted
    /// (Conv+Direct.swift; same bits).
    public static let directOutputCopy = names.contains("directCopy")

    /// `directS2`: stride-2 convolutions pack im2col panels for the GEMM instead of letting it read
    /// stride phase planes where they lie (Conv+Direct.swift; same bits).
    public static let directStride1Only = names.contains("directS2")

    /// `winograd`: 3×3 stride-1 convolutions run the direct or implicit GEMM instead of Winograd's
    /// F(2×2, 3×3) (Conv+Winograd.swift; equal to float rounding, not the same bits).
    public static let noWinograd = names.contains("winograd")

    /// `winogradS2`: 4×4 stride-2 convolutions and transposed convolutions run their GEMM paths
    /// instead of F(2×2, 2×2) on stride phases (Conv+WinogradStride2.swift; equal to float rounding).
    public static let noWinogradS2 = names.contains("winogradS2")

    /// `winogradWGRule`: weight gradients run F(2×2, 2×2) wherever they did before the rule
    /// learnt that odd kernels (padded to whole blocks) and few images or output channels lose to
    /// the GEMM paths (Conv+WinogradWeightGrad.swift; equal to float rounding).
    public static let winogradWeightGradOldRule = names.contains("winogradWGRule")

    /// `prepack`: programs pack constant convolution weights for the GEMM on every run, as before
    /// they were packed once at bind time (Runtime's Program; same bits).
    public static let packWeightsPerCall = names.contains("prepack")

    /// `runChoice`: programs always share their loops with the pool's workers instead of choosing
    /// between that and the caller alone from measured step times (ThreadPool+Choice.swift; same bits).
    public static let alwaysParallel = names.contains("runChoice")

    /// `convTStride1`: stride-1 transposed convolutions run GEMM + col2im instead of the Conv
    /// they equal (ConvTranspose+Stride1.swift; equal to float rounding).
    public static let stride1ConvTransposeCol2im = names.contains("convTStride1")

    /// `wideKernel`: convolutions with few outputs per channel and 16–32-wide kernels run
    /// `directSmallM` (vectorised along the output width) instead of Conv+WideKernel.swift's dot
    /// products along the kernel width (equal to float rounding).
    public static let noWideKernel = names.contains("wideKernel")

    /// `tinyPlane`: convolutions on planes where most taps fall in the padding run the im2col
    /// paths (multiplying the padding's zeros) instead of one GEMM per inside (pixel, tap) pair.
    public static let noTinyPlane = names.contains("tinyPlane")

    /// `trainingBatchNorm`: training steps expand BatchNorm into primitive ops and differentiate
    /// FusedConvTransposeBatchNorm's normalisation as ordinary ops, as before BatchNormTraining and
    /// BatchNormTrainingGrad (a graph-level switch: FuseTrainingBatchNorm does nothing; equal to
    /// float rounding).
    public static let expandTrainingBatchNorm = names.contains("trainingBatchNorm")

    /// `combineGemms`: GEMMs that share an operand stay separate (CombineSharedOperandGemms does
    /// nothing), each packing the shared weight itself, and weight gradients are summed by Add
    /// (a graph-level switch; equal to float rounding).
    public static let separateGemms = names.contains("combineGemms")

    /// `sumBeforeTranspose`: a weight gradient's parts are each transposed back and then added,
    /// as Autodiff writes them (SumBeforeTranspose does nothing; the same bits either way).
    public static let transposeBeforeSum = names.contains("sumBeforeTranspose")

    /// `penaltyExpand`: gradient penalties expand every training BatchNorm of the D step (the
    /// generator's too) into primitive ops before differentiating, instead of running the step's
    /// pipeline with its fusions (GANSteps.dPlan; equal to float rounding).
    public static let expandBeforePenalty = names.contains("penaltyExpand")

    /// `directImage`: the direct convolution splits each image's fill, GEMM and copy over the
    /// threads instead of running whole images per thread (Conv+Direct.swift).
    public static let splitImageGemms = names.contains("directImage")

    /// `chunkParallel`: convolutions split each image chunk's GEMM over the threads instead of
    /// running whole chunks per thread (Conv2D.isChunkParallel; same bits).
    public static let splitChunkGemms = names.contains("chunkParallel")

    /// `chunkDeep`: only shallow convolutions (k ≤ 64) run whole image chunks per thread; deeper
    /// ones split each chunk's GEMM over the threads (Conv2D.isChunkParallel; same bits).
    public static let shallowChunksOnly = names.contains("chunkDeep")

    /// `channelsLast`: depthwise and 1×1 convolution chains stay NCHW (ChannelsLastIslands does
    /// nothing; a graph-level switch, equal to float rounding).
    public static let channelsFirstOnly = names.contains("channelsLast")

    /// `smallMTaps`: a 3×3 convolution to one output channel (`Conv2D.directSmallM`) loads each
    /// tap's input vectors per output row instead of each input row once for the rows that read
    /// it (same bits).
    public static let smallMTapLoop = names.contains("smallMTaps")

    /// `singleChannelTaps`: a stride-1 ConvTranspose from one input channel per group adds each
    /// tap's products to its output plane in turn instead of summing an output row's taps in
    /// registers (same bits).
    public static let singleChannelTapLoop = names.contains("singleChannelTaps")

    /// `gemmTail16`: a GEMM's last column tile of at most 16 columns runs the 32-column kernel
    /// instead of a 16-column one (same bits).
    public static let fullWidthTail = names.contains("gemmTail16")

    /// `winogradS2Segments`: a 4×4 stride-2 Winograd layer with at most 4 tiles per tile row
    /// transforms each image's tile rows on their own (phase planes and 16-tile vectors per
    /// image) instead of the chunk's tile rows stacked across images (same bits).
    public static let winogradS2Segments = names.contains("winogradS2Segments")

    /// `winogradS2Prefetch`: a 4×4 stride-2 ConvTranspose transforms its weights without
    /// prefetching the next run's (same bits).
    public static let winogradS2PackNoPrefetch = names.contains("winogradS2Prefetch")

    /// `packedBPrefetch`: a GEMM on B packed at load time reads its panels without prefetching
    /// ahead (same bits).
    public static let packedBNoPrefetch = names.contains("packedBPrefetch")

    /// `panelPrefetch`: a GEMM that packs B panel by panel (one row block) does not prefetch the
    /// next panel's source lines while it computes the current one (same bits).
    public static let panelNoPrefetch = names.contains("panelPrefetch")

    /// `convTransposeWholeCol`: a ConvTranspose with column stride 2 runs its GEMM over all
    /// output channels of a chunk, then reads the whole col matrix back, instead of a block of
    /// channels at a time (same bits).
    public static let convTransposeWholeCol = names.contains("convTransposeWholeCol")

    /// `resamplePlanar`: a blending Resize of images walks output rows with the general corner
    /// loop (a division per leading axis per row, one column at a time) instead of
    /// `Resample.planar` (same bits).
    public static let resampleRows = names.contains("resamplePlanar")

    /// `reduceSegments`: a full reduction of a long run combines it in one piece on one thread
    /// instead of in 64 Ki pieces shared by the pool (different rounding).
    public static let reduceOneRun = names.contains("reduceSegments")

    /// `concatViews`: every Concat copies its inputs, even where they could be written in place
    /// into its output (Runtime's Lowering+ConcatViews.swift; same bits).
    public static let concatCopies = names.contains("concatViews")

    /// `chunkEnds`: the pool's workers claim a loop's chunks from the front, as the caller does,
    /// instead of from the back (ThreadPool.swift; same bits).
    public static let sharedChunkClaims = names.contains("chunkEnds")

    /// `blockPacking`: a GEMM with one row block packs its whole B block (up to KC×NC = 1 MiB)
    /// up front and reads it back panel by panel, instead of packing each NR-wide panel just
    /// before its only use (Gemm.serial; same bits).
    public static let wholeBlockB = names.contains("blockPacking")

    /// `panelChunks`: a GEMM split over threads hands out chunks of nPanels / (2·threads) column
    /// panels plus a remainder (row panels: `parallelFor`'s interleaved sizes) instead of near-equal
    /// chunks, the larger first (Gemm.largerFirst; same bits).
    public static let equalPanelChunks = names.contains("panelChunks")

    /// `pixelBroadcast`: convolutions run the GEMM paths (direct, implicit, narrow, pointwise)
    /// instead of the pixel-broadcast tiles (Conv+PixelBroadcast.swift; same bits).
    public static let noPixelBroadcast = names.contains("pixelBroadcast")

    /// `allPixelBroadcast`: every non-Winograd shape the pixel-broadcast tiles can run takes them,
    /// whatever their cost rule says (for measuring the rule; same bits).
    public static let alwaysPixelBroadcast = names.contains("allPixelBroadcast")

    /// `batchChunks`: a Session runs every batch whole, never as chunks of a smaller one
    /// (Runtime's Program+BatchChunks).
    public static let noBatchChunks = names.contains("batchChunks")

    /// `attentionRows`: the fused attention keeps each block of scores row by row for valueFirst
    /// too, its softmax along rows and Sᵀ packed for the value GEMM (Attention.swift).
    public static let attentionRowScores = names.contains("attentionRows")

    /// `winogradS2Planes`: the 4×4 stride-2 Winograd layers zero each phase plane to the end of
    /// its chunk-sized buffer after every image's rows, instead of only the slack those rows'
    /// tiles read (Conv+WinogradStride2.swift `fillPhases`; same bits).
    public static let winogradS2WholePlanes = names.contains("winogradS2Planes")

    /// `winogradWGImages`: the Winograd weight gradient transforms each image's kernel blocks on
    /// their own (vectors of 16 blocks partly past the image's last) instead of stacking a
    /// chunk's images (Conv+WinogradWeightGrad.swift; same bits).
    public static let winogradWGImageRows = names.contains("winogradWGImages")
}
