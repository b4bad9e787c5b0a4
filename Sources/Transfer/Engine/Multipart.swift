import CCurl
import Foundation

/// Builds a `curl_mime` form: text fields in order, then the file part, which libcurl reads through the
/// transfer's ``UploadSource`` (its read and seek callbacks) with a known size, so the body has a
/// `Content-Length` as S3 presigned POSTs need, and the file is read through one descriptor, never reopened
/// by name (`curl_mime_filedata` would reopen it on every rewind).
enum Multipart {
    /// Returns the form, owned by the caller (`curl_mime_free` after the easy handle is cleaned up).
    /// `context` is what the read and seek callbacks receive (the transfer, which holds `source`).
    static func build(_ form: MultipartForm, source: UploadSource, on handle: UnsafeMutableRawPointer,
                      context: UnsafeMutableRawPointer) throws(TransferError) -> OpaquePointer {
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
        ok = ok && curl_mime_data_cb(file, curl_off_t(source.size), curlReadCallback, curlSeekCallback, nil, context) == CURLE_OK
        ok = ok && curl_mime_filename(file, form.file.filename) == CURLE_OK
        ok = ok && curl_mime_type(file, form.file.contentType) == CURLE_OK
        guard ok else {
            curl_mime_free(mime)
            throw TransferError(kind: .invalidRequest, message: "could not build the multipart form")
        }
        return mime
    }
}

extension MultipartForm.FilePart {
    /// The file to read, opening it now if the caller gave a path.
    func open() throws(TransferError) -> UploadFile {
        switch source {
        case .path(let path): try UploadFile(path: path)
        case .file(let file): file
        }
    }
}
