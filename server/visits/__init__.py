"""Follow-up visits (劝返走访): append-only records written by tablets."""
