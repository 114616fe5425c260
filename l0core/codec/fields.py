"""How a declared field is read from a wire object and written back to one.

The format itself is declared as data in :mod:`l0core.codec.schema`. This module
turns those declarations into decode and encode functions once, at import time, so
a call runs a short loop over precomputed steps instead of interpreting the table.

Reading rules (the same for every shape, both spellings):

- a field is looked up under its camelCase name first, then its snake_case name
  (the attribute name), then any older spellings in ``also``;
- a *nullable* field takes the first spelling that is not null, and is ``None``
  when there is none (so ``{"model": null}`` is simply "no model");
- any other field takes the first spelling present; when it is absent it is
  "missing field" if required, else its ``default`` (checked like a written value);
- the error path names the camelCase spelling (``event.tokenCount``).

Writing uses the camelCase names only, in declaration order; a nullable field
that is ``None`` is left out unless ``write_null`` says to write ``null``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from l0core.codec.checks import check_json, fail, kind_of, need_object
from l0core.events import JSONDict

Check = Callable[[Any, str], Any]
"""``(value, path) -> value``: returns the value to keep, or raises naming ``path``."""


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Final[Any] = _Required()
"""The ``default`` of a field that must be present."""


@dataclass(frozen=True, slots=True)
class Value:
    """How one field's value is checked on the way in and on the way out.

    Plain values use one check both ways (:func:`plain`); a nested object builds
    its typed form on the way in and its wire form on the way out.
    """

    decode: Check
    encode: Check


def plain(check: Check) -> Value:
    return Value(check, check)


@dataclass(frozen=True, slots=True)
class Field:
    """One field of a wire object, declared once for reading, writing and messages."""

    wire: str
    """The camelCase name written, read first and used in error paths."""
    attr: str
    """The Python attribute; also the snake_case spelling accepted on read."""
    value: Value
    default: Any = REQUIRED
    """Used when the field is absent (checked like a written value)."""
    nullable: bool = False
    """``null`` (or absent) means ``None``."""
    write_null: bool = False
    """Write ``None`` as ``null`` instead of leaving the key out."""
    also: tuple[str, ...] = ()
    """Further spellings accepted on read (older names)."""

    @property
    def spellings(self) -> tuple[str, ...]:
        names = (self.wire,) if self.attr == self.wire else (self.wire, self.attr)
        return (*names, *self.also)


def known_keys(fields: Sequence[Field]) -> frozenset[str]:
    """Every spelling of ``fields``: the keys that are not "unknown"."""
    return frozenset(name for f in fields for name in f.spellings)


FieldReader = Callable[[Mapping[str, Any], str], dict[str, Any]]
FieldWriter = Callable[[Any, str, JSONDict], None]


def _fallback(f: Field) -> Callable[[Mapping[str, Any]], Any]:
    """What ``f`` reads when its camelCase key is absent or null: other spellings,
    then ``None`` (nullable), its default, or :data:`REQUIRED` (missing)."""
    names = f.spellings
    if f.nullable:

        def nullable(data: Mapping[str, Any]) -> Any:
            for name in names:
                value = data.get(name)
                if value is not None:
                    return value
            return None

        return nullable

    default = f.default

    def present(data: Mapping[str, Any]) -> Any:
        for name in names:
            if name in data:
                return data[name]
        return default

    return present


def field_reader(fields: Sequence[Field]) -> FieldReader:
    """A function reading ``fields`` from a wire dict into ``{attr: value}``."""
    steps = tuple((f.attr, f.wire, "." + f.wire, f.value.decode, f.nullable, _fallback(f))
                  for f in fields)

    def read(data: Mapping[str, Any], path: str) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for attr, wire, suffix, decode, nullable, fallback in steps:
            value = data.get(wire)
            if value is None:  # absent, null, or under another spelling
                value = fallback(data)
                if value is None and nullable:
                    values[attr] = None
                    continue
                if value is REQUIRED:
                    raise fail(path + suffix, "missing field")
            values[attr] = decode(value, path + suffix)
        return values

    return read


def field_writer(fields: Sequence[Field]) -> FieldWriter:
    """A function writing ``fields`` of an object into a wire dict, checking each."""
    steps = tuple((f.attr, f.wire, "." + f.wire, f.value.encode, f.nullable, f.write_null)
                  for f in fields)

    def write(obj: Any, path: str, out: JSONDict) -> None:
        for attr, wire, suffix, encode, nullable, write_null in steps:
            value = getattr(obj, attr, None)
            if value is None and nullable:
                if write_null:
                    out[wire] = None
                continue
            out[wire] = encode(value, path + suffix)

    return write


def keep_unknown(data: Mapping[str, Any], known: frozenset[str], path: str) -> JSONDict:
    """The keys of ``data`` no field declares, checked to be JSON: kept, never dropped."""
    extra = {k: v for k, v in data.items() if k not in known}
    check_json(extra, path)
    return extra


def write_unknown(extra: JSONDict, path: str, out: JSONDict) -> None:
    """Write kept unknown keys after the declared ones (never overriding one)."""
    check_json(extra, path)
    for key, value in extra.items():
        out.setdefault(key, value)


def object_value(cls: type[Any], fields: Sequence[Field]) -> Value:
    """The :class:`Value` of a nested payload class whose unknown keys live in ``extra``.

    On the way out a plain dict (either spelling) is accepted too, read first.
    """
    read = field_reader(fields)
    write = field_writer(fields)
    known = known_keys(fields)
    expected = f"expected {cls.__name__} or a dict"

    def decode(value: object, path: str) -> Any:
        data = need_object(value, path)
        values = read(data, path)
        return cls(**values, extra=keep_unknown(data, known, path))

    def encode(obj: Any, path: str) -> JSONDict:
        if not isinstance(obj, cls):
            if not isinstance(obj, dict):
                raise fail(path, f"{expected}, got {kind_of(obj)}")
            obj = decode(obj, path)
        out: JSONDict = {}
        write(obj, path, out)
        write_unknown(obj.extra, path, out)
        return out

    return Value(decode, encode)
