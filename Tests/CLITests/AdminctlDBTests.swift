import AWS
import Foundation
import Host
import Testing
import TestSupport

/// `adminctl db dump prod` and `adminctl db refresh dev` on a simulated cloud with the shared
/// stack up: its prod and dev DB instances are real MariaDB servers behind their endpoints
/// (Tests/Fleet/simulator/databases.py), reached from the app instances through Run Command.
@Suite struct AdminctlDBTests {
    typealias Project = AdminctlInfraTests.Project

    /// A DB instance as the simulator serves it, reached from the test through its socket as root.
    struct Database {
        var id: String
        var endpoint: String
        var address: String
        var port: Int
        var name: String
        var socket: String

        @discardableResult
        func sql(_ statements: String, database: String? = nil) async throws -> String {
            var arguments = ["--socket=\(socket)", "-uroot", "--batch", "--skip-column-names"]
            if let database { arguments.append(database) }
            let result = try await ChildProcess.run("mariadb", arguments, input: Array(statements.utf8), timeout: .seconds(300))
            guard result.succeeded else { throw DBTestError( "mariadb: \(result.errorOutput)") }
            return result.output.trimmingCharacters(in: .whitespacesAndNewlines)
        }

        /// Base tables with their row counts and CHECKSUM TABLE values.
        func summary(of database: String? = nil) async throws -> [String: String] {
            let schema = database ?? name
            var result: [String: String] = [:]
            let tables = try await sql("SELECT table_name FROM information_schema.tables WHERE table_schema = '\(schema)' "
                                       + "AND table_type = 'BASE TABLE' ORDER BY table_name")
            for table in tables.split(separator: "\n") where table != "devbox_objects" {
                let count = try await sql("SELECT COUNT(*) FROM `\(schema)`.`\(table)`")
                let checksum = try await sql("CHECKSUM TABLE `\(schema)`.`\(table)`").split(separator: "\t").last.map(String.init) ?? ""
                result[String(table)] = "\(count) \(checksum)"
            }
            return result
        }
    }

    /// The shared stack's outputs, its DB instances and the AWS calls the tests check with.
    struct Cloud {
        var project: Project
        var outputs: [String: String]
        var client: AWSClient { project.fleet.client() }
        var bucket: String { outputs["DumpsBucketName"]! }

        init(_ project: Project) async throws {
            self.project = project
            outputs = try #require(try await CloudFormation(project.fleet.client()).stack(project.stack)?.outputs)
        }

        func control(_ route: String) async throws -> Any {
            let result = try await ChildProcess.run("curl", ["-sf", "\(project.fleet.endpoint)/_fleet/\(route)"], timeout: .seconds(60))
            #expect(result.succeeded, "\(result.errorOutput)")
            return try JSONSerialization.jsonObject(with: Data(result.standardOutput))
        }

        /// The environment's database, its server started (the simulator starts it on the first connection).
        func database(_ environment: String) async throws -> Database {
            let address = try #require(outputs[environment == "prod" ? "ProdDatabaseAddress" : "DevDatabaseAddress"])
            for _ in 0..<60 {
                let listed = (try await control("databases") as? [String: Any])?["databases"] as? [[String: Any]] ?? []
                let entry = try #require(listed.first { $0["endpoint"] as? String == address }, "\(listed)")
                if let socket = entry["socket"] as? String {
                    return Database(id: entry["id"] as! String, endpoint: address, address: entry["address"] as! String,
                                    port: entry["port"] as! Int, name: entry["database"] as! String, socket: socket)
                }
                // Any connection starts it: wait for the server's greeting.
                _ = try await ChildProcess.run("python3", ["-c", "import socket, sys; s = socket.create_connection((sys.argv[1], int(sys.argv[2])), 120); s.recv(4)",
                                                           entry["address"] as! String, String(entry["port"] as! Int)], timeout: .seconds(200))
                try await Task.sleep(for: .milliseconds(500))
            }
            throw DBTestError( "the \(environment) database did not start")
        }

        /// The master password RDS keeps for the environment (only to check it never shows).
        func password(_ environment: String) async throws -> String {
            let arn = try #require(outputs[environment == "prod" ? "ProdDatabaseSecretArn" : "DevDatabaseSecretArn"])
            let result = try await ChildProcess.run(TestEngine.repositoryRoot + "/.venv/bin/python", ["-c", """
                import boto3, json, sys
                print(json.loads(boto3.client("secretsmanager").get_secret_value(SecretId=sys.argv[1])["SecretString"])["password"])
                """, arn], environment: project.fleet.environment, timeout: .seconds(60))
            #expect(result.succeeded, "\(result.errorOutput)")
            return result.output.trimmingCharacters(in: .whitespacesAndNewlines)
        }

        /// Every key under dumps/prod/.
        func dumpKeys() async throws -> [String] {
            var keys: [String] = []
            for try await page in S3(client).listObjects(bucket: bucket, prefix: "dumps/prod/") { keys += page.objects.map(\.key) }
            return keys.sorted()
        }

        func groupMembers(_ environment: String) async throws -> [String] {
            let name = try #require(outputs[environment == "prod" ? "ProdAutoScalingGroupName" : "DevAutoScalingGroupName"])
            return try #require(try await AutoScaling(client).group(name)).instances.map(\.id)
        }

        /// devbox on the dev instances, installed as the refresh's error says: with `adminctl cp`.
        func installDevbox() async throws {
            let copied = try await project.run(["cp", BuildProducts.executable("devbox").path, "/usr/local/bin/devbox",
                                                "--env", "dev", "--mode", "755"])
            #expect(copied.status == 0, "\(copied.errorOutput)")
        }

        /// The production-like fixture (tables, a view, a trigger, routines) in the prod database.
        func seed(_ prod: Database, rows: Int = 30, tables: Int = 2) async throws {
            let scratch = try TemporaryDirectory()
            defer { scratch.remove() }
            let made = try await ChildProcess.run("python3", [DumpFixture.script, "--socket", prod.socket, "--database", prod.name,
                                                              "--out", scratch.file("seed.sql"), "--tables", String(tables), "--rows", String(rows), "--objects"],
                                                  timeout: .seconds(300))
            #expect(made.succeeded, "\(made.errorOutput)")
        }

        /// Python with boto3 and the fleet's admin credentials; its standard output.
        @discardableResult
        func python(_ code: String) async throws -> String {
            let result = try await ChildProcess.run(TestEngine.repositoryRoot + "/.venv/bin/python", ["-c", code],
                                                    environment: project.fleet.environment, timeout: .seconds(60))
            #expect(result.succeeded, "\(result.errorOutput)")
            return result.output
        }

        func boto(_ code: String) async throws { try await python("import boto3\n" + code) }
    }

    static let sanitize = """

        [[sanitize]]
        table = "customer"
        column = "email"
        action = "email"
        """

    @Test func aDumpPublishedByAdminctlIsWhatSyncDBAndTheDevRefreshLoad() async throws {
        let project = try await AdminctlInfraDownTests.created()
        defer { project.stop() }
        try (try String(contentsOfFile: project.file, encoding: .utf8) + Self.sanitize).write(toFile: project.file, atomically: true, encoding: .utf8)
        let cloud = try await Cloud(project)
        let prod = try await cloud.database("prod")
        try await cloud.seed(prod)
        let source = try await prod.summary()
        #expect(source.count == 4, "\(source)")  // customer, audit_log and two fixture tables

        let dumped = try await project.run(["db", "dump", "prod", "--json"])
        #expect(dumped.status == 0, "\(dumped.errorOutput)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(dumped.standardOutput)) as? [String: Any])
        let key = try #require(report["key"] as? String)
        #expect(key.range(of: #"^dumps/prod/\d{4}-\d{2}-\d{2}T\d{6}Z\.sql\.gz$"#, options: .regularExpression) != nil, "\(key)")
        #expect(report["url"] as? String == "s3://\(cloud.bucket)/\(key)")
        #expect(try await cloud.groupMembers("prod").contains(report["instance"] as? String ?? "-"))
        // What S3 holds is what sync-db's discovery reads: the dump, and its sha256sum line after it.
        let s3 = S3(cloud.client)
        let bytes = try await s3.getObject(bucket: cloud.bucket, key: key)
        let checksum = String(decoding: try await s3.getObject(bucket: cloud.bucket, key: key + ".sha256"), as: UTF8.self)
        let sha = try #require(try await ChildProcess.run("sha256sum", [], input: bytes).output.split(separator: " ").first.map(String.init))
        #expect(report["sha256"] as? String == sha && report["size"] as? Int == bytes.count)
        #expect(checksum == "\(sha)  \((key as NSString).lastPathComponent)\n")
        let text = String(decoding: try await ChildProcess.run("gzip", ["-dc"], input: bytes).standardOutput, as: UTF8.self)
        #expect(text.contains("CREATE TABLE `customer`") && text.contains("TRIGGER") && text.contains("FUNCTION `double_it`"))
        #expect(text.hasSuffix("\n") && text.split(separator: "\n").last?.hasPrefix("-- Dump completed") == true)
        // The password never shows: not in adminctl's output, not in the command Run Command kept.
        let password = try await cloud.password("prod")
        let history = try await cloud.python("""
            import boto3, json
            ssm = boto3.client("ssm")
            for command in ssm.list_commands()["Commands"]:
                print(json.dumps(command["Parameters"]))
                for item in ssm.list_command_invocations(CommandId=command["CommandId"], Details=True)["CommandInvocations"]:
                    print(json.dumps(item["CommandPlugins"], default=str))
            """)
        #expect(password.count >= 20 && !dumped.output.contains(password) && !dumped.errorOutput.contains(password))
        #expect(!history.contains(password) && history.contains("secretsmanager get-secret-value"))

        // devbox sync-db on a developer's machine finds that very dump and loads it.
        let local = try await TestDatabase.shared()
        let name = "synced_" + UUID().uuidString.prefix(8).lowercased()
        let home = try TemporaryDirectory()
        defer { home.remove() }
        var env = project.fleet.environment
        env["HOME"] = home.path
        env["DEVBOX_SYSTEM_CONFIG"] = home.file("etc.toml")
        env["DEVBOX_DUMPS_LOCATION"] = "s3://\(cloud.bucket)/dumps/prod/"
        env["DEVBOX_DATABASE_URL"] = local.url(name)
        let synced = try await CLI.run("devbox", ["sync-db", "--json"], environment: env, timeout: .seconds(300))
        #expect(synced.status == 0, "\(synced.errorOutput)")
        let syncReport = try #require(try JSONSerialization.jsonObject(with: Data(synced.standardOutput)) as? [String: Any])
        #expect((syncReport["dump"] as? [String: Any])?["source"] as? String == "s3://\(cloud.bucket)/\(key)")
        #expect((syncReport["dump"] as? [String: Any])?["sha256"] as? String == sha)
        let localTables = Database(id: "local", endpoint: "", address: "", port: local.port, name: name, socket: local.socket)
        #expect(try await localTables.summary() == source)
        _ = try? await local.sql("DROP DATABASE `\(name)`")

        // The dev database gets it too, through devbox on a dev instance, sanitised by adminctl.toml's rule.
        try await cloud.installDevbox()
        let refreshed = try await project.run(["db", "refresh", "dev", "--yes", "--json"])
        #expect(refreshed.status == 0, "\(refreshed.errorOutput)")
        let refresh = try #require(try JSONSerialization.jsonObject(with: Data(refreshed.standardOutput)) as? [String: Any])
        #expect(refresh["dump"] as? String == "s3://\(cloud.bucket)/\(key)")
        #expect(refresh["sanitized"] as? [String] == ["customer.email: email"], "\(refresh)")
        #expect(try await cloud.groupMembers("dev").contains(refresh["instance"] as? String ?? "-"))
        let dev = try await cloud.database("dev")
        var loaded = try await dev.summary()
        var expected = source
        loaded["customer"] = nil
        expected["customer"] = nil
        #expect(loaded == expected)
        #expect(try await dev.sql("SELECT COUNT(*) FROM customer", database: dev.name) == "30")
        #expect(try await dev.sql("SELECT COUNT(*) FROM customer WHERE email NOT LIKE '%@example.invalid'", database: dev.name) == "0")
        #expect(try await dev.sql("SELECT double_it(21)", database: dev.name) == "42")
        let devPassword = try await cloud.password("dev")
        #expect(!refreshed.output.contains(devPassword) && !refreshed.errorOutput.contains(devPassword))

        // Keep N: two more dumps with --keep 2 leave the newest two, each with its checksum.
        let second = try await project.json(["db", "dump", "prod", "--keep", "2"])
        #expect((second["pruned"] as? [String])?.isEmpty == true)
        let third = try await project.json(["db", "dump", "prod", "--keep", "2"])
        #expect(third["pruned"] as? [String] == [key])
        let newest = [second["key"] as! String, third["key"] as! String]
        #expect(try await cloud.dumpKeys() == newest.flatMap { [$0, $0 + ".sha256"] }.sorted())
    }

    @Test func theDailyScheduleDumpsOnceADayFromTheProdInstances() async throws {
        let project = try await AdminctlInfraDownTests.created()
        defer { project.stop() }
        let cloud = try await Cloud(project)
        try await cloud.seed(try await cloud.database("prod"), rows: 10)
        let refused = try await project.run(["db", "dump", "prod", "--schedule", "--at", "25:00"])
        #expect(refused.status == 2 && refused.errorOutput.contains("--at takes a UTC time of day as HH:MM"))

        let set = try await project.json(["db", "dump", "prod", "--schedule", "--at", "02:30"])
        let name = "\(project.name)-prod-dump"
        #expect(set["name"] as? String == name && set["expression"] as? String == "cron(30 2 * * ? *)" && set["scheduled"] as? Bool == true)
        let schedule = try #require(try await Scheduler(cloud.client).schedule(name))
        #expect(schedule.ScheduleExpression == "cron(30 2 * * ? *)" && schedule.ScheduleExpressionTimezone == "UTC")
        #expect(schedule.FlexibleTimeWindow.Mode == "OFF" && schedule.State == "ENABLED")
        #expect(schedule.Target.Arn == "arn:aws:scheduler:::aws-sdk:ssm:sendCommand")
        #expect(schedule.Target.RoleArn == cloud.outputs["DumpSchedulerRoleArn"])
        // Setting it again replaces it.
        #expect(try await project.run(["db", "dump", "prod", "--schedule"]).status == 0)
        #expect(try await Scheduler(cloud.client).schedule(name)?.ScheduleExpression == "cron(0 3 * * ? *)")

        // The simulator stores schedules but never fires them (moto's Scheduler): the test plays
        // Scheduler at 03:00 and makes the schedule's own call, twice (two days' runs on one day).
        let input = try #require(try await Scheduler(cloud.client).schedule(name)?.Target.Input)
        let play = """
            import boto3, json, sys, time
            ssm = boto3.client("ssm")
            command = ssm.send_command(**json.loads(sys.argv[1]))["Command"]["CommandId"]
            for _ in range(600):
                items = ssm.list_command_invocations(CommandId=command, Details=True)["CommandInvocations"]
                if items and all(item["Status"] not in ("Pending", "InProgress", "Delayed") for item in items):
                    break
                time.sleep(0.2)
            for item in items:
                print(item["Status"], " | ".join(line for line in item["CommandPlugins"][0]["Output"].splitlines() if "adminctl-db" in line))
            """
        func runSchedule() async throws -> [String] {
            let result = try await ChildProcess.run(TestEngine.repositoryRoot + "/.venv/bin/python", ["-c", play, input],
                                                    environment: project.fleet.environment, timeout: .seconds(300))
            #expect(result.succeeded, "\(result.errorOutput)")
            return result.output.split(separator: "\n").map(String.init)
        }
        let first = try await runSchedule()
        #expect(first.count == 2 && first.allSatisfy { $0.hasPrefix("Success ") }, "\(first)")
        #expect(first.filter { $0.contains("adminctl-db-dump published key=dumps/prod/") }.count == 1, "\(first)")
        #expect(first.filter { $0.contains("adminctl-db-dump skipped") }.count == 1, "\(first)")
        let keys = try await cloud.dumpKeys()
        #expect(keys.count == 2 && keys[1] == keys[0] + ".sha256", "\(keys)")
        let second = try await runSchedule()
        #expect(second.allSatisfy { $0.contains("adminctl-db-dump skipped") }, "\(second)")
        #expect(try await cloud.dumpKeys() == keys)

        let removed = try await project.json(["db", "dump", "prod", "--unschedule"])
        #expect(removed["removed"] as? Bool == true && removed["scheduled"] as? Bool == false)
        #expect(try await Scheduler(cloud.client).schedule(name) == nil)
        let again = try await project.run(["db", "dump", "prod", "--unschedule"])
        #expect(again.status == 0 && again.output.contains("There was no schedule \(name)"))
    }

    @Test func failuresAreClearAndLeaveNothingHalfPublished() async throws {
        let project = try await AdminctlInfraDownTests.created()
        defer { project.stop() }
        let cloud = try await Cloud(project)
        let prod = try await cloud.database("prod")
        // Big enough (over 8 MiB gzipped) for the CLI to upload the dump in parts and the checksum in one PutObject.
        try await cloud.seed(prod, rows: 2500, tables: 12)
        var environment = ["HOME": project.directory.file("home"), "ADMINCTL_POLL_SECONDS": "0.2"]
        for key in ["AWS_ENDPOINT_URL", "AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] {
            environment[key] = project.fleet.environment[key]
        }

        // Nothing published yet: the refresh says so and changes nothing.
        let nothing = try await project.run(["db", "refresh", "dev", "--yes"])
        #expect(nothing.status == 1 && nothing.errorOutput.contains("no complete dump under s3://\(cloud.bucket)/dumps/prod/"),
                "\(nothing.errorOutput)")
        #expect(nothing.errorOutput.contains("adminctl db dump prod"))
        let unknown = try await project.run(["db", "refresh", "dev", "--dump", "2020-01-01T000000Z.sql.gz", "--yes"])
        #expect(unknown.status == 1 && unknown.errorOutput.contains("there is no dump s3://\(cloud.bucket)/dumps/prod/2020-01-01T000000Z.sql.gz"),
                "\(unknown.errorOutput)")
        let noTerminal = try await project.run(["db", "refresh", "dev"])
        #expect(noTerminal.status == 2 && noTerminal.errorOutput.contains("add --yes"))
        let devOnly = try await project.run(["db", "dump", "dev"])
        #expect(devOnly.status == 2 && devOnly.errorOutput.contains("Only prod is dumped"))

        // The dump's upload fails: said, and nothing is left under dumps/prod/.
        try await project.fleet.inject(kind: "error500", service: "s3", operation: "UploadPart", count: 100)
        let upload = try await project.run(["db", "dump", "prod"])
        try await project.fleet.clearFaults()
        #expect(upload.status == 1 && upload.errorOutput.contains("could not upload s3://\(cloud.bucket)/dumps/prod/"), "\(upload.errorOutput)")
        #expect(try await cloud.dumpKeys() == [])
        // The dump is up but its checksum cannot be published: the dump is removed again (the
        // versioned bucket shows it was there), so no dump is left that is not complete.
        try await project.fleet.inject(kind: "error500", service: "s3", operation: "PutObject", count: 100)
        let checksum = try await project.run(["db", "dump", "prod"])
        try await project.fleet.clearFaults()
        #expect(checksum.status == 1 && checksum.errorOutput.contains(".sql.gz.sha256"), "\(checksum.errorOutput)")
        #expect(checksum.errorOutput.contains("could not publish s3://\(cloud.bucket)/dumps/prod/"), "\(checksum.errorOutput)")
        #expect(try await cloud.dumpKeys() == [])
        let versions = try await S3(cloud.client).listObjectVersions(bucket: cloud.bucket, prefix: "dumps/prod/").all { $0 }
        #expect(versions.contains { $0.key.hasSuffix(".sql.gz") && !$0.isDeleteMarker }, "\(versions)")
        #expect(versions.contains { $0.key.hasSuffix(".sql.gz") && $0.isDeleteMarker }, "\(versions)")
        #expect(!versions.contains { $0.key.hasSuffix(".sha256") && !$0.isDeleteMarker }, "\(versions)")

        // The database does not answer (stopped): the dump tool's failure, nothing published.
        try await cloud.boto("boto3.client('rds').stop_db_instance(DBInstanceIdentifier='\(prod.id)')")
        let stopped = try await project.run(["db", "dump", "prod"])
        try await cloud.boto("boto3.client('rds').start_db_instance(DBInstanceIdentifier='\(prod.id)')")
        #expect(stopped.status == 1 && stopped.errorOutput.contains("mariadb-dump failed"), "\(stopped.errorOutput)")
        #expect(stopped.errorOutput.contains("\(prod.endpoint)"), "\(stopped.errorOutput)")
        #expect(try await cloud.dumpKeys() == [])

        // Ctrl-C while the dump waits on a locked table: exit 130, the command cancelled, nothing published.
        let lock = Task { try await prod.sql("LOCK TABLES customer WRITE; SELECT SLEEP(120);", database: prod.name) }
        try await Task.sleep(for: .seconds(1))
        let (process, stderr) = try CLI.launch("adminctl", ["db", "dump", "prod"], environment: environment,
                                               directory: project.directory.file("project"))
        var running = false
        for _ in 0..<300 where !running {
            try await Task.sleep(for: .milliseconds(200))
            let processes = try await prod.sql("SELECT COUNT(*) FROM information_schema.processlist WHERE state LIKE '%metadata lock%'")
            running = processes != "0"
        }
        #expect(running, "the dump never reached the locked table")
        process.interrupt()
        let interrupted = await CLI.finish(process, stderr)
        _ = try? await prod.sql("KILL (SELECT id FROM information_schema.processlist WHERE info LIKE 'SELECT SLEEP%' LIMIT 1)")
        let sleeping = try await prod.sql("SELECT id FROM information_schema.processlist WHERE info LIKE 'SELECT SLEEP(120)%'")
        for id in sleeping.split(separator: "\n") { _ = try? await prod.sql("KILL \(id)") }
        _ = try? await lock.value
        #expect(interrupted.status == 130, "\(interrupted.errorOutput)")
        #expect(interrupted.errorOutput.contains("Interrupted."))
        #expect(try await cloud.dumpKeys() == [])

        // A dump that works after all that; a refresh on dev instances without devbox says how to install it.
        let works = try await project.run(["db", "dump", "prod"])
        #expect(works.status == 0, "\(works.errorOutput)")
        let noDevbox = try await project.run(["db", "refresh", "dev", "--yes"])
        #expect(noDevbox.status == 1 && noDevbox.errorOutput.contains("devbox is not installed on ip-"), "\(noDevbox.errorOutput)")
        #expect(noDevbox.errorOutput.contains("adminctl cp /path/to/devbox /usr/local/bin/devbox --env dev --mode 755"))
        #expect(noDevbox.errorOutput.contains("The dev database was left as it was."))

        // No InService prod instance at all.
        let group = try #require(cloud.outputs["ProdAutoScalingGroupName"])
        try await AutoScaling(cloud.client).updateGroup(name: group, minSize: 0, desiredCapacity: 0)
        let none = try await project.run(["db", "dump", "prod"])
        #expect(none.status == 1 && none.errorOutput.contains("No prod instance can run this"), "\(none.errorOutput)")
        #expect(try await cloud.dumpKeys().count == 2)
    }
}

struct DBTestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
