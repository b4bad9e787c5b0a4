import AssetServer
import Crypto
import Foundation

/// Which metadata backend in-process test servers use: `ASSETS_TEST_METADATA` unset or `sqlite` keeps SQLite in
/// the data folder; `postgresql://user@host:port/database` puts each data folder's metadata in its own schema
/// there (named after the folder, so that a server restarted on the same folder finds its data again).
public enum TestMetadata {
    public static let variable = "ASSETS_TEST_METADATA"

    public static var configured: String? {
        guard let value = ProcessInfo.processInfo.environment[variable], !value.isEmpty, value != "sqlite" else {
            return nil
        }
        return value
    }

    /// The metadata location for a server on `dataDirectory`.
    public static func location(forDataDirectory dataDirectory: String) throws -> MetadataLocation {
        guard let base = configured else { return .sqlite }
        return try postgres(base, schema: schemaName(for: dataDirectory))
    }

    /// `base` (a PostgreSQL URL) with tables in `schema`.
    public static func postgres(_ base: String, schema: String) throws -> MetadataLocation {
        guard var components = URLComponents(string: base) else {
            throw MetadataLocationError(description: "\(variable) is not a URL: \(base)")
        }
        components.queryItems = (components.queryItems ?? []).filter { $0.name != "schema" }
            + [URLQueryItem(name: "schema", value: schema)]
        return try MetadataLocation(parsing: components.string ?? base)
    }

    /// `t_` and 24 hex digits of the folder's SHA-256.
    public static func schemaName(for dataDirectory: String) -> String {
        "t_" + SHA256.hash(data: Data(dataDirectory.utf8)).prefix(12).map { String(format: "%02x", $0) }.joined()
    }

    struct MetadataLocationError: Error, CustomStringConvertible { var description: String }
}
