import Foundation
import Testing

@Suite struct HelpAndVersionTests {
    @Test(arguments: ["devbox", "adminctl"])
    func versionNamesTheToolAndItsLibraries(tool: String) async throws {
        let result = try await CLI.run(tool, ["--version"])
        #expect(result.status == 0)
        let lines = result.output.split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines.first == "\(tool) 0.1.0")
        let libraries = String(lines.last ?? "")
        #expect(libraries.hasPrefix("libgit2 1."))
        #expect(libraries.contains(", libcurl 7."))
        #expect(libraries.contains(", libarchive 3."))
        #expect(result.errorOutput.isEmpty)
    }

    /// The main devbox commands' help, exactly as a user sees it.
    @Test(arguments: [(["--help"], Self.devboxText), (["up", "--help"], Self.upText), (["sync-db", "--help"], Self.syncDBText),
                      (["status", "--help"], Self.statusText), (["branch", "start", "--help"], Self.branchStartText),
                      (["config", "show", "--help"], Self.configShowText), (["init", "--help"], Self.initText),
                      (["pr", "--help"], Self.prText)])
    func devboxHelpTexts(arguments: [String], expected: String) async throws {
        let result = try await CLI.run("devbox", arguments)
        #expect(result.status == 0)
        #expect(result.output == expected)
    }

    /// adminctl's configuration commands' help, exactly as an admin sees it.
    @Test(arguments: [(["init", "--help"], Self.adminctlInitText), (["config", "show", "--help"], Self.adminctlConfigShowText)])
    func adminctlConfigHelpTexts(arguments: [String], expected: String) async throws {
        let result = try await CLI.run("adminctl", arguments)
        #expect(result.status == 0)
        #expect(result.output == expected)
    }

    static let adminctlInitText = """
        OVERVIEW: Write adminctl.toml: project name, region, repository, buckets, sizes
        and limits.

        The region comes from --region, ADMINCTL_AWS_REGION, AWS_REGION or the AWS
        profile; the project name from --name or the repository URL's last path
        component; bucket names from the project name and a random suffix. What cannot
        be guessed is asked on the terminal; --yes takes the suggestions instead, and
        is needed when there is no terminal to ask on. Every setting is written with a
        comment saying what it is for.

        An existing adminctl.toml is never overwritten: `adminctl config show` prints
        what it holds.

        Examples:
          adminctl init
          adminctl init --yes --repo https://github.com/acme/nuvola.git

        Exit status: 0 when the file was written, 1 when it exists or cannot be
        written, 2 for a usage error (a bad --name or --region, or --yes missing).

        USAGE: adminctl init [--yes] [--repo <url>] [--region <region>] [--name <name>] [--dir <path>] [--json]

        OPTIONS:
          --yes                   Take the suggested answers instead of asking.
          --repo <url>            The app's git repository URL.
          --region <region>       AWS region of the shared infrastructure.
          --name <name>           Project name: 3-20 lowercase letters, digits and '-'.
          --dir <path>            Where to write adminctl.toml (default: the current
                                  directory).
          --json                  Print one JSON document on stdout instead of text
                                  (stable field names, for scripts).
          --version               Show the version.
          -h, --help              Show help information.


        """

    static let adminctlConfigShowText = """
        OVERVIEW: Print every setting with its value and origin.

        Later sources win: built-in default, adminctl.toml (the nearest one from the
        current directory upwards, else ~/.config/adminctl/adminctl.toml), ADMINCTL_*
        variables, then a command's flags. Keys are `section.name` in the file; the
        variable is ADMINCTL_SECTION_NAME. `adminctl init` writes the file.

        Examples:
          adminctl config show
          ADMINCTL_PROD_MAX_SIZE=12 adminctl config show --json

        Exit status: 0, or 1 when a value breaks its rule (the file and line, or the
        variable, are named).

        USAGE: adminctl config show [--json]

        OPTIONS:
          --json                  Print one JSON document on stdout instead of text
                                  (stable field names, for scripts).
          --version               Show the version.
          -h, --help              Show help information.


        """

    @Test func adminctlDoctorHelp() async throws {
        let result = try await CLI.run("adminctl", ["doctor", "--help"])
        #expect(result.status == 0)
        #expect(result.output == """
            OVERVIEW: Check credentials, region, endpoint and clock, and ask STS whose
            identity they carry.

            Credentials are looked for as the AWS SDKs do: AWS_ACCESS_KEY_ID and
            AWS_SECRET_ACCESS_KEY, then the profile named by AWS_PROFILE in
            ~/.aws/credentials and ~/.aws/config (static keys, credential_process, or
            role_arn assumed through STS), then EC2 instance metadata (IMDSv2). Secrets are
            never printed.

            The last check calls STS GetCallerIdentity: --json reports the caller's arn and
            account. A bad signature, unknown key, expired token, clock skew or unreachable
            endpoint is explained with the step that fixes it.

            AWS_ENDPOINT_URL (or AWS_ENDPOINT_URL_STS) points adminctl at another endpoint,
            such as the local simulated cloud started by `Tests/Fleet/fleet up`.

            Examples:
              adminctl doctor
              AWS_PROFILE=admin adminctl doctor --region eu-west-3 --json

            Exit status: 0 when nothing failed (warnings allowed), 1 when a check failed.

            USAGE: adminctl doctor [--region <region>] [--timeout <seconds>] [--json]

            OPTIONS:
              --region <region>       AWS region (overrides AWS_REGION and the profile).
              --timeout <seconds>     Seconds the endpoint may take to answer before it
                                      counts as unreachable. (default: 10.0)
              --json                  Print one JSON document on stdout instead of text
                                      (stable field names, for scripts).
              --version               Show the version.
              -h, --help              Show help information.


            """)
    }

    @Test(arguments: ["devbox", "adminctl"])
    func usageErrorsExitTwoWithUsageOnStderr(tool: String) async throws {
        let result = try await CLI.run(tool, ["no-such-command"])
        #expect(result.status == 2)
        #expect(result.output.isEmpty)
        #expect(result.errorOutput.contains("Error: Unexpected argument 'no-such-command'"))
        #expect(result.errorOutput.contains("Usage: \(tool) <subcommand>"))
    }

    static let devboxText = """
        OVERVIEW: Your Nuvola development machine: the workspace, the app's containers
        and production data.

        On a new machine: `devbox doctor` checks what devbox needs, `devbox init`
        clones the repository (on new_features), `devbox up` starts the app and its
        database and prints the URL. Every morning, `devbox sync-db` loads the latest
        production dump into your database. Start work with `devbox branch start
        <topic>`; `devbox status` shows where you stand; `devbox pr` pushes your
        commits and opens the pull request into new_features.

        Settings come from /etc/devbox/config.toml, ~/.config/devbox/config.toml and
        DEVBOX_* variables: `devbox config show` lists them with their origin.

        Exit status: 0 on success, 1 when the operation failed, 2 for a usage error.

        USAGE: devbox <subcommand>

        OPTIONS:
          --version               Show the version.
          -h, --help              Show help information.

        SUBCOMMANDS:
          init                    Clone the app's repository into the workspace, or
                                  check the existing workspace.
          up                      Start the app and its database in containers, and
                                  wait until both are healthy.
          status                  Show the workspace's branch against new_features and
                                  the state of each container.
          sync-db                 Load the latest production dump into your local
                                  database, safely.
          down                    Stop and remove the app's containers; the database's
                                  data stays unless --volumes.
          logs                    Show the containers' logs (all services, or one).
          exec                    Run a command inside a service's container.
          db                      The local database: a SQL shell, and the snapshots
                                  sync-db keeps.
          branch                  Start feature branches from new_features, keep them
                                  current, list them.
          push                    Push the current feature branch to origin and make it
                                  track origin's branch.
          pr                      Push the current branch and open its pull request
                                  into new_features (or find the open one).
          config                  Show devbox's settings and where each value comes
                                  from.
          doctor                  Check this machine has what devbox needs, and say how
                                  to fix what is missing.

          See 'devbox help <subcommand>' for detailed help.

        """

    static let prText = """
        OVERVIEW: Push the current branch and open its pull request into new_features
        (or find the open one).

        One command from commits to a pull request: devbox checks the branch, fetches
        origin, pushes what origin lacks, then opens the pull request with base
        new_features (repository.integration_branch) and head the current branch. Title
        and body come from the commits like `gh pr create --fill`: one commit gives its
        subject and body, several give the branch name and the list of subjects.

        Running it again never makes a mess: when a pull request for this branch is
        already open, devbox says so, pushes any new commits, and prints its URL (exit
        0); --title and --body then update it, --reviewer asks more people.

        Refused, with the command to type: a detached HEAD, being on new_features or
        the production branch, no commits ahead of origin/new_features, uncommitted
        changes (they would not be part of the pull request; --allow-dirty goes on
        anyway).

        The repository is github.repository, else derived from origin's URL; the API is
        GITHUB_API_URL (GitHub Enterprise) else https://api.github.com; the token is
        the one git uses (DEVBOX_GIT_TOKEN, GH_TOKEN, GITHUB_TOKEN,
        ~/.config/devbox/git-token).

        Examples:
          devbox pr
          devbox pr --draft --reviewer octocat
          devbox pr --title "Fix invoice rounding" --body-file notes.md

        Prints the pull request's URL on stdout. --json fields: action (created,
        existing, updated), number, url, state, title, head, base, draft, createdAt,
        updatedAt, reviewersRequested, push (as `devbox push --json`).

        Exit status: 0 opened or already open, 1 refused or failed, 2 usage error.

        USAGE: devbox pr [--title <title>] [--body <body>] [--body-file <file>] [--draft] [--reviewer <login> ...] [--allow-dirty] [--json] <subcommand>

        OPTIONS:
          --title <title>         The pull request's title (default: from the commits).
          --body <body>           The pull request's description (default: from the
                                  commits).
          --body-file <file>      Read the description from a file ('-' for stdin).
          --draft                 Open it as a draft.
          --reviewer <login>      Ask this GitHub user to review (repeatable).
          --allow-dirty           Go on although uncommitted changes will not be part
                                  of it.
          --json                  Print one JSON document on stdout instead of text
                                  (stable field names, for scripts).
          --version               Show the version.
          -h, --help              Show help information.

        SUBCOMMANDS:
          status                  Show the current branch's pull request: state,
                                  reviews, mergeable, checks.

          See 'devbox help pr <subcommand>' for detailed help.

        """

    static let statusText = """
        OVERVIEW: Show the workspace's branch against new_features and the state of
        each container.

        Works offline and fetches nothing: ahead/behind are against the last fetched
        origin/new_features (`devbox branch update` fetches).

        --json fields:
          workspace          the workspace's path
          branch             the checked-out branch (absent when HEAD is detached)
          integrationBranch  where features are integrated (new_features)
          ahead, behind      commits HEAD has that origin/new_features lacks, and
                             the other way round
          dirty              true when there are uncommitted changes
          changes            the changed and untracked files
          check              the branch check: kind (integration, feature,
                             production, basedOnProduction, detached), branch,
                             integrationBranch, productionBranch, ahead, behind,
                             productionCommits, dirty, integrationKnown
          containers         per service: service, container, state, health,
                             exitCode, lastHealthOutput
          containersProblem  why the containers could not be read (engine down);
                             absent when they could
          url                the app's address on this machine

        USAGE: devbox status [--json]

        OPTIONS:
          --json                  Print one JSON document on stdout instead of text
                                  (stable field names, for scripts).
          --version               Show the version.
          -h, --help              Show help information.


        """

    static let branchStartText = """
        OVERVIEW: Create <topic> from origin/new_features and switch to it, carrying
        uncommitted changes.

        Fetches origin first. When your uncommitted changes conflict with new_features,
        nothing changes and devbox says which files; commit or stash them and run
        again.

        On a detached HEAD holding commits that no branch has, the branch starts from
        HEAD instead, so those commits are kept (devbox names them). The name must
        follow git's rules for branch names (`git check-ref-format --branch`).

        USAGE: devbox branch start <topic> [--json]

        ARGUMENTS:
          <topic>                 The new branch's name, e.g. fix-invoice-rounding.

        OPTIONS:
          --json                  Print one JSON document on stdout instead of text
                                  (stable field names, for scripts).
          --version               Show the version.
          -h, --help              Show help information.


        """

    static let configShowText = """
        OVERVIEW: Print every setting with its value and origin.

        Later sources win: built-in default, /etc/devbox/config.toml (provisioning),
        ~/.config/devbox/config.toml (yours), DEVBOX_* variables, then a command's
        flags. Keys are `section.name` in the TOML files; the variable is
        DEVBOX_SECTION_NAME. Passwords in URLs are not shown. Ports must be 1-65535,
        compose.health_timeout and dumps.max_age_hours at least 1, paths absolute (or
        ~/...).

        USAGE: devbox config show [--json]

        OPTIONS:
          --json                  Print one JSON document on stdout instead of text
                                  (stable field names, for scripts).
          --version               Show the version.
          -h, --help              Show help information.


        """

    static let initText = """
        OVERVIEW: Clone the app's repository into the workspace, or check the existing
        workspace.

        Clones repository.url into workspace.path (default ~/nuvola) on the integration
        branch (default new_features). When the workspace exists, checks it is a clone
        of that repository and changes nothing. A non-empty directory that is not that
        clone is never touched.

        HTTPS remotes use a token from DEVBOX_GIT_TOKEN, GH_TOKEN or
        ~/.config/devbox/git-token; SSH remotes use your ssh-agent. --repo and --dir
        given here are remembered in ~/.config/devbox/config.toml, relative paths as
        absolute ones; a --repo URL with a password in it is refused (it would be
        stored in clear): put the token in ~/.config/devbox/git-token instead.

        Examples:
          devbox init
          devbox init --repo https://github.com/acme/nuvola.git --dir ~/src/nuvola

        USAGE: devbox init [--repo <url>] [--dir <path>] [--branch <branch>] [--json]

        OPTIONS:
          --repo <url>            The repository to clone (overrides repository.url).
          --dir <path>            Where to clone it (overrides workspace.path).
          --branch <branch>       The branch to check out (default: the integration
                                  branch).
          --json                  Print one JSON document on stdout instead of text
                                  (stable field names, for scripts).
          --version               Show the version.
          -h, --help              Show help information.


        """

    static let upText = """
        OVERVIEW: Start the app and its database in containers, and wait until both are
        healthy.

        Checks your branch against origin/new_features, builds the images when they are
        missing or the compose files changed, starts the project, waits for the health
        checks (the database answers a query, the app answers through the web server)
        and prints the app's URL and how to reach the database. The database password
        is generated once and written to the workspace's .env.local (mode 0600).

        On failure it names the service that failed, its health check output and last
        log lines, and stops the project; your data stays.

        Exit status: 0 when everything is healthy, 1 otherwise.

        USAGE: devbox up [--json]

        OPTIONS:
          --json                  Print one JSON document on stdout instead of text
                                  (stable field names, for scripts).
          --version               Show the version.
          -h, --help              Show help information.


        """

    static let syncDBText = """
        OVERVIEW: Load the latest production dump into your local database, safely.

        Finds the newest complete dump under dumps.location (s3://bucket/prefix/; a
        dump is complete once its SHA-256 is published beside it) and streams it from
        S3 through libarchive (.sql, .gz, .bz2, .xz, .zst, tar and zip) into a shadow
        database over several connections, keeping a copy in ~/.cache/devbox/dumps on
        the way (a verified copy is reused, an interrupted download resumed). Only when
        every row is in, the checksum matches and the row counts agree does one atomic
        RENAME TABLE swap it into place; the previous data becomes a snapshot (`devbox
        db snapshots`, `devbox db restore`). A failure at any point, or Ctrl-C before
        the swap, leaves your database exactly as it was.

        Sanitisation rules ([[sanitize]] in config.toml) are applied before the swap. A
        dump is data: statements dump tools do not write, or that name another
        database, are refused with their line, and the loader connections can touch
        only the shadow. One sync-db or restore at a time per database. A dump without
        a checksum must end with mysqldump's `-- Dump completed` line
        (--allow-incomplete for dumps known to lack it); a local file's checksum may
        stand beside it as <file>.sha256.

        Ctrl-C, SIGTERM or SIGHUP stop it and drop the partial import (exit 130, 143,
        129); once the swap has begun it is finished instead, and the summary says so.

        Examples:
          devbox sync-db
          devbox sync-db --dump 2026-11-28T030000Z.sql.gz --keep 1
          DEVBOX_DATABASE_URL=mysql://root@127.0.0.1:3306/nuvola devbox sync-db --file
        ~/prod.sql.zst
          zcat dump.sql.gz | devbox sync-db --file -

        USAGE: devbox sync-db [--dump <key>] [--file <path>] [--database-url <mysql://user@host:port/db>] [--allow-remote] [--yes] [--no-cache] [--keep <keep>] [--connections <connections>] [--defer-indexes] [--allow-incomplete] [--list] [--json]

        OPTIONS:
          --dump <key>            A dump under dumps.location (key or s3:// URL)
                                  instead of the newest.
          --file <path>           A local dump file instead of S3; - reads standard
                                  input.
          --database-url <mysql://user@host:port/db>
                                  The database to replace (default:
                                  DEVBOX_DATABASE_URL, else the one `devbox up` runs).
                                  Leave the password out and set MYSQL_PWD: other users
                                  can read command lines.
          --allow-remote          Allow a database that is not on this machine (asks
                                  first unless --yes).
          -y, --yes               Do not ask (for scripts).
          --no-cache              Stream from S3 straight into the import; keep nothing
                                  on disk.
          --keep <keep>           How many snapshots of previous data to keep (0 keeps
                                  none). (default: 2)
          --connections <connections>
                                  Loader connections in parallel (default: CPU count,
                                  at least 2).
          --defer-indexes         Add secondary indexes and foreign keys after the rows
                                  (faster for big tables with random-order keys).
          --allow-incomplete      Load a dump that lacks the closing `-- Dump
                                  completed` line and has no checksum.
          --list                  List the published dumps and exit.
          --json                  Print one JSON document on stdout instead of text
                                  (stable field names, for scripts).
          --version               Show the version.
          -h, --help              Show help information.


        """
}
