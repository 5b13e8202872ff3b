/// How a deploy reaches the instances: `rolling` switches them in place, in waves
/// (`RollingDeploy`); an instance refresh (`InstanceRefreshDeploy`, `--refresh`) is the other
/// mode, added beside it. `adminctl deploy` switches on it.
public enum DeployMode: String, Sendable, Encodable {
    case rolling
}
