"""The wifi domain's errors: each names the field at fault and becomes an HTTP 4xx."""

from __future__ import annotations


class WifiError(ValueError):
    def __init__(self, status: int, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.status = status
        self.field = field
        self.message = message

    def detail(self) -> list[dict[str, object]]:
        return [{"loc": ["body", self.field], "field": self.field, "msg": self.message}]


def not_found(what: str) -> WifiError:
    return WifiError(404, what, "not found")
