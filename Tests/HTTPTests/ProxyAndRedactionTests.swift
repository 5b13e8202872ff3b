import HTTP
import Testing

@Suite struct ProxySettingsTests {
    @Test func schemeSpecificThenAllProxy() {
        let proxies = ProxySettings(environment: ["http_proxy": "http://p1:3128", "HTTPS_PROXY": "http://p2:3128",
                                                  "ALL_PROXY": "socks5://p3:1080"])
        #expect(proxies.proxy(for: "http://example.com/x") == "http://p1:3128")
        #expect(proxies.proxy(for: "https://example.com/x") == "http://p2:3128")
        #expect(proxies.proxy(for: "ftp://example.com/x") == "socks5://p3:1080")
    }

    @Test func upperCaseHTTPProxyIsIgnored() {
        // httpoxy: a CGI request header "Proxy:" becomes HTTP_PROXY; curl and Go ignore it too.
        let proxies = ProxySettings(environment: ["HTTP_PROXY": "http://evil:1"])
        #expect(proxies.proxy(for: "http://example.com/") == nil)
    }

    @Test func noProxyMatchesHostsAndDomainSuffixes() {
        let proxies = ProxySettings(environment: ["https_proxy": "http://p:1", "no_proxy": "localhost, .internal,10.0.0.5"])
        #expect(proxies.proxy(for: "https://localhost:8080/") == nil)
        #expect(proxies.proxy(for: "https://s3.internal/") == nil)
        #expect(proxies.proxy(for: "https://internal/") == nil)
        #expect(proxies.proxy(for: "https://user:pw@10.0.0.5/") == nil)
        #expect(proxies.proxy(for: "https://notinternal.com/") == "http://p:1")
        #expect(proxies.proxy(for: "https://[::1]:443/") == "http://p:1")
        #expect(ProxySettings(environment: ["https_proxy": "http://p:1", "NO_PROXY": "*"]).proxy(for: "https://a/") == nil)
    }
}

@Suite struct RedactionTests {
    @Test func userInfoAndSignaturesAreRemoved() {
        #expect(RedactedURL.redact("https://user:pass@host.example/path?x=1") == "https://host.example/path?x=1")
        #expect(RedactedURL.redact("https://b.s3.amazonaws.com/k?X-Amz-Credential=AKIA%2F&X-Amz-Signature=abc&part=2")
                == "https://b.s3.amazonaws.com/k?X-Amz-Credential=REDACTED&X-Amz-Signature=REDACTED&part=2")
        #expect(RedactedURL.redact("http://h/p?token=t#frag") == "http://h/p?token=REDACTED#frag")
        #expect(RedactedURL.redact("http://h/p") == "http://h/p")
    }

    @Test func errorsCarryTheRedactedURL() {
        let error = HTTPError(kind: .cannotConnect, method: .get, url: "https://u:secret@h/x?X-Amz-Security-Token=tok",
                              detail: "curl: refused")
        #expect(!error.description.contains("secret"))
        #expect(!error.description.contains("tok"))
        #expect(error.description.hasPrefix("GET https://h/x?X-Amz-Security-Token=REDACTED failed: could not connect (curl: refused)."))
    }
}
