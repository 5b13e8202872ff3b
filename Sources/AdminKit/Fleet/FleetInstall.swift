import Foundation
import Terminal

/// `adminctl install`: packages through each host's own package manager (apt-get, else dnf,
/// else yum), reported per host and package as installed, already present or failed with the
/// package manager's own message.
public enum FleetInstall {
    /// Names apt and dnf accept (and nothing a shell would read as more than a word).
    public static func problem(_ package: String) -> String? {
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "+-._:=~"))
        guard !package.isEmpty, !package.hasPrefix("-"), package.unicodeScalars.allSatisfy(allowed.contains) else {
            return "\"\(package)\" is not a package name (letters, digits and + - . _ : = ~, not starting with -)"
        }
        return nil
    }

    static let marker = "adminctl-install"

    /// The script each host runs: one `adminctl-install<TAB>package<TAB>state<TAB>message` line per package.
    public static func script(_ packages: [String]) -> String {
        let list = packages.map(Shell.quote).joined(separator: " ")
        return #"""
        set -u
        if command -v apt-get >/dev/null 2>&1; then pm=apt
        elif command -v dnf >/dev/null 2>&1; then pm=dnf
        elif command -v yum >/dev/null 2>&1; then pm=yum
        else printf 'adminctl-install\t*\tfailed\tno apt-get, dnf or yum on this machine\n'; exit 1; fi
        failed=0
        for p in \#(list); do
          if [ $pm = apt ]; then
            if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
              printf 'adminctl-install\t%s\tpresent\t%s\n' "$p" "$(dpkg-query -W -f='${Version}' "$p" 2>/dev/null)"; continue
            fi
            out=$(DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$p" 2>&1); status=$?
          else
            if rpm -q "$p" >/dev/null 2>&1; then printf 'adminctl-install\t%s\tpresent\t%s\n' "$p" "$(rpm -q "$p")"; continue; fi
            out=$($pm install -y -q "$p" 2>&1); status=$?
          fi
          if [ $status -eq 0 ]; then
            printf 'adminctl-install\t%s\tinstalled\t%s\n' "$p" "$pm"
          else
            failed=1
            why=$(printf '%s\n' "$out" | grep -E '^(E:|Error|No match|No package)' | tail -n 2 | tr '\n' ' ' | sed 's/ *$//')
            [ -n "$why" ] || why=$(printf '%s\n' "$out" | tail -n 1)
            printf 'adminctl-install\t%s\tfailed\t%s (exit %s)\n' "$p" "$why" "$status"
          fi
        done
        exit $failed
        """#
    }

    /// One package on one host.
    public struct PackageResult: Sendable, Encodable, Equatable {
        public var package: String
        /// installed, present, failed.
        public var state: String
        public var message: String
    }

    /// The package lines a host printed.
    public static func parse(_ stdout: String) -> [PackageResult] {
        stdout.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: "\t", maxSplits: 3, omittingEmptySubsequences: false).map(String.init)
            guard fields.count >= 3, fields[0] == marker else { return nil }
            return PackageResult(package: fields[1], state: fields[2], message: fields.count > 3 ? fields[3] : "")
        }
    }

    /// `install`'s report: the run, and per host what became of each package.
    public struct Report: Sendable, Encodable {
        public var run: FleetRunReport
        public var packages: [String: [PackageResult]]

        public init(run: FleetRunReport) {
            self.run = run
            packages = Dictionary(run.hosts.map { ($0.host.label, FleetInstall.parse($0.stdout)) }, uniquingKeysWith: { a, _ in a })
        }

        public func render(_ policy: ColorPolicy) -> String {
            var lines: [String] = []
            for host in run.hosts {
                let label = Printable.escaping(host.host.label)
                let results = FleetInstall.parse(host.stdout)
                if results.isEmpty {
                    lines.append("\(label): \(HostLine.colour(host.outcome, host.headline, policy))")
                    continue
                }
                for item in results {
                    let style: Style = item.state == "failed" ? .red : item.state == "installed" ? .green : .dim
                    let state = item.state == "present" ? "already present" : item.state
                    let detail = item.message.isEmpty || item.state == "installed" ? "" : ": " + Printable.escaping(item.message)
                    lines.append("\(label): \(Printable.escaping(item.package)) " + style.apply(state, policy) + detail)
                }
            }
            lines.append(run.renderSummary(policy))
            return lines.joined(separator: "\n")
        }
    }
}
