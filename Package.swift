// swift-tools-version: 6.1
import PackageDescription
import Foundation

// Release builds must use the CPU's vector units: without `-target-cpu`, Swift lowers
// `SIMD16<Float>` arithmetic to scalar libm calls. `native` targets the build machine;
// set TRIDENT_TARGET_CPU (e.g. `x86-64-v3`, `x86-64`) for a portable binary.
let environment = ProcessInfo.processInfo.environment
let targetCPU = environment["TRIDENT_TARGET_CPU"] ?? "native"
#if arch(x86_64)
let cpuFlags: [SwiftSetting] = [.unsafeFlags(["-target-cpu", targetCPU])]
#else
let cpuFlags: [SwiftSetting] = targetCPU == "native" ? [] : [.unsafeFlags(["-target-cpu", targetCPU])]
#endif
let commonSettings: [SwiftSetting] = cpuFlags

let mpi = "MPI"

var targets: [Target] = [
    // Integer Q8 dot products, one function per x86 instruction set (target attributes, chosen at run time).
    .target(name: "CTridentQ8", cSettings: [.unsafeFlags(["-O3"])]),
    .target(name: "TridentKernels", dependencies: ["CTridentQ8"], swiftSettings: commonSettings + [
        .unsafeFlags(["-enforce-exclusivity=unchecked"]),
    ]),
    .target(name: "TridentFormats", dependencies: ["TridentKernels"], swiftSettings: commonSettings),
    .target(name: "TridentTokenizer", dependencies: ["TridentFormats"], swiftSettings: commonSettings),
    .systemLibrary(name: "CMPI", path: "Sources/CMPI", pkgConfig: "ompi-c",
                   providers: [.apt(["libopenmpi-dev"])]),
    .target(name: "TridentCollectives",
            dependencies: [
                "TridentKernels",
                .target(name: "CMPI", condition: .when(traits: [mpi])),
            ],
            swiftSettings: commonSettings + [.define("TRIDENT_MPI", .when(traits: [mpi]))]),
    .target(name: "TridentModel",
            dependencies: ["TridentKernels", "TridentFormats", "TridentCollectives"],
            swiftSettings: commonSettings),
    .target(name: "TridentTraining",
            dependencies: ["TridentKernels", "TridentFormats", "TridentCollectives", "TridentModel", "TridentEngine"],
            swiftSettings: commonSettings),
    .target(name: "TridentEngine",
            dependencies: ["TridentModel", "TridentTokenizer", "TridentCollectives",
                           .product(name: "Logging", package: "swift-log")],
            swiftSettings: commonSettings),
    .target(name: "TridentPlanner", dependencies: ["TridentKernels", "TridentModel"], swiftSettings: commonSettings),
    .target(name: "TridentLauncher", dependencies: ["TridentCollectives"], swiftSettings: commonSettings),
    .target(name: "TridentServer",
            dependencies: ["TridentEngine", "TridentTokenizer", "TridentModel",
                           .product(name: "Hummingbird", package: "hummingbird"),
                           .product(name: "Logging", package: "swift-log"),
                           .product(name: "Metrics", package: "swift-metrics"),
                           .product(name: "Prometheus", package: "swift-prometheus")],
            swiftSettings: commonSettings),
    .executableTarget(name: "trident",
                      dependencies: [
                          "TridentKernels", "TridentFormats", "TridentTokenizer", "TridentCollectives",
                          "TridentModel", "TridentEngine", "TridentPlanner", "TridentLauncher", "TridentTraining", "TridentServer",
                          .product(name: "ArgumentParser", package: "swift-argument-parser"),
                          .product(name: "Logging", package: "swift-log"),
                      ],
                      swiftSettings: commonSettings),

    .target(name: "TridentTestSupport", dependencies: ["TridentKernels", "TridentCollectives"], path: "Tests/TridentTestSupport",
            swiftSettings: commonSettings),
    .testTarget(name: "TridentKernelsTests", dependencies: ["TridentKernels", "TridentTestSupport"], swiftSettings: commonSettings),
    .testTarget(name: "TridentFormatsTests", dependencies: ["TridentFormats"], swiftSettings: commonSettings),
    .testTarget(name: "TridentTokenizerTests", dependencies: ["TridentTokenizer"], swiftSettings: commonSettings),
    .testTarget(name: "TridentCollectivesTests", dependencies: ["TridentCollectives", "TridentTestSupport"],
                swiftSettings: commonSettings),
    .testTarget(name: "TridentModelTests", dependencies: ["TridentModel", "TridentEngine", "TridentTestSupport"], swiftSettings: commonSettings),
    .testTarget(name: "TridentEngineTests", dependencies: ["TridentEngine", "TridentModel", "TridentTokenizer",
                                                           "TridentFormats", "TridentCollectives"],
                swiftSettings: commonSettings),
    .testTarget(name: "TridentTrainingTests", dependencies: ["TridentTraining", "TridentCollectives", "TridentModel", "TridentTestSupport",
                                                             "TridentFormats", "TridentTokenizer"],
                swiftSettings: commonSettings),
    .testTarget(name: "TridentServerTests", dependencies: ["TridentServer", "TridentTestSupport", "TridentEngine", "TridentModel",
                                                           "TridentTokenizer", "TridentFormats", "TridentCollectives"],
                swiftSettings: commonSettings),
    .testTarget(name: "TridentPlannerTests", dependencies: ["TridentPlanner"], swiftSettings: commonSettings),
    .testTarget(name: "TridentLauncherTests", dependencies: ["TridentLauncher", "TridentCollectives"],
                swiftSettings: commonSettings),
    .testTarget(name: "IntegrationTests", dependencies: ["TridentLauncher", "TridentCollectives", "TridentTestSupport"], swiftSettings: commonSettings),
]

// Development aid for people working on one module while others are in flux:
// TRIDENT_DEV_TARGETS=TridentFormats,TridentFormatsTests keeps only those targets and
// what they depend on. Unset (as in CI and for users) the whole package is built.
if let only = environment["TRIDENT_DEV_TARGETS"], !only.isEmpty {
    var keep = Set(only.split(separator: ",").map(String.init))
    var changed = true
    while changed {
        changed = false
        for target in targets where keep.contains(target.name) {
            for dependency in target.dependencies {
                var name: String?
                switch dependency {
                case .targetItem(let n, _): name = n
                case .byNameItem(let n, _): name = n
                default: name = nil
                }
                if let name, targets.contains(where: { $0.name == name }), !keep.contains(name) {
                    keep.insert(name); changed = true
                }
            }
        }
    }
    targets = targets.filter { keep.contains($0.name) }
}

let package = Package(
    name: "Trident",
    platforms: [.macOS(.v15)],
    products: targets.contains(where: { $0.name == "trident" })
        ? [.executable(name: "trident", targets: ["trident"])] : [],
    traits: [
        .trait(name: mpi, description: "Build the Open MPI communicator backend (needs libopenmpi-dev)."),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: targets,
    swiftLanguageModes: [.v6]
)
