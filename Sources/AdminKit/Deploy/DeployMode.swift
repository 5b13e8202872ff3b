/// How a deploy reaches the instances: `rolling` switches them in place, in waves
/// (`RollingDeploy`); `refresh` replaces them by an Auto Scaling instance refresh
/// (`InstanceRefreshDeploy`, `--refresh`). `adminctl deploy` switches on it.
public enum DeployMode: String, Sendable, Encodable {
    case rolling
    case refresh
}
