import Foundation

/// The bash a rolling deploy sends to instances (AWS-RunShellScript), one script per step:
/// stage (download, verify, unpack, link shared paths, warm the cache), migrate, switch (local
/// health check, atomic `current` switch, graceful PHP-FPM reload, keep N releases) and revert.
/// Each script prints `adminctl: key=value` lines the deploy reads back; exit codes say which
/// step failed. The layout is the one the instances' boot script (`UserData.InstallRelease` in
/// shared.yaml) makes: `/srv/app/releases/<id>`, `current -> releases/<id>`, relative links only
/// (an absolute link inside an instance of the simulator would point at the host's /srv).
public struct DeployScript: Sendable {
    /// `/srv/app` on instances; a test's directory in unit tests.
    public var appRoot: String
    public var bucket: String
    public var region: String?
    /// Linked into each release from `<app>/shared`: "dir/" a directory, "file" a file.
    public var sharedPaths: [String]
    public var healthPath: String
    public var keepReleases: Int

    public init(appRoot: String = "/srv/app", bucket: String, region: String?, sharedPaths: [String], healthPath: String,
                keepReleases: Int) {
        self.appRoot = appRoot
        self.bucket = bucket
        self.region = region
        self.sharedPaths = sharedPaths
        self.healthPath = healthPath
        self.keepReleases = keepReleases
    }

    /// Exit codes of the scripts, so that a failure says which step it was.
    public enum Failure: Int32, Sendable {
        case download = 3, checksum = 4, warmup = 5, notStaged = 6, health = 7, missingRelease = 8, migration = 9

        public static func of(exitCode: Int?) -> Failure? { exitCode.flatMap { Failure(rawValue: Int32($0)) } }
    }

    /// The release ids adminctl writes (`Release.isValidID`) and `none`, the boot script's placeholder.
    static func checked(_ id: String) -> String {
        precondition(Release.isValidID(id), "release id \(id) is not valid")
        return id
    }

    var header: String {
        """
        set -euo pipefail
        umask 022
        app=\(Shell.quote(appRoot))
        say() { echo "adminctl: $*"; }
        work=$(mktemp -d)
        trap 'rm -rf "$work"' EXIT

        """
    }

    /// The link from a release's `path` to `shared/path`, relative: `var/log` → `../../../shared/var/log`.
    static func sharedLink(_ path: String) -> String {
        let clean = path.hasSuffix("/") ? String(path.dropLast()) : path
        let depth = clean.split(separator: "/").count + 1
        return String(repeating: "../", count: depth) + "shared/" + clean
    }

    /// Stage: puts `release` in `releases/<id>` verified against `sha256` (skipped when it is
    /// there and verified), links the shared paths, warms Symfony's cache when the release has a
    /// console with cache:warmup. Says the release `current` pointed to before (`current=`).
    /// `url`, a presigned GET of the artifact, is fetched with curl (no AWS CLI to start: on 30
    /// instances at once its start-up was most of the time); without one, `aws s3 cp` with the
    /// instance's role. Either way the bytes must have the release record's SHA-256.
    public func stage(_ release: Release, url: String? = nil) -> String { header + stageBody(release, url: url) }

    /// Stage then switch in one script: a rollback's wave (no health check: the release served
    /// before), or an instance that joined during a deploy (checked like any wave).
    public func stageAndSwitch(_ release: Release, url: String? = nil, healthCheck: Bool) -> String {
        header + stageBody(release, url: url) + switchBody(release.id, healthCheck: healthCheck) + prune
    }

    func stageBody(_ release: Release, url: String?) -> String {
        let id = Self.checked(release.id)
        let key = release.key, sha = release.sha256
        let regionFlag = region.map { "--region \(Shell.quote($0)) " } ?? ""
        // The URL (its signature, and a session token when the admin's credentials are temporary)
        // goes to curl as its config on stdin, not in its argv where `ps` shows it.
        let fetch = url.map { "curl -fsS --retry 3 -o \"$work/release.tar.gz\" --config - <<< \(Shell.quote("url = \"\($0)\""))" }
            ?? "aws s3 cp \(regionFlag)--only-show-errors \(Shell.quote("s3://\(bucket)/\(key)")) \"$work/release.tar.gz\""
        var script = """
            release=\(id)
            dest="$app/releases/$release"
            expected=\(Shell.quote(sha))
            current=$(readlink "$app/current" 2>/dev/null || true)
            say "current=${current#releases/}"
            if [[ -f $dest/.adminctl-sha256 && $(cat "$dest/.adminctl-sha256") == "$expected" ]]; then
              say "staged=reused"
            else
              if ! \(fetch); then
                echo "stage: could not download s3://\(bucket)/\(key)" >&2
                exit \(Failure.download.rawValue)
              fi
              actual=$(sha256sum "$work/release.tar.gz" | awk '{print $1}')
              if [[ $actual != "$expected" ]]; then
                echo "stage: \(key) has SHA-256 $actual; the release record says $expected" >&2
                exit \(Failure.checksum.rawValue)
              fi
              rm -rf "$dest.partial"
              mkdir -p "$dest.partial"
              tar -xzf "$work/release.tar.gz" -C "$dest.partial" --no-same-owner
              mkdir -p "$dest.partial/var"
              rm -rf "$dest"
              mv "$dest.partial" "$dest"
              say "staged=downloaded"
            fi
            mkdir -p "$app/shared"

            """
        for path in sharedPaths {
            let directory = path.hasSuffix("/")
            let clean = directory ? String(path.dropLast()) : path
            let link = Self.sharedLink(path)
            let target = "\"$dest\"/\(Shell.quote(clean))"
            let shared = "\"$app/shared\"/\(Shell.quote(clean))"
            let condition = directory ? "mkdir -p \(shared); true" : "[[ -e \(shared) ]]"
            script += """
                if \(condition); then
                  if [[ $(readlink \(target) 2>/dev/null) != \(Shell.quote(link)) ]]; then
                    mkdir -p "$(dirname \(target))"
                    rm -rf \(target)
                    ln -sfn \(Shell.quote(link)) \(target)
                  fi
                fi

                """
        }
        script += """
            if [[ ! -f $dest/.adminctl-warm && -f $dest/bin/console ]] \\
               && (cd "$dest" && php bin/console list --raw 2>&1 || true) | grep -qE '^ *cache:warmup( |$)'; then
              if ! (cd "$dest" && APP_ENV="${APP_ENV:-prod}" php bin/console cache:warmup --no-interaction); then
                echo "stage: bin/console cache:warmup failed in releases/$release" >&2
                exit \(Failure.warmup.rawValue)
              fi
              touch "$dest/.adminctl-warm"
              say "warmed=yes"
            fi
            if id apache >/dev/null 2>&1; then chown -R apache:apache "$dest/var"; fi
            echo "$expected" > "$dest/.adminctl-sha256"
            say "staged=$release"

            """
        return script
    }

    /// Migrations, on one instance after staging: `bin/console doctrine:migrations:migrate
    /// --no-interaction` when the release has a console and Doctrine migrations.
    public func migrate(_ release: Release) -> String {
        header + """
            dest="$app/releases/\(Self.checked(release.id))"
            cd "$dest"
            if [[ -f bin/console ]] && { compgen -G 'migrations/*.php' >/dev/null || [[ -f config/packages/doctrine_migrations.yaml ]]; }; then
              say "migrations=run"
              if ! APP_ENV="${APP_ENV:-prod}" php bin/console doctrine:migrations:migrate --no-interaction; then
                echo "migrate: bin/console doctrine:migrations:migrate failed in releases/\(release.id)" >&2
                exit \(Failure.migration.rawValue)
              fi
            else
              say "migrations=none"
            fi

            """
    }

    /// Switch: health-checks the staged release locally when `healthCheck` (PHP's built-in
    /// server on a free loopback port serving its public/, GET `healthPath` must answer 200),
    /// then renames a new `current` link over the old one, records the old one as `previous`,
    /// reloads PHP-FPM gracefully where systemd runs it (OPcache and the realpath cache then
    /// drop the old code) and keeps the newest `keepReleases` releases.
    public func switchTo(_ id: String, healthCheck: Bool) -> String {
        header + switchBody(id, healthCheck: healthCheck) + prune
    }

    func switchBody(_ id: String, healthCheck: Bool) -> String {
        var script = """
            release=\(Self.checked(id))
            dest="$app/releases/$release"
            if [[ ! -d $dest || ( $release != none && ! -f $dest/.adminctl-sha256 ) ]]; then
              echo "switch: releases/$release is not on this instance" >&2
              exit \(Failure.notStaged.rawValue)
            fi

            """
        if healthCheck {
            script += """
                health_path=\(Shell.quote(healthPath))
                code=000
                for attempt in 1 2 3 4 5; do
                  port=$(( 20000 + RANDOM % 30000 ))
                  (cd "$dest/public" && exec php -S "127.0.0.1:$port" -t "$dest/public") >"$work/server.log" 2>&1 &
                  server=$!
                  for i in $(seq 1 60); do
                    kill -0 "$server" 2>/dev/null || break
                    # Asked only once PHP says it listens: a port another server holds would
                    # otherwise be answered by that server (PHP then exits; another port is tried).
                    if grep -q "Development Server (http://127.0.0.1:$port) started" "$work/server.log" 2>/dev/null; then
                      code=$(curl -s -o "$work/body" -w '%{http_code}' --max-time 10 "http://127.0.0.1:$port$health_path") || true
                      [[ $code != 000 ]] && break
                    fi
                    sleep 0.1
                  done
                  kill "$server" 2>/dev/null || true
                  wait "$server" 2>/dev/null || true
                  [[ $code != 000 ]] && break
                done
                if [[ $code != 200 ]]; then
                  { head -c 1000 "$work/body" 2>/dev/null; echo; } | sed '/^$/d' >&2 || true
                  echo "health check: GET $health_path of releases/$release answered $code, not 200; not switched" >&2
                  exit \(Failure.health.rawValue)
                fi
                say "health=200"

                """
        }
        script += """
            previous=$(readlink "$app/current" 2>/dev/null || true)
            previous=${previous#releases/}
            if [[ $previous != "$release" ]]; then
              ln -sfn "releases/$release" "$app/current.adminctl-next"
              mv -T "$app/current.adminctl-next" "$app/current"
              if [[ -n $previous ]]; then
                ln -sfn "releases/$previous" "$app/previous.adminctl-next"
                mv -T "$app/previous.adminctl-next" "$app/previous"
              fi
            fi
            say "switched=$release from=$previous"
            if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet php-fpm 2>/dev/null; then
              systemctl reload php-fpm
              say "reloaded=php-fpm"
            fi

            """
        return script
    }

    /// Keeps `keepReleases` releases: the current and previous ones always, then the newest
    /// others (ids sort by build time); the boot script's `none` goes first.
    var prune: String {
        """
        keep=\(keepReleases)
        cur=$(readlink "$app/current" 2>/dev/null || true); cur=${cur#releases/}
        prev=$(readlink "$app/previous" 2>/dev/null || true); prev=${prev#releases/}
        kept=0
        for name in "$cur" "$prev"; do [[ -n $name && -d $app/releases/$name ]] && kept=$((kept + 1)); done
        [[ $cur == "$prev" ]] && kept=1
        removed=()
        while IFS= read -r name; do
          [[ -n $name && -d $app/releases/$name ]] || continue
          if [[ $name == "$cur" || $name == "$prev" ]]; then continue; fi
          if [[ $name != none && $name != *.partial ]] && (( kept < keep )); then kept=$((kept + 1)); continue; fi
          rm -rf "${app:?}/releases/$name"
          removed+=("$name")
        done < <(ls -1 "$app/releases" | grep -vx none | LC_ALL=C sort -r; echo none)
        say "pruned=${removed[*]:-}"

        """
    }
}
