import Foundation
import WireFormat

/// The emulated presigned storage: blobs as files under `--data/blobs`, indexed in the metadata store, served by
/// this server's `/_storage/` routes with SigV4 links signed by the server's secret.
struct FileBlobStore: BlobStore {
    let store: Store
    let signer: Signer
    let links: LinkBase

    func uploadForm(key: String, now: Micros, maxSize: Int64) -> (url: String, fields: [(String, String)]) {
        ("\(links.value)/_storage/upload/", signer.uploadFields(key: key, now: now, maxSize: maxSize))
    }

    func downloadURL(key: String, now: Micros) -> String {
        signer.downloadURL(baseURL: links.value, key: key, now: now)
    }

    func size(of key: String) async throws -> Int64? { try await store.object(key)?.size }

    func store(file path: String, key: String, size: Int64, md5: String, contentType: String, now: Micros)
        async throws
    {
        try await store.commitBlob(
            temporaryPath: path, key: key, size: size, md5: md5, contentType: contentType, now: now)
    }

    func store(
        file path: String, key: String, size: Int64, md5: String, contentType: String, now: Micros,
        within db: any SQLExecutor
    ) async throws -> BlobCleanup {
        let name = try store.adoptTemporaryFile(path)
        let replaced = try await Store.insertObject(
            db, key: key, file: name, size: size, md5: md5, contentType: contentType, now: now)
        guard let replaced else { return BlobCleanup() }
        let replacedPath = store.blobPath(replaced)
        return BlobCleanup { unlink(replacedPath) }
    }

    func contents(of key: String) async throws -> [UInt8]? {
        guard let object = try await store.object(key) else { return nil }
        return try [UInt8](Data(contentsOf: URL(fileURLWithPath: store.blobPath(object.file))))
    }
}
