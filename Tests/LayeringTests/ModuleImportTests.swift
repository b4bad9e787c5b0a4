import Foundation
import Testing

/// The module arrows (docs/architecture.md): CCurl ← Transfer ← PixieBrix ← AssetSync ← AssetsCLI, and
/// AssetServer beside them; WireFormat is a leaf both sides import. SwiftPM lets a target import any module built before it, so a forbidden
/// import compiles; these tests are what refuses it.
@Suite struct ModuleImportTests {
    static let sources = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Sources")

    /// Each module's Swift files, as (path relative to Sources, text); a module with none is an error.
    static func swiftFiles(of module: String) throws -> [(path: String, text: String)] {
        let root = sources.appendingPathComponent(module)
        guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil) else { return [] }
        var files: [(String, String)] = []
        for case let url as URL in walker where url.pathExtension == "swift" {
            files.append((module + url.path.dropFirst(root.path.count), try String(contentsOf: url, encoding: .utf8)))
        }
        return files.sorted { $0.0 < $1.0 }
    }

    /// The modules a file imports, however the import is spelled (`@testable`, `@_exported`, `import struct M.T`).
    static func importedModules(in text: String) -> Set<String> {
        let pattern = #/^\s*(?:@\w+(?:\([^)]*\))?\s+)*import\s+(?:(?:typealias|struct|class|enum|protocol|let|var|func)\s+)?(\w+)/#
        var modules: Set<String> = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            if let match = line.firstMatch(of: pattern.anchorsMatchLineEndings()) { modules.insert(String(match.1)) }
        }
        return modules
    }

    /// `file: module` for every import of a `forbidden` module by a file of `module`.
    static func violations(module: String, forbidden: Set<String>) throws -> [String] {
        let files = try swiftFiles(of: module)
        #expect(!files.isEmpty, "no Swift files found under Sources/\(module)")
        return files.flatMap { file in
            importedModules(in: file.text).intersection(forbidden).sorted().map { "\(file.path) imports \($0)" }
        }
    }

    @Test func theImportScannerSeesEverySpellingOfAnImport() {
        let text = """
            import Foundation
            @testable import Transfer
              import struct CCurl.CURL
            @_exported import PixieBrix
            @preconcurrency import Logging
            // import AssetSync
            let importance = "import GRDB"
            """
        #expect(Self.importedModules(in: text) == ["Foundation", "Transfer", "CCurl", "PixieBrix", "Logging"])
    }

    @Test func assetSyncReachesTheNetworkOnlyThroughPixieBrix() throws {
        #expect(try Self.violations(module: "AssetSync", forbidden: ["Transfer", "CCurl"]) == [])
    }

    @Test func theServerImportsNoClientModule() throws {
        #expect(try Self.violations(module: "AssetServer",
                                    forbidden: ["CCurl", "Transfer", "PixieBrix", "AssetSync", "AssetsCLI"]) == [])
    }

    @Test func wireFormatImportsNoProjectModule() throws {
        #expect(try Self.violations(module: "WireFormat",
                                    forbidden: ["CCurl", "Transfer", "PixieBrix", "AssetSync", "AssetsCLI", "AssetServer"]) == [])
    }
}
