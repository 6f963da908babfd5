"""Fixtures for the privacy tests: the loopback OTLP collector, and runs with the statistics hook installed."""

from tests.servers.collector import collector  # noqa: F401 - a fixture
