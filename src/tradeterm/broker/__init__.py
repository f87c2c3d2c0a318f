"""Paper broker: exchange filters, a fill model against the live L2 book, and the account."""
