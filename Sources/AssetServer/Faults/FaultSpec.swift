import Foundation

/// Which kind of route a fault applies to.
enum RouteClass: String, Sendable, CaseIterable {
    case api, upload, download
}

/// Fault rates for one route class.
struct FaultRates: Sendable, Equatable {
    var rate429 = 0.0
    var rate500 = 0.0
    var rate503 = 0.0
    var reset = 0.0
    var latencyMilliseconds = 0
    var retryAfter = 1
}

/// A parsed fault spec: comma-separated `[class.]name=value` items.
///
/// Names: `rate429`, `rate500`, `rate503`, `reset` (probabilities 0...1), `latency` (`20ms`, `1s` or a number of
/// milliseconds), `retry_after` (seconds sent in `Retry-After` with 429), and the global `seed` (an integer; same
/// seed, same sequence of faults). An item without a class sets every class; `api.`, `upload.` or `download.`
/// sets one and wins over the unprefixed item whatever the order. An empty spec means no faults.
struct FaultSpec: Sendable, Equatable {
    var rates: [RouteClass: FaultRates] = [:]
    var seed: UInt64?

    var isEmpty: Bool { rates.values.allSatisfy { $0 == FaultRates() } }

    struct ParseError: Error, CustomStringConvertible { var description: String }

    init() {}

    init(parsing spec: String) throws {
        var global: [(String, String)] = []
        var scoped: [(RouteClass, String, String)] = []
        for item in spec.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !item.isEmpty {
            let pair = item.split(separator: "=", maxSplits: 1).map(String.init)
            guard pair.count == 2 else { throw ParseError(description: "expected name=value, got \"\(item)\"") }
            let path = pair[0].split(separator: ".", maxSplits: 1).map(String.init)
            if path.count == 2 {
                guard let routeClass = RouteClass(rawValue: path[0]) else {
                    throw ParseError(description: "unknown route class \"\(path[0])\" (api, upload, download)")
                }
                scoped.append((routeClass, path[1], pair[1]))
            } else if pair[0] == "seed" {
                guard let seed = UInt64(pair[1]) else { throw ParseError(description: "seed must be an integer") }
                self.seed = seed
            } else {
                global.append((pair[0], pair[1]))
            }
        }
        for routeClass in RouteClass.allCases {
            var rates = FaultRates()
            for (name, value) in global { try Self.apply(name, value, to: &rates) }
            for (scope, name, value) in scoped where scope == routeClass { try Self.apply(name, value, to: &rates) }
            self.rates[routeClass] = rates
        }
    }

    private static func apply(_ name: String, _ value: String, to rates: inout FaultRates) throws {
        func probability() throws -> Double {
            guard let number = Double(value), (0...1).contains(number) else {
                throw ParseError(description: "\(name) must be a probability between 0 and 1")
            }
            return number
        }
        switch name {
        case "rate429": rates.rate429 = try probability()
        case "rate500": rates.rate500 = try probability()
        case "rate503": rates.rate503 = try probability()
        case "reset": rates.reset = try probability()
        case "retry_after":
            guard let seconds = Int(value), seconds >= 0 else {
                throw ParseError(description: "retry_after must be a whole number of seconds")
            }
            rates.retryAfter = seconds
        case "latency":
            let milliseconds: Double?
            if value.hasSuffix("ms") {
                milliseconds = Double(value.dropLast(2))
            } else if value.hasSuffix("s") {
                milliseconds = Double(value.dropLast()).map { $0 * 1000 }
            } else {
                milliseconds = Double(value)
            }
            guard let milliseconds, milliseconds >= 0, milliseconds <= 600_000 else {
                throw ParseError(description: "latency must be like 20ms or 1s")
            }
            rates.latencyMilliseconds = Int(milliseconds)
        default: throw ParseError(description: "unknown fault \"\(name)\"")
        }
    }
}
