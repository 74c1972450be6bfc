"""Forms generated from the command classes' JSON Schema, and what a posted form asks.

The schema is the one ``safecomm schema`` prints (msgspec reads the attrs classes), so a
form cannot drift from its command: every field, whether it is required, each enum's
choices, lists of nested objects. A posted form becomes the command's JSON object and is
decided by the converter of record, as every adapter's input is; a refusal names its
fields, and each message is shown next to its field (see docs/pages.md).
"""

from __future__ import annotations

import functools
import re
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import attrs
from safecomm_cli.schema import command_schema
from safecomm_reports.labels import Lang, command_label, field_label, value_label

from safecomm_core.access import Principal
from safecomm_core.dates import SUBDISTRICT_TZ
from safecomm_core.errors import FieldError

__all__ = ["ITEMS", "Field", "Form", "build_form", "command_of", "errors_by_field"]

#: How many entries a form offers for a list of objects (parties …); empty ones are dropped.
ITEMS = 2
#: Fields every command carries that the page fills in itself.
_OWN = ("type", "actor")
_LOCAL = re.compile(r"(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2})(:\d{2})?")
_INDEX = re.compile(r"\[(\d+)\]")


@attrs.frozen
class Field:
    """One input of a form."""

    #: The input's name: the field's path with dots (``parties.0.name``).
    name: str
    label: str
    #: ``text``, ``textarea``, ``select``, ``checkboxes``, ``lines``, ``number`` or ``hidden``.
    widget: str
    required: bool = False
    #: (value, words) pairs of a select or checkboxes.
    choices: tuple[tuple[str, str], ...] = ()
    value: str | tuple[str, ...] = ""
    #: The rule the last submission broke, shown next to the input.
    error: str = ""
    hint: str = ""
    #: The legend of the group this input opens (the first input of a list's entry).
    group: str = ""


@attrs.frozen
class Form:
    """A command's form: its type, title, inputs and any refusal not tied to one input."""

    type: str
    title: str
    fields: tuple[Field, ...]
    error: str = ""


@functools.cache
def _definitions() -> dict[str, Any]:
    schema = command_schema()
    defs: dict[str, Any] = schema["$defs"]
    by_type = {}
    for ref in schema["oneOf"]:
        body = defs[ref["$ref"].rsplit("/", 1)[1]]
        by_type[body["properties"]["type"]["const"]] = body
    return {"defs": defs, "types": by_type}


def _resolve(node: Mapping[str, Any]) -> tuple[Mapping[str, Any], bool]:
    """The schema a property holds (its ``$ref`` followed) and whether it may be null."""
    optional = False
    if "anyOf" in node:
        kinds = [k for k in node["anyOf"] if k.get("type") != "null"]
        optional = len(kinds) < len(node["anyOf"])
        node = kinds[0]
    ref = node.get("$ref")
    if isinstance(ref, str):
        node = _definitions()["defs"][ref.rsplit("/", 1)[1]]
    return node, optional


def _choices(node: Mapping[str, Any], lang: Lang) -> tuple[tuple[str, str], ...]:
    return tuple((str(v), value_label(v, lang)) for v in node["enum"])


def build_form(
    type_: str,
    lang: Lang,
    *,
    fixed: Mapping[str, str] | None = None,
    given: Mapping[str, Any] | None = None,
    errors: Mapping[str, str] | None = None,
    error: str = "",
    now: datetime | None = None,
) -> Form:
    """The form of command ``type_``.

    ``fixed``: values the page sets itself (the record's id, the principal's unit), sent
    as hidden inputs; ``given``: what the user typed last time (by input name);
    ``errors``: the rule each input broke (by input name).
    """
    body = _definitions()["types"][type_]
    fixed = fixed or {}
    given = given or {}
    errors = errors or {}
    required = set(body.get("required", ()))
    moment = (now or datetime.now(SUBDISTRICT_TZ)).astimezone(SUBDISTRICT_TZ)
    defaults = {
        "command_id": f"web-{uuid.uuid4().hex[:16]}",
        "occurred_at": moment.strftime("%Y-%m-%d %H:%M"),
    }
    fields: list[Field] = []

    def add(name: str, key: str, node: Mapping[str, Any], needed: bool, group: str) -> None:
        node, optional = _resolve(node)
        needed = needed and not optional
        value: Any = given.get(name, defaults.get(key, ""))
        common: dict[str, Any] = {
            "label": field_label(key, lang),
            "required": needed,
            "group": group,
        }
        if name in fixed or key == "command_id":
            fields.append(Field(name, widget="hidden", value=fixed.get(name, value), **common))
            return
        error_text = errors.get(name, "")
        if "enum" in node:
            choices = _choices(node, lang)
            fields.append(
                Field(
                    name, widget="select", choices=choices, value=value, error=error_text, **common
                )
            )
        elif node.get("type") == "boolean":
            choices = (("true", value_label(True, lang)), ("false", value_label(False, lang)))
            fields.append(
                Field(
                    name, widget="select", choices=choices, value=value, error=error_text, **common
                )
            )
        elif node.get("type") == "integer":
            fields.append(Field(name, widget="number", value=value, error=error_text, **common))
        elif node.get("type") == "array":
            item, _ = _resolve(node.get("items", {}))
            if "properties" in item:
                for index in range(ITEMS):
                    nested = set(item.get("required", ()))
                    legend = f"{field_label(key, lang)} {index + 1}"
                    for n, (sub, prop) in enumerate(item["properties"].items()):
                        add(
                            f"{name}.{index}.{sub}",
                            sub,
                            prop,
                            index == 0 and sub in nested,
                            legend if n == 0 else "",
                        )
                return
            picked = tuple(given.get(name, ())) if isinstance(given.get(name), list) else ()
            if "enum" in item:
                fields.append(
                    Field(
                        name,
                        widget="checkboxes",
                        choices=_choices(item, lang),
                        value=picked,
                        error=error_text,
                        **common,
                    )
                )
            else:
                fields.append(
                    Field(name, widget="lines", value="\n".join(picked), error=error_text, **common)
                )
        elif "properties" in node:
            for sub, prop in node["properties"].items():
                add(f"{name}.{sub}", sub, prop, sub in node.get("required", ()), "")
        else:
            long = key in ("summary", "notes", "terms", "reason", "matter", "risk")
            hint = "2014-03-03 09:10" if node.get("format") == "date-time" else ""
            fields.append(
                Field(
                    name,
                    widget="textarea" if long else "text",
                    value=value,
                    error=error_text,
                    hint=hint,
                    **common,
                )
            )

    for key, node in body["properties"].items():
        if key not in _OWN:
            add(key, key, node, key in required, "")
    return Form(type_, command_label(type_, lang), tuple(fields), error)


def _typed(value: str, node: Mapping[str, Any]) -> Any:
    """A posted string as the JSON value its schema asks for; left as typed when it is not
    one, so that the converter refuses it with its own rule."""
    node, _ = _resolve(node)
    if node.get("type") == "boolean" and value in ("true", "false"):
        return value == "true"
    if node.get("type") == "integer" and re.fullmatch(r"-?\d{1,12}", value):
        return int(value)
    if node.get("format") == "date-time":
        match = _LOCAL.fullmatch(value)
        if match is not None:
            # The subdistrict's clock: a page's times are local, as its people read them.
            offset = datetime.now(SUBDISTRICT_TZ).strftime("%z")
            return f"{match[1]}T{match[2]}{match[3] or ':00'}{offset[:3]}:{offset[3:]}"
    return value


def command_of(type_: str, posted: Mapping[str, Sequence[str]], who: Principal) -> dict[str, Any]:
    """The command a posted form asks for, as JSON, with the principal as its actor.

    ``posted`` maps each input name to its values. Inputs left empty are left out (the
    command's default, or a "required" refusal), and so are list entries left empty.
    """
    body = _definitions()["types"][type_]

    def read(prefix: str, properties: Mapping[str, Any]) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for key, node in properties.items():
            if key in _OWN:
                continue
            name = f"{prefix}{key}"
            resolved, _ = _resolve(node)
            if resolved.get("type") == "array":
                item, _ = _resolve(resolved.get("items", {}))
                if "properties" in item:
                    entries = [read(f"{name}.{i}.", item["properties"]) for i in range(ITEMS)]
                    kept = [e for e in entries if e]
                    if kept:
                        found[key] = kept
                    continue
                values = [v.strip() for v in posted.get(name, ()) for v in v.splitlines()]
                if [v for v in values if v]:
                    found[key] = [v for v in values if v]
                continue
            if "properties" in resolved:
                nested = read(f"{name}.", resolved["properties"])
                if nested:
                    found[key] = nested
                continue
            value = (posted.get(name) or [""])[0].strip()
            if value:
                found[key] = _typed(value, node)
        return found

    data = read("", body["properties"])
    return {
        "type": type_,
        **data,
        "actor": {"id": who.subject, "role": str(who.role)},
    }


def errors_by_field(errors: Sequence[FieldError]) -> dict[str, str]:
    """Each refusal's rule by the input it belongs to (``parties[0].name`` is the input
    ``parties.0.name``); a refusal of the whole command under ``""``."""
    found: dict[str, str] = {}
    for error in errors:
        name = _INDEX.sub(r".\1", error.field)
        found[name] = f"{found[name]}; {error.rule}" if name in found else error.rule
    return found
