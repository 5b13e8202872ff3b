import CommandSupport

// The commands with `--json`: ToolMain reports their failures as JSON too.
extension Devbox.Branch.Start: ReportsJSON {}
extension Devbox.Branch.Update: ReportsJSON {}
extension Devbox.Branch.List: ReportsJSON {}
extension Devbox.Push: ReportsJSON {}
extension Devbox.PR: ReportsJSON {}
extension Devbox.PR.Status: ReportsJSON {}
extension Devbox.Doctor: ReportsJSON {}
extension Devbox.Down: ReportsJSON {}
extension Devbox.Status: ReportsJSON {}
extension Devbox.SyncDB: ReportsJSON {}
extension Devbox.Up: ReportsJSON {}
extension Devbox.Init: ReportsJSON {}
extension Devbox.Database.Snapshots: ReportsJSON {}
extension Devbox.Database.Restore: ReportsJSON {}
extension Devbox.Config.Show: ReportsJSON {}
