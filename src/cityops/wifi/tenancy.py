"""Which tenants a person sees in the wifi domain.

The province's staff (admin, operator, leader) see every tenant. A business's staff are agency officers
whose agency code is the tenant's `agency_code` (no new kernel role: the kernel's scope already carries
the agency); they see and manage only their tenant. Any other agency officer sees no tenant. Every
query of the management API goes through `TenantView.where`, every single object through `allows`
(404 outside, so another tenant's objects stay unknown).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, Connection, select, true

from cityops.core.access.accounts import Principal, Role
from cityops.wifi.schema import tenants

PROVINCE_ROLES = frozenset({Role.ADMIN, Role.OPERATOR, Role.LEADER})


@dataclass(frozen=True)
class TenantView:
    tenant_ids: frozenset[int] | None  # None: every tenant (the province)
    can_write: bool

    @property
    def province(self) -> bool:
        return self.tenant_ids is None

    def where(self, column: ColumnElement[int]) -> ColumnElement[bool]:
        if self.tenant_ids is None:
            return true()
        return column.in_(sorted(self.tenant_ids))

    def allows(self, tenant_id: int) -> bool:
        return self.tenant_ids is None or tenant_id in self.tenant_ids


def view_of(conn: Connection, principal: Principal) -> TenantView:
    writes = principal.role in (Role.ADMIN, Role.OPERATOR, Role.AGENCY_OFFICER) and not principal.anonymous
    if principal.role in PROVINCE_ROLES and principal.scope is None:
        return TenantView(None, writes)
    agency = principal.scope.agency_code if principal.scope is not None else None
    if principal.role is not Role.AGENCY_OFFICER or agency is None:
        return TenantView(frozenset(), False)
    ids = conn.execute(select(tenants.c.id).where(tenants.c.agency_code == agency)).scalars()
    return TenantView(frozenset(int(i) for i in ids), writes)
