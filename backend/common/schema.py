"""The OpenAPI schema: drf-spectacular's AutoSchema with two naming fixes, and a hook that
documents the one error shape on every operation and the text rule of every input.

- Serializers nested in a view class (`FeedbackApi.OutputSerializer`) are named after the view
  (`FeedbackOutput`), so two views' `OutputSerializer`s are two components instead of one
  component that describes only one of them (drf-spectacular warning W001).
- A collection's GET (`MovieListApi`, `MovieCollectionApi`) is `<path>_list`, so it does not
  collide with its item's `<path>_retrieve` (`movies_retrieve` twice: W001 again).
"""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema


class MarqueeAutoSchema(AutoSchema):
    def get_serializer_name(self, serializer, direction) -> str:
        cls = serializer.__class__
        outer, _, inner = cls.__qualname__.rpartition(".")
        if outer and "<locals>" not in outer:
            return outer.rsplit(".", 1)[-1].removesuffix("Api") + inner
        return super().get_serializer_name(serializer, direction)

    def get_operation_id(self) -> str:
        operation_id = super().get_operation_id()
        if (
            self.method == "GET"
            and operation_id.endswith("_retrieve")
            and type(self.view).__name__.endswith(("ListApi", "CollectionApi"))
        ):
            return operation_id.removesuffix("_retrieve") + "_list"
        return operation_id


ERROR_SCHEMA = {
    "type": "object",
    "description": "Every error of the API (common.errors).",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "details"],
            "properties": {
                "code": {"type": "string", "description": "Stable, e.g. invalid_request."},
                "message": {"type": "string", "description": "What went wrong, what to do."},
                "details": {
                    "type": "object",
                    "description": "`fields`: the offending input by name (`message`, "
                    "`filters.genres`, `history[3].content`, `body`, `Content-Type`) and what "
                    "is wrong with it.",
                    "properties": {
                        "fields": {
                            "type": "object",
                            "additionalProperties": {"type": "array", "items": {"type": "string"}},
                        }
                    },
                },
            },
        }
    },
}

# Errors any operation may answer, and when.
_COMMON_ERRORS = {
    "400": "Invalid input: error.details.fields names the field (`body` for the body as a "
    "whole: not UTF-8 JSON, nested too deeply).",
    "403": "A signed-in session without its CSRF token, or not allowed.",
    "404": "No such resource (a path parameter or an id in the body).",
    "413": "The body is larger than API_MAX_BODY_BYTES (64 KiB).",
    "415": "The body is not sent as application/json.",
}


# What common.parsers and common.middleware refuse in any text: C0 control characters other
# than tab, line feed and carriage return.
TEXT_PATTERN = "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f]*$"


def _constrain_text(schema: dict) -> None:
    """Add TEXT_PATTERN to the free-text strings of a request schema (not enums or formats)."""
    if schema.get("type") == "string" and not {"enum", "format", "pattern"} & set(schema):
        schema["pattern"] = TEXT_PATTERN
    for child in schema.get("properties", {}).values():
        _constrain_text(child)
    if isinstance(schema.get("items"), dict):
        _constrain_text(schema["items"])


def add_error_responses(result: dict, generator, request, public) -> dict:
    """drf-spectacular post-processing hook: the error shape as a component, attached to every
    4xx/5xx response an operation documents, and the errors it can answer in any case (400 for
    any input, 404 for an id, 403/413/415 for a body) added where missing."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = ERROR_SCHEMA
    for name, schema in schemas.items():
        if name.endswith("Request"):  # COMPONENT_SPLIT_REQUEST: the input side of serializers
            _constrain_text(schema)
    content = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for item in result.get("paths", {}).values():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            parameters = operation.get("parameters", [])
            for parameter in parameters:
                if parameter.get("in") == "query" and "schema" in parameter:
                    _constrain_text(parameter["schema"])
            wanted = []
            if parameters or "requestBody" in operation:
                wanted.append("400")
            if "requestBody" in operation or any(p.get("in") == "path" for p in parameters):
                wanted.append("404")  # a path parameter or an id in the body names nothing
            if method in ("post", "put", "patch", "delete"):
                wanted.append("403")
            if "requestBody" in operation:
                wanted += ["413", "415"]
            for status in wanted:
                responses.setdefault(status, {"description": _COMMON_ERRORS[status]})
            for status, response in responses.items():
                if status[0] in "45":
                    response.setdefault("content", content)
    return result
