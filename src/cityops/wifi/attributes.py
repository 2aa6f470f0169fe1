"""What FreeRADIUS's rest module (rlm_rest, `body = 'json'`) sends and expects back.

Request: every attribute of the request list, `{"User-Name": {"type": "string", "value": ["bob"]}}`.
Reply: `{"reply:Session-Timeout": {"op": ":=", "value": 3600, "do_xlat": false}, ...}`; `do_xlat` is off
so that a value (a password, a message) is never expanded by FreeRADIUS as `%{...}`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MAX_ATTRIBUTES = 200  # FreeRADIUS's own `max_attributes` default
MAX_VALUE_LENGTH = 4096
GIGAWORD = 2**32


class RequestError(ValueError):
    """A request FreeRADIUS would not send: names the attribute (HTTP 400)."""

    def __init__(self, attribute: str, message: str) -> None:
        super().__init__(f"{attribute}: {message}")
        self.attribute = attribute
        self.message = message


@dataclass(frozen=True)
class RadiusRequest:
    """The first value of each attribute, as text."""

    values: Mapping[str, str]

    @classmethod
    def from_rest(cls, body: Any) -> RadiusRequest:
        if not isinstance(body, dict):
            raise RequestError("body", "must be a JSON object of attributes")
        if len(body) > MAX_ATTRIBUTES:
            raise RequestError("body", f"has more than {MAX_ATTRIBUTES} attributes")
        values: dict[str, str] = {}
        for name, item in body.items():
            value = item.get("value") if isinstance(item, dict) else item
            if isinstance(value, list):
                value = value[0] if value else None
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, str | int | float):
                raise RequestError(str(name), "value must be text or a number")
            text = str(value)
            if len(text) > MAX_VALUE_LENGTH:
                raise RequestError(str(name), f"value longer than {MAX_VALUE_LENGTH} characters")
            values[str(name)] = text
        return cls(values)

    def get(self, name: str) -> str | None:
        return self.values.get(name)

    def text(self, name: str, max_length: int = 253) -> str:
        value = self.values.get(name)
        if value is None or not value.strip():
            raise RequestError(name, "is missing")
        if len(value) > max_length:
            raise RequestError(name, f"is longer than {max_length} characters")
        return value

    def integer(self, name: str, default: int = 0) -> int:
        value = self.values.get(name)
        if value is None or value == "":
            return default
        try:
            number = int(value)
        except ValueError:
            raise RequestError(name, f"{value[:40]!r} is not a whole number") from None
        if not 0 <= number < GIGAWORD:
            raise RequestError(name, "is outside 0..2^32-1")
        return number

    def octets(self, direction: str) -> int:
        """Acct-<Input|Output>-Octets with their Gigawords (the 32-bit counter's wraps)."""
        return self.integer(f"Acct-{direction}-Gigawords") * GIGAWORD + self.integer(
            f"Acct-{direction}-Octets"
        )


def reply(attributes: Mapping[str, str | int], list_name: str = "reply") -> dict[str, Any]:
    """rlm_rest's reply form: each attribute set (`:=`) in `list_name`, never xlat-expanded."""
    return {
        f"{list_name}:{name}": {"op": ":=", "value": value, "do_xlat": False}
        for name, value in attributes.items()
    }
