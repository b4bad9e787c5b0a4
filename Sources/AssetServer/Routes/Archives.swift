import Hummingbird
import WireFormat

extension Call {
    func listArchives(organization: String, database databaseID: String) async throws -> Response {
        guard organization == state.organizationID else { throw APIError.notFound }
        let database = try await database(databaseID)
        let window = try PageWindow.from(query, maxSize: 1000)
        let oldestFirst = query["ordering"] == "date"
        let (rows, total) = try await store.archives(databaseID: databaseID, oldestFirst: oldestFirst, page: window)
        let now = self.now
        let items = rows.map { archive in
            JSONValue.object([
                "id": .string(archive.id),
                "database": .object(["id": .string(database.id), "name": .string(database.name)]),
                "date": .string(archive.date),
                "file": .string(state.blobs.downloadURL(key: archive.key, now: now)),
                "created_at": .string(Timestamp.iso(archive.createdAt)),
                "updated_at": .string(Timestamp.iso(archive.updatedAt)),
            ])
        }
        return try pageResponse(items: items, window: window, total: total, hasNext: window.offset + rows.count < total)
    }
}
