import AWS
import Foundation
import Host

/// The one file an admin hands a developer: their access key, region, machine, an
/// `~/.aws/config` profile and the exact command that opens a shell on the machine. Mode 0600 in
/// a 0700 directory; its text is never printed (but by `--show`) nor logged.
public struct AccessBundle: Sendable {
    public var project: String
    public var developer: String
    public var region: String
    public var instanceID: String
    public var key: IAM.AccessKey

    public var profile: String { "\(project)-\(developer)" }
    public var sessionCommand: String {
        "aws ssm start-session --profile \(profile) --region \(region) --target \(instanceID)"
    }

    public static func path(directory: String, project: String, developer: String) -> String {
        "\(directory)/\(project)-\(developer).aws-access"
    }

    /// Where `onboard --store-bundle` keeps a copy for one retrieval: a SecureString outside every
    /// path an instance role reads (/<project>/prod/*, /<project>/dev/*); developers hold no SSM
    /// parameter right at all.
    public static func parameterName(project: String, developer: String) -> String {
        "/\(project)/access-bundles/\(developer)"
    }

    /// The admin's one retrieval: the bundle into a private file, then the copy deleted.
    public static func retrieveCommand(project: String, developer: String, region: String) -> String {
        let name = parameterName(project: project, developer: developer)
        return "(umask 077 && aws ssm get-parameter --region \(region) --name \(name) --with-decryption --query Parameter.Value "
            + "--output text > \(project)-\(developer).aws-access) && aws ssm delete-parameter --region \(region) --name \(name)"
    }

    /// Stores the bundle as that SecureString (replacing an earlier copy); its value goes in the
    /// request body only, never in a log or an argument.
    public func store(ssm: SSM) async throws -> String {
        let name = Self.parameterName(project: project, developer: developer)
        do {
            try await ssm.putParameter(name: name, value: text, type: "SecureString", overwrite: true,
                                       description: "Access bundle of \(developer) (adminctl onboard --store-bundle): read it once, then delete it")
        } catch {
            throw AccessError(.bundle, "The access bundle could not be stored as SecureString \(name): \(error)")
        }
        return name
    }

    public var text: String {
        """
        # Nuvola developer access for \(developer) (project \(project)), written by adminctl.
        # Keep this file private: it holds your AWS access key. Add the profile below to
        # ~/.aws/config (the AWS CLI and the Session Manager plugin read keys there), then open a
        # shell on your machine with the last line.
        # instance: \(instanceID)
        # region: \(region)
        # access key id: \(key.accessKeyID)

        [profile \(profile)]
        aws_access_key_id = \(key.accessKeyID)
        aws_secret_access_key = \(key.secretAccessKey)
        region = \(region)

        # \(sessionCommand)

        """
    }

    /// Whether `directory` exists (false: write makes it 0700); a file or a directory open to other
    /// users is refused. Onboarding asks before it creates anything, so a bad --bundle-dir costs no machine.
    public static func checkDirectory(_ directory: String) throws -> Bool {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) else { return false }
        guard isDirectory.boolValue else {
            throw AccessError(.bundle, "--bundle-dir \(directory) is a file; name a directory.")
        }
        if let mode = SecretFile.mode(of: directory), mode & 0o077 != 0 {
            // A sticky world-writable directory (/tmp) is shared by design: chmod is not the fix there.
            let fix = mode & 0o1000 != 0 ? "choose a directory of your own (--bundle-dir ~/handover)"
                : "run `chmod 700 \(directory)` or choose another --bundle-dir"
            throw AccessError(.bundle, "\(directory) is open to other users (mode \(String(mode, radix: 8))), and access bundles "
                + "hold keys: \(fix).")
        }
        return true
    }

    /// Writes the bundle; the directory is made 0700, and one open to others is refused.
    @discardableResult
    public func write(directory: String) throws -> String {
        if try Self.checkDirectory(directory) == false {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                        attributes: [.posixPermissions: 0o700])
            } catch {
                throw AccessError(.bundle, "\(directory) cannot be created: \(error.localizedDescription)")
            }
        }
        let path = Self.path(directory: directory, project: project, developer: developer)
        do {
            try SecretFile.write(text, to: path)
        } catch {
            throw AccessError(.bundle, "The access bundle \(path) cannot be written: \(error)")
        }
        return path
    }
}
