// aws-probe: AWS calls through our client in a process of their own, then one JSON line with the
// time taken and the process's peak RSS, for Benchmarks/aws.
//
//   aws-probe describe-instances N        N sequential DescribeInstances
//   aws-probe s3-upload FILE BUCKET KEY    multipart upload (8 MiB parts, 8 at a time)
//   aws-probe s3-download BUCKET KEY FILE
//
// Endpoint, region and credentials come from the environment (`fleet env`).
import AWS
import Foundation

func peakRSSKiB() -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }) else { return -1 }
    return Int(line.split(separator: " ")[1]) ?? -1
}

let arguments = CommandLine.arguments
guard arguments.count >= 3 else {
    FileHandle.standardError.write(Data("usage: aws-probe describe-instances N | s3-upload FILE BUCKET KEY | s3-download BUCKET KEY FILE\n".utf8))
    exit(2)
}
do {
    let client = AWSClient(try await AWSConfiguration.resolve())
    let started = ContinuousClock.now
    var calls = 1
    switch arguments[1] {
    case "describe-instances":
        calls = Int(arguments[2]) ?? 1
        for _ in 0..<calls { _ = try await EC2(client).describeInstances().all { $0 } }
    case "s3-upload":
        try await S3(client).upload(file: arguments[2], bucket: arguments[3], key: arguments[4], concurrency: 8)
    case "s3-download":
        try await S3(client).download(bucket: arguments[2], key: arguments[3], to: arguments[4])
    default:
        FileHandle.standardError.write(Data("aws-probe: unknown command \(arguments[1])\n".utf8))
        exit(2)
    }
    let seconds = (ContinuousClock.now - started).seconds
    print("{\"seconds\":\(seconds),\"calls\":\(calls),\"peakRSSKiB\":\(peakRSSKiB())}")
} catch {
    FileHandle.standardError.write(Data("aws-probe: \(error)\n".utf8))
    exit(1)
}
