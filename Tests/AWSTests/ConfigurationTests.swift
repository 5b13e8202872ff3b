import AWS
import Foundation
import Testing
import TestSupport

@Suite struct ConfigFileTests {
    @Test func parsesSectionsCommentsAndNestedKeys() {
        let file = ConfigFile(parsing: """
            # a comment
            [default]
            region = eu-west-3 ; inline comment
            output=json
            s3 =
              addressing_style = path
              max_concurrent_requests = 4
            [profile  admin ]
            role_arn = arn:aws:iam::123456789012:role/admin
            source_profile = default
            url = https://example.com/#anchor
            """)
        #expect(file["default"]?["region"] == "eu-west-3")
        #expect(file["default"]?["output"] == "json")
        #expect(file["default"]?["s3.addressing_style"] == "path")
        #expect(file["default"]?["s3.max_concurrent_requests"] == "4")
        #expect(file["profile  admin"]?["source_profile"] == "default")
        // '#' without whitespace before it is part of the value.
        #expect(file["profile  admin"]?["url"] == "https://example.com/#anchor")
    }
}

@Suite struct SharedConfigTests {
    let shared = SharedConfig(
        config: ConfigFile(parsing: """
            [default]
            region = us-east-1
            [profile dev]
            region = eu-west-3
            aws_access_key_id = FROMCONFIG
            [profile ops]
            role_arn = arn:aws:iam::1:role/ops
            """),
        credentials: ConfigFile(parsing: """
            [dev]
            aws_access_key_id = AKIADEV000000001
            aws_secret_access_key = devsecret
            [default]
            aws_access_key_id = AKIADEFAULT00001
            aws_secret_access_key = defaultsecret
            """))

    @Test func credentialsFileWinsOverConfigForTheSameKey() {
        let dev = shared.profile("dev")
        #expect(dev?["aws_access_key_id"] == "AKIADEV000000001")
        #expect(dev?["region"] == "eu-west-3")
        #expect(shared.profile("missing") == nil)
        #expect(shared.profileNames == ["default", "dev", "ops"])
    }

    @Test func profileNameFromEnvironment() {
        #expect(SharedConfig.profileName(environment: [:]) == "default")
        #expect(SharedConfig.profileName(environment: ["AWS_PROFILE": "dev"]) == "dev")
        #expect(SharedConfig.profileName(environment: ["AWS_DEFAULT_PROFILE": "ops"]) == "ops")
        #expect(SharedConfig.profileName(environment: ["AWS_PROFILE": "", "AWS_DEFAULT_PROFILE": "ops"]) == "ops")
    }

    @Test func loadsFilesNamedByEnvironmentAndToleratesMissingOnes() throws {
        let scratch = try TemporaryDirectory("awsconfig")
        defer { scratch.remove() }
        let directory = scratch.path
        try "[profile x]\nregion = ap-south-1\n".write(toFile: directory + "/cfg", atomically: true, encoding: .utf8)
        let loaded = SharedConfig.load(environment: ["AWS_CONFIG_FILE": directory + "/cfg",
                                                     "AWS_SHARED_CREDENTIALS_FILE": directory + "/none"])
        #expect(loaded.profile("x")?["region"] == "ap-south-1")
        #expect(loaded.credentials.sections.isEmpty)
        let home = SharedConfig.load(environment: ["HOME": directory])
        #expect(home.configPath == directory + "/.aws/config")
    }

    @Test func regionResolutionOrder() {
        #expect(Region.resolve(flag: "sa-east-1", environment: ["AWS_REGION": "x"], shared: shared)
                == Region("sa-east-1", source: .flag))
        #expect(Region.resolve(flag: nil, environment: ["AWS_REGION": "a", "AWS_DEFAULT_REGION": "b"], shared: shared)
                == Region("a", source: .environment("AWS_REGION")))
        #expect(Region.resolve(flag: nil, environment: ["AWS_DEFAULT_REGION": "b"], shared: shared)
                == Region("b", source: .environment("AWS_DEFAULT_REGION")))
        #expect(Region.resolve(flag: nil, environment: ["AWS_PROFILE": "dev"], shared: shared)
                == Region("eu-west-3", source: .profile("dev")))
        #expect(Region.resolve(flag: nil, environment: [:], shared: shared) == Region("us-east-1", source: .profile("default")))
        #expect(Region.resolve(flag: nil, environment: ["AWS_PROFILE": "ops"], shared: shared) == nil)
    }

    @Test func staticCredentialsFromEnvironmentAndProfile() throws {
        let fromEnv = try #require(Credentials.fromEnvironment(["AWS_ACCESS_KEY_ID": "AKIAENV000000001",
                                                                "AWS_SECRET_ACCESS_KEY": "s", "AWS_SESSION_TOKEN": "t"]))
        #expect(fromEnv.sessionToken == "t")
        #expect(Credentials.fromEnvironment(["AWS_ACCESS_KEY_ID": "only-id"]) == nil)
        let fromProfile = try #require(Credentials.fromProfile("dev", shared: shared))
        #expect(fromProfile.secretAccessKey == "devsecret")
        #expect(fromProfile.source == .profile("dev"))
        #expect(Credentials.fromProfile("ops", shared: shared) == nil)
    }

    @Test func credentialsNeverPrintTheirSecrets() {
        let credentials = Credentials(accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "topsecret",
                                      sessionToken: "tokentoken", source: .environment("AWS_ACCESS_KEY_ID"))
        for text in [String(describing: credentials), String(reflecting: credentials), "\(credentials)"] {
            #expect(!text.contains("topsecret"))
            #expect(!text.contains("tokentoken"))
            #expect(!text.contains("AKIAIOSFODNN7EXAMPLE"))
        }
        #expect(credentials.description == "credentials AKIA…MPLE from environment variable AWS_ACCESS_KEY_ID")
    }
}

@Suite struct EndpointTests {
    let shared = SharedConfig(config: ConfigFile(parsing: "[profile sim]\nendpoint_url = http://127.0.0.1:5000/\n"),
                              credentials: ConfigFile(parsing: ""))

    @Test func serviceVariableBeatsGlobalVariableBeatsProfile() {
        let environment = ["AWS_ENDPOINT_URL": "http://127.0.0.1:1", "AWS_ENDPOINT_URL_S3": "http://127.0.0.1:2/",
                           "AWS_PROFILE": "sim"]
        #expect(Endpoint.resolve(.s3, region: "eu-west-3", environment: environment, shared: shared)
                == Endpoint(url: "http://127.0.0.1:2", source: .environment("AWS_ENDPOINT_URL_S3")))
        #expect(Endpoint.resolve(.ssm, region: "eu-west-3", environment: environment, shared: shared).url == "http://127.0.0.1:1")
        #expect(Endpoint.resolve(.ssm, region: "eu-west-3", environment: ["AWS_PROFILE": "sim"], shared: shared)
                == Endpoint(url: "http://127.0.0.1:5000", source: .profile("sim")))
    }

    @Test func ignoringConfiguredEndpointsGivesPublicOnes() {
        let environment = ["AWS_ENDPOINT_URL": "http://127.0.0.1:1", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"]
        let endpoint = Endpoint.resolve(.sts, region: "eu-west-3", environment: environment, shared: shared)
        #expect(endpoint.url == "https://sts.eu-west-3.amazonaws.com")
        #expect(!endpoint.isCustom)
    }

    @Test(arguments: [
        (AWSService.s3, "https://s3.eu-west-3.amazonaws.com"),
        (.iam, "https://iam.amazonaws.com"),
        (.autoScaling, "https://autoscaling.eu-west-3.amazonaws.com"),
        (.elasticLoadBalancingV2, "https://elasticloadbalancing.eu-west-3.amazonaws.com"),
        (.cloudFormation, "https://cloudformation.eu-west-3.amazonaws.com"),
    ])
    func publicEndpoints(service: AWSService, expected: String) {
        #expect(Endpoint.resolve(service, region: "eu-west-3", environment: [:], shared: shared).url == expected)
    }

    @Test func serviceVariableNamesFollowTheSDKs() {
        #expect(AWSService.allCases.map(\.environmentSuffix) == [
            "STS", "S3", "EC2", "IAM", "SSM", "AUTO_SCALING", "ELASTIC_LOAD_BALANCING_V2", "CLOUDFORMATION", "RDS", "SCHEDULER",
        ])
    }
}
