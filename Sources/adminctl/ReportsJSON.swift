import CommandSupport

// The commands with `--json`: ToolMain reports their failures as JSON too.
extension Adminctl.Doctor: ReportsJSON {}
extension Adminctl.Init: ReportsJSON {}
extension Adminctl.Config.Show: ReportsJSON {}
