"""The local simulated cloud: moto plus what moto lacks (see DESIGN.md, Tests/Fleet/README.md)."""
