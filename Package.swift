// swift-tools-version:6.0
import PackageDescription

// Dependencies point down: executables -> *Kit -> AWS/Git/Archive/GitHub/Terminal -> HTTP -> C shims.
let package = Package(
    name: "nuvola-tools",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "devbox", targets: ["devbox"]),
        .executable(name: "adminctl", targets: ["adminctl"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.0.0"),
    ],
    targets: [
        // C libraries, found through pkg-config; shim.h holds what Swift cannot call directly.
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CGit2", pkgConfig: "libgit2", providers: [.apt(["libgit2-dev"])]),
        .systemLibrary(name: "CArchive", pkgConfig: "libarchive", providers: [.apt(["libarchive-dev"])]),

        .target(name: "HTTP", dependencies: ["CCurl", "Host"]),
        .target(name: "Git", dependencies: ["CGit2", "Host"]),
        .target(name: "Archive", dependencies: ["CArchive"]),
        .target(name: "Terminal", dependencies: ["Host"]),
        // The MySQL/MariaDB client protocol in Swift: sync-db talks to the local database without
        // a C client library or a mysql binary on the developer's machine.
        .target(name: "MySQL", dependencies: [.product(name: "Crypto", package: "swift-crypto")]),
        .target(name: "Host"),
        // The dump engine both tools use (devbox sync-db, adminctl db refresh dev): statement
        // splitting and kinds, the parallel loader, the shadow database, verification and the
        // atomic swap with snapshots, and where published dumps are found in S3.
        .target(name: "DumpImport", dependencies: [
            "MySQL", "Archive", "Host", "AWS", "Terminal", "Nuvola", .product(name: "Crypto", package: "swift-crypto"),
        ]),
        // AWS Signature Version 4, on its own so it depends on nothing but hashing.
        .target(name: "SigV4", dependencies: [.product(name: "Crypto", package: "swift-crypto")]),
        .target(name: "AWS", dependencies: ["HTTP", "Host", "SigV4", .product(name: "Crypto", package: "swift-crypto")]),
        // GitHub's REST API (pull requests, statuses, check runs) on the HTTP module.
        .target(name: "GitHub", dependencies: ["HTTP", "Host"]),
        // What both tools agree on (config files, tag names, S3 layout); Kits never import each other.
        .target(name: "Nuvola", dependencies: ["Terminal"]),

        .target(name: "DevboxKit", dependencies: [
            "Nuvola", "DumpImport", "AWS", "Git", "GitHub", "Archive", "HTTP", "Host", "MySQL", "Terminal",
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .target(name: "AdminKit", dependencies: ["Nuvola", "DumpImport", "AWS", "Git", "Archive", "HTTP", "Host", "Terminal"]),
        // ArgumentParser glue both executables share: global options, error reporting, exit codes,
        // and the version report (the only reason it links the C libraries' wrappers).
        .target(name: "CommandSupport", dependencies: [
            "Terminal", "Git", "Archive", "HTTP", "Host", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        .executableTarget(name: "devbox", dependencies: [
            "DevboxKit", "DumpImport", "Nuvola", "CommandSupport", "Terminal", "HTTP", "Host",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "adminctl", dependencies: [
            "AdminKit", "Nuvola", "CommandSupport", "Terminal", "HTTP",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // A bare HTTP fetcher over the HTTP module: the RSS test and Benchmarks/http-download run it
        // as a separate process so its peak memory is measured alone.
        .executableTarget(name: "http-probe", dependencies: ["HTTP"], path: "Benchmarks/http-probe"),
        .executableTarget(name: "aws-probe", dependencies: ["AWS", "HTTP"], path: "Benchmarks/aws-probe"),

        // Shared by the test targets: the local test server, temporary directories, built products.
        .target(name: "TestSupport", dependencies: ["AWS", "Host", "HTTP"], path: "Tests/TestSupport", exclude: ["Fixtures"]),
        .testTarget(name: "HTTPTests", dependencies: ["HTTP", "Host", "TestSupport"]),
        .testTarget(name: "TerminalTests", dependencies: ["Terminal"]),
        .testTarget(name: "HostTests", dependencies: ["Host", "TestSupport"]),
        .testTarget(name: "GitTests", dependencies: ["Git", "Host", "TestSupport"]),
        .testTarget(name: "GitHubTests", dependencies: ["GitHub", "HTTP", "TestSupport"]),
        .testTarget(name: "NuvolaTests", dependencies: ["Nuvola", "TestSupport"]),
        .testTarget(name: "MySQLTests", dependencies: ["MySQL", "TestSupport"]),
        .testTarget(name: "ArchiveTests", dependencies: ["Archive", "CArchive", "Host", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "SigV4Tests", dependencies: ["SigV4", "TestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "AWSTests", dependencies: ["AWS", "HTTP", "SigV4", "Host", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "DumpImportTests", dependencies: ["DumpImport", "Archive", "Host", "MySQL", "TestSupport"]),
        .testTarget(name: "DevboxKitTests", dependencies: ["DevboxKit", "DumpImport", "Git", "GitHub", "HTTP", "Host", "MySQL", "Nuvola", "Terminal", "TestSupport"]),
        .testTarget(name: "AdminKitTests", dependencies: ["AdminKit", "DumpImport", "AWS", "Archive", "Git", "Host", "HTTP", "Nuvola", "Terminal", "TestSupport"]),
        .testTarget(name: "CLITests", dependencies: ["AWS", "Host", "HTTP", "TestSupport"]),
        // One test over every type that holds a secret, so it spans the modules that define them.
        .testTarget(name: "RedactionTests", dependencies: ["AWS", "DevboxKit", "DumpImport", "Git", "GitHub", "HTTP", "MySQL", "SigV4"]),
    ],
    swiftLanguageModes: [.v6]
)
