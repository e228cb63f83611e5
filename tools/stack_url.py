"""Where the running stack answers, for every command-line tool: ``RESPONDER_URL`` (a full base URL, e.g. a
deployed stage), else the local stack on ``$PORT`` (as ``make run`` starts it), else port 8000."""
from __future__ import annotations

import os


def base_url() -> str:
    if os.environ.get("RESPONDER_URL"):
        return os.environ["RESPONDER_URL"].rstrip("/")
    return f"http://127.0.0.1:{os.environ.get('PORT') or '8000'}"
