"""GET /health: the app is configured and its tables and queues answer."""
from __future__ import annotations

from typing import Any

from chalicelib.services import Services


def health(svc: Services) -> dict[str, Any]:
    checks = {}
    try:
        svc.queues.url(svc.settings.inbound_queue)
        checks["queues"] = "ok"
    except Exception as exc:  # a health check reports, it does not raise
        checks["queues"] = f"error: {type(exc).__name__}"
    try:
        svc.stores.health.ping()
        checks["tables"] = "ok"
    except Exception as exc:
        checks["tables"] = f"error: {type(exc).__name__}"
    now = svc.now()
    return {"ok": all(v == "ok" for v in checks.values()), "stage": svc.settings.stage,
            "time": now.isoformat(), "open_desks": svc.calendar.open_desks(now), "checks": checks}
