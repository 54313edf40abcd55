"""Fixtures borrowed from other test folders."""

from tests.certificates.conftest import cert_world  # noqa: F401  (a fixture)
