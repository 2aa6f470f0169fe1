"""NGSI-LD tests sign in as any role with the API tests' `headers_for`."""

from tests.api.conftest import headers_for

__all__ = ["headers_for"]
