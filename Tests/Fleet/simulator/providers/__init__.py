"""What the simulator answers or corrects, one module per AWS service (as LocalStack lays out its
providers): each `register(registry, world)` adds its handlers and hooks to the registry."""
