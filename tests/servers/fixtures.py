"""Pytest fixtures that start the loopback servers (filled in by tests/servers/*)."""
