/// Whether a workbook of a given amount of sheet XML is written, and as which kind of zip.
///
/// ZIPFoundation writes zip64 records by itself once an entry's size or an offset reaches 2^32 - 1 (4 GiB); the
/// sheet is the one entry that can get there, and it is deflated (XML never grows under deflate), so its
/// uncompressed size decides. Past the operator's `limits.maxXLSXBytes`, if one is set, the export is refused.
enum WorkbookSize: Equatable {
    case zip
    case zip64
    case refused(limit: UInt64)

    /// The largest size a plain zip records in its 32-bit fields; from here on the entry needs zip64.
    static let zip64Threshold = Int64(UInt32.max)

    static func decide(sheetBytes: Int64, limit: UInt64?) -> WorkbookSize {
        if let limit, sheetBytes > 0, UInt64(sheetBytes) > limit { return .refused(limit: limit) }
        return sheetBytes >= zip64Threshold ? .zip64 : .zip
    }

    /// The sheet XML has passed the operator's limit.
    struct TooLarge: Error, CustomStringConvertible {
        var limit: UInt64
        var description: String { "the sheet data would exceed \(limit) bytes (limits.maxXLSXBytes)" }
    }
}
