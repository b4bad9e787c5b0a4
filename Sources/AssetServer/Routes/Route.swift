/// Every path the server answers, parsed without regard to method.
enum Route: Sendable {
    case databases
    case database(String)
    case organizationDatabases(organization: String)
    case assets(database: String)
    case asset(database: String, asset: String)
    case records(database: String)
    case exportJobs
    case exportJob(String)
    case recordArchives(organization: String, database: String)
    case admin(AdminAction)
    case storageUpload
    case storageObject(key: String)

    enum AdminAction: String, Sendable { case records, archive, clock, faults, tokens, corrupt }

    enum Kind { case api, admin, upload, download }

    var kind: Kind {
        switch self {
        case .admin: .admin
        case .storageUpload: .upload
        case .storageObject: .download
        default: .api
        }
    }

    var allowedMethods: [String] {
        switch self {
        case .databases, .assets, .records: ["GET", "POST"]
        case .database, .organizationDatabases, .exportJob, .recordArchives: ["GET"]
        case .asset: ["GET", "PATCH"]
        case .exportJobs, .admin, .storageUpload: ["POST"]
        case .storageObject: ["GET", "HEAD"]
        }
    }

    /// The route of a raw (still percent-encoded) path, or nil: a `404`. API paths end with `/` and take ids only
    /// as lower-case UUIDs.
    init?(path: String) {
        if path.hasPrefix("/_storage/") {
            let rest = path.dropFirst("/_storage/".count)
            if rest == "upload/" {
                self = .storageUpload
                return
            }
            guard rest.hasPrefix("objects/"), let key = rest.dropFirst("objects/".count).removingPercentEncoding,
                !key.isEmpty
            else { return nil }
            self = .storageObject(key: key)
            return
        }
        if path.hasPrefix("/_admin/") {
            var name = path.dropFirst("/_admin/".count)
            if name.hasSuffix("/") { name = name.dropLast() }
            guard let action = AdminAction(rawValue: String(name)) else { return nil }
            self = .admin(action)
            return
        }
        guard path.hasSuffix("/") else { return nil }
        let s = path.dropFirst().dropLast().split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        func id(_ index: Int) -> String? { Identifier.isCanonical(s[index]) ? s[index] : nil }
        switch s.count {
        case 2 where s == ["api", "databases"]:
            self = .databases
        case 3 where s[0] == "api" && s[1] == "databases":
            guard let db = id(2) else { return nil }
            self = .database(db)
        case 4 where s[0] == "api" && s[1] == "databases" && s[2] == "records" && s[3] == "jobs":
            self = .exportJobs
        case 4 where s[0] == "api" && s[1] == "organizations" && s[3] == "databases":
            guard let org = id(2) else { return nil }
            self = .organizationDatabases(organization: org)
        case 4 where s[0] == "api" && s[1] == "databases" && s[3] == "assets":
            guard let db = id(2) else { return nil }
            self = .assets(database: db)
        case 4 where s[0] == "api" && s[1] == "databases" && s[3] == "records":
            guard let db = id(2) else { return nil }
            self = .records(database: db)
        case 5 where s[0] == "api" && s[1] == "databases" && s[2] == "records" && s[3] == "jobs":
            guard let job = id(4) else { return nil }
            self = .exportJob(job)
        case 5 where s[0] == "api" && s[1] == "databases" && s[3] == "assets":
            guard let db = id(2), let asset = id(4) else { return nil }
            self = .asset(database: db, asset: asset)
        case 6 where s[0] == "api" && s[1] == "organizations" && s[3] == "databases" && s[5] == "record-archives":
            guard let org = id(2), let db = id(4) else { return nil }
            self = .recordArchives(organization: org, database: db)
        default:
            return nil
        }
    }
}
