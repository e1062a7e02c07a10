"""The run loop (private): model calls, tool-call handling, budgets."""
