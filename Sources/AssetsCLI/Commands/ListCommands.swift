import ArgumentParser
import Foundation
import PixieBrix

struct DatabasesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "databases", abstract: "List the databases the token can access.")

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
    let all = [header] + rows
    let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
    for row in all {
        let cells = row.enumerated().map { index, cell in
            index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
        }
        printOut(cells.joined(separator: "  "))
    }
}
