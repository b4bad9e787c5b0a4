import Logging
import Transfer

/// A log handler that escapes messages and metadata (which carry server names, paths and errors)
/// with ``TerminalText/escape(_:)`` before a `StreamLogHandler` writes them to stderr.
struct TerminalSafeLogHandler: LogHandler {
    private var inner: StreamLogHandler

    static func standardError(label: String) -> TerminalSafeLogHandler {
        TerminalSafeLogHandler(inner: StreamLogHandler.standardError(label: label))
    }

    var logLevel: Logger.Level {
        get { inner.logLevel }
        set { inner.logLevel = newValue }
    }

    var metadata: Logger.Metadata {
        get { inner.metadata }
        set { inner.metadata = newValue }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { inner[metadataKey: key] }
        set { inner[metadataKey: key] = newValue }
    }

    func log(event: LogEvent) {
        var event = event
        event.message = "\(TerminalText.escape(event.message.description))"
        event.metadata = event.metadata.map { $0.mapValues(Self.escape) }
        inner.log(event: event)
    }

    private static func escape(_ value: Logger.Metadata.Value) -> Logger.Metadata.Value {
        switch value {
        case .string(let text): .string(TerminalText.escape(text))
        case .stringConvertible(let value): .string(TerminalText.escape(value.description))
        case .array(let values): .array(values.map(escape))
        case .dictionary(let values): .dictionary(values.mapValues(escape))
        }
    }
}
