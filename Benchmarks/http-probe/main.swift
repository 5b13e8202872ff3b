// http-probe: one transfer through the HTTP module, then a JSON line with its size, time and the
// process's peak RSS. Tests and Benchmarks/http-download run it as a separate process so the
// memory figure belongs to the transfer alone.
//
//   http-probe get URL OUTPUT      download to OUTPUT (resuming after dropped connections)
//   http-probe put URL INPUT       upload INPUT as the request body
import Foundation
import HTTP

/// VmHWM, the high-water mark of this process image's resident memory. (getrusage's ru_maxrss
/// would do, except Linux carries it over an exec from a vfork-ing parent, i.e. the test runner.)
func peakRSSKiB() -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }) else { return -1 }
    return Int(line.split(separator: " ")[1]) ?? -1
}

let arguments = CommandLine.arguments
guard arguments.count == 4, ["get", "put"].contains(arguments[1]) else {
    FileHandle.standardError.write(Data("usage: http-probe get URL OUTPUT | http-probe put URL INPUT\n".utf8))
    exit(2)
}
let client = HTTPClient(userAgent: "http-probe")
let started = ContinuousClock.now
do {
    let response: HTTPResponse
    if arguments[1] == "get" {
        response = try await client.download(HTTPRequest(url: arguments[2]), to: arguments[3])
    } else {
        let request = HTTPRequest(method: .put, url: arguments[2], body: .file(path: arguments[3]))
        response = try await client.send(request).ensureSuccess(method: .put)
    }
    let seconds = (ContinuousClock.now - started).seconds
    let bytes = max(response.metrics.bytesDownloaded, response.metrics.bytesUploaded)
    print("{\"status\":\(response.status),\"bytes\":\(bytes),\"seconds\":\(seconds),\"peakRSSKiB\":\(peakRSSKiB()),\"body\":\(String(reflecting: response.text))}")
} catch {
    FileHandle.standardError.write(Data("http-probe: \(error)\n".utf8))
    exit(1)
}
