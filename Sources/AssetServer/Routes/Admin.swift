import Hummingbird
import WireFormat

/// `/_admin/...`: for tests, demos and benchmarks; main token only, never faulted.
extension ServerResponder {
    func admin(_ route: Route, request: Request) async -> Response {
        let contentType = "application/json"
        do {
            guard case .main = try await state.authenticate(request.headers[.authorization]) else { throw APIError.forbidden }
            guard request.method == .post else {
                var error = APIError.detail(.methodNotAllowed, "Method \"\(request.method.rawValue)\" not allowed.")
                error.headers[.pbAllow] = "POST"
                throw error
            }
            guard case .admin(let action) = route else { throw APIError.notFound }
            let (status, body) = try await handleAdmin(action, request: request)
            return ServerResponder.errorResponse(APIError(status: status, body: body), contentType: contentType)
        } catch let error as APIError {
            return Self.errorResponse(error, contentType: contentType)
        } catch {
            state.logger.error("admin request failed", metadata: ["error": "\(error)"])
            return Self.errorResponse(.serverError, contentType: contentType)
        }
    }

    private func handleAdmin(_ action: Route.AdminAction, request: Request) async throws -> (
        HTTPResponse.Status, JSONValue
    ) {
        let limit = state.limits.maxAdminBody
        let now = state.clock.now
        switch action {
        case .records:
            let body = try await RequestBodyReader.jsonObject(request, allowed: ["database", "records"], limit: limit, pace: BodyPace(state.limits))
            let database = try await adminDatabase(body["database"])
            guard case .array(let items)? = body["records"] else {
                throw APIError.field("records", "Expected a list of records.")
            }
            var records: [SeedRecord] = []
            for item in items {
                guard let members = item.members, let id = members["id"]?.stringValue, !id.isEmpty,
                    let data = members["data"], data.members != nil
                else { throw APIError.field("records", "Each record needs a string \"id\" and an object \"data\".") }
                let unknown = members.map(\.key).filter { !["id", "data", "created_at", "updated_at"].contains($0) }
                if let first = unknown.first { throw APIError.field("records", "Unknown field \"\(first)\".") }
                records.append(
                    SeedRecord(
                        id: id, data: data, createdAt: try Self.timestamp(members["created_at"], "created_at"),
                        updatedAt: try Self.timestamp(members["updated_at"], "updated_at")))
            }
            let count = try await state.store.seedRecords(databaseID: database.id, records: records, now: now)
            return (.created, .object(["records": .int(count)]))
        case .archive:
            let body = try await RequestBodyReader.jsonObject(
                request, allowed: ["database", "before_date", "max_records"], limit: limit, pace: BodyPace(state.limits))
            let database = try await adminDatabase(body["database"])
            let selection: Archiver.Selection
            switch (body["before_date"], body["max_records"]) {
            case (let date?, nil):
                guard let text = date.stringValue, let day = Timestamp.parseDate(text) else {
                    throw APIError.field("before_date", "Enter a valid date (YYYY-MM-DD).")
                }
                selection = .before(day: day)
            case (nil, let max?):
                guard case .number(let text) = max, let value = Int(text), value >= 0 else {
                    throw APIError.field("max_records", "A valid non-negative integer is required.")
                }
                selection = .keepAtMost(value)
            case (nil, nil):
                selection = .keepAtMost(state.limits.maxLiveRecords)
            default:
                throw APIError.detail(.badRequest, "Give either before_date or max_records, not both.")
            }
            let outcome = try await Archiver.archive(
                databaseID: database.id, selection: selection, store: state.store, blobs: state.blobs, now: now)
            return (
                .ok,
                .object([
                    "archived_dates": .array(outcome.dates.map { .string($0) }),
                    "archived_records": .int(outcome.records),
                ])
            )
        case .clock:
            let body = try await RequestBodyReader.jsonObject(request, allowed: ["advance"], limit: limit, pace: BodyPace(state.limits))
            guard case .number(let text)? = body["advance"], let seconds = Double(text) else {
                throw APIError.field("advance", "A number of seconds is required.")
            }
            guard try await state.advanceClock(seconds: seconds) else {
                throw APIError.field(
                    "advance",
                    "Ensure the clock stays within \(Int(ServerClock.maxOffsetSeconds)) seconds (100 years) of the real time.")
            }
            return (.ok, .object(["now": .string(Timestamp.iso(state.clock.now))]))
        case .faults:
            let body = try await RequestBodyReader.jsonObject(request, allowed: ["spec"], limit: limit, pace: BodyPace(state.limits))
            guard let spec = body["spec"]?.stringValue else { throw APIError.field("spec", "A string is required.") }
            do {
                state.faults.replace(try FaultSpec(parsing: spec))
            } catch {
                throw APIError.field("spec", "\(error)")
            }
            return (.ok, .object(["spec": .string(spec)]))
        case .corrupt:
            let body = try await RequestBodyReader.jsonObject(
                request, allowed: ["database", "asset"], limit: limit, pace: BodyPace(state.limits))
            let database = try await adminDatabase(body["database"])
            guard let id = body["asset"]?.stringValue, let asset = try await state.store.asset(id, databaseID: database.id) else {
                throw APIError.field("asset", "No asset with that id in this database.")
            }
            // S3 computes an object's ETag from the bytes it is given: only the emulated storage can serve bytes
            // that differ from their ETag.
            guard state.blobs is FileBlobStore else {
                throw APIError.detail(
                    .notImplemented, "/_admin/corrupt works on the emulated storage only (--blobs file), not on S3.")
            }
            guard let flipped = try await state.store.corruptBlob(key: asset.key) else {
                throw APIError.field("asset", "Storage holds no object for this asset, or an empty one.")
            }
            return (.ok, .object(["asset": .string(asset.id), "offset": .int(flipped)]))
        case .tokens:
            _ = try await RequestBodyReader.jsonObject(request, allowed: [], limit: limit, pace: BodyPace(state.limits))
            let token = Identifier.randomHex(bytes: 20)
            _ = try await state.store.addToken(digest: ServerState.digest(token), now: now)
            return (.created, .object(["token": .string(token)]))
        }
    }

    private func adminDatabase(_ value: JSONValue?) async throws -> DatabaseRow {
        guard let id = value?.stringValue else { throw APIError.field("database", "This field is required.") }
        guard let row = try await state.store.database(id) else { throw APIError.field("database", "No database \(id).") }
        return row
    }

    private static func timestamp(_ value: JSONValue?, _ field: String) throws -> Micros? {
        guard let value, value != .null else { return nil }
        guard let text = value.stringValue, let micros = Timestamp.parseISO(text) else {
            throw APIError.field("records", "\(field) must be an ISO 8601 timestamp.")
        }
        return micros
    }
}
