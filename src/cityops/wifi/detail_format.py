"""FreeRADIUS's `detail` file format (rlm_detail), read and written.

    Fri Dec  4 18:00:00 2026
    \tAcct-Status-Type = Start
    \tUser-Name = "bob \\"the\\" builder"
    \tTimestamp = 1796407200
    <blank line>

A record is a header line (the `header` setting, `%t` by default), then one `\\tName = value` line per
attribute, then a blank line; FreeRADIUS writes the blank line last, so a record is complete once it is
there. String values are double-quoted with `\\\\`, `\\"`, `\\n`, `\\r`, `\\t` and `\\ooo` (octal, a byte
of a control character) escapes; other values (numbers, named values, addresses) are bare.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
BARE = re.compile(r"[^\x00-\x20\x7f]+")
PLAIN_LINE = re.compile(
    r'\n\t([A-Za-z0-9][A-Za-z0-9._:-]{0,127}) = (?:"([^"\\\n]*)"|([^\x00-\x20\x7f"][^\x00-\x20\x7f]*))(?=\n|$)'
)
MAX_RECORD_BYTES = 65_536
ESCAPES = {"\\": "\\", '"': '"', "n": "\n", "r": "\r", "t": "\t"}
ESCAPED = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


class DetailError(ValueError):
    """A record that is not in the detail format; `line` is its line number within the record (1: header)."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line
        self.message = message


@dataclass(frozen=True)
class DetailRecord:
    header: str
    attributes: tuple[tuple[str, str], ...]

    def first_values(self) -> dict[str, str]:
        """Each attribute's first value (what accounting reads)."""
        values: dict[str, str] = {}
        for name, value in self.attributes:
            values.setdefault(name, value)
        return values


def unquote(text: str, line: int) -> str:
    if len(text) < 2 or not text.endswith('"'):
        raise DetailError(line, "a quoted value must end with '\"'")
    body = text[1:-1]
    if "\\" not in body:  # most values: nothing escaped
        if '"' in body:
            raise DetailError(line, "an unescaped '\"' inside a quoted value")
        return body
    out: list[str] = []
    i = 0
    while i < len(body):
        char = body[i]
        if char == '"':
            raise DetailError(line, "an unescaped '\"' inside a quoted value")
        if char != "\\":
            out.append(char)
            i += 1
            continue
        following = body[i + 1 : i + 2]
        if following in ESCAPES:
            out.append(ESCAPES[following])
            i += 2
        elif re.fullmatch(r"[0-3][0-7]{2}", body[i + 1 : i + 4]):
            out.append(chr(int(body[i + 1 : i + 4], 8)))
            i += 4
        else:
            raise DetailError(line, f"unknown escape '\\{following}' in a quoted value")
    return "".join(out)


def parse_record(text: str) -> DetailRecord:
    """One record's text, without its closing blank line; raises `DetailError` saying what is wrong."""
    header, _, body = text.partition("\n")
    if not header.strip() or header.startswith("\t"):
        raise DetailError(1, "a record starts with a header line (a date), not an attribute")
    plain = PLAIN_LINE.findall("\n" + body) if body else []
    if len(plain) == body.count("\n") + 1:  # most records: every value plain, nothing escaped
        return DetailRecord(header, tuple((name, quoted or bare) for name, quoted, bare in plain))
    lines = text.split("\n")
    attributes: list[tuple[str, str]] = []
    for number, line in enumerate(lines[1:], start=2):
        if not line.startswith("\t"):
            raise DetailError(number, "an attribute line starts with a tab")
        name, separator, value = line[1:].partition(" = ")
        if not separator:
            raise DetailError(number, "an attribute line is 'Name = value'")
        if NAME.fullmatch(name) is None:
            raise DetailError(number, f"{name[:40]!r} is not an attribute name")
        if value.startswith('"'):
            value = unquote(value, number)
        elif BARE.fullmatch(value) is None:
            raise DetailError(number, f"{name}: a bare value is one word of printable characters")
        attributes.append((name, value))
    return DetailRecord(header, tuple(attributes))


def quote(value: str) -> str:
    escaped = (
        ESCAPED.get(char) or (f"\\{ord(char):03o}" if ord(char) < 32 or ord(char) == 127 else char)
        for char in value
    )
    return '"' + "".join(escaped) + '"'


def format_record(record: DetailRecord, quoted: frozenset[str] | None = None) -> str:
    """The record as FreeRADIUS writes it, closing blank line included. Values are quoted unless their
    name is not in `quoted` (None: quote everything), as FreeRADIUS quotes strings only."""
    lines = [record.header]
    for name, value in record.attributes:
        bare = quoted is not None and name not in quoted
        lines.append(f"\t{name} = {value if bare else quote(value)}")
    return "\n".join(lines) + "\n\n"


@dataclass(frozen=True)
class Chunk:
    """A complete record's bytes and where the next record starts (a file offset)."""

    text: bytes
    start: int
    end: int


def complete_records(data: bytes, offset: int) -> list[Chunk]:
    """The complete records in `data` (read from `offset`); an incomplete last record is left for later.
    Blank lines between records are skipped."""
    chunks: list[Chunk] = []
    position = 0
    while True:
        while data.startswith(b"\n", position):
            position += 1
        end = data.find(b"\n\n", position)
        if end < 0:
            return chunks
        chunks.append(Chunk(data[position:end], offset + position, offset + end + 2))
        position = end + 2


def decode(chunk: Chunk) -> DetailRecord:
    if len(chunk.text) > MAX_RECORD_BYTES:
        raise DetailError(1, f"a record longer than {MAX_RECORD_BYTES} bytes")
    try:
        text = chunk.text.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = chunk.text[: exc.start].count(b"\n") + 1
        raise DetailError(line, "not UTF-8") from None
    return parse_record(text)
