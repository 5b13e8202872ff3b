import Foundation
import MySQL

/// `mysql://user:password@host:port/database`, as Symfony's DATABASE_URL writes it.
public struct DatabaseURL: Sendable, Equatable {
    public var endpoint: MySQLEndpoint
    public var database: String

    public init(endpoint: MySQLEndpoint, database: String) {
        self.endpoint = endpoint
        self.database = database
    }

    /// Parses the URL; throws a message that never repeats the password.
    public init(_ text: String) throws(ImportError) {
        guard let components = URLComponents(string: text), let scheme = components.scheme,
              ["mysql", "mariadb"].contains(scheme.lowercased()) else {
            throw ImportError(.usage, "the database URL must look like mysql://user:password@127.0.0.1:3306/name")
        }
        let database = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        guard let user = components.user, !database.isEmpty, !database.contains("/") else {
            throw ImportError(.usage, "the database URL must name a user and a database: mysql://user:password@host:port/name")
        }
        let host = components.host ?? "127.0.0.1"
        endpoint = MySQLEndpoint(host: host.isEmpty ? "127.0.0.1" : host, port: components.port ?? 3306,
                                 user: user.removingPercentEncoding ?? user,
                                 password: components.password.map { $0.removingPercentEncoding ?? $0 } ?? "", database: nil)
        self.database = database.removingPercentEncoding ?? database
    }

    /// True when the server is on this machine (loopback): sync-db replaces data only there
    /// unless told otherwise.
    public var isLocal: Bool {
        let host = endpoint.host.lowercased()
        return host == "localhost" || host == "::1" || host == "[::1]" || host.hasPrefix("127.")
    }

    /// For messages: no password.
    public var display: String { "mysql://\(endpoint.user)@\(endpoint.host):\(endpoint.port)/\(database)" }
}
