"""The building blocks of the sync API's bodies (server/schemas.py): the base models, the shared
field types and size limits, the error shape and who did it (the operator)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

MAX_RECORDS_PER_BATCH = 500
ROLES = ("enumerator", "verifier", "card_desk", "admin")
Role = Literal["enumerator", "verifier", "card_desk", "admin"]

Id = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:\-]+$")]
Short = Annotated[str, Field(max_length=100)]
Text = Annotated[str, Field(max_length=2000)]
Operator = Annotated[str, Field(max_length=100)]  # the registration data's free `operator` text
Revision = Annotated[int, Field(ge=0, le=2**31)]
FilledText = Annotated[str, Field(min_length=1, max_length=200)]  # a name, a place: required
ISO_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


def _no_lone_surrogates(value: Any) -> Any:
    """A lone UTF-16 surrogate ("\\ud800") parses as JSON but cannot be stored as UTF-8."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ValueError("teks berisi karakter yang tidak sah") from exc
    return value


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _text_is_utf8(cls, value: Any) -> Any:
        return _no_lone_surrogates(value)


class Lenient(Strict):
    # Record data may gain fields in a later app version (models.py is append-only).
    model_config = ConfigDict(extra="ignore")


class ErrorInfo(BaseModel):
    code: str
    message: str
    details: Any = None


class ErrorBody(BaseModel):
    error: ErrorInfo


# Every refusal an endpoint may give, for the OpenAPI document.
ERROR_RESPONSES = {status: {"model": ErrorBody}
                   for status in (400, 401, 403, 404, 409, 413, 415, 422, 503)}


NOT_BLANK = r"[^\s\x1c-\x1f]"


class OperatorInfo(Strict):
    """Who did it: the operator logged in on the device (storage.operators), both parts required
    and non-empty after trimming."""

    # The pattern (one character that is not white space to Python's str.split) puts the
    # "not blank" rule into the published schema too, so a schema-valid request is not a 422.
    username: Annotated[str, Field(min_length=1, max_length=64, pattern=NOT_BLANK)]
    display_name: Annotated[str, Field(min_length=1, max_length=100, pattern=NOT_BLANK)]

    @field_validator("username", "display_name", mode="after")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        value = " ".join(value.split())
        if not value:
            raise ValueError("tidak boleh kosong")
        return value


OperatorField = Annotated[OperatorInfo, Field(
    description="The operator logged in on the device; a decision, card step or reprint "
                "without one gets 422 request.invalid (loc [\"body\", \"operator\"]).")]
