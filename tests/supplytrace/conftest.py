"""Fixtures for the package tests (the registry, the cast and devnets come from tests/conftest.py)."""
