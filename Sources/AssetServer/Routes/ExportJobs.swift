import Hummingbird
import WireFormat

extension Call {
    func createExportJob() async throws -> Response {
        let body = try await bodyObject(allowed: ["name", "databases", "media_type", "filters"])
        var errors: [JSONValue.Member] = []
        let name = Validate.string(body["name"], field: "name", maxLength: 255, errors: &errors)
        var databases: [String] = []
        switch body["databases"] {
        case nil: errors.add("databases", "This field is required.")
        case .array(let items)?:
            if items.isEmpty { errors.add("databases", "This list may not be empty.") }
            for item in items {
                guard let id = item.stringValue, Identifier.isCanonical(id.lowercased()) else {
                    errors.add("databases", "Must be a valid UUID.")
                    break
                }
                guard try await store.database(id.lowercased()) != nil else {
                    errors.add("databases", "Invalid pk \"\(id)\" - object does not exist.")
                    break
                }
                databases.append(id.lowercased())
            }
        case let other?:
            errors.add("databases", "Expected a list of items but got type \"\(other.typeName)\".")
        }
        var mediaType = ExportRequest.MediaType.json
        if let given = body["media_type"] {
            if let value = given.stringValue, let known = ExportRequest.MediaType(rawValue: value) {
                mediaType = known
            } else {
                errors.add("media_type", "\"\(given.plainText)\" is not a valid choice.")
            }
        }
        var filter = RecordFilter()
        if let filters = body["filters"], filters != .null {
            if let members = filters.members {
                var filterErrors: [JSONValue.Member] = []
                for member in members {
                    guard ["start_date", "end_date"].contains(member.key) else {
                        filterErrors.add(member.key, "Unknown field.")
                        continue
                    }
                    guard let text = member.value.stringValue, let micros = Timestamp.parseISO(text) else {
                        filterErrors.add(member.key, "Datetime has wrong format. Use ISO 8601.")
                        continue
                    }
                    if member.key == "start_date" {
                        filter.createdFrom = micros
                    } else {
                        // A bare date means the whole day.
                        filter.createdThrough =
                            Timestamp.parseDate(text) != nil ? micros + Timestamp.microsPerDay - 1 : micros
                    }
                }
                if !filterErrors.isEmpty { errors.append(.init(key: "filters", value: .object(filterErrors))) }
            } else {
                errors.add("filters", "Expected a dictionary of items but got type \"\(filters.typeName)\".")
            }
        }
        guard errors.isEmpty, let name else { throw APIError(status: .badRequest, body: .object(errors)) }
        for id in databases { _ = try await database(id) }
        let id = Identifier.make()
        let request = ExportRequest(name: name, databases: databases, mediaType: mediaType, filter: filter)
        try await store.createExportJob(id: id, owner: principal.owner, name: name, request: request.stored, now: now)
        // This replica runs the job unless another swept it up first; either way exactly one claims it.
        let state = self.state
        if let claimed = try await store.claimExportJob(
            id: id, runner: state.leases.runner, wallNow: ExportLeases.wallNow(), leaseUntil: state.leases.until())
        {
            state.exports.start(id) { await Exporter.run(claimed, state: state) }
        }
        return jsonResponse(.created, .object(["id": .string(id), "status": .string("STARTED")]))
    }

    func getExportJob(_ id: String) async throws -> Response {
        guard let job = try await store.exportJob(id) else { throw APIError.notFound }
        guard principal.canAccess(owner: job.owner) else { throw APIError.forbidden }
        let link = job.key.map { state.blobs.downloadURL(key: $0, now: now) }
        return jsonResponse(
            .ok,
            .object([
                "id": .string(job.id),
                "status": .string(job.status),
                "created_at": .string(Timestamp.iso(job.createdAt)),
                "data": .optionalString(link),
                "error_message": .optionalString(job.errorMessage),
            ]))
    }
}
