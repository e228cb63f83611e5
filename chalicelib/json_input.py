"""JSON from outside, read safely: the nesting depth is checked on the raw bytes before parsing, so a small body of
ten thousand brackets is refused with a message instead of exhausting the parser's recursion (a 500)."""
from __future__ import annotations

import json
from typing import Any

#: Deeper than any platform's payload (X, Meta, SNS nest fewer than 12 levels).
MAX_DEPTH = 64


class BadJson(ValueError):
    """Not JSON we read: the message says why."""


def nesting_depth(raw: bytes) -> int:
    """The deepest nesting of arrays and objects in ``raw``, ignoring brackets inside strings."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):  # ] }
            depth -= 1
    return deepest


def load(raw: bytes | str, *, max_depth: int = MAX_DEPTH) -> Any:
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    if nesting_depth(data) > max_depth:
        raise BadJson(f"the JSON is nested more than {max_depth} levels deep")
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise BadJson("the request body is not valid JSON") from None
