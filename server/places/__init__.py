"""Towns and villages: the campaign's map of who covers what."""
