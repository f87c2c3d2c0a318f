"""Plain data shared by every layer: models, events, commands. Imports nothing heavy."""
