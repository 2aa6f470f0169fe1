"""Settings of the reports domain: `CITYOPS_REPORTS_*` environment variables, then defaults.

The kernel's `cityops.toml` knows no domain by name, so the domain reads its own variables, as it already
did for the routing table (`CITYOPS_REPORTS_ROUTING`).
"""

from __future__ import annotations

from pathlib import Path

import limits
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ReportSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CITYOPS_REPORTS_", extra="ignore")

    routing: Path | None = Field(
        default=None, description="The routing table (TOML); the shipped one if unset."
    )
    submission_limit: str = Field(
        default="5/minute;30/hour",
        description="Public submissions per client address (form and API), in PyPI `limits` notation; "
        "several limits separated by ';' all apply.",
    )
    rate_limit_storage: str = Field(
        default="store",
        description="Where the counts live: 'store' (shared by every server of a cluster) or a `limits` "
        "storage URI (memory:// counts in this process alone).",
    )

    @field_validator("submission_limit")
    @classmethod
    def _readable_limit(cls, value: str) -> str:
        try:
            limits.parse_many(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a rate limit such as '5/minute;30/hour'") from None
        return value
