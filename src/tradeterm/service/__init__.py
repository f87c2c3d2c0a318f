"""The engine as a service: running it without a screen (``runner.py``: foreground, under
systemd or tmux; ``detach.py``: in the background), its status lines (``status_log.py``),
finding and stopping it (``control.py``), its log (``logs.py``), its systemd unit (``unit.py``)
and the ``tradeterm engine ...`` commands (``cli.py``)."""
