"""Rows from the API with proper types: dates as `datetime.date`, instants as aware `datetime`, categories
with the trial's levels in order. pandas DataFrames when pandas is importable, lists of dicts otherwise."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any, Iterable, Literal, Mapping, Sequence, Union

try:  # pandas is optional
    import pandas as _pd
except ImportError:  # pragma: no cover - exercised only where pandas is missing
    _pd = None

Rows = list[dict[str, Any]]
Frame = Union["_pd.DataFrame", Rows]  # type: ignore[name-defined]
Kind = Literal["date", "instant", "category", "integer", "number", "boolean", "value"]


def pandas_available() -> bool:
    return _pd is not None


def snake_case(name: str) -> str:
    """`screenedOn` -> `screened_on`."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def parse_date(value: Any) -> date | None:
    return None if value is None else date.fromisoformat(value)


def parse_instant(value: Any) -> datetime | None:
    if value is None:
        return None
    # fromisoformat in Python < 3.11 does not read the `Z` suffix.
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(timezone.utc)


@dataclass(frozen=True)
class Column:
    """One output column: where it comes from in an API row and how it is typed."""

    name: str
    source: str | None = None
    kind: Kind = "value"
    levels: Sequence[str] | None = None

    def read(self, row: Mapping[str, Any]) -> Any:
        value: Any = row
        for part in (self.source or self.name).split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
        if self.kind == "date":
            return parse_date(value)
        if self.kind == "instant":
            return parse_instant(value)
        return value


def camel_columns(names: Iterable[str], **typed: tuple[Kind, Sequence[str] | None]) -> list[Column]:
    """Columns named after the API's camelCase members in snake_case; `typed` gives kinds by API name."""
    columns = []
    for name in names:
        kind, levels = typed.get(name, ("value", None))
        columns.append(Column(snake_case(name), name, kind, levels))
    return columns


def frame(rows: Iterable[Mapping[str, Any]], columns: Sequence[Column], as_frame: bool) -> Frame:
    """The rows typed by `columns`: a DataFrame (categories as pandas Categorical) or a list of dicts."""
    records = [{column.name: column.read(row) for column in columns} for row in rows]
    if not as_frame:
        return records
    if _pd is None:
        raise RuntimeError("pandas is not installed; create the client with as_frames=False")
    data = _pd.DataFrame.from_records(records, columns=[column.name for column in columns])
    for column in columns:
        if column.kind == "category":
            levels = list(column.levels) if column.levels is not None else None
            present = [value for value in data[column.name] if value is not None]
            if levels is None:
                levels = list(dict.fromkeys(present))
            unknown = sorted(set(present) - set(levels))
            if unknown:
                raise ValueError(f"column {column.name}: values {unknown} are not among the levels {levels}")
            data[column.name] = _pd.Categorical(data[column.name], categories=levels)
        elif column.kind == "instant":
            data[column.name] = _pd.to_datetime(data[column.name], utc=True)
        elif column.kind == "integer":
            data[column.name] = data[column.name].astype("Int64")  # nullable: a missing value stays <NA>
        elif column.kind == "number":
            data[column.name] = _pd.to_numeric(data[column.name]).astype("float64")
        elif column.kind == "boolean":
            data[column.name] = data[column.name].astype("boolean")
    return data
