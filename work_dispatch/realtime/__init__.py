"""Event bus and per-worker fan-out to connected sessions."""
