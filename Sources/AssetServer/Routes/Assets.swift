import Hummingbird
import WireFormat

extension Call {
    func listAssets(_ databaseID: String) async throws -> Response {
        _ = try await database(databaseID)
        let window = negotiation.paginates ? try PageWindow.from(query, maxSize: 1000) : nil
        let ordering = AssetOrdering(query["ordering"])
        let (rows, total) = try await store.assets(databaseID: databaseID, page: window, ordering: ordering)
        let items = rows.map { $0.json(baseURL: baseURL) }
        guard let window else { return jsonResponse(.ok, .array(items)) }
        return try pageResponse(items: items, window: window, total: total, hasNext: window.offset + rows.count < total)
    }

    func createAsset(_ databaseID: String) async throws -> Response {
        _ = try await database(databaseID)
        let body = try await bodyObject(allowed: ["filename"])
        var errors: [JSONValue.Member] = []
        guard let filename = Validate.string(body["filename"], field: "filename", maxLength: 255, errors: &errors)
        else {
            throw APIError(status: .badRequest, body: .object(errors))
        }
        let now = self.now
        let asset = try await store.createAsset(databaseID: databaseID, filename: filename, now: now)
        let form = state.blobs.uploadForm(key: asset.key, now: now, maxSize: state.limits.maxUploadSize)
        return jsonResponse(
            .created,
            .object([
                "asset": asset.json(baseURL: baseURL),
                "upload_url": .string(form.url),
                "fields": .object(form.fields.map { .init(key: $0.0, value: .string($0.1)) }),
            ]))
    }

    /// `?meta=true` answers the asset; otherwise a `302` to a signed storage link once it is uploaded.
    func getAsset(_ databaseID: String, _ assetID: String) async throws -> Response {
        _ = try await database(databaseID)
        guard let asset = try await store.asset(assetID, databaseID: databaseID) else { throw APIError.notFound }
        if query["meta"]?.lowercased() == "true" { return jsonResponse(.ok, asset.json(baseURL: baseURL)) }
        guard asset.isUploaded else { throw APIError.notFound }
        var headers: HTTPFields = [:]
        headers[.location] = state.blobs.downloadURL(key: asset.key, now: now)
        return Response(status: .found, headers: headers)
    }

    func patchAsset(_ databaseID: String, _ assetID: String) async throws -> Response {
        _ = try await database(databaseID)
        guard let asset = try await store.asset(assetID, databaseID: databaseID) else { throw APIError.notFound }
        let body = try await bodyObject(allowed: ["is_uploaded"])
        var isUploaded: Bool?
        if let value = body["is_uploaded"] {
            guard case .bool(let flag) = value else { throw APIError.field("is_uploaded", "Must be a valid boolean.") }
            isUploaded = flag
        }
        if isUploaded == true {
            let size: Int64?
            do {
                size = try await state.blobs.size(of: asset.key)
            } catch {
                state.logger.error("blob check failed", metadata: ["key": "\(asset.key)", "error": "\(error)"])
                throw APIError.detail(.badGateway, "Storage could not be reached to check the upload.")
            }
            guard size != nil else {
                throw APIError.field("is_uploaded", "The asset has not been uploaded to storage yet.")
            }
        }
        let row = try await store.markAsset(asset, isUploaded: isUploaded, now: now)
        return jsonResponse(.ok, row.json(baseURL: baseURL))
    }
}
