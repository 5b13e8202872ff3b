import DumpImport
import Foundation
import Nuvola

/// Where a database is and how an instance reaches it: the endpoint from the shared stack's
/// outputs, the database and the RDS-managed master secret from DescribeDBInstances.
public struct DatabaseEndpoint: Sendable, Encodable, Equatable {
    public var identifier: String
    public var address: String
    public var port: Int
    public var database: String
    public var secretARN: String
}

/// The scripts `adminctl db` runs on an instance through Run Command. The database password never
/// appears in any process's argv, log or output: the instance reads the RDS-managed secret from
/// Secrets Manager into a 0600 option file (`--defaults-extra-file`, for the dump tool) or into
/// MYSQL_PWD (for devbox, which reads it from there), in a 0700 directory removed at the end.
/// Exit codes tell adminctl what failed (`Failure`).
public enum DatabaseScripts {
    /// What a script's exit status means.
    public enum Failure: Int32, Sendable {
        case noDumpTool = 20, dump = 21, upload = 22, checksum = 23, credentials = 24
        case noDevbox = 30, load = 31

        var kind: DatabaseError.Kind {
            switch self {
            case .noDumpTool, .dump: .dumpFailed
            case .upload, .checksum: .uploadFailed
            case .credentials: .credentials
            case .noDevbox: .instance
            case .load: .loadFailed
            }
        }
    }

    /// The line a successful dump ends its output with.
    public static let publishedMarker = "adminctl-db-dump published"
    /// The line a scheduled run prints when today's dump is there already.
    public static let skippedMarker = "adminctl-db-dump skipped"

    /// Reads the master secret's username and password into a `[client]` option file.
    static let optionFile = """
        aws secretsmanager get-secret-value --secret-id "$secret" --query SecretString --output text \
          > "$work/secret.json" 2> "$work/aws.err" \
          || fail 24 "could not read the database credentials ($secret) from Secrets Manager: $(tail -c 600 "$work/aws.err")"
        python3 - "$work/secret.json" "$work/client.cnf" <<'ADMINCTL_PY' || fail 24 "the secret $secret holds no username and password"
        import json, sys
        secret = json.load(open(sys.argv[1]))
        quoted = lambda value: '"' + value.replace('\\\\', '\\\\\\\\').replace('"', '\\\\"') + '"'
        with open(sys.argv[2], "w") as handle:
            handle.write("[client]\\nuser=%s\\npassword=%s\\n" % (quoted(secret["username"]), quoted(secret["password"])))
        ADMINCTL_PY
        """

    static func prologue(region: String) -> String {
        """
        set -euo pipefail
        umask 077
        export AWS_REGION=\(Shell.quote(region)) AWS_DEFAULT_REGION=\(Shell.quote(region))
        fail() { local code=$1; shift; echo "adminctl-db: $*" >&2; exit "$code"; }
        """
    }

    /// Dumps the database with `--single-transaction --routines --triggers --hex-blob`, gzips it,
    /// uploads it to `key` (computed on the instance from its clock when nil: the scheduled job)
    /// and only then its `.sha256`. Anything uploaded is removed again (checksum first) when a
    /// later step fails or the script is stopped, so no dump is left without its checksum and no
    /// checksum without its dump. `oncePerDay`: skip when a complete dump of today is published
    /// (the daily job runs on each instance in turn; the first one dumps).
    public static func dump(_ database: DatabaseEndpoint, bucket: String, key: String?, region: String, oncePerDay: Bool = false) -> String {
        """
        \(prologue(region: region))
        bucket=\(Shell.quote(bucket)) secret=\(Shell.quote(database.secretARN))
        host=\(Shell.quote(database.address)) port=\(database.port) database=\(Shell.quote(database.database))
        key=\(Shell.quote(key ?? ""))
        [ -n "$key" ] || key="\(BucketLayout.productionDumps)$(date -u +%Y-%m-%dT%H%M%SZ).sql.gz"
        if \(oncePerDay ? "true" : "false"); then
          today="\(BucketLayout.productionDumps)$(date -u +%Y-%m-%d)T"
          if listed=$(aws s3api list-objects-v2 --bucket "$bucket" --prefix "$today" --query 'Contents[].Key' --output text 2>&1); then
            if printf '%s\\n' "$listed" | tr '\\t' '\\n' | grep -q '\\.sha256$'; then
              echo "\(skippedMarker): a complete dump of today is published"; exit 0
            fi
          else
            echo "adminctl-db: could not list today's dumps ($(printf '%s' "$listed" | tail -c 300)); dumping anyway" >&2
          fi
        fi
        work=$(mktemp -d /tmp/adminctl-db-dump.XXXXXX)
        uploading=0 published=0
        finish() {
          local status=$?
          trap - EXIT
          if [ "$uploading" = 1 ] && [ "$published" = 0 ]; then
            aws s3 rm "s3://$bucket/$key.sha256" --only-show-errors > /dev/null 2>&1 || true
            aws s3 rm "s3://$bucket/$key" --only-show-errors > /dev/null 2>&1 || true
          fi
          rm -rf "$work"
          exit "$status"
        }
        trap finish EXIT
        trap 'exit 130' INT
        trap 'exit 143' TERM
        trap 'exit 129' HUP
        dumper=$(command -v mariadb-dump || command -v mysqldump || true)
        [ -n "$dumper" ] || fail 20 "neither mariadb-dump nor mysqldump is installed on $(hostname)"
        \(optionFile)
        rm -f "$work/secret.json"
        echo "adminctl-db: dumping $database from $host:$port with ${dumper##*/} on $(hostname)"
        set +e
        "$dumper" --defaults-extra-file="$work/client.cnf" --host="$host" --port="$port" --single-transaction \
          --routines --triggers --hex-blob --no-tablespaces "$database" 2> "$work/dump.err" | gzip -c > "$work/dump.sql.gz"
        codes=("${PIPESTATUS[@]}")
        set -e
        [ "${codes[0]}" = 0 ] || fail 21 "${dumper##*/} failed reading $database at $host:$port (exit ${codes[0]}): $(tail -c 800 "$work/dump.err")"
        [ "${codes[1]}" = 0 ] || fail 21 "gzip failed (exit ${codes[1]})"
        zcat "$work/dump.sql.gz" | tail -n 1 | grep -q '^-- Dump completed' \
          || fail 21 "${dumper##*/} stopped before the end of the dump: $(tail -c 800 "$work/dump.err")"
        sha=$(sha256sum "$work/dump.sql.gz" | cut -d' ' -f1)
        size=$(stat -c %s "$work/dump.sql.gz")
        uploading=1
        aws s3 cp "$work/dump.sql.gz" "s3://$bucket/$key" --only-show-errors --content-type application/gzip 2> "$work/aws.err" \
          || fail 22 "could not upload s3://$bucket/$key: $(tail -c 600 "$work/aws.err")"
        printf '%s  %s\\n' "$sha" "${key##*/}" > "$work/sum"
        aws s3 cp "$work/sum" "s3://$bucket/$key.sha256" --only-show-errors --content-type text/plain 2> "$work/aws.err" \
          || fail 23 "could not publish s3://$bucket/$key.sha256: $(tail -c 600 "$work/aws.err")"
        published=1
        echo "\(publishedMarker) key=$key sha256=$sha size=$size"
        """
    }

    /// Loads `dumpKey` into the database with the instance's devbox (`sync-db`: shadow database,
    /// parallel load, checks, sanitising, one atomic swap; the database unchanged on failure),
    /// given a config of its own holding the dumps' location and the sanitising rules. Prints
    /// devbox's JSON report.
    public static func refresh(_ database: DatabaseEndpoint, location: String, dumpKey: String, rules: [SanitizeRule],
                               region: String) -> String {
        let config = "# Written by `adminctl db refresh dev` for this load only.\n[dumps]\nlocation = \(SanitizeRule.tomlString(location))\n"
            + rules.map { "\n" + $0.configTable }.joined()
        return """
        \(prologue(region: region))
        secret=\(Shell.quote(database.secretARN)) dump=\(Shell.quote(dumpKey))
        host=\(Shell.quote(database.address)) port=\(database.port) database=\(Shell.quote(database.database))
        devbox=$(command -v devbox || true)
        [ -n "$devbox" ] || [ ! -x /opt/devbox/current/bin/devbox ] || devbox=/opt/devbox/current/bin/devbox
        [ -n "$devbox" ] || fail 30 "devbox is not installed on $(hostname) (nor on PATH): install it on the dev instances with \
        \\`adminctl cp /path/to/devbox /usr/local/bin/devbox --env dev --mode 755\\` and run this again"
        work=$(mktemp -d /tmp/adminctl-db-refresh.XXXXXX)
        trap 'rm -rf "$work"' EXIT
        mkdir -p "$work/home/.config/devbox"
        cat > "$work/home/.config/devbox/config.toml" <<'ADMINCTL_CONFIG'
        \(config)ADMINCTL_CONFIG
        \(optionFile)
        user=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["username"])' "$work/secret.json")
        MYSQL_PWD=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["password"])' "$work/secret.json")
        export MYSQL_PWD
        rm -f "$work/secret.json" "$work/client.cnf"
        set +e
        HOME="$work/home" XDG_CONFIG_HOME="$work/home/.config" XDG_CACHE_HOME="$work/cache" XDG_STATE_HOME="$work/state" \
          "$devbox" sync-db --dump "$dump" --database-url "mysql://$user@$host:$port/$database" --allow-remote --yes \
          --no-cache --keep 1 --json > "$work/report.json" 2> "$work/progress"
        status=$?
        set -e
        cat "$work/report.json"
        if [ "$status" != 0 ]; then
          tail -c 3000 "$work/progress" >&2
          [ "$status" -gt 128 ] && exit "$status"
          exit 31
        fi
        """
    }
}
