import CCurl
import Foundation

/// Builds a `curl_mime` form: text fields in order, then the file part, which libcurl streams
/// from disk with a known size (so the body has a `Content-Length`, as S3 presigned POSTs need).
enum Multipart {
    /// Returns the form, owned by the caller (`curl_mime_free` after the easy handle is cleaned up).
    static func build(_ form: MultipartForm, on handle: UnsafeMutableRawPointer) throws(TransferError) -> OpaquePointer {
        guard access(form.file.path, R_OK) == 0 else { throw UploadSource.error(errno, path: form.file.path) }
        var info = stat()
        guard stat(form.file.path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            throw TransferError(kind: .fileIO, message: "cannot upload \(form.file.path): not a regular file")
        }
        guard let mime = curl_mime_init(handle) else {
            throw TransferError(kind: .other, message: "curl_mime_init failed")
        }
        var ok = true
        for field in form.fields {
            let part = curl_mime_addpart(mime)
            ok = ok && curl_mime_name(part, field.name) == CURLE_OK
            ok = ok && curl_mime_data(part, field.value, CURL_ZERO_TERMINATED) == CURLE_OK
        }
        let file = curl_mime_addpart(mime)
        ok = ok && curl_mime_name(file, form.file.name) == CURLE_OK
        ok = ok && curl_mime_filedata(file, form.file.path) == CURLE_OK
        ok = ok && curl_mime_filename(file, form.file.filename) == CURLE_OK
        ok = ok && curl_mime_type(file, form.file.contentType) == CURLE_OK
        guard ok else {
            curl_mime_free(mime)
            throw TransferError(kind: .invalidRequest, message: "could not build the multipart form")
        }
        return mime
    }
}
