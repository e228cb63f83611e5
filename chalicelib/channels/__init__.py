"""Channel adapters: verify + parse inbound payloads into ``Mention``; send outbound replies.

Each inbound module exposes pure functions (no boto3):
    verify_signature(secret, raw_body: bytes, header_value) -> bool
    parse(payload, **account) -> list[Mention]
Each outbound sender implements ``Sender`` (see ``channels.base``).
"""
