"""What every form page of the app checks before it reads a POST."""
from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlparse


def same_site(headers: Mapping[str, str], public_host: str) -> bool:
    """False for a POST a browser says came from another site: ``Sec-Fetch-Site``, or a real ``Origin`` naming a
    host that is neither the request's nor ``public_host`` (the netloc of ``PUBLIC_BASE_URL``). ``Origin: null``,
    which a page served with no-referrer sends, is let through: the page's own checks decide."""
    lower = {str(k).lower(): str(v) for k, v in headers.items()}
    if lower.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
        return False
    origin = lower.get("origin", "")
    return not origin or origin == "null" or urlparse(origin).netloc in (lower.get("host", ""), public_host)
