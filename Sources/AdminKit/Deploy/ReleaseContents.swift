import Archive
import Foundation
import Host

/// What a release's tarball holds that a deploy plans by, read without unpacking it.
public enum ReleaseContents {
    /// A console and Doctrine migrations (`bin/console` with `migrations/*.php` or
    /// `config/packages/doctrine_migrations.yaml`): the test the instances' migrate step makes.
    public static func hasMigrations(tarball path: String) async throws -> Bool {
        try await Blocking.run { _ in
            let reader = try ArchiveReader(path: path)
            var console = false, migrations = false
            while let entry = try reader.nextEntry() {
                var name = entry.path
                if name.hasPrefix("./") { name.removeFirst(2) }
                if name == "bin/console" { console = true }
                if name == "config/packages/doctrine_migrations.yaml"
                    || (name.hasPrefix("migrations/") && name.hasSuffix(".php") && !name.dropFirst("migrations/".count).contains("/")) {
                    migrations = true
                }
            }
            return console && migrations
        }
    }
}
