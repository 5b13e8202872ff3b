import CGit2

/// Where libgit2 looks for the global (~/.gitconfig) configuration.
public enum GitSearchPath {
    /// Points the global search path at `directory`; nil restores the default ($HOME).
    public static func setGlobal(_ directory: String?) {
        _ = LibGit2.initialised
        _ = git_shim_set_search_path(Int32(GIT_CONFIG_LEVEL_GLOBAL.rawValue), directory)
    }
}
