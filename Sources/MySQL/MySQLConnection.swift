import Crypto
import Foundation
import Synchronization

/// A MySQL/MariaDB server refused a statement or the connection failed.
public struct MySQLError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable, Equatable {
        /// The server answered with an error packet (`code`, `sqlState`).
        case server
        /// No connection: refused, unreachable, closed mid-way.
        case connection
        /// The server said something this client does not understand.
        case protocolViolation
        /// Authentication needs something this client does not do (e.g. full caching_sha2 over plain TCP).
        case unsupported
    }

    public var kind: Kind
    public var code: Int
    public var sqlState: String
    public var message: String

    public init(kind: Kind, code: Int = 0, sqlState: String = "", message: String) {
        self.kind = kind
        self.code = code
        self.sqlState = sqlState
        self.message = message
    }

    public var description: String {
        kind == .server ? "ERROR \(code) (\(sqlState)): \(message)" : message
    }
}

/// What a statement returned: rows for a query, counts for the rest.
public struct MySQLResult: Sendable {
    public var columns: [String] = []
    public var rows: [[String?]] = []
    public var affectedRows: UInt64 = 0
    public var warnings: Int = 0
}

/// Where and as whom to connect.
public struct MySQLEndpoint: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var user: String
    public var password: String
    public var database: String?

    public init(host: String, port: Int = 3306, user: String, password: String, database: String? = nil) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.database = database
    }
}

/// One connection speaking the MySQL client/server protocol (text protocol, protocol 41) over
/// TCP, enough for bulk loading: connect and authenticate (mysql_native_password, and
/// caching_sha2_password's fast path), run statements, read result sets. Blocking: run it on a
/// thread of its own. No C client library is needed, so devbox links none.
public final class MySQLConnection {
    let socket: PacketSocket
    public let serverVersion: String
    public let connectionID: UInt32

    /// Connects and authenticates; throws `MySQLError` with the server's own message.
    public init(_ endpoint: MySQLEndpoint, timeout: Double = 10) throws(MySQLError) {
        socket = try PacketSocket(host: endpoint.host, port: endpoint.port, timeout: timeout)
        let greeting = try socket.readPacket()
        guard let first = greeting.first else { throw MySQLError(kind: .protocolViolation, message: "empty greeting") }
        if first == 0xFF { throw Self.serverError(greeting) }
        var reader = PacketReader(greeting)
        guard reader.byte() == 10 else { throw MySQLError(kind: .protocolViolation, message: "unsupported protocol version") }
        serverVersion = reader.nullTerminatedString()
        connectionID = reader.uint32()
        var salt = reader.bytes(8)
        reader.skip(1)
        let capabilitiesLow = UInt32(reader.uint16())
        reader.skip(1) // character set
        reader.skip(2) // status
        let capabilitiesHigh = UInt32(reader.uint16())
        let serverCapabilities = capabilitiesLow | capabilitiesHigh << 16
        let authLength = Int(reader.byte())
        reader.skip(10)
        if serverCapabilities & Capability.secureConnection != 0 {
            salt += reader.bytes(max(13, authLength - 8)).prefix { $0 != 0 }
        }
        var plugin = serverCapabilities & Capability.pluginAuth != 0 ? reader.nullTerminatedString() : "mysql_native_password"
        if plugin.isEmpty { plugin = "mysql_native_password" }

        var capabilities = Capability.protocol41 | Capability.secureConnection | Capability.pluginAuth
            | Capability.longPassword | Capability.transactions | Capability.multiResults | Capability.pluginAuthLengthEncoded
        if endpoint.database != nil { capabilities |= Capability.connectWithDB }
        capabilities &= serverCapabilities | Capability.connectWithDB

        var response = PacketWriter()
        response.uint32(capabilities)
        response.uint32(1 << 30) // max packet the client accepts
        response.byte(45) // utf8mb4_general_ci
        response.zeros(23)
        response.nullTerminated(endpoint.user)
        let scramble = try Self.scramble(plugin: plugin, password: endpoint.password, salt: salt)
        response.lengthEncoded(scramble)
        if let database = endpoint.database { response.nullTerminated(database) }
        response.nullTerminated(plugin)
        try socket.writePacket(response.bytes, sequence: 1)
        try Self.finishAuthentication(socket: socket, plugin: plugin, password: endpoint.password)
    }

    deinit {
        var quit = PacketWriter()
        quit.byte(Command.quit)
        try? socket.writePacket(quit.bytes, sequence: 0)
        socket.close()
    }

    /// Runs one statement (or several when the server allows) and returns its result.
    @discardableResult
    public func query(_ sql: String) throws(MySQLError) -> MySQLResult {
        try query(Array(sql.utf8))
    }

    /// Runs a statement given as UTF-8 bytes (bulk INSERTs never become Swift strings).
    @discardableResult
    public func query(_ sql: [UInt8]) throws(MySQLError) -> MySQLResult {
        try sql.withUnsafeBufferPointer { buffer throws(MySQLError) in try query(buffer) }
    }

    public func query(_ sql: UnsafeBufferPointer<UInt8>) throws(MySQLError) -> MySQLResult {
        try socket.writeCommand(Command.query, sql)
        var result = MySQLResult()
        // Multi-result statements (procedures) send several results; read them all.
        while true {
            let more = try readResult(into: &result)
            if !more { return result }
        }
    }

    /// Reads one result; true when the server flags that another follows.
    func readResult(into result: inout MySQLResult) throws(MySQLError) -> Bool {
        let first = try socket.readPacket()
        guard let marker = first.first else { throw MySQLError(kind: .protocolViolation, message: "empty response") }
        switch marker {
        case 0x00:
            var reader = PacketReader(first)
            reader.skip(1)
            result.affectedRows += reader.lengthEncodedInteger()
            _ = reader.lengthEncodedInteger()
            let status = reader.uint16()
            result.warnings += Int(reader.uint16())
            return status & ServerStatus.moreResults != 0
        case 0xFF:
            throw Self.serverError(first)
        case 0xFB:
            throw MySQLError(kind: .unsupported, message: "the server asked for LOCAL INFILE, which devbox does not send")
        default:
            var header = PacketReader(first)
            let columnCount = Int(header.lengthEncodedInteger())
            var columns: [String] = []
            for _ in 0..<columnCount {
                var definition = PacketReader(try socket.readPacket())
                for _ in 0..<4 { definition.skipLengthEncoded() } // catalog, schema, table, org_table
                columns.append(definition.lengthEncodedString())
            }
            var packet = try socket.readPacket()
            if packet.first == 0xFE && packet.count < 9 { packet = try socket.readPacket() } // EOF after columns
            result.columns = columns
            while true {
                if packet.first == 0xFE && packet.count < 9 {
                    var reader = PacketReader(packet)
                    reader.skip(1)
                    result.warnings += Int(reader.uint16())
                    return reader.uint16() & ServerStatus.moreResults != 0
                }
                if packet.first == 0xFF { throw Self.serverError(packet) }
                var reader = PacketReader(packet)
                var row: [String?] = []
                row.reserveCapacity(columnCount)
                for _ in 0..<columnCount { row.append(reader.lengthEncodedNullableString()) }
                result.rows.append(row)
                packet = try socket.readPacket()
            }
        }
    }

    /// Aborts a statement in progress from another thread: the blocked read fails at once.
    public func interrupt() { socket.shutdown() }

    /// A value for a SQL string literal: quotes and backslashes escaped (MySQL's default mode).
    public static func quote(_ value: String) -> String {
        var text = "'"
        for scalar in value.unicodeScalars {
            switch scalar {
            case "'": text += "\\'"
            case "\\": text += "\\\\"
            case "\0": text += "\\0"
            case "\n": text += "\\n"
            case "\r": text += "\\r"
            case "\u{1A}": text += "\\Z"
            default: text.unicodeScalars.append(scalar)
            }
        }
        return text + "'"
    }

    /// An identifier in backquotes.
    public static func identifier(_ name: String) -> String {
        "`" + name.replacingOccurrences(of: "`", with: "``") + "`"
    }

    // MARK: authentication

    static func scramble(plugin: String, password: String, salt: [UInt8]) throws(MySQLError) -> [UInt8] {
        if password.isEmpty { return [] }
        let secret = Array(password.utf8)
        switch plugin {
        case "mysql_native_password":
            // SHA1(password) XOR SHA1(salt + SHA1(SHA1(password)))
            let stage1 = Array(Insecure.SHA1.hash(data: secret))
            let stage2 = Array(Insecure.SHA1.hash(data: stage1))
            let mix = Array(Insecure.SHA1.hash(data: salt.prefix(20) + stage2))
            return zip(stage1, mix).map { $0 ^ $1 }
        case "caching_sha2_password":
            // SHA256(password) XOR SHA256(SHA256(SHA256(password)) + salt)
            let stage1 = Array(SHA256.hash(data: secret))
            let stage2 = Array(SHA256.hash(data: stage1))
            let mix = Array(SHA256.hash(data: stage2 + salt.prefix(20)))
            return zip(stage1, mix).map { $0 ^ $1 }
        default:
            throw MySQLError(kind: .unsupported, message: "the server asks for the \(plugin) authentication plugin, which devbox does not speak; "
                + "give the user mysql_native_password (ALTER USER ... IDENTIFIED VIA mysql_native_password USING PASSWORD('...'))")
        }
    }

    static func finishAuthentication(socket: PacketSocket, plugin: String, password: String) throws(MySQLError) {
        var plugin = plugin
        while true {
            let packet = try socket.readPacket()
            switch packet.first {
            case 0x00?: return
            case 0xFF?: throw serverError(packet)
            case 0xFE?:
                // Auth switch: another plugin, with a fresh salt.
                var reader = PacketReader(packet)
                reader.skip(1)
                plugin = reader.nullTerminatedString()
                let salt = Array(reader.rest().prefix { $0 != 0 })
                try socket.writePacket(try scramble(plugin: plugin, password: password, salt: salt), sequence: socket.nextSequence)
            case 0x01? where plugin == "caching_sha2_password":
                if packet.count > 1 && packet[1] == 3 { continue } // fast auth succeeded; OK follows
                throw MySQLError(kind: .unsupported, message: "the server wants full caching_sha2_password authentication, which needs TLS; "
                    + "log in once with the mysql client to warm its cache, or give the user mysql_native_password")
            default:
                throw MySQLError(kind: .protocolViolation, message: "unexpected packet during authentication")
            }
        }
    }

    static func serverError(_ packet: [UInt8]) -> MySQLError {
        var reader = PacketReader(packet)
        reader.skip(1)
        let code = Int(reader.uint16())
        var state = ""
        if reader.peek() == UInt8(ascii: "#") {
            reader.skip(1)
            state = String(decoding: reader.bytes(5), as: UTF8.self)
        }
        return MySQLError(kind: .server, code: code, sqlState: state, message: String(decoding: reader.rest(), as: UTF8.self))
    }
}

@available(*, unavailable)
extension MySQLConnection: Sendable {}

enum Capability {
    static let longPassword: UInt32 = 1
    static let connectWithDB: UInt32 = 8
    static let protocol41: UInt32 = 512
    static let transactions: UInt32 = 8192
    static let secureConnection: UInt32 = 32768
    static let multiResults: UInt32 = 1 << 17
    static let pluginAuth: UInt32 = 1 << 19
    static let pluginAuthLengthEncoded: UInt32 = 1 << 21
}

enum ServerStatus {
    static let moreResults: UInt16 = 8
}

enum Command {
    static let quit: UInt8 = 1
    static let query: UInt8 = 3
}

/// The password never shows in `"\(endpoint)"`, `String(reflecting:)` or `dump`, so an endpoint
/// can go into a log line or an error as it is.
extension MySQLEndpoint: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// "mysql://user@host:port/database".
    public var description: String {
        "mysql://\(user)@\(host):\(port)" + (database.map { "/\($0)" } ?? "")
    }

    public var debugDescription: String { description }

    public var customMirror: Mirror {
        Mirror(self, children: ["host": host, "port": port, "user": user,
                                "password": password.isEmpty ? "" : "<redacted>", "database": database as Any],
               displayStyle: .struct)
    }
}
