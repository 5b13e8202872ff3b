"""Who answers each operation: `(service, operation) -> handler`, with hooks around moto.

A service here is botocore's model name ("ssm", "elbv2", "cloudformation"). Three kinds of entry:
  handler   answers the operation itself (moto lacks it, or has it but does nothing real)
  before    runs ahead of moto for an operation moto answers; may return a Response to answer
            instead (e.g. replaying an idempotent request) or None to let moto answer
  after     sees moto's Response and may return a replacement (e.g. moto refuses what AWS accepts)
An operation with a handler never reaches moto, so it has no hooks.
"""


class Registry:
    def __init__(self):
        self._handlers = {}
        self._before = {}
        self._after = {}

    def handle(self, service, operation, handler):
        key = (service, operation)
        if key in self._handlers:
            raise ValueError(f"{service}.{operation} already has a handler")
        if key in self._before or key in self._after:
            raise ValueError(f"{service}.{operation} has hooks around moto; it cannot also have a handler")
        self._handlers[key] = handler

    def before(self, service, operation, hook):
        self._hooks(self._before, service, operation).append(hook)

    def after(self, service, operation, hook):
        self._hooks(self._after, service, operation).append(hook)

    def _hooks(self, table, service, operation):
        if (service, operation) in self._handlers:
            raise ValueError(f"{service}.{operation} is answered by a handler; hooks around moto would never run")
        return table.setdefault((service, operation), [])

    def handler(self, service, operation):
        return self._handlers.get((service, operation))

    def hooks_before(self, service, operation):
        return list(self._before.get((service, operation), []))

    def hooks_after(self, service, operation):
        return list(self._after.get((service, operation), []))

    def operations(self):
        """Every (service, operation) the simulator answers itself, sorted."""
        return sorted(self._handlers)
