"""Widgets of the main screen; each renders data passed down to it with pure functions."""
