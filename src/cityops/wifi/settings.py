"""Settings of the wifi domain: `CITYOPS_WIFI_*` environment variables, then defaults."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class WifiSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CITYOPS_WIFI_", extra="ignore")

    hash_key_file: Path = Field(
        default=Path("var/wifi-hash.key"),
        description="The key of the keyed hashes of client MACs and phone numbers (created if missing).",
    )
    detail_spool: Path = Field(
        default=Path("var/wifi-detail"),
        description="The folder FreeRADIUS writes accounting to (detail files) and cityops reads it from.",
    )
    detail_poll_seconds: float = Field(
        default=0.2, gt=0, le=60, description="How often the detail reader looks for new accounting."
    )
    interim_seconds: int = Field(
        default=300, ge=30, le=86_400, description="Acct-Interim-Interval sent to the NAS on accept."
    )
    down_after_seconds: int = Field(
        default=180,
        ge=30,
        le=86_400,
        description="A hotspot is down once it has sent neither a heartbeat nor accounting this long.",
    )
    sweep_seconds: float = Field(
        default=30.0, gt=0, le=3600, description="How often stale sessions are closed and health judged."
    )
    sms_gateway_url: str | None = Field(
        default=None,
        description="An HTTP SMS gateway for the portal's codes (POST {to, text}); unset: the outbox table.",
    )
    sms_gateway_token: str = Field(default="", description="Bearer token of the SMS gateway.")
