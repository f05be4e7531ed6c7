"""The data engine: the records service, query compiler and audit history (issue 4)."""
