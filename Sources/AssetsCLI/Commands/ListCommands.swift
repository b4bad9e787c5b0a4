import ArgumentParser
import Foundation
import PixieBrix
import Transfer
import WireFormat

struct DatabasesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "databases",
        abstract: "List or create databases.",
        subcommands: [ListDatabases.self, CreateDatabase.self],
        defaultSubcommand: ListDatabases.self
    )
}

struct ListDatabases: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the databases the token can access.")

    @OptionGroup var global: GlobalOptions

    @Option(name: .long, help: "Only this organization's databases.")
    var organization: String?

    func run() async throws {
        try await runCommand {
            try await withClient(global) { client, _ in
                let databases = try await client.databases(organization: organization)
                if global.json {
                    for database in databases {
                        printOut(#"{"id":\#(jsonString(database.id)),"name":\#(jsonString(database.name)),"type":\#(jsonString(database.type)),"organization_id":\#(database.organizationID.map(jsonString) ?? "null"),"num_records":\#(database.numRecords)}"#)
                    }
                } else {
                    printTable(["ID", "NAME", "TYPE", "RECORDS"],
                               databases.map { [$0.id, $0.name, $0.type, String($0.numRecords)] })
                }
                return .success
            }
        }
    }
}

struct CreateDatabase: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Create a database and print its id."
    )

    @OptionGroup var global: GlobalOptions

    @Option(name: .long, help: "The new database's name.")
    var name: String

    @Option(name: .long, help: "Asset or Key-Value.")
    var type = "Asset"

    func validate() throws {
        guard ["Asset", "Key-Value"].contains(type) else { throw ValidationError("--type must be Asset or Key-Value") }
    }

    func run() async throws {
        try await runCommand {
            try await withClient(global) { client, _ in
                let database = try await client.createDatabase(name: name, type: type)
                if global.json {
                    printOut(#"{"id":\#(jsonString(database.id)),"name":\#(jsonString(database.name)),"type":\#(jsonString(database.type))}"#)
                } else {
                    printOut(database.id)
                }
                return .success
            }
        }
    }
}

struct ListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ls", abstract: "List a database's assets.")

    @OptionGroup var global: GlobalOptions

    @Option(name: .long, help: "The database's id.")
    var database: String

    func run() async throws {
        try await runCommand {
            try await withClient(global) { client, _ in
                var rows: [[String]] = []
                try await client.assets(database: database) { page in
                    for asset in page {
                        if global.json {
                            printOut(#"{"id":\#(jsonString(asset.id)),"filename":\#(jsonString(asset.filename)),"is_uploaded":\#(asset.isUploaded),"created_at":\#(jsonString(Timestamp.format(asset.createdAt))),"updated_at":\#(jsonString(Timestamp.format(asset.updatedAt)))}"#)
                        } else {
                            rows.append([asset.id, asset.filename, asset.isUploaded ? "yes" : "no",
                                         Timestamp.format(asset.createdAt), Timestamp.format(asset.updatedAt)])
                        }
                    }
                }
                if !global.json { printTable(["ID", "FILENAME", "UPLOADED", "CREATED", "UPDATED"], rows) }
                return .success
            }
        }
    }
}

/// Prints rows under a header, columns padded to their widest cell.
func printTable(_ header: [String], _ rows: [[String]]) {
    // Escaped before measuring, so that columns line up with what the terminal shows.
    let all = ([header] + rows).map { $0.map(TerminalText.escape) }
    let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
    for row in all {
        let cells = row.enumerated().map { index, cell in
            index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
        }
        printOut(cells.joined(separator: "  "))
    }
}
