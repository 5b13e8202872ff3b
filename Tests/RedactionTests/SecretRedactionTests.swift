@testable import AWS
@testable import DevboxKit
import DumpImport
import Foundation
import Git
import GitHub
import HTTP
import MySQL
import SigV4
import Testing

/// Every value in the package that holds a secret, printed every way Swift prints a value:
/// the secret must show in none of them, so a value can go into a log line or an error as it is.
@Suite struct SecretRedactionTests {
    /// Each secret is unique and contains this marker, so one search finds any of them.
    static let marker = "hunter2"

    static func secret(_ name: String) -> String { "\(marker)-\(name)" }

    /// What `"\(x)"`, `String(reflecting: x)` and `dump(x)` print.
    static func renderings(of value: Any) -> [(way: String, text: String)] {
        var dumped = ""
        dump(value, to: &dumped)
        return [("\"\\(x)\"", "\(value)"), ("String(reflecting:)", String(reflecting: value)), ("dump", dumped)]
    }

    static func holders() throws -> [(name: String, value: Any)] {
        let endpoint = MySQLEndpoint(host: "127.0.0.1", port: 3306, user: "ada", password: secret("mysql"), database: "app")
        let credentials = Credentials(accessKeyID: "AKIAEXAMPLEKEY123456", secretAccessKey: secret("aws-secret"),
                                      sessionToken: secret("aws-session"), source: .environment("AWS_ACCESS_KEY_ID"))
        var headers = HTTPHeaders()
        headers.add("Authorization", "Bearer " + secret("bearer"))
        headers.add("X-Amz-Security-Token", secret("header-session"))
        headers.add("Accept", "application/json")
        let request = HTTPRequest(method: .post, url: "https://ada:\(secret("userinfo"))@api.example.com/x?X-Amz-Signature=\(secret("signature"))",
                                  headers: headers, body: .string("Value=\(secret("secure-string"))"))
        let response = HTTPResponse(status: 200, headers: ["Set-Cookie": "session=\(secret("cookie"))"],
                                    body: Array("<SecretAccessKey>\(secret("sts-body"))</SecretAccessKey>".utf8),
                                    url: "https://sts.amazonaws.com/", metrics: HTTPMetrics())
        let awsRequest = AWSRequest(service: .ssm, operation: "PutParameter", headers: headers,
                                    body: .string("{\"Value\":\"\(secret("parameter"))\"}"), errorFormat: .json)
        let environment = ["AWS_SECRET_ACCESS_KEY": secret("env-secret"), "AWS_SESSION_TOKEN": secret("env-session"),
                           "AWS_ACCESS_KEY_ID": "AKIAEXAMPLEKEY123456", "AWS_PROFILE": "ops", "HOME": "/nonexistent"]
        let shared = SharedConfig(config: ConfigFile(parsing: "[profile ops]\nregion = eu-west-3\n"),
                                  credentials: ConfigFile(parsing: "[ops]\naws_access_key_id = AKIAEXAMPLEKEY123456\n"
                                                          + "aws_secret_access_key = \(secret("credentials-file"))\n"))
        let http = HTTPClient(environment: [:])
        let configuration = AWSConfiguration(region: Region("eu-west-3"), credentials: StaticCredentialsProvider(credentials),
                                             environment: environment, shared: shared, http: http)
        let accessKey = IAM.AccessKey(userName: "ada", accessKeyID: "AKIAEXAMPLEKEY123456",
                                      secretAccessKey: secret("new-access-key"), status: "Active", created: nil)
        let compose = ComposeProject(name: "nuvola", directory: "/srv/app", flavour: .dockerPlugin,
                                     engine: ContainerEngine(kind: .docker, executable: "/usr/bin/docker", socketPath: "/var/run/docker.sock"),
                                     environment: ["NUVOLA_DB_PASSWORD": secret("compose-db"), "PATH": "/usr/bin"])
        let workspace = Workspace(config: DevboxConfig.defaults(home: "/nonexistent"),
                                  environment: ["GH_TOKEN": secret("gh-token"), "HOME": "/nonexistent"])
        let github = GitHubClient(http: http, baseURL: "https://api.github.com", repository: GitHubRepository(owner: "acme", name: "nuvola"),
                                  token: GitHubToken(value: secret("github-client"), source: "GH_TOKEN"))
        return [
            ("MySQLEndpoint", endpoint),
            ("GitHubToken", GitHubToken(value: secret("github-token"), source: "GH_TOKEN")),
            ("Workspace", workspace),
            ("GitHubClient", github),
            ("DatabaseURL", try DatabaseURL("mysql://ada:\(secret("database-url"))@127.0.0.1:3306/app")),
            ("Credentials", credentials),
            ("SigningCredentials", credentials.signing),
            ("StaticCredentialsProvider", StaticCredentialsProvider(credentials)),
            ("IAM.AccessKey", accessKey),
            ("GitCredentials", GitCredentials.userPassword(username: "x-access-token", password: secret("git-token"))),
            ("HTTPHeaders", headers),
            ("HTTPHeaders.Field", headers.fields[0]),
            ("RequestBody", RequestBody.string(secret("body"))),
            ("HTTPRequest", request),
            ("HTTPResponse", response),
            ("AWSRequest", awsRequest),
            ("SharedConfig", shared),
            ("ConfigFile", shared.credentials),
            ("AWSConfiguration", configuration),
            ("DefaultCredentialsChain", DefaultCredentialsChain(environment: environment, shared: shared, region: "eu-west-3", http: http)),
            ("ProfileCredentialsProvider", try ProfileCredentialsProvider(profile: "ops", shared: shared, environment: environment,
                                                                          region: "eu-west-3", http: http)),
            ("ComposeProject", compose),
        ]
    }

    @Test func noSecretShowsInAnyRendering() throws {
        for (name, value) in try Self.holders() {
            for (way, text) in Self.renderings(of: value) {
                #expect(!text.contains(Self.marker), "\(name) shows a secret through \(way): \(text)")
            }
        }
        // The values still say what they are.
        let endpoint = MySQLEndpoint(host: "db", port: 3307, user: "ada", password: Self.secret("x"), database: "app")
        #expect("\(endpoint)" == "mysql://ada@db:3307/app")
    }
}
