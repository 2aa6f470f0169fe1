"""When tokens were last used and sessions last seen, written in the background.

Authenticating a request only reads the store, so it never waits for a writer (SQLite in WAL mode lets
readers run beside the one writer). The times are noted here in memory and written by `flush`, which the
application calls every `FLUSH_SECONDS` and at shutdown; a crash loses at most that much of them.
"""

from __future__ import annotations

import threading

from sqlalchemy import Engine, update
from sqlalchemy.exc import OperationalError

from cityops.core.access.schema import api_tokens, sessions
from cityops.core.store import write_transaction

FLUSH_SECONDS = 15.0


class UsageLog:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokens: dict[int, int] = {}
        self._sessions: dict[str, int] = {}

    def token_used(self, token_id: int, at_ms: int) -> None:
        with self._lock:
            self._tokens[token_id] = max(at_ms, self._tokens.get(token_id, at_ms))

    def session_seen(self, id_hash: str, at_ms: int) -> None:
        with self._lock:
            self._sessions[id_hash] = max(at_ms, self._sessions.get(id_hash, at_ms))

    def session_pending(self, id_hash: str) -> int | None:
        """When a session was seen, if that is not written yet."""
        with self._lock:
            return self._sessions.get(id_hash)

    def flush(self, engine: Engine) -> int:
        """Write what was noted; how many rows were meant. On a busy store the notes wait for next time."""
        with self._lock:
            tokens, self._tokens = self._tokens, {}
            seen, self._sessions = self._sessions, {}
        if not tokens and not seen:
            return 0
        try:
            with write_transaction(engine) as conn:
                for token_id, at in tokens.items():
                    conn.execute(
                        update(api_tokens)
                        .where(api_tokens.c.id == token_id)
                        .where((api_tokens.c.last_used_ms.is_(None)) | (api_tokens.c.last_used_ms < at))
                        .values(last_used_ms=at)
                    )
                for id_hash, at in seen.items():
                    conn.execute(
                        update(sessions)
                        .where(sessions.c.id_hash == id_hash, sessions.c.last_seen_ms < at)
                        .values(last_seen_ms=at)
                    )
        except OperationalError:
            for token_id, at in tokens.items():
                self.token_used(token_id, at)
            for id_hash, at in seen.items():
                self.session_seen(id_hash, at)
            raise
        return len(tokens) + len(seen)
