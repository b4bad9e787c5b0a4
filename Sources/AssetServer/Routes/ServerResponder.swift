import Hummingbird
import WireFormat

/// Dispatches every request in the order DRF checks: unknown path `404`, `406`, `401`, throttling `429`, `405`,
/// then the handler (permissions and body).
///
/// Why one hand-written responder and not a Hummingbird `Router` with `RouterMiddleware`s for negotiation and
/// faults: DRF resolves the path first (`404`) and the method last (`405`, after `406`, `401` and `429`), and every
/// error in between is rendered in the media type and version that negotiation chose for that route. Hummingbird's
/// router (2.x) resolves path and method together before any `RouterMiddleware` runs, and sends a known path with
/// an unknown method to its not-found responder: DRF's `405`-after-`401`/`429` cannot be expressed there, and a
/// negotiation middleware would need the route anyway (only `GET` records may answer `text/csv`; export jobs take
/// version 1.0 only). The steps stay separate types (``Route``, ``Negotiation``, ``FaultInjector``) that this
/// responder calls in DRF's order.
struct ServerResponder: HTTPResponder {
    typealias Context = ServerContext
    let state: ServerState

    func respond(to request: Request, context: ServerContext) async throws -> Response {
        guard let route = Route(path: request.uri.path) else {
            if request.uri.path.hasPrefix("/_storage/") { return Self.storageResponse(StorageError.noSuchKey) }
            return Self.errorResponse(APIError.notFound, contentType: "application/json")
        }
        switch route.kind {
        case .api: return try await api(route, request: request, context: context)
        case .admin: return await admin(route, request: request)
        case .upload, .download: return try await storage(route, request: request, context: context)
        }
    }

    private func api(_ route: Route, request: Request, context: ServerContext) async throws -> Response {
        let method = request.method.rawValue
        let negotiation: Negotiation
        do {
            var csvAllowed = false
            if case .records = route, method == "GET" || method == "HEAD" { csvAllowed = true }
            negotiation = try Negotiation.negotiate(accept: request.headers[.accept], allowsCSV: csvAllowed)
            switch route {
            case .exportJobs, .exportJob: if negotiation.version != "1.0" { throw APIError.invalidVersion }
            case .recordArchives: if negotiation.version != "2.0" { throw APIError.invalidVersion }
            default: break
            }
        } catch let error as APIError {
            return Self.errorResponse(error, contentType: "application/json")
        }
        let errorContentType = "application/json; version=\(negotiation.version)"
        let principal: Principal
        do {
            principal = try await state.authenticate(request.headers[.authorization])
        } catch {
            return Self.errorResponse(error, contentType: errorContentType)
        }
        state.logger.debug("api request", metadata: ["method": "\(method)", "path": "\(request.uri.path)"])
        let fault = state.faults.decide(.api)
        await fault.applyLatency()
        switch fault.status {
        case .throttle(let seconds): return Self.errorResponse(.throttled(seconds), contentType: errorContentType)
        case .unavailable: return Self.errorResponse(.unavailable, contentType: errorContentType)
        default: break
        }
        let isHead = method == "HEAD" && route.allowedMethods.contains("GET")
        guard route.allowedMethods.contains(method) || isHead else {
            var error = APIError.detail(.methodNotAllowed, "Method \"\(method)\" not allowed.")
            error.headers[.pbAllow] = route.allowedMethods.joined(separator: ", ")
            return Self.errorResponse(error, contentType: errorContentType)
        }
        let call = Call(
            state: state, request: request, route: route, principal: principal, negotiation: negotiation,
            query: Query(request.uri.query), baseURL: baseURL(request))
        var response: Response
        do {
            response = try await call.handle(method: isHead ? "GET" : method)
        } catch let error as APIError {
            response = Self.errorResponse(error, contentType: errorContentType)
        } catch {
            state.logger.error("request failed", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
            response = Self.errorResponse(.serverError, contentType: errorContentType)
        }
        // The change above is saved; the answer is what gets lost, as docs/api-contract.md warns.
        if case .serverError = fault.status { return Self.errorResponse(.serverError, contentType: errorContentType) }
        if fault.reset {
            await context.resetConnection()
            throw ConnectionReset()
        }
        if isHead {
            // HEAD answers what GET would, without the body, as Django does.
            let length = response.headers[.contentLength]
            response.body = .init()
            response.headers[.contentLength] = length
        }
        return response
    }

    /// The base of every link: the configured or listening address, never the request's `Host`.
    func baseURL(_ request: Request) -> String {
        state.linkBase
    }

    static func errorResponse(_ error: APIError, contentType: String) -> Response {
        var headers = error.headers
        headers[.contentType] = contentType
        return Response(
            status: error.status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: error.body.jsonText)))
    }

    static func storageResponse(_ error: StorageError) -> Response {
        var headers = error.headers
        headers[.contentType] = "application/xml"
        return Response(status: error.status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: error.xml)))
    }
}

extension APIError {
    static func throttled(_ seconds: Int) -> APIError {
        var error = APIError.detail(
            .tooManyRequests,
            "Request was throttled. Expected available in \(seconds) second\(seconds == 1 ? "" : "s").")
        error.headers[.pbRetryAfter] = String(seconds)
        return error
    }

    static let unavailable = APIError.detail(.serviceUnavailable, "Service temporarily unavailable, try again later.")
}

extension Call {
    func handle(method: String) async throws -> Response {
        switch (route, method) {
        case (.databases, "GET"): try await listDatabases(organization: nil)
        case (.databases, "POST"): try await createDatabase()
        case (.database(let id), _): try await getDatabase(id)
        case (.organizationDatabases(let organization), _): try await listDatabases(organization: organization)
        case (.assets(let db), "GET"): try await listAssets(db)
        case (.assets(let db), "POST"): try await createAsset(db)
        case (.asset(let db, let id), "GET"): try await getAsset(db, id)
        case (.asset(let db, let id), "PATCH"): try await patchAsset(db, id)
        case (.records(let db), "GET"): try await listRecords(db)
        case (.records(let db), "POST"): try await createRecord(db)
        case (.exportJobs, _): try await createExportJob()
        case (.exportJob(let id), _): try await getExportJob(id)
        case (.recordArchives(let organization, let db), _): try await listArchives(organization: organization, database: db)
        default: throw APIError.detail(.methodNotAllowed, "Method \"\(method)\" not allowed.")
        }
    }
}
