"""The reports desk: taking a citizen's report in (with its files), the moderation queue (approve, edit,
refuse, each audited in its own transaction), and the public view of approved reports and their progress.

Approving a report opens an incident routed to the agency in charge; the report, the incident and the audit
entry are written in one transaction, then the incident is acknowledged and assigned to that agency.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
from sqlalchemy import Connection, Row, func, insert, select, update

from cityops.core import audit
from cityops.core.access.accounts import Principal
from cityops.core.incidents.attachments import AttachmentError, AttachmentFolder, SavedFile, sanitise_filename
from cityops.core.incidents.desk import NewIncident
from cityops.core.kernel import Kernel
from cityops.core.rules.alerts import iso
from cityops.core.rules.scope import AreaTree
from cityops.core.schema import areas
from cityops.core.schema_operations import incidents
from cityops.core.store import write_transaction
from cityops.reports.errors import ReportConflict, ReportError, ReportNotFound
from cityops.reports.routing import RoutingTable
from cityops.reports.schema import report_files, reports
from cityops.reports.submission import (
    ADDRESS_LIMITS,
    DESCRIPTION_LIMITS,
    Submission,
    check_category,
    check_text,
    checked,
)

log = logging.getLogger(__name__)
PUBLIC_ACTOR = "public"
REASON_MIN = 5
ATTACHMENT_CODES = {413: "file_too_large", 415: "file_type", 422: "file_empty"}


def now_ms() -> int:
    return int(time.time() * 1000)


def audited_view(row: Row[Any]) -> dict[str, Any]:
    """What the audit log keeps of a report: everything but the contact details."""
    return {
        "service_code": row.service_code,
        "description": row.description,
        "address": row.address,
        "agency": row.agency,
        "status": row.status,
        "refusal_reason": row.refusal_reason,
        "incident_id": row.incident_id,
    }


class ReportDesk:
    def __init__(self, kernel: Kernel, table: RoutingTable) -> None:
        self.kernel = kernel
        self.table = table
        self._tree: AreaTree | None = None

    @property
    def files(self) -> AttachmentFolder:
        """Beside the incidents' attachments, with the same size limit (configured at start-up)."""
        settings = self.kernel.incidents.settings
        return AttachmentFolder(settings.attachments_dir / "reports", settings.max_attachment_bytes)

    def tree(self, conn: Connection) -> AreaTree:
        if self._tree is None:
            self._tree = AreaTree.load(conn)
        return self._tree

    # --- taking reports in -------------------------------------------------------------------------
    async def submit(self, submission: Submission) -> dict[str, Any]:
        return await anyio.to_thread.run_sync(self._submit, submission)

    def _submit(self, submission: Submission) -> dict[str, Any]:
        report = checked(submission, self.table)
        area_code = legacy_code = None
        if report.lon is not None and report.lat is not None:
            area_code = self.kernel.area_index.locate(report.lon, report.lat, "2025")
            legacy_code = self.kernel.area_index.locate(report.lon, report.lat, "legacy")
        saved: list[SavedFile] = []
        try:
            for upload in report.files:
                saved.append(self._save(upload.source, upload.filename))
            with write_transaction(self.kernel.engine) as conn:
                agency = self.table.agency_for(report.service_code, (area_code, legacy_code), self.tree(conn))
                now = now_ms()
                report_id = conn.execute(
                    insert(reports).values(
                        service_code=report.service_code,
                        description=report.description,
                        address=report.address,
                        lon=report.lon,
                        lat=report.lat,
                        area_code=area_code,
                        legacy_area_code=legacy_code,
                        agency=agency,
                        status="pending",
                        contact_name=report.contact_name,
                        contact_email=report.contact_email,
                        contact_phone=report.contact_phone,
                        created_ms=now,
                        updated_ms=now,
                    )
                ).inserted_primary_key[0]  # type: ignore[index]
                for file in saved:
                    conn.execute(
                        insert(report_files).values(
                            report_id=report_id,
                            stored_name=file.stored_name,
                            original_name=file.original_name,
                            content_type=file.content_type,
                            size=file.size,
                            sha256=file.sha256,
                        )
                    )
                row = self._row(conn, report_id)
                audit.record(
                    conn, PUBLIC_ACTOR, "report.submit", f"report:{report_id}", None, audited_view(row)
                )
        except BaseException:
            for file in saved:
                self.files.remove(file.stored_name)
            raise
        return {"service_request_id": str(report_id), "status": "pending", "agency_responsible": agency}

    def _save(self, source: Any, filename: str) -> SavedFile:
        folder = self.files
        try:
            return folder.save(source, filename)
        except AttachmentError as exc:
            name = sanitise_filename(filename)
            found = exc.message.split(";")[0].removeprefix("content is ")
            limit = folder.max_bytes // (1024 * 1024)
            raise ReportError(
                exc.status,
                "media",
                ATTACHMENT_CODES.get(exc.status, "file_type"),
                name=name,
                limit=limit,
                found=found,
            ) from None

    # --- reading (staff) ---------------------------------------------------------------------------
    def _row(self, conn: Connection, report_id: int) -> Row[Any]:
        row = conn.execute(select(reports).where(reports.c.id == report_id)).first()
        if row is None:
            raise ReportNotFound()
        return row

    def _scoped_row(self, conn: Connection, report_id: int, principal: Principal) -> Row[Any]:
        row = self._row(conn, report_id)
        scope = principal.scope
        if scope is not None and not scope.allows(row.agency, row.area_code, row.legacy_area_code):
            raise ReportNotFound()  # 404, not 403: its existence stays unknown
        return row

    def staff_view(self, conn: Connection, row: Row[Any]) -> dict[str, Any]:
        files = conn.execute(
            select(report_files).where(report_files.c.report_id == row.id).order_by(report_files.c.id)
        ).all()
        return {
            **self.public_fields(row),
            "status": row.status,
            "refusal_reason": row.refusal_reason,
            "area_code": row.area_code,
            "legacy_area_code": row.legacy_area_code,
            "contact": {"name": row.contact_name, "email": row.contact_email, "phone": row.contact_phone},
            "moderated_by": row.moderated_by,
            "incident_id": row.incident_id,
            "files": [
                {"id": f.id, "name": f.original_name, "content_type": f.content_type, "size": f.size}
                for f in files
            ],
        }

    async def get(self, report_id: int, principal: Principal) -> dict[str, Any]:
        def read() -> dict[str, Any]:
            with self.kernel.engine.connect() as conn:
                return self.staff_view(conn, self._scoped_row(conn, report_id, principal))

        return await anyio.to_thread.run_sync(read)

    async def queue(
        self, principal: Principal, status: str | None, limit: int, offset: int, newest_first: bool = False
    ) -> dict[str, Any]:
        def read() -> dict[str, Any]:
            query = select(reports)
            if status is not None:
                query = query.where(reports.c.status == status)
            if principal.scope is not None:
                query = query.where(
                    principal.scope.where(reports.c.agency, reports.c.area_code, reports.c.legacy_area_code)
                )
            with self.kernel.engine.connect() as conn:
                total = conn.execute(select(func.count()).select_from(query.subquery())).scalar_one()
                order = reports.c.id.desc() if newest_first else reports.c.id
                rows = conn.execute(query.order_by(order).limit(limit).offset(offset)).all()
                return {"total": total, "items": [self.staff_view(conn, row) for row in rows]}

        return await anyio.to_thread.run_sync(read)

    async def file_of(self, report_id: int, file_id: int, principal: Principal) -> tuple[Path, str, str]:
        def read() -> tuple[Path, str, str]:
            with self.kernel.engine.connect() as conn:
                self._scoped_row(conn, report_id, principal)
                row = conn.execute(
                    select(report_files).where(
                        report_files.c.id == file_id, report_files.c.report_id == report_id
                    )
                ).first()
            if row is None:
                raise ReportNotFound()
            return self.files.path_of(row.stored_name), row.content_type, row.original_name

        return await anyio.to_thread.run_sync(read)

    # --- moderating --------------------------------------------------------------------------------
    def _moderate(
        self,
        report_id: int,
        principal: Principal,
        action: str,
        change: Callable[[Connection, Row[Any]], dict[str, Any]],
    ) -> dict[str, Any]:
        with write_transaction(self.kernel.engine) as conn:
            return self._moderate_in(conn, report_id, principal, action, change)

    async def edit(
        self, report_id: int, principal: Principal, changes: dict[str, str | None]
    ) -> dict[str, Any]:
        def change(conn: Connection, row: Row[Any]) -> dict[str, Any]:
            values: dict[str, Any] = {}
            if changes.get("description") is not None:
                values["description"] = check_text("description", changes["description"], DESCRIPTION_LIMITS)
            if changes.get("address_string") is not None:
                values["address"] = check_text("address_string", changes["address_string"], ADDRESS_LIMITS)
            code = changes.get("service_code")
            if code is not None:
                values["service_code"] = check_category(self.table, code)
                values["agency"] = self.table.agency_for(
                    code, (row.area_code, row.legacy_area_code), self.tree(conn)
                )
            return values

        return await anyio.to_thread.run_sync(self._moderate, report_id, principal, "report.edit", change)

    async def refuse(self, report_id: int, principal: Principal, reason: str) -> dict[str, Any]:
        reason = reason.strip()
        if len(reason) < REASON_MIN:
            raise ReportError(422, "reason", "reason", min=REASON_MIN)
        if len(reason) > 1000:
            raise ReportError(422, "reason", "too_long", max=1000)

        def change(_conn: Connection, _row: Row[Any]) -> dict[str, Any]:
            return {
                "status": "refused",
                "refusal_reason": reason,
                "moderated_ms": now_ms(),
                "moderated_by": principal.actor,
            }

        return await anyio.to_thread.run_sync(self._moderate, report_id, principal, "report.refuse", change)

    async def approve(self, report_id: int, principal: Principal) -> dict[str, Any]:
        def read() -> Row[Any]:
            with self.kernel.engine.connect() as conn:
                return self._scoped_row(conn, report_id, principal)

        row = await anyio.to_thread.run_sync(read)
        if row.status != "pending":
            raise ReportConflict(row.status)
        category = self.table.category(row.service_code)
        assert category is not None
        new = NewIncident(
            title=f"{category.vi}: {row.description[:80]}",
            severity=category.severity,
            category="citizenReport",
            sub_category=row.service_code,
            description=row.description,
            source=f"urn:ngsi-ld:Open311_ServiceRequest:{report_id}",
            lon=row.lon,
            lat=row.lat,
            area_code=row.area_code,
            legacy_area_code=row.legacy_area_code,
        )
        approved: dict[str, Any] = {}

        def within(conn: Connection, incident: dict[str, Any]) -> None:
            def change(_conn: Connection, _row: Row[Any]) -> dict[str, Any]:
                return {
                    "status": "approved",
                    "incident_id": incident["id"],
                    "moderated_ms": now_ms(),
                    "moderated_by": principal.actor,
                }

            approved.update(self._moderate_in(conn, report_id, principal, "report.approve", change))

        incident = await self.kernel.incidents.open(new, principal.actor, within=within)
        desk = self.kernel.incidents
        await desk.transition(incident["id"], "acknowledged", principal.actor, "phản ánh đã được duyệt")
        await desk.transition(incident["id"], "assigned", principal.actor, "theo bảng phân công", row.agency)
        for file in approved["files"]:
            path, _, name = await self.file_of(report_id, file["id"], principal)
            with path.open("rb") as source:
                await desk.attach_file(incident["id"], source, name, principal.actor)
        return approved

    def _moderate_in(
        self,
        conn: Connection,
        report_id: int,
        principal: Principal,
        action: str,
        change: Callable[[Connection, Row[Any]], dict[str, Any]],
    ) -> dict[str, Any]:
        """Apply `change` to a pending report in scope (compare-and-set on its status), audited in `conn`'s
        transaction."""
        row = self._scoped_row(conn, report_id, principal)
        if row.status != "pending":
            raise ReportConflict(row.status)
        values = {**change(conn, row), "updated_ms": now_ms()}
        done = conn.execute(
            update(reports).where(reports.c.id == report_id, reports.c.status == "pending").values(**values)
        ).rowcount
        if done != 1:
            raise ReportConflict(self._row(conn, report_id).status)
        after = self._row(conn, report_id)
        audit.record(
            conn, principal.actor, action, f"report:{report_id}", audited_view(row), audited_view(after)
        )
        return self.staff_view(conn, after)

    # --- the public view ---------------------------------------------------------------------------
    def public_fields(self, row: Row[Any]) -> dict[str, Any]:
        category = self.table.category(row.service_code)
        return {
            "service_request_id": str(row.id),
            "service_code": row.service_code,
            "service_name": {"vi": category.vi, "en": category.en, "ja": category.ja} if category else None,
            "description": row.description,
            "address": row.address,
            "lat": row.lat,
            "long": row.lon,
            "agency_responsible": row.agency,
            "requested_datetime": iso(row.created_ms),
        }

    def public_view(self, row: Row[Any]) -> dict[str, Any]:
        state = row.incident_state
        return {
            **self.public_fields(row),
            "status": "closed" if state in ("resolved", "closed") else "open",
            "progress": state,
            "area_name": row.area_name,
            "updated_datetime": iso(row.incident_updated_ms),
        }

    async def public_list(self, limit: int, offset: int) -> dict[str, Any]:
        def read() -> dict[str, Any]:
            query = approved_reports()
            with self.kernel.engine.connect() as conn:
                total = conn.execute(select(func.count()).select_from(query.subquery())).scalar_one()
                rows = conn.execute(query.order_by(reports.c.id.desc()).limit(limit).offset(offset)).all()
            return {"total": total, "items": [self.public_view(row) for row in rows]}

        return await anyio.to_thread.run_sync(read)

    async def public_get(self, report_id: int) -> dict[str, Any]:
        def read() -> dict[str, Any]:
            with self.kernel.engine.connect() as conn:
                row = conn.execute(approved_reports().where(reports.c.id == report_id)).first()
            if row is None:
                raise ReportNotFound()
            return self.public_view(row)

        return await anyio.to_thread.run_sync(read)


def approved_reports() -> Any:
    """Approved reports with their incident's progress and their ward's name: what the public sees."""
    return (
        select(
            reports,
            incidents.c.state.label("incident_state"),
            incidents.c.updated_ms.label("incident_updated_ms"),
            areas.c.name.label("area_name"),
        )
        .select_from(
            reports.join(incidents, incidents.c.id == reports.c.incident_id).outerjoin(
                areas, areas.c.code == reports.c.area_code
            )
        )
        .where(reports.c.status == "approved")
    )
