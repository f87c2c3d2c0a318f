"""The engine service protocol: what crosses the engine's Unix socket, and how.

``frames`` cuts the byte stream into length-prefixed frames with a maximum size; ``messages``
are the typed frames (handshake, subscription, commands, requests, view updates, events);
``codec`` turns the core's commands and events into frames and back, money staying ``Decimal``;
``remote`` is the screen's side: an engine link over the socket that mirrors what it subscribed
to. The server side lives in ``tradeterm.service``. See ``docs/protocol.md``.
"""
