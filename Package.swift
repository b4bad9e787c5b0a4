// swift-tools-version:6.2
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "assets",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "assets", targets: ["assets"]),
        .executable(name: "transfer-bench", targets: ["TransferBench"]),
        .executable(name: "queue-bench", targets: ["QueueBench"]),
        .library(name: "Transfer", targets: ["Transfer"]),
        .library(name: "PixieBrix", targets: ["PixieBrix"]),
        .library(name: "AssetSync", targets: ["AssetSync"]),
        .library(name: "AssetServer", targets: ["AssetServer"]),
        .library(name: "WireFormat", targets: ["WireFormat"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
        .package(url: "https://github.com/vapor/multipart-kit", from: "4.7.1"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        .target(
            name: "WireFormat",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Transfer",
            dependencies: [
                "CCurl",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "PixieBrix",
            dependencies: [
                "Transfer",
                "WireFormat",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "AssetSync",
            dependencies: [
                "PixieBrix",
                "WireFormat",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "AssetServer",
            dependencies: [
                "WireFormat",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "MultipartKit", package: "multipart-kit"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "AssetsCLI",
            dependencies: [
                "Transfer",
                "PixieBrix",
                "AssetSync",
                "AssetServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "TOMLKit", package: "TOMLKit"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "assets",
            dependencies: ["AssetsCLI"],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "QueueBench",
            dependencies: ["AssetSync"],
            path: "Sources/QueueBench",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "TransferBench",
            dependencies: ["Transfer"],
            path: "Sources/TransferBench",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TransferTests",
            dependencies: [
                "Transfer",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "TestSupport",
            dependencies: [
                "AssetServer",
                .product(name: "Logging", package: "swift-log"),
                "AssetSync",
                "PixieBrix",
                "Transfer",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Tests/TestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "WireFormatTests",
            dependencies: ["WireFormat"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "LayeringTests",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PixieBrixTests",
            dependencies: ["PixieBrix", "Transfer", "WireFormat"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AssetServerTests",
            dependencies: [
                "AssetServer",
                "TestSupport",
                "WireFormat",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AssetSyncTests",
            dependencies: [
                "AssetSync",
                "PixieBrix",
                "Transfer",
                "AssetServer",
                "TestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "WatchTests",
            dependencies: [
                "AssetSync",
                "PixieBrix",
                "Transfer",
                "AssetServer",
                "TestSupport",
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AssetsCLITests",
            dependencies: [
                "AssetsCLI",
                "Transfer",
                .product(name: "GRDB", package: "GRDB.swift"),
                "AssetServer",
                "AssetSync",
                "PixieBrix",
                "TestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "RecordsTests",
            dependencies: [
                "PixieBrix",
                "WireFormat",
                "AssetsCLI",
                "AssetSync",
                "AssetServer",
                "TestSupport",
                "Transfer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
