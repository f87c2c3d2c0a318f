"""The engine as a service: the socket server screens attach to, and running the engine
without a screen (``tradeterm engine ...``). See ``docs/service.md`` and ``docs/protocol.md``."""
