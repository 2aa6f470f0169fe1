"""Settings: `CITYOPS_*` environment variables, then an optional TOML file, then defaults."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from cityops.bridges.mqtt import MqttSettings
from cityops.core.access.accounts import AccessSettings
from cityops.core.incidents.desk import IncidentSettings
from cityops.core.rules.definitions import RuleSettings

DEFAULT_CONFIG_FILE = Path("cityops.toml")


class ServerSettings(BaseModel):
    """`[server]` in cityops.toml: what one client may hold of the HTTP server (docs/configuration.md)."""

    model_config = ConfigDict(extra="forbid")

    header_timeout_seconds: float = Field(
        default=10.0, gt=0, le=300, description="A request's line and headers must arrive within this."
    )
    max_header_bytes: int = Field(
        default=64 * 1024, ge=4096, le=1024 * 1024, description="Largest request line plus headers."
    )
    keep_alive_seconds: int = Field(default=5, ge=1, le=300, description="An idle connection closes after.")
    max_connections: int = Field(
        default=1000, ge=10, description="Open connections and running requests; past it, 503."
    )


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CITYOPS_", toml_file=DEFAULT_CONFIG_FILE, extra="forbid")

    database_url: str = Field(
        default="sqlite:///var/cityops.sqlite",
        description="SQLAlchemy URL of the store; SQLite (WAL) by default.",
    )
    bus_url: str | None = Field(
        default=None,
        description="NATS servers of a cluster ('nats://host:4222', several comma-separated); unset: the"
        " in-process bus of a single server.",
        pattern=r"^nats://[^\s,]+(,nats://[^\s,]+)*$",
    )
    bus_replicas: int = Field(
        default=1,
        ge=1,
        le=5,
        description="Copies JetStream keeps of each queued batch and event (3 in a cluster).",
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    domains: list[str] | None = Field(
        default=None, description="Domains to run (entry point names); all installed ones when unset."
    )
    max_request_bytes: int = Field(
        default=1024 * 1024,
        ge=1024,
        description="Largest request body on every route that declares no larger limit (413 past it).",
    )
    max_body_bytes: int = Field(
        default=16 * 1024 * 1024, ge=1024, description="Largest accepted ingestion request body."
    )
    max_batch_points: int = Field(default=200_000, ge=1, description="Most data points in one batch.")
    simulate: bool = Field(default=False, description="Run the domains' simulators (demo).")
    outbound_private_allowed: bool = Field(
        default=False,
        description="Let NGSI-LD notification endpoints be loopback, private or link-local addresses (a "
        "closed network), and camera streams loopback or link-local addresses or file: paths (cameras' "
        "private networks are always allowed); the cloud metadata address stays refused.",
    )
    publisher: str = Field(
        default="Trung tâm Điều hành thành phố thông minh",
        max_length=200,
        description="Who publishes the open data (the DCAT-AP catalogue's publisher).",
    )
    language: str = Field(default="vi", pattern="^(vi|en|ja)$")
    node_modules: Path = Field(
        default=Path("node_modules"), description="Where set-up installed the npm packages (map data)."
    )
    rules: RuleSettings = Field(default_factory=RuleSettings, description="Alert rules: file and timers.")
    incidents: IncidentSettings = Field(
        default_factory=IncidentSettings, description="Incidents: SLA per severity, attachments."
    )
    auth_required: bool = Field(
        default=True,
        description="Sign-in needed to read; false: anonymous visitors read dashboards (never change them).",
    )
    mqtt: MqttSettings = Field(
        default_factory=MqttSettings, description="MQTT ingestion: the broker the bridge subscribes to."
    )
    server: ServerSettings = Field(
        default_factory=ServerSettings, description="Header timeout, header size, connections."
    )
    access: AccessSettings = Field(
        default_factory=AccessSettings, description="Sessions, login rate limits, password length."
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))
