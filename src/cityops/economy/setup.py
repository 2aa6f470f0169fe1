"""What the domain does when the server starts: the built-in series and the published figures are put
in the store when they are missing."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cityops.core.store import write_transaction
from cityops.economy import catalogue, published

if TYPE_CHECKING:
    from cityops.core.kernel import Kernel


def load_reference(kernel: Kernel) -> None:
    with write_transaction(kernel.engine) as conn:
        catalogue.load_builtin(conn)
        published.load(conn)
