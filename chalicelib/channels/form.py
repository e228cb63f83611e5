"""Website contact form: validate one submission and turn it into a private ``form`` mention.

``parse_form`` accepts a JSON object, or a plain HTML form post given its content type
(``application/x-www-form-urlencoded`` or ``multipart/form-data``, whose text fields alone are read: a file
part is refused), and raises ``FormError`` with its kind and one human-readable message per failing field,
so the page can show them next to the inputs. The same size limit, validation and messages hold in every
encoding; any other content type is ``unsupported``.

``website`` is a honeypot: the input is hidden from people, so a value means a bot filled it in. Such a
submission is still accepted (a bot learns nothing from the response) and is flagged
``extra["honeypot"] = True`` so it is never acknowledged; use ``is_honeypot_spam`` on the model directly.
"""
from __future__ import annotations

import json
import re
import unicodedata
from datetime import datetime, timezone
from email import policy
from email.message import Message
from email.parser import BytesParser
from typing import Annotated, Any
from urllib.parse import parse_qs, parse_qsl

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import ErrorDetails

from chalicelib.domain.mention import Mention

MAX_FORM_BYTES = 16_384
MAX_NAME_CHARS = 100
MAX_EMAIL_CHARS = 254
MAX_MESSAGE_CHARS = 5_000
MAX_TOPIC_CHARS = 100
#: The most fields (or parts) a form-encoded submission may have.
MAX_FIELDS = 50

JSON = "application/json"
URLENCODED = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"
#: What a submission may be (and any ``+json`` type): a JSON object, or an HTML form's post in either encoding.
MEDIA_TYPES = (JSON, URLENCODED, MULTIPART)

_EMAIL = re.compile(
    r"^(?=.{1,64}@)[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+(?:[A-Za-z]{2,63}|xn--[A-Za-z0-9-]{1,59})$"
)
_HANDLE = re.compile(r"^@?([A-Za-z0-9_]{1,30})$")


_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _has_control(value: str, *, allow_newlines: bool = False) -> bool:
    """Control characters (and, on single-line fields, bidi overrides that can disguise a name)."""
    for char in value:
        if allow_newlines and char in "\n\r\t":
            continue
        if unicodedata.category(char) == "Cc":
            return True
        if not allow_newlines and char in _BIDI_CONTROLS:
            return True
    return False


class ContactForm(BaseModel):
    """One contact-form submission. Unknown fields are rejected; strings are stripped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    name: Annotated[str, Field(min_length=1, max_length=MAX_NAME_CHARS)]
    email: Annotated[str, Field(min_length=3, max_length=MAX_EMAIL_CHARS)]
    handle: str | None = None
    message: Annotated[str, Field(min_length=1, max_length=MAX_MESSAGE_CHARS)]
    topic: Annotated[str, Field(max_length=MAX_TOPIC_CHARS)] | None = None
    website: str | None = None  # honeypot: left empty by people

    @field_validator("name")
    @classmethod
    def _single_line_name(cls, value: str) -> str:
        if _has_control(value):
            raise ValueError("must be a single line without control characters")
        return value

    @field_validator("email")
    @classmethod
    def _valid_email(cls, value: str) -> str:
        if not _EMAIL.match(value):
            raise ValueError("must be a valid e-mail address, like name@example.com")
        return value.lower()

    @field_validator("handle")
    @classmethod
    def _valid_handle(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        match = _HANDLE.match(value)
        if not match:
            raise ValueError("must be a social handle of 1-30 letters, digits or underscores, like @jane_doe")
        return match.group(1)

    @field_validator("message")
    @classmethod
    def _clean_message(cls, value: str) -> str:
        if _has_control(value, allow_newlines=True):
            raise ValueError("must not contain control characters")
        if not value.strip():
            raise ValueError("must not be empty")
        return value

    @field_validator("topic")
    @classmethod
    def _clean_topic(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if _has_control(value):
            raise ValueError("must be a single line without control characters")
        return value


class FormError(ValueError):
    """A submission the endpoint rejects.

    ``kind``: ``malformed`` body, ``too_large``, ``unsupported`` content type, or ``invalid`` (failed validation).
    ``errors``: ``[{"field": "email", "message": "..."}]``; ``field`` is ``""`` for the body as a whole.
    """

    KINDS = ("malformed", "too_large", "unsupported", "invalid")

    def __init__(self, kind: str, errors: list[dict[str, str]]):
        if kind not in self.KINDS:
            raise ValueError(f"unknown form error kind {kind!r}")
        self.kind = kind
        self.errors = errors
        summary = "; ".join(f"{e['field'] or 'body'}: {e['message']}" for e in errors)
        super().__init__(summary)


def is_honeypot_spam(form: ContactForm) -> bool:
    """True when the hidden ``website`` field was filled in (only bots see it)."""
    return bool(form.website and form.website.strip())


def load_form(raw_body: object, *, content_type: str | None = None) -> ContactForm:
    """Size limit, decoding and validation of one submission; ``FormError`` on any failure."""
    if raw_body is None:
        raw_body = b""
    if not isinstance(raw_body, (bytes, bytearray)):
        raise TypeError("raw_body must be bytes")
    if len(raw_body) > MAX_FORM_BYTES:
        raise FormError("too_large", [{"field": "",
                                       "message": f"The form is too large (limit {MAX_FORM_BYTES} bytes)."}])
    kind = media_type(content_type)
    if kind not in MEDIA_TYPES and not kind.endswith("+json"):
        raise FormError("unsupported", [{"field": "", "message": f"Unsupported content type {kind!r}."}])
    if not raw_body.strip():
        raise FormError("malformed", [{"field": "", "message": "The form is empty."}])
    if kind == MULTIPART:
        data = _parse_multipart(bytes(raw_body), content_type or "")
    else:
        text = _utf8(bytes(raw_body))
        data = _parse_urlencoded(text) if kind == URLENCODED else _parse_json(text)

    try:
        return ContactForm.model_validate(data)
    except ValidationError as exc:
        raise FormError("invalid", _field_errors(exc)) from None


def parse_form(
    raw_body: bytes,
    *,
    submission_id: str,
    received_at: datetime,
    content_type: str | None = None,
) -> Mention:
    """The submission as a private ``form`` mention; ``FormError`` for a bad submission.

    ``ValueError`` (not ``FormError``) when the caller passes an empty ``submission_id`` or a naive
    ``received_at``: those are bugs on our side, not the customer's.
    """
    if not submission_id:
        raise ValueError("submission_id is required")
    if received_at.tzinfo is None:
        raise ValueError("received_at must be timezone-aware")
    form = load_form(raw_body, content_type=content_type)
    return to_mention(form, submission_id=submission_id, received_at=received_at)


def to_mention(form: ContactForm, *, submission_id: str, received_at: datetime) -> Mention:
    return Mention(
        channel="form",
        external_id=submission_id,
        conversation_id=submission_id,
        author_id=form.email,
        author_handle=form.email,
        author_name=form.name,
        text=form.message,
        created_at=received_at.astimezone(timezone.utc),
        visibility="private",
        subject=form.topic or "",
        extra={"handle": form.handle or "", "honeypot": is_honeypot_spam(form)},
    )


# --------------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------------


def _parse_json(text: str) -> Any:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        message = f"The form is not valid JSON ({exc.msg} at position {exc.pos})."
        raise FormError("malformed", [{"field": "", "message": message}]) from None
    except RecursionError:
        raise FormError("malformed", [{"field": "", "message": "The form is nested too deeply."}]) from None
    if not isinstance(data, dict):
        raise FormError("malformed", [{"field": "", "message": "The form must be a JSON object."}])
    return data


def _parse_urlencoded(text: str) -> dict[str, str]:
    try:
        pairs = parse_qs(text, keep_blank_values=True, strict_parsing=True, max_num_fields=MAX_FIELDS)
    except ValueError:
        raise FormError("malformed", [{"field": "", "message": "The form is not a valid URL-encoded body."}]) from None
    repeated = sorted(key for key, values in pairs.items() if len(values) > 1)
    if repeated:
        raise FormError("invalid", [{"field": key, "message": "Must be given only once."} for key in repeated])
    return {key: values[0] for key, values in pairs.items()}


def media_type(content_type: str | None) -> str:
    """The media type of a ``Content-Type`` header, lower case, without parameters (none means JSON)."""
    return (content_type or JSON).split(";")[0].strip().lower()


def _utf8(raw_body: bytes) -> str:
    try:
        return raw_body.decode("utf-8")
    except UnicodeDecodeError:
        raise FormError("malformed", [{"field": "", "message": "The form must be UTF-8 encoded."}]) from None


def _not_multipart() -> FormError:
    return FormError("malformed", [{"field": "", "message": "The form is not a valid multipart body."}])


def _multipart_parts(raw_body: bytes, content_type: str) -> tuple[list[tuple[str, str]], list[str]]:
    """The text fields of a ``multipart/form-data`` body, in order, and the names of its file parts (never read).
    The standard library's MIME parser reads it under a synthetic ``Content-Type`` header (the request's own,
    which carries the boundary); a body it finds defects in is malformed."""
    header = " ".join(content_type.splitlines()).encode("latin-1", errors="replace")
    message = BytesParser(policy=policy.HTTP).parsebytes(b"Content-Type: " + header + b"\r\n\r\n" + raw_body)
    parts = message.get_payload()
    if message.defects or not message.is_multipart() or not isinstance(parts, list) or not parts:
        raise _not_multipart()
    if len(parts) > MAX_FIELDS:
        raise _not_multipart()
    fields: list[tuple[str, str]] = []
    files: list[str] = []
    for part in parts:
        if not isinstance(part, Message):
            raise _not_multipart()
        name = _part_name(part)
        if part.get_filename() is not None:
            files.append(name)
            continue
        payload = part.get_payload(decode=True)
        if part.defects or not isinstance(payload, bytes):
            raise _not_multipart()
        fields.append((name, _utf8(payload)))
    return fields, files


def _part_name(part: Message) -> str:
    name = part.get_param("name", header="content-disposition")
    if part.get_content_disposition() != "form-data" or not isinstance(name, str) or not name:
        raise _not_multipart()
    return name


def _parse_multipart(raw_body: bytes, content_type: str) -> dict[str, str]:
    fields, files = _multipart_parts(raw_body, content_type)
    if files:
        raise FormError("invalid", [{"field": name, "message": "Attachments are not accepted here."}
                                    for name in dict.fromkeys(files)])
    names = [name for name, _ in fields]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise FormError("invalid", [{"field": key, "message": "Must be given only once."} for key in repeated])
    return dict(fields)


def submitted_fields(raw_body: bytes, content_type: str | None) -> dict[str, str]:
    """What a form-encoded submission's fields hold, as typed (the first value of each, unvalidated), to show a
    refused form again with the customer's input; empty when the body cannot be read as a form."""
    kind = media_type(content_type)
    if len(raw_body) > 4 * MAX_FORM_BYTES:
        return {}
    try:
        if kind == MULTIPART:
            pairs, _files = _multipart_parts(raw_body, content_type or "")
        elif kind == URLENCODED:
            pairs = parse_qsl(raw_body.decode("utf-8", errors="replace"), keep_blank_values=True,
                              max_num_fields=MAX_FIELDS)
        else:
            return {}
    except ValueError:  # FormError included
        return {}
    fields: dict[str, str] = {}
    for name, value in pairs:
        fields.setdefault(name, value)
    return fields


_MESSAGES = {
    "missing": "This field is required.",
    "extra_forbidden": "This field is not part of the form.",
    "string_type": "Must be text.",
}


def _field_errors(exc: ValidationError) -> list[dict[str, str]]:
    errors: list[dict[str, str]] = []
    seen: set[str] = set()
    for error in exc.errors(include_url=False):
        field = ".".join(str(part) for part in error.get("loc", ()))
        if field in seen:
            continue  # one message per field (a union may report the same field twice)
        seen.add(field)
        errors.append({"field": field, "message": _human(error)})
    return errors


def _human(error: ErrorDetails) -> str:
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    if kind in _MESSAGES:
        return _MESSAGES[kind]
    if kind == "string_too_short":
        minimum = ctx.get("min_length", 1)
        return "Must not be empty." if minimum <= 1 else f"Must be at least {minimum} characters."
    if kind == "string_too_long":
        return f"Must be at most {ctx.get('max_length')} characters."
    if kind == "value_error":
        message = str(ctx.get("error") or error.get("msg", "Invalid value."))
        return message[:1].upper() + message[1:] + ("" if message.endswith(".") else ".")
    return str(error.get("msg", "Invalid value."))
