// swift-tools-version:5.9
// Gannet: a GAN toolkit built as an ONNX-style graph compiler and SIMD runtime.
import Foundation
import PackageDescription

/// Release builds target the build machine's CPU: the default x86-64 target has no FMA and
/// turns `SIMD16<Float>` multiply-adds into library calls (about 100x slower).
/// Debug builds get it too, so debug unit tests of SIMD kernels stay bearable.
let fast: [SwiftSetting] = [
    .unsafeFlags(["-target-cpu", "native"]),
    .unsafeFlags(["-Ounchecked", "-enforce-exclusivity=unchecked"], .when(configuration: .release)),
]
let plain: [SwiftSetting] = [
    .unsafeFlags(["-target-cpu", "native"]),
]

let package = Package(
    name: "Gannet",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "gannet", targets: ["gannet"]),
        .executable(name: "gan-train", targets: ["gan-train"]),
        .executable(name: "gan-sample", targets: ["gan-sample"]),
        .executable(name: "gan-interpolate", targets: ["gan-interpolate"]),
        .executable(name: "gan-eval", targets: ["gan-eval"]),
        .library(name: "GannetCommands", targets: ["Commands"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
    ],
    targets: [
        .target(name: "Core", swiftSettings: plain),
        .target(name: "GraphIR", dependencies: ["Core", "Kernels"], swiftSettings: plain),
        .target(name: "SeedModels", dependencies: ["Core", "GraphIR"], swiftSettings: plain),
        // Header-only inline C for the lane-wise operations Swift does not vectorise (Sources/CSIMD/csimd.h).
        .systemLibrary(name: "CSIMD", path: "Sources/CSIMD"),
        .target(name: "Kernels", dependencies: ["CSIMD"], swiftSettings: fast),
        .target(name: "Passes", dependencies: ["Core", "GraphIR", "Kernels"], swiftSettings: plain),
        .systemLibrary(name: "CProtobufC", path: "Sources/CProtobufC", pkgConfig: "libprotobuf-c",
                       providers: [.apt(["libprotobuf-c-dev"])]),
        .target(name: "CONNXProto", dependencies: ["CProtobufC"], path: "Sources/CONNXProto"),
        .target(name: "ONNX", dependencies: ["Core", "GraphIR", "CONNXProto", "CProtobufC"], swiftSettings: plain),
        .target(name: "Runtime", dependencies: ["Core", "GraphIR", "Passes", "Kernels"], swiftSettings: fast),
        .systemLibrary(name: "CPNG", path: "Sources/CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        .target(name: "Media", dependencies: ["Core", "CPNG", "GraphIR"], swiftSettings: plain),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CTurboJPEG", path: "Sources/CTurboJPEG", pkgConfig: "libturbojpeg", providers: [.apt(["libturbojpeg0-dev"])]),
        .target(name: "Data", dependencies: ["Core", "CZlib", "CTurboJPEG", "Media", "GraphIR"], swiftSettings: plain),
        .target(name: "Training", dependencies: ["Core", "GraphIR", "Passes", "Runtime", "Kernels"], swiftSettings: plain),
        .target(name: "Metrics", dependencies: ["Core", "GraphIR", "Runtime", "Kernels"], swiftSettings: fast),
        .systemLibrary(name: "CMPI", path: "Sources/CMPI", pkgConfig: "ompi-c", providers: [.apt(["libopenmpi-dev", "openmpi-bin"])]),
        .target(name: "Distributed", dependencies: ["CMPI"], swiftSettings: plain),
        .target(name: "GAN", dependencies: ["Core", "GraphIR", "Passes", "Runtime", "Kernels", "SpecFormat", "Training", "CZlib", "Distributed"], swiftSettings: plain),
        .target(name: "SpecFormat", dependencies: ["Core", "GraphIR", "Passes", .product(name: "Yams", package: "Yams")], swiftSettings: plain),
        .target(name: "Commands", dependencies: [
            "Core", "SpecFormat", "Training", "GAN", "Data", "Distributed", "GraphIR", "Passes", "Runtime", "Kernels", "Media", "ONNX", "Metrics", "SeedModels",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], swiftSettings: plain),
        .executableTarget(name: "gan-train", dependencies: ["Commands"], path: "Tools/gan-train", swiftSettings: plain),
        .executableTarget(name: "gannet", dependencies: ["Commands"], path: "Tools/gannet", swiftSettings: plain),
        .executableTarget(name: "gan-sample", dependencies: ["Commands"], path: "Tools/gan-sample", swiftSettings: plain),
        .executableTarget(name: "gan-interpolate", dependencies: ["Commands"], path: "Tools/gan-interpolate", swiftSettings: plain),
        .executableTarget(name: "gan-eval", dependencies: ["Commands"], path: "Tools/gan-eval", swiftSettings: plain),
        // Shared test support: the seeded generator, the reference evaluator, the tiny GAN spec.
        .target(name: "TestSupport", dependencies: ["Core", "GraphIR", "Passes", "Runtime", "Media"], path: "Tests/TestSupport", swiftSettings: plain),
        .testTarget(name: "GraphIRTests", dependencies: ["Core", "GraphIR", "SeedModels", "TestSupport"], swiftSettings: plain),
        .testTarget(name: "KernelsTests", dependencies: ["Kernels", "TestSupport"], swiftSettings: plain),
        .testTarget(name: "PassesTests", dependencies: ["GraphIR", "Passes", "Runtime", "Kernels", "SeedModels"], exclude: ["Golden"], swiftSettings: plain),
        .testTarget(name: "RuntimeTests", dependencies: ["GraphIR", "Passes", "Runtime", "Kernels", "SeedModels", "TestSupport"], swiftSettings: plain),
        .testTarget(name: "AutodiffTests", dependencies: ["GraphIR", "Passes", "Runtime", "Kernels", "TestSupport"], swiftSettings: plain),
        .testTarget(name: "MediaTests", dependencies: ["Media"], swiftSettings: plain),
        .testTarget(name: "DataTests", dependencies: ["Core", "Data", "Media", "GraphIR"], swiftSettings: plain),
        .testTarget(name: "ONNXTests", dependencies: ["GraphIR", "ONNX", "Runtime", "Passes"], swiftSettings: plain),
        .testTarget(name: "GANTests", dependencies: ["Core", "GAN", "GraphIR", "Runtime", "SpecFormat", "TestSupport"], swiftSettings: plain),
        .testTarget(name: "TrainingTests", dependencies: ["Core", "Training", "GAN", "GraphIR", "Passes", "Runtime", "Kernels", "SpecFormat"], swiftSettings: plain),
        .testTarget(name: "SpecFormatTests", dependencies: ["Core", "SpecFormat", "GraphIR"], swiftSettings: plain),
        .testTarget(name: "MetricsTests", dependencies: ["Metrics", "Kernels", "GraphIR", "ONNX"], swiftSettings: plain),
        .testTarget(name: "CommandsTests", dependencies: ["Core", "Commands", "Media", "GraphIR", "GAN", "TestSupport"], swiftSettings: plain),
        .testTarget(name: "DistributedTests", dependencies: ["Core", "Distributed", "GAN", "GraphIR", "Media", "Runtime", "Training", "Kernels", "TestSupport"], swiftSettings: plain),
    ]
)

/// libFuzzer targets (Tools/fuzz), only when GANNET_FUZZ is set: they have no `main` (libFuzzer
/// provides it under `--sanitize=fuzzer`), so ordinary builds must not see them. Build and run
/// them with Tools/fuzz/run.sh.
if ProcessInfo.processInfo.environment["GANNET_FUZZ"] != nil {
    let fuzzTargets: [(name: String, dir: String, deps: [Target.Dependency])] = [
        ("fuzz-onnx", "onnx", ["ONNX", "Passes", "GraphIR"]),
        ("fuzz-ir", "ir", ["GraphIR", "Passes"]),
        ("fuzz-spec", "spec", ["SpecFormat"]),
        ("fuzz-checkpoint", "checkpoint", ["GAN"]),
        ("fuzz-idx", "idx", ["Data"]),
        ("fuzz-png", "png", ["Data", "CZlib"]),
    ]
    package.targets.append(.target(name: "FuzzSupport", path: "Tools/fuzz/Support", swiftSettings: plain))
    for t in fuzzTargets {
        package.targets.append(.executableTarget(name: t.name, dependencies: t.deps + ["FuzzSupport"],
                                                 path: "Tools/fuzz/\(t.dir)", exclude: ["corpus"], swiftSettings: plain))
        package.products.append(.executable(name: t.name, targets: [t.name]))
    }
}
