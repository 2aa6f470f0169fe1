"""Errors of the reports domain, each naming its field, with the text in Vietnamese, English and Japanese
(from the domain's translations, key `error.<code>`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cityops.core.domain import translated

FOLDER = Path(__file__).parent


class ReportError(ValueError):
    def __init__(self, status: int, field: str, code: str, **values: object) -> None:
        self.status = status
        self.field = field
        self.code = code
        self.headers: dict[str, str] = {}
        self.text = {
            lang: text.format(**values) for lang, text in translated(FOLDER, f"error.{code}").items()
        }
        super().__init__(f"{field}: {self.text['en']}")

    def detail(self) -> list[dict[str, Any]]:
        """FastAPI's shape for a field error, with the code and the three languages beside it."""
        return [
            {
                "loc": ["body", self.field],
                "field": self.field,
                "code": self.code,
                "msg": self.text["en"],
                "text": self.text,
            }
        ]


class ReportNotFound(ReportError):
    def __init__(self) -> None:
        super().__init__(404, "report_id", "not_found")


class ReportConflict(ReportError):
    def __init__(self, status: str) -> None:
        super().__init__(409, "status", "not_pending", state=status)


class TooManyReports(ReportError):
    """429: the client address sent too many reports; `Retry-After` says when to try again."""

    def __init__(self, wait_seconds: int) -> None:
        super().__init__(429, "client_address", "too_many_reports", wait=wait_seconds)
        self.headers = {"Retry-After": str(wait_seconds)}
        self.retry_after = wait_seconds

    def detail(self) -> list[dict[str, Any]]:
        return [{**item, "retry_after": self.retry_after} for item in super().detail()]
