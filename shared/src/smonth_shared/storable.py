"""Request bodies whose text PostgreSQL can store: a NUL character or a lone surrogate is refused
as the field's error (422), not met as a database error (500) at the INSERT."""

from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

from smonth_shared.problems import rule


def refuse_unstorable(value: str) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise rule("text", "contains a character that is not text", "含有无法保存的字符") from None
    if "\x00" in value:
        raise rule("text", "contains a NUL character", "含有无法保存的字符")


class StorableBody(BaseModel):
    """A body of the contract: no field it does not name, text trimmed and storable."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _storable_text(cls, value: Any) -> Any:
        if isinstance(value, str):
            refuse_unstorable(value)
        elif isinstance(value, list | tuple):
            for item in value:
                if isinstance(item, str):
                    refuse_unstorable(item)
        return value
