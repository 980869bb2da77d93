"""The API's JSON parser: strict about what a JSON body may hold, before any serializer sees it.

DRF's JSONParser accepts things no field of this API can use and some that fail later, deep in
the database or the model service, as 500s: lone UTF-16 surrogates ("\\ud800", which cannot be
encoded to UTF-8 for storage), control characters (terminal escapes, bells), integers beyond
64 bits (SQLite and PostgreSQL refuse them: OverflowError), 1e400 (parsed as infinity), and
nesting deep enough to exhaust Python's recursion limit; and one thing that is a prompt
injection: a chat-template control token such as <|im_end|>. Each becomes a 400 naming the field,
in the one error shape (common.errors); a body that is not UTF-8 JSON is a 400 naming "body".
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from rest_framework import exceptions
from rest_framework.parsers import JSONParser

# C0 control characters other than tab, line feed and carriage return.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
# Chat-template control tokens (<|im_end|>, <|eot_id|>, <end_of_turn>, [INST]): a language
# model whose prompt holds one reads it as the end of a turn, so a message could close its own
# turn and write the system's or the assistant's (the model service refuses them too).
_CONTROL_TOKEN = re.compile(r"<\|[A-Za-z0-9_.-]{1,40}\|>|<(?:start|end)_of_turn>|\[/?INST\]")
INT_MIN, INT_MAX = -(2**63), 2**63 - 1
# Deeper than any request of this API; json recurses once per level.
MAX_DEPTH = 32


class BodyError(exceptions.ParseError):
    """The body as a whole is unusable (not UTF-8, not JSON, too deep)."""


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON number")


def _path(prefix: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{prefix}[{key}]"
    return f"{prefix}.{key}" if prefix else key


def _problem(value: Any) -> str | None:
    if isinstance(value, str):
        found = _CONTROL.search(value)
        if found:
            return (
                f"Control character U+{ord(found.group()):04X} is not allowed "
                "(only tab, line feed and carriage return are)."
            )
        found = _SURROGATE.search(value)
        if found:
            return f"Lone surrogate U+{ord(found.group()):04X} is not text; send valid Unicode."
        found = _CONTROL_TOKEN.search(value)
        if found:
            return (
                f"{found.group()} is a language model's control token (the end or start of a "
                "turn) and is not allowed in text."
            )
    elif isinstance(value, bool):
        return None
    elif isinstance(value, int):
        if not INT_MIN <= value <= INT_MAX:
            return "The number is out of range (a 64-bit integer at most)."
    elif isinstance(value, float) and not math.isfinite(value):
        return "The number is out of range."
    return None


def find_bad_values(data: Any, prefix: str = "", depth: int = 0) -> dict[str, list[str]]:
    """{"history[3].content": ["Control character U+001B ..."]} for every unusable value."""
    if depth > MAX_DEPTH:
        raise BodyError(f"The JSON body is nested more than {MAX_DEPTH} levels deep.")
    bad: dict[str, list[str]] = {}
    if isinstance(data, dict):
        # Keys are not checked: a serializer reads only the keys it knows, none of which holds
        # such characters, and ignores the others.
        for key, value in data.items():
            bad.update(find_bad_values(value, _path(prefix, key), depth + 1))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            bad.update(find_bad_values(value, _path(prefix, index), depth + 1))
    else:
        problem = _problem(data)
        if problem:
            bad[prefix or "body"] = [problem]
    return bad


class StrictJSONParser(JSONParser):
    """JSON bodies in UTF-8, without the values described in the module docstring."""

    def parse(self, stream, media_type=None, parser_context=None) -> Any:
        raw = stream.read() if stream is not None else b""
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BodyError(
                f"The request body is not valid UTF-8 (byte {exc.start}); send UTF-8 JSON."
            ) from exc
        try:
            data = json.loads(text, parse_constant=_reject_constant)
        except RecursionError as exc:
            raise BodyError("The JSON body is nested too deeply.") from exc
        except ValueError as exc:
            raise BodyError(
                f"The request body is not valid JSON ({exc}); send a JSON object with "
                "Content-Type: application/json."
            ) from exc
        bad = find_bad_values(data)
        if bad:
            raise exceptions.ValidationError(bad)
        return data
