"""The benchmark harness: the platform's records service against hand-written tables."""
