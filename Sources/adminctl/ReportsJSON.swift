import CommandSupport

// The commands with `--json`: ToolMain reports their failures as JSON too.
extension Adminctl.Doctor: ReportsJSON {}
extension Adminctl.Init: ReportsJSON {}
extension Adminctl.Config.Show: ReportsJSON {}
extension Adminctl.Infra.Up: ReportsJSON {}
extension Adminctl.Infra.Diff: ReportsJSON {}
extension Adminctl.Infra.Status: ReportsJSON {}
extension Adminctl.Infra.Down: ReportsJSON {}
extension Adminctl.Status: ReportsJSON {}
extension Adminctl.Scale: ReportsJSON {}
extension Adminctl.Run: ReportsJSON {}
extension Adminctl.Cp: ReportsJSON {}
extension Adminctl.Install: ReportsJSON {}
extension Adminctl.Release.Build: ReportsJSON {}
extension Adminctl.Releases: ReportsJSON {}
extension Adminctl.Deploy: ReportsJSON {}
extension Adminctl.Rollback: ReportsJSON {}
extension Adminctl.Onboard: ReportsJSON {}
extension Adminctl.Offboard: ReportsJSON {}
extension Adminctl.Audit: ReportsJSON {}
extension Adminctl.Devs: ReportsJSON {}
extension Adminctl.Rotate: ReportsJSON {}
extension Adminctl.DB.Dump: ReportsJSON {}
extension Adminctl.DB.Refresh: ReportsJSON {}
