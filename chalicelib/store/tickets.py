"""What every ticket store shares: the read-modify-save loop under optimistic concurrency."""
from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from chalicelib.domain.ticket import Ticket
from chalicelib.store.ports import ConcurrentUpdate, R, Updated


class _Versioned(Protocol):
    def get(self, ticket_id: str) -> Ticket | None: ...

    def save(self, ticket: Ticket) -> None: ...


def update_with_retries(store: _Versioned, ticket_id: str, change: Callable[[Ticket], R], *,
                        current: Ticket | None = None, attempts: int = 5) -> Updated[R] | None:
    """Apply ``change`` and save; when somebody saved first, re-read and apply it again (see TicketStore.update)."""
    ticket = current
    for _ in range(attempts):
        if ticket is None:
            ticket = store.get(ticket_id)
            if ticket is None:
                return None
        result = change(ticket)
        try:
            store.save(ticket)
            return Updated(ticket, result)
        except ConcurrentUpdate:
            ticket = None
    raise ConcurrentUpdate(ticket_id)
