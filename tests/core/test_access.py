"""Accounts: argon2id hashes (no plaintext anywhere in the store), usernames, role profiles, tokens kept
as digests, sessions that end by idleness or age, and the last admin kept."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, select, update

from cityops.core.access.accounts import (
    USERNAME_PATTERN,
    AccessConflict,
    AccessError,
    AccessSettings,
    NewUser,
    Role,
    create_user,
    fetch_user,
    normalise_username,
    update_user,
    verify_password,
)
from cityops.core.access.schema import api_tokens, sessions, users
from cityops.core.access.sessions import create_session, resolve_session
from cityops.core.access.tokens import digest, issue_token, resolve_token, revoke_token
from cityops.core.store import open_engine

PASSWORD = "Bình Dương 2026 — mật khẩu"


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = open_engine(database_url)
    yield engine
    engine.dispose()


def test_passwords_are_stored_as_argon2id_hashes_and_nowhere_in_clear(
    engine: Engine, database_url: str, stored_bytes: Callable[[str], bytes]
) -> None:
    with engine.begin() as conn:
        create_user(conn, NewUser("hashed", Role.OPERATOR, password=PASSWORD), "tests")
    with engine.connect() as conn:
        stored = conn.execute(select(users.c.password_hash).where(users.c.username == "hashed")).scalar_one()
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert verify_password(stored, PASSWORD) and not verify_password(stored, PASSWORD + " ")
    engine.dispose()
    raw = stored_bytes(database_url)
    assert PASSWORD.encode() not in raw and stored.encode() in raw


def test_verifying_without_a_hash_is_refused_like_a_wrong_password() -> None:
    assert verify_password(None, PASSWORD) is False
    assert verify_password("not an argon2 hash", PASSWORD) is False


@given(st.text(max_size=80))
def test_usernames_are_normalised_or_refused_naming_the_field(text: str) -> None:
    try:
        name = normalise_username(text)
    except AccessError as exc:
        assert exc.field == "username"
    else:
        assert USERNAME_PATTERN.match(name) and name == text.strip().lower()
        assert normalise_username(name) == name


@pytest.mark.parametrize(
    ("new", "field"),
    [
        (NewUser("dev", Role.DEVICE), "role"),
        (NewUser("boss", "chief"), "role"),
        (NewUser("officer", Role.AGENCY_OFFICER), "agency_code"),
        (NewUser("officer", Role.AGENCY_OFFICER, agency_code="bad code"), "agency_code"),
        (NewUser("officer", Role.AGENCY_OFFICER, area_codes=("legacy:718", "nowhere")), "area_codes"),
        (NewUser("op", Role.OPERATOR, area_codes=("legacy:718",)), "area_codes"),
        (NewUser("op", Role.OPERATOR, password="too short"), "password"),
    ],
)
def test_profiles_that_make_no_sense_are_refused(engine: Engine, new: NewUser, field: str) -> None:
    with pytest.raises(AccessError) as refused, engine.begin() as conn:
        create_user(conn, new, "tests")
    assert refused.value.field == field


def test_the_last_admin_stays(engine: Engine) -> None:
    with pytest.raises(AccessConflict), engine.begin() as conn:
        update_user(conn, "test-admin", {"disabled": True}, "tests")
    with engine.begin() as conn:
        create_user(conn, NewUser("second-admin", Role.ADMIN), "tests")
        update_user(conn, "test-admin", {"role": "operator"}, "tests")
        assert fetch_user(conn, "test-admin").role == "operator"


def test_tokens_are_kept_as_digests_and_stop_when_revoked_or_expired(engine: Engine) -> None:
    with engine.begin() as conn:
        issued = issue_token(conn, "gateway", "device", None, "tests", expires_days=1)
        stored = conn.execute(select(api_tokens).where(api_tokens.c.id == issued.token["id"])).one()
        assert stored.token_hash == digest(issued.secret) and issued.secret not in str(stored._asdict())
        principal = resolve_token(conn, issued.secret)
        assert principal is not None and (principal.role, principal.actor) == (Role.DEVICE, "device:gateway")
        tampered = issued.secret[:-1] + ("B" if issued.secret.endswith("A") else "A")
        assert resolve_token(conn, tampered) is None
        conn.execute(update(api_tokens).where(api_tokens.c.id == stored.id).values(expires_ms=1))
        assert resolve_token(conn, issued.secret) is None
        user_token = issue_token(conn, "script", "user", "test-admin", "tests")
        assert resolve_token(conn, user_token.secret) is not None
        revoke_token(conn, user_token.token["id"], "tests")
        assert resolve_token(conn, user_token.secret) is None


def test_sessions_end_when_idle_or_old(engine: Engine) -> None:
    settings = AccessSettings(session_idle_minutes=30, session_max_hours=2)
    with engine.begin() as conn:
        user_id = create_user(conn, NewUser("shift", Role.OPERATOR), "tests")["id"]
        idle = create_session(conn, user_id, settings, "127.0.0.1")
        old = create_session(conn, user_id, settings, "127.0.0.1")
        fresh = create_session(conn, user_id, settings, "127.0.0.1")
        assert idle.session_id != old.session_id and idle.csrf_token != old.csrf_token
        ids = {s.session_id: digest(s.session_id) for s in (idle, old)}
        conn.execute(
            update(sessions).where(sessions.c.id_hash == ids[idle.session_id]).values(last_seen_ms=0)
        )
        conn.execute(update(sessions).where(sessions.c.id_hash == ids[old.session_id]).values(expires_ms=0))
        assert resolve_session(conn, idle.session_id, settings) is None
        assert resolve_session(conn, old.session_id, settings) is None
        live = resolve_session(conn, fresh.session_id, settings)
        assert live is not None and live.principal.name == "shift" and live.csrf_token == fresh.csrf_token
        stored = conn.execute(select(sessions.c.id_hash)).scalars().all()
        assert fresh.session_id not in stored and digest(fresh.session_id) in stored
