"""Conformance and contract-testing suite for the Koshelek partner APIs and the Imbee REST API."""

__version__ = "0.1.0"
