import CommandSupport

// The commands with `--json`: ToolMain reports their failures as JSON too.
extension Adminctl.Doctor: ReportsJSON {}
extension Adminctl.Init: ReportsJSON {}
extension Adminctl.Config.Show: ReportsJSON {}
extension Adminctl.Infra.Up: ReportsJSON {}
extension Adminctl.Infra.Diff: ReportsJSON {}
extension Adminctl.Infra.Status: ReportsJSON {}
extension Adminctl.Onboard: ReportsJSON {}
extension Adminctl.Offboard: ReportsJSON {}
extension Adminctl.Audit: ReportsJSON {}
extension Adminctl.Devs: ReportsJSON {}
extension Adminctl.Rotate: ReportsJSON {}
