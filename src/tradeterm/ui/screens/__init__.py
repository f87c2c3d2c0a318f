"""Screens pushed over the main screen (help, later order entry)."""
