"""The two HTTPS calls an SNS subscriber makes: fetch the signing certificate (cached) and confirm a subscription.
The URLs are validated by ``channels.email`` before they reach here."""
from __future__ import annotations

from functools import lru_cache

import requests

TIMEOUT = 5


@lru_cache(maxsize=16)
def fetch_certificate(url: str) -> bytes:
    response = requests.get(url, timeout=TIMEOUT)
    response.raise_for_status()
    return response.content


def confirm_subscription(url: str) -> None:
    requests.get(url, timeout=TIMEOUT).raise_for_status()


class SnsHttp:
    """``channels.base.SnsEndpoint`` over HTTPS (the certificate is cached per URL)."""

    def certificate(self, url: str) -> bytes:
        return fetch_certificate(url)

    def confirm(self, url: str) -> None:
        confirm_subscription(url)
