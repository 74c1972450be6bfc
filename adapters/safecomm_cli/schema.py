"""JSON Schema of every command, generated from the command classes by msgspec.

msgspec reads attrs classes directly, so the schema cannot drift from the code; we add only
what lives outside the classes: each command's ``type`` constant.
"""

from __future__ import annotations

import typing
from datetime import datetime
from typing import Any

import msgspec

from safecomm_core import COMMANDS


def command_schema() -> dict[str, Any]:
    """One JSON Schema document: ``oneOf`` every command, discriminated by ``type``."""
    types = sorted(COMMANDS)
    classes = [COMMANDS[t] for t in types]
    schemas, defs = msgspec.json.schema_components(classes, ref_template="#/$defs/{name}")
    for type_, ref in zip(types, schemas, strict=True):
        body = defs[ref["$ref"].rsplit("/", 1)[1]]
        body["properties"] = {"type": {"const": type_}, **body["properties"]}
        body["required"] = ["type", *body.get("required", [])]
        body["additionalProperties"] = False
        body["x-serves"] = list(COMMANDS[type_].SERVES)
        _mark_datetimes(COMMANDS[type_], body)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "safecomm command",
        "oneOf": schemas,
        "discriminator": {"propertyName": "type"},
        "$defs": defs,
    }


def _mark_datetimes(cls: type, body: dict[str, Any]) -> None:
    # msgspec accepts naive date-times, so it leaves them a bare string; ours need an offset.
    for name, hint in typing.get_type_hints(cls).items():
        if hint is datetime and name in body["properties"]:
            body["properties"][name] = {
                "type": "string",
                "format": "date-time",
                "description": "ISO 8601 with a UTC offset, e.g. 2014-03-03T09:10:00+08:00",
            }
