"""The `cityops` command."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
import uvicorn

from cityops.cli_mqtt import mqtt_app
from cityops.cli_users import DEMO_USERNAME, ensure_demo_operator, users_app
from cityops.config import Settings
from cityops.core.store import write_transaction
from cityops.roles import Role

if TYPE_CHECKING:
    from cityops.core.kernel import Kernel

app = typer.Typer(help="cityops — Trung tâm điều hành thành phố thông minh (Smart City Operations Center)")
db_app = typer.Typer(help="The store: schema and reference data.")
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(mqtt_app, name="mqtt")


def _add_domain_commands() -> None:
    from cityops.core.domain import discover_domains

    for domain in discover_domains():
        if domain.commands is not None:
            app.add_typer(domain.commands(), name=domain.name)


_add_domain_commands()

DEMO_RULES = Path(__file__).parent / "demo_rules.toml"

DatabaseOption = Annotated[str | None, typer.Option(help="SQLAlchemy URL (default: CITYOPS_DATABASE_URL)")]


def _settings(database_url: str | None, **overrides: object) -> Settings:
    values = {key: value for key, value in overrides.items() if value is not None}
    if database_url:
        values["database_url"] = database_url
    return Settings(**values)  # type: ignore[arg-type]


def _print_demo_account(kernel: Kernel, settings: Settings) -> None:
    with write_transaction(kernel.engine) as conn:
        password = ensure_demo_operator(conn, settings.access.min_password_length)
    if password is None:
        typer.echo(f"Tài khoản '{DEMO_USERNAME}' đã có sẵn / account '{DEMO_USERNAME}' exists: use your own")
        return
    typer.secho(
        f"Đăng nhập thử nghiệm / demo sign-in (operator): {DEMO_USERNAME} / {password}",
        fg=typer.colors.YELLOW,
        bold=True,
    )


def _serve(settings: Settings, demo: bool = False) -> None:
    from cityops.api.app import create_app
    from cityops.api.server import server_config
    from cityops.core.kernel import Kernel

    typer.echo("Đang mở kho dữ liệu và nạp danh mục địa giới… (opening the store)")
    kernel = Kernel.open(
        settings.database_url, settings.domains, settings.node_modules, simulated=settings.simulate
    )
    if settings.simulate:
        count = kernel.load_samples()
        typer.echo(f"Đã nạp {count} đối tượng mẫu (sample entities loaded, simulated data)")
    if demo:
        _print_demo_account(kernel, settings)
    url = f"http://{settings.host}:{settings.port}/"
    typer.secho(f"cityops đang chạy tại / running at {url}", fg=typer.colors.GREEN, bold=True)
    app = create_app(kernel, settings)
    uvicorn.Server(
        server_config(app, settings.host, settings.port, settings.server, log_level="warning")
    ).run()


@app.command()
def serve(
    host: Annotated[str | None, typer.Option()] = None,
    port: Annotated[int | None, typer.Option()] = None,
    database_url: DatabaseOption = None,
    role: Annotated[
        Role,
        typer.Option(
            help="In a cluster (bus_url set): api, recorder, rules, or all of them in this process."
        ),
    ] = Role.ALL,
    bus_url: Annotated[
        str | None, typer.Option(help="NATS servers, e.g. nats://10.0.0.1:4222 (default: CITYOPS_BUS_URL)")
    ] = None,
) -> None:
    """Start the operations center (API, live feed and dashboard), or one role of a cluster."""
    settings = _settings(database_url, host=host, port=port, bus_url=bus_url)
    if settings.bus_url is None:
        if role is not Role.ALL:
            typer.secho(
                f"--role {role} cần bus_url / needs bus_url (nats://…): without a cluster bus one process"
                " does everything",
                fg=typer.colors.RED,
                err=True,
            )
            raise typer.Exit(2)
        _serve(settings)
        return
    from cityops.roles import open_cluster_kernel, run_role

    typer.echo(f"Đang mở kho dữ liệu… (opening the store) — vai trò / role: {role}")
    kernel, bus = open_cluster_kernel(settings, role)
    where = f" at http://{settings.host}:{settings.port}/" if role in (Role.API, Role.ALL) else ""
    typer.secho(f"cityops {role} đang chạy / running{where}, bus {settings.bus_url}", fg=typer.colors.GREEN)
    asyncio.run(run_role(settings, role, kernel, bus))


@app.command()
def demo(
    host: Annotated[str | None, typer.Option()] = None,
    port: Annotated[int | None, typer.Option()] = None,
    database_url: DatabaseOption = None,
) -> None:
    """Start the operations center with the sample province and simulated devices."""
    settings = _settings(database_url, host=host, port=port, simulate=True)
    if settings.rules.file is None:
        settings.rules = settings.rules.model_copy(update={"file": DEMO_RULES})
    _serve(settings, demo=True)


@db_app.command("upgrade")
def db_upgrade(database_url: DatabaseOption = None) -> None:
    """Create or migrate the schema and load the administrative areas."""
    from cityops.core.kernel import Kernel

    settings = _settings(database_url)
    kernel = Kernel.open(settings.database_url, settings.domains, settings.node_modules)
    kernel.engine.dispose()
    typer.echo(f"Kho dữ liệu đã sẵn sàng / store is up to date: {settings.database_url}")


@db_app.command("prune-raw")
def db_prune_raw(
    keep_days: Annotated[int, typer.Option(min=1, help="days of raw points to keep, today included")],
    database_url: DatabaseOption = None,
) -> None:
    """Retention: drop raw observations older than --keep-days (whole day partitions on PostgreSQL);
    minute, hour and day rollups are kept. Run it daily (cron or a systemd timer)."""
    import time

    from cityops.core.observation_partitions import DAY_MS, day_of, drop_raw_before
    from cityops.core.store import open_engine

    settings = _settings(database_url)
    engine = open_engine(settings.database_url)
    cutoff = day_of(int(time.time() * 1000)) - (keep_days - 1) * DAY_MS
    removed = drop_raw_before(engine, cutoff)
    engine.dispose()
    unit = "partitions" if engine.dialect.name == "postgresql" else "points"
    typer.echo(f"Đã xoá dữ liệu thô cũ / raw data dropped: {removed} {unit} (rollups kept)")


@app.command()
def ingest(
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="NDJSON (one point per line) or JSON")
    ],
    batch_size: Annotated[int, typer.Option(min=1, max=200_000)] = 10_000,
    database_url: DatabaseOption = None,
) -> None:
    """Load data points from a file straight into the store, batch by batch (all-or-nothing per batch)."""
    from cityops.core.ingest import IngestError, parse_json, parse_ndjson, validate_points
    from cityops.core.kernel import Kernel

    settings = _settings(database_url)
    kernel = Kernel.open(settings.database_url, settings.domains, settings.node_modules)
    body = file.read_bytes()
    lines: list[int] = []
    if file.suffix == ".json":
        raw = parse_json(body)
    else:
        raw, lines = parse_ndjson(body)
    # Every point is checked before the first batch is written: a bad line stores nothing.
    batches = []
    try:
        for start in range(0, len(raw), batch_size):
            try:
                batches.append(
                    validate_points(
                        raw[start : start + batch_size],
                        kernel.registry,
                        kernel.now_ms(),
                        batch_size,
                        lines[start : start + batch_size] or None,
                    )
                )
            except IngestError as exc:
                for error in exc.errors:
                    index = None if error.index is None else error.index + start
                    where = f"line {error.line}" if error.line else f"point {index}"
                    typer.secho(f"{where}: {error.field}: {error.message}", fg=typer.colors.RED, err=True)
                raise typer.Exit(2) from None

        async def run() -> int:
            stored = 0
            with typer.progressbar(batches, label="Đang nạp / ingesting") as progress:
                for batch in progress:
                    stored += (await kernel.record(batch, source=f"file:{file.name}")).accepted
            return stored

        total = asyncio.run(run())
    finally:
        kernel.engine.dispose()
    typer.echo(f"Đã lưu {total} điểm dữ liệu / stored {total} data points")


@app.command()
def briefing(
    month: Annotated[str, typer.Option(help="the month, YYYY-MM (2026-11)")],
    lang: Annotated[str, typer.Option(help="vi, en or ja")] = "vi",
    output: Annotated[
        Path | None, typer.Option(help="the PDF to write (default: briefing-MONTH-LANG.pdf)")
    ] = None,
    html: Annotated[bool, typer.Option(help="write the HTML page instead of the PDF")] = False,
    simulated: Annotated[
        bool | None,
        typer.Option(help="mark the indicator pages simulated (default: when the store is a demo's)"),
    ] = None,
    chromium: Annotated[Path, typer.Option(help="the Chromium that prints the PDF")] = Path(
        "/usr/bin/chromium"
    ),
    database_url: DatabaseOption = None,
) -> None:
    """The monthly leadership briefing: a page per domain, every figure with its source, printed to PDF."""
    from cityops.briefing import assemble, render
    from cityops.core.kernel import Kernel

    if lang not in ("vi", "en", "ja"):
        raise typer.BadParameter("use vi, en or ja", param_hint="--lang")
    try:
        chosen = assemble.Month.parse(month)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--month") from None
    settings = _settings(database_url)
    target = output or Path(f"briefing-{month}-{lang}.{'html' if html else 'pdf'}")
    typer.echo("Đang mở kho dữ liệu / opening the store…")
    kernel = Kernel.open(settings.database_url, settings.domains, settings.node_modules)
    try:
        typer.echo("Đang khởi động các lĩnh vực / setting up the domains…")
        kernel.setup_domains()
        typer.echo("Đang tổng hợp số liệu / gathering the figures…")
        pages = assemble.sections(kernel, chosen, lang, settings.simulate if simulated is None else simulated)
    finally:
        kernel.stop_domains()
        kernel.engine.dispose()
    page = render.html(pages, chosen, lang)
    if html:
        target.write_text(page, encoding="utf-8")
    else:
        typer.echo("Đang in PDF qua Chromium / printing the PDF through Chromium…")
        render.pdf(page, target, chromium)
    typer.secho(f"Đã ghi / written: {target} ({len(pages)} trang / pages)", fg=typer.colors.GREEN)
