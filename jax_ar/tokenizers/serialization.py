"""JSON file format shared by every jax_ar tokenizer, with strict checks on load.

Every file is one JSON object with ``"format": "jax_ar.tokenizer"``, an integer
``"version"`` and a ``"type"`` ("char", "word" or "bpe").  Anything else --
unreadable bytes, broken JSON, another library's tokenizer file, a missing or
mistyped field -- raises :class:`jax_ar.errors.DataFileError` naming the file
and the problem.
"""
from __future__ import annotations

import json
import os
from typing import Any

from jax_ar.errors import DataFileError

FORMAT = "jax_ar.tokenizer"
VERSION = 1


def write_json(path: str | os.PathLike, obj: dict[str, Any]) -> None:
    """Write ``obj`` (with format/version added) atomically to ``path``."""
    data = {"format": FORMAT, "version": VERSION, **obj}
    tmp = f"{os.fspath(path)}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=True, indent=1)
    os.replace(tmp, path)


def read_json(path: str | os.PathLike, expected_type: str | None = None) -> dict[str, Any]:
    """Read and validate the header of a tokenizer file; return the JSON object."""
    path = os.fspath(path)
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise DataFileError(f"cannot read tokenizer file {path!r}: {e}") from e
    try:
        obj = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise DataFileError(f"tokenizer file {path!r} is damaged: not valid UTF-8 JSON ({e})") from e
    if not isinstance(obj, dict):
        raise DataFileError(f"tokenizer file {path!r} holds a JSON {type(obj).__name__}, "
                            f"expected an object with \"format\": \"{FORMAT}\"")
    fmt = obj.get("format")
    if fmt != FORMAT:
        hint = ""
        if "model" in obj and "pre_tokenizer" in obj:
            hint = " (it looks like a Hugging Face `tokenizers` tokenizer.json)"
        raise DataFileError(f"{path!r} is not a jax_ar tokenizer file: format is {fmt!r}, "
                            f"expected {FORMAT!r}{hint}")
    if obj.get("version") != VERSION:
        raise DataFileError(f"tokenizer file {path!r} has version {obj.get('version')!r}; "
                            f"this jax_ar reads version {VERSION}")
    if expected_type is not None and obj.get("type") != expected_type:
        raise DataFileError(f"tokenizer file {path!r} holds a {obj.get('type')!r} tokenizer, "
                            f"expected {expected_type!r}")
    return obj


def field(obj: dict[str, Any], name: str, kind: type | tuple[type, ...], path: str) -> Any:
    """Fetch a required field and check its JSON type."""
    if name not in obj:
        raise DataFileError(f"tokenizer file {path!r} is damaged: field {name!r} is missing")
    v = obj[name]
    if not isinstance(v, kind) or isinstance(v, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
        raise DataFileError(f"tokenizer file {path!r} is damaged: field {name!r} has type "
                            f"{type(v).__name__}")
    return v


def string_list(obj: dict[str, Any], name: str, path: str) -> list[str]:
    v = field(obj, name, list, path)
    if not all(isinstance(s, str) for s in v):
        raise DataFileError(f"tokenizer file {path!r} is damaged: {name!r} must be a list of strings")
    return v
