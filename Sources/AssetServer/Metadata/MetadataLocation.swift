import Foundation

/// `--metadata`: `sqlite` (the file `server.sqlite` in the data folder) or
/// `postgresql://user[:password]@host[:port]/database[?schema=NAME&sslmode=require]`.
public enum MetadataLocation: Sendable, Equatable {
    case sqlite
    case postgres(Postgres)

    public struct Postgres: Sendable, Equatable {
        public var user: String
        public var password: String?
        public var host: String
        public var port: Int
        public var database: String
        /// A schema to keep the tables in (created if missing); nil means the database's default search path.
        public var schema: String?
        public var requireTLS: Bool

        /// The URL without its password, for messages (and for other processes: it keeps every parameter).
        public var redacted: String {
            let parameters = (schema.map { ["schema=\($0)"] } ?? []) + (requireTLS ? ["sslmode=require"] : [])
            return "postgresql://\(user)@\(host):\(port)/\(database)"
                + (parameters.isEmpty ? "" : "?" + parameters.joined(separator: "&"))
        }
    }

    /// Parses `--metadata`; the error names what is wrong with it. A password may also come from `PGPASSWORD`.
    public init(parsing text: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        if text == "sqlite" {
            self = .sqlite
            return
        }
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
            ["postgresql", "postgres"].contains(scheme)
        else {
            throw MetadataError(description: "--metadata must be sqlite or postgresql://user@host:port/database")
        }
        guard let user = components.user, !user.isEmpty else {
            throw MetadataError(description: "--metadata: the URL needs a user (postgresql://USER@host:port/database)")
        }
        guard let host = components.host, !host.isEmpty else {
            throw MetadataError(description: "--metadata: the URL needs a host (postgresql://user@HOST:port/database)")
        }
        let port = components.port ?? 5432
        guard (1...65535).contains(port) else {
            throw MetadataError(description: "--metadata: the port must be between 1 and 65535")
        }
        var database = components.path
        while database.hasPrefix("/") { database.removeFirst() }
        guard !database.isEmpty, !database.contains("/") else {
            throw MetadataError(description: "--metadata: the URL needs a database (postgresql://user@host:port/DATABASE)")
        }
        var schema: String?
        var requireTLS = false
        for item in components.queryItems ?? [] {
            switch item.name {
            case "schema":
                guard let name = item.value, !name.isEmpty, name.utf8.count <= 63,
                    name.unicodeScalars.allSatisfy({ ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" })
                else {
                    throw MetadataError(description: "--metadata: schema must be 1-63 characters of a-z, 0-9 and _")
                }
                schema = name
            case "sslmode":
                switch item.value {
                case "disable": requireTLS = false
                case "require": requireTLS = true
                default: throw MetadataError(description: "--metadata: sslmode must be disable or require")
                }
            default:
                throw MetadataError(description: "--metadata: unknown parameter \"\(item.name)\" (schema, sslmode)")
            }
        }
        let password = components.password.flatMap { $0.isEmpty ? nil : $0 } ?? environment["PGPASSWORD"]
        self = .postgres(
            Postgres(
                user: user, password: password, host: host, port: port, database: database, schema: schema,
                requireTLS: requireTLS))
    }

    /// The URL without any password, for messages and the banner.
    public var redacted: String {
        switch self {
        case .sqlite: "sqlite"
        case .postgres(let location): location.redacted
        }
    }
}
