"""The backtester's codes for why an entry was skipped and why a trade ended: integers inside
the compiled walk (:mod:`kernel`), names everywhere else. Kept apart from the kernel so reading a
result (the screen unpickles one from its child process) does not import numba."""

# why an entry candidate was not taken: indices into the ``skipped`` counts
NO_NEXT_BAR, BOTH_SIDES, DAILY_LIMIT, WRONG_STOP, NO_STOP, BELOW_MIN_QTY, BELOW_MIN_NOTIONAL = (
    range(7))
SKIP_REASONS = ("no next bar", "long and short on one bar", "daily_loss_limit",
                "stop on the wrong side", "no stop", "size below the minimum quantity",
                "notional below the minimum")

# why a trade ended
STOP, TARGET, SIGNAL, END = range(4)
EXIT_REASONS = ("stop", "target", "signal", "end")
