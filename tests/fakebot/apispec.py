"""Check Bot API requests against the official machine-readable spec (api.json).

The spec lives beside the repository in ``../shared/telegram-bot-api/api.json`` and is never
copied into it. Everything the validator knows comes from that file: methods, fields, types,
required flags, and the limits written in the field descriptions ("1-4096 characters after
entities parsing", "1-64 bytes", ...). Only the HTML formatting rules are hand-written, after
https://core.telegram.org/bots/api#html-style, because api.json does not contain that section.
"""

from __future__ import annotations

import functools
import html
import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SPEC_PATH = Path(__file__).resolve().parents[2].parent / "shared" / "telegram-bot-api" / "api.json"

PARSE_MODES = ("HTML", "MarkdownV2", "Markdown")

_RANGE = re.compile(r"(\d+)-(\d+) (characters|bytes)", re.IGNORECASE)
_INT_RANGE = re.compile(r"Values between (\d+)-(\d+) are accepted")
_AFTER_PARSING = re.compile(r"after entit(?:y|ies) parsing")
_ONE_OF = re.compile(r"[Mm]ust be one of (.*?)(?:\.\s|\.$|$)")
_CONST = re.compile(r", must be ([a-z_]+)$")
_REQUIRED_IF = re.compile(
    r"[Rr]equired if (\w+)(?: and (\w+))? (?:is|are) not specified"
    r"|[Rr]equired if (\w+) isn't specified"
)
_ONE_OF_FIELDS = re.compile(
    r"(Exactly|At most) one of the"
    r" (?:fields other than (.+?)|fields (\w+) or (\w+)|optional fields)"
    r" (?:must be used|can be present)"
)
_LOWERCASE_COMMAND = "Can contain only lowercase English letters, digits and underscores"
_PRIMITIVES = ("Integer", "String", "Boolean", "Float")


def spec_available() -> bool:
    """Return whether api.json is present beside the repository."""
    return SPEC_PATH.is_file()


def missing_spec_reason() -> str:
    """Explain where the spec is expected."""
    return f"Bot API spec not found at {SPEC_PATH}; it lives in ../shared beside the repository"


def require_api_spec() -> None:
    """Skip the calling test when api.json is absent (fail instead when $CI is set)."""
    import pytest

    if spec_available():
        return
    if os.environ.get("CI"):
        pytest.fail(missing_spec_reason(), pytrace=False)
    pytest.skip(missing_spec_reason())


def utf16_len(text: str) -> int:
    """Count UTF-16 code units, the unit Telegram measures text lengths in."""
    return len(text.encode("utf-16-le")) // 2


# --------------------------------------------------------------------------- HTML parse mode

_HTML_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "tg-emoji": "custom_emoji",
    "tg-time": "date_time",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
}
_HTML_ATTRS = {
    "a": {"href"},
    "span": {"class"},
    "tg-emoji": {"emoji-id"},
    "tg-time": {"unix", "format"},
    "code": {"class"},
    "blockquote": {"expandable"},
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY = re.compile(r"&(#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);")
_TAG_NAME = re.compile(r"[A-Za-z0-9-]*")
_ATTR = re.compile(r"""\s*([A-Za-z-]+)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s"'>]+))?""")
_DATE_TIME_FORMAT = re.compile(r"r|w?[dD]?[tT]?")


@dataclass
class ParsedText:
    """Text as Telegram shows it after parsing markup."""

    text: str
    entities: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # Telegram rejects the request
    warnings: list[str] = field(default_factory=list)  # accepted, but against the docs


@dataclass
class _Open:
    name: str
    attrs: dict[str, str]
    start: int  # UTF-16 offset in the output
    language: str | None = None


class _HtmlParser:
    """Parse Telegram's HTML dialect into text and MessageEntity dicts, collecting problems."""

    def __init__(self, source: str) -> None:
        self.src = source
        self.out: list[str] = []
        self.pos = 0  # UTF-16 length of the output so far
        self.stack: list[_Open] = []
        self.unsupported: list[str] = []  # names of unsupported tags still open
        self.result = ParsedText("")

    def byte_offset(self, index: int) -> int:
        """Return the UTF-8 byte offset of a source index, as Telegram reports positions."""
        return len(self.src[:index].encode("utf-8"))

    def emit(self, text: str) -> None:
        """Append visible text."""
        self.out.append(text)
        self.pos += utf16_len(text)

    def parse(self) -> ParsedText:
        """Run the parser over the whole source."""
        i = 0
        while i < len(self.src):
            char = self.src[i]
            if char == "<":
                i = self.tag(i)
            elif char == "&":
                i = self.entity(i)
            else:
                if char == ">":
                    self.result.warnings.append(
                        f"unescaped '>' at byte offset {self.byte_offset(i)}; write &gt;"
                    )
                self.emit(char)
                i += 1
        for still_open in reversed(self.stack):
            self.result.errors.append(
                f'Can\'t find end tag corresponding to start tag "{still_open.name}"'
            )
        self.result.text = "".join(self.out)
        return self.result

    def entity(self, i: int) -> int:
        """Decode an HTML entity; a bare '&' stays literal as in Telegram, but is reported."""
        where = f"at byte offset {self.byte_offset(i)}"
        match = _ENTITY.match(self.src, i)
        if match is None:
            self.result.warnings.append(f"unescaped '&' {where}; write &amp;")
            self.emit("&")
            return i + 1
        name = match.group(1)
        decoded = _NAMED_ENTITIES.get(name) or _numeric_entity(name)
        if decoded is None:
            self.result.warnings.append(f"unsupported HTML entity &{name}; {where}")
            self.emit("&")
            return i + 1
        self.emit(decoded)
        return match.end()

    def tag(self, i: int) -> int:
        """Handle a start or end tag beginning at index i; return the index after it."""
        if self.src.startswith("</", i):
            return self.end_tag(i)
        name_end = _TAG_NAME.match(self.src, i + 1).end()  # type: ignore[union-attr]
        name = self.src[i + 1 : name_end].lower()
        where = f"at byte offset {self.byte_offset(i)}"
        if name not in _HTML_TAGS:
            self.result.errors.append(f'Unsupported start tag "{name}" {where}')
        if not name:  # a bare '<'
            self.emit("<")
            return i + 1
        attrs, end = self.attributes(name_end)
        if end is None:
            self.result.errors.append(f"Unclosed start tag {where}")
            return len(self.src)
        if name not in _HTML_TAGS:
            # Skip the whole tag and later its end tag, so one mistake is reported once.
            self.unsupported.append(name)
            return end
        self.check_start(name, attrs, where)
        self.stack.append(_Open(name, attrs, self.pos))
        return end

    def attributes(self, j: int) -> tuple[dict[str, str], int | None]:
        """Parse attributes up to '>'; return them and the index after '>' (None if unclosed)."""
        attrs: dict[str, str] = {}
        while j < len(self.src):
            if self.src[j] == ">":
                return attrs, j + 1
            match = _ATTR.match(self.src, j)
            if not match or match.end() == j:
                if self.src[j].isspace():
                    j += 1
                    continue
                attrs.setdefault("\0bad", self.src[j])
                j += 1
                continue
            raw = match.group(2) or ""
            if raw[:1] in "\"'":
                raw = raw[1:-1]
            attrs[match.group(1).lower()] = html.unescape(raw)
            j = match.end()
        return attrs, None

    def check_start(self, name: str, attrs: dict[str, str], where: str) -> None:
        """Check attributes and nesting of a start tag."""
        problems = self.result.warnings
        if "\0bad" in attrs:
            problems.append(f"malformed attributes in <{name}> {where}")
            attrs.pop("\0bad")
        for attr in attrs.keys() - _HTML_ATTRS.get(name, set()):
            problems.append(f'attribute "{attr}" is not supported on <{name}> {where}')
        parent = self.stack[-1].name if self.stack else None
        if name == "span" and attrs.get("class") != "tg-spoiler":
            self.result.errors.append(f'Tag "span" must have class "tg-spoiler" {where}')
        elif name == "a" and not attrs.get("href"):
            problems.append(f"<a> without href {where}")
        elif name == "tg-emoji" and not attrs.get("emoji-id", "").isdigit():
            self.result.errors.append(f"Invalid custom emoji identifier specified {where}")
        elif name == "tg-time":
            if not attrs.get("unix", "").isdigit():
                self.result.errors.append(f'Tag "tg-time" must have a numeric "unix" {where}')
            if not _DATE_TIME_FORMAT.fullmatch(attrs.get("format", "")):
                self.result.errors.append(f'Invalid date-time format "{attrs["format"]}" {where}')
        elif name == "code" and "class" in attrs:
            if not attrs["class"].startswith("language-"):
                problems.append(f'<code class> must be "language-…" {where}')
            elif parent != "pre":
                problems.append(f"a programming language needs <pre><code class=…> {where}")
        open_names = {item.name for item in self.stack}
        if open_names & {"pre", "code"} and not (name == "code" and parent == "pre"):
            problems.append(f"<{name}> inside <pre>/<code> is not supported {where}")
        if name == "blockquote" and "blockquote" in open_names:
            problems.append(f"nested <blockquote> is not supported {where}")
        if name == "a" and "a" in open_names:
            problems.append(f"nested <a> is not supported {where}")

    def end_tag(self, i: int) -> int:
        """Close the innermost open tag, which must match."""
        close = self.src.find(">", i)
        where = f"at byte offset {self.byte_offset(i)}"
        if close == -1:
            self.result.errors.append(f"Unclosed end tag {where}")
            return len(self.src)
        name = self.src[i + 2 : close].strip().lower()
        if name in self.unsupported:
            self.unsupported.remove(name)
            return close + 1
        if not self.stack:
            self.result.errors.append(f'Unexpected end tag "{name}" {where}')
            return close + 1
        if self.stack[-1].name != name:
            expected = self.stack[-1].name
            self.result.errors.append(
                f'Unmatched end tag {where}, expected "</{expected}>", found "</{name}>"'
            )
            return close + 1
        self.close(self.stack.pop())
        return close + 1

    def close(self, item: _Open) -> None:
        """Turn a closed tag into a MessageEntity."""
        language = item.attrs.get("class", "").removeprefix("language-")
        if item.name == "code" and language and self.stack and self.stack[-1].name == "pre":
            self.stack[-1].language = language  # <pre><code class> sets the pre's language
            return
        length = self.pos - item.start
        if length <= 0:
            return
        entity: dict[str, Any] = {"type": _HTML_TAGS[item.name], "offset": item.start}
        entity["length"] = length
        if item.name == "a":
            entity["url"] = item.attrs.get("href", "")
        elif item.name == "tg-emoji":
            entity["custom_emoji_id"] = item.attrs.get("emoji-id", "")
        elif item.name == "tg-time":
            entity["unix_time"] = int(item.attrs.get("unix", "0") or 0)
            if item.attrs.get("format"):
                entity["date_time_format"] = item.attrs["format"]
        elif item.name == "pre" and item.language:
            entity["language"] = item.language
        elif item.name == "blockquote" and "expandable" in item.attrs:
            entity["type"] = "expandable_blockquote"
        self.result.entities.append(entity)


def _numeric_entity(name: str) -> str | None:
    """Decode the name of &#228; or &#xE4; to its character, None if it is not one."""
    if not name.startswith("#"):
        return None
    digits = name[1:]
    code = int(f"0{digits}", 0) if digits[0] in "xX" else int(digits)
    return chr(code) if 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else None


def _trim(parsed: ParsedText) -> ParsedText:
    """Strip surrounding whitespace and shift entities, as Telegram does with message text."""
    text = parsed.text
    stripped = text.strip()
    lead = utf16_len(text[: len(text) - len(text.lstrip())])
    size = utf16_len(stripped)
    entities = []
    for entity in parsed.entities:
        start = max(0, entity["offset"] - lead)
        end = min(size, entity["offset"] + entity["length"] - lead)
        if end > start:
            entities.append({**entity, "offset": start, "length": end - start})
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return ParsedText(stripped, entities, parsed.errors, parsed.warnings)


def parse_text(text: str, parse_mode: str | None) -> ParsedText:
    """Return text as Telegram would show it; only HTML markup is parsed (Markdown: raw text)."""
    if parse_mode == "HTML":
        return _trim(_HtmlParser(text).parse())
    return _trim(ParsedText(text))


def parse_html(text: str) -> ParsedText:
    """Parse Telegram HTML into visible text, entities, errors and warnings."""
    return parse_text(text, "HTML")


# --------------------------------------------------------------------------- the spec


@dataclass(frozen=True)
class Field:
    """One parameter of a method or field of a type."""

    name: str
    types: tuple[str, ...]
    required: bool
    description: str

    @property
    def only_string(self) -> bool:
        """Return whether the value is always sent as a raw string."""
        return self.types == ("String",)


@dataclass(frozen=True)
class _Upload:
    """Stands in for a file sent as a multipart part."""

    filename: str


class ApiSpec:
    """The Bot API methods and types, loaded from api.json."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.version: str = data.get("version", "?")
        self.methods = {name: _fields(entry) for name, entry in data["methods"].items()}
        self.types = {name: _fields(entry) for name, entry in data["types"].items()}
        self.subtypes = {
            name: tuple(entry["subtypes"])
            for name, entry in data["types"].items()
            if entry.get("subtypes")
        }
        self.type_notes = {
            name: " ".join(entry.get("description", [])) for name, entry in data["types"].items()
        }
        self._lower = {name.lower(): name for name in self.methods}

    @classmethod
    def load(cls, path: Path = SPEC_PATH) -> ApiSpec:
        """Read api.json from path."""
        return cls(json.loads(path.read_text(encoding="utf-8")))

    def canonical_method(self, name: str) -> str | None:
        """Return the method's canonical spelling; Telegram matches names case-insensitively."""
        return self._lower.get(name.lower())

    # ------------------------------------------------------------------ decoding form fields

    def decode_field(self, method: str, name: str, raw: str) -> Any:
        """Decode one form field the way Telegram does: by the field's declared types."""
        fields = self.methods.get(self.canonical_method(method) or "", {})
        spec = fields.get(name)
        if spec is None:
            return _guess_decode(name, raw)
        if spec.only_string or raw.startswith("attach://"):
            return raw
        if "Integer" in spec.types and re.fullmatch(r"-?\d+", raw):
            return int(raw)
        if "Float" in spec.types and re.fullmatch(r"-?\d+(\.\d+)?([eE][-+]?\d+)?", raw):
            return float(raw)
        if spec.types == ("Boolean",) and raw.lower() in ("true", "false"):
            return raw.lower() == "true"
        if "String" in spec.types or "InputFile" in spec.types:
            return raw
        try:
            return json.loads(raw)
        except ValueError:
            return raw

    # ------------------------------------------------------------------ validation

    def validate_request(
        self,
        method: str,
        params: Mapping[str, Any],
        files: Mapping[str, Any] | None = None,
    ) -> list[str]:
        """Return every way this request breaks the Bot API (empty when it is valid)."""
        canonical = self.canonical_method(method)
        if canonical is None:
            return [f"{method}: unknown Bot API method"]
        problems = []
        if canonical != method:
            problems.append(f"{method}: method name is spelled {canonical!r} in the Bot API")
        values = dict(params)
        for part, content in (files or {}).items():
            filename = content[0] if isinstance(content, tuple) else part
            values.setdefault(part, _Upload(filename))
        uploads = set(files or ())
        attached = _attached_names(params)
        fields = self.methods[canonical]
        # Parts referenced via attach:// are not parameters of their own.
        for part in uploads & attached:
            values.pop(part, None)
        for missing in sorted(attached - uploads) if files is not None else ():
            problems.append(f"{canonical}: attach://{missing} has no uploaded file part")
        _Checker(self, problems).check_fields(fields, values, canonical, note="")
        return problems


def _fields(entry: Mapping[str, Any]) -> dict[str, Field]:
    """Index a method's or type's fields by name."""
    return {
        f["name"]: Field(f["name"], tuple(f["types"]), f["required"], f.get("description", ""))
        for f in entry.get("fields", [])
    }


def _attached_names(params: Mapping[str, Any]) -> set[str]:
    """Collect part names referenced as attach://name anywhere in the parameters."""
    found: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, str) and value.startswith("attach://"):
            found.add(value.removeprefix("attach://"))
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(dict(params))
    return found


# Without the spec, keep these raw: they are strings even when they look like JSON.
_STRING_FIELDS = {
    "text",
    "caption",
    "parse_mode",
    "callback_query_id",
    "action",
    "language_code",
    "title",
    "description",
    "url",
    "inline_message_id",
    "business_connection_id",
    "message_effect_id",
    "query",
    "emoji",
    "short_description",
    "name",
    "secret_token",
}


def _guess_decode(name: str, raw: str) -> Any:
    """Decode a form field of unknown type: JSON if it parses, else the raw string."""
    if name in _STRING_FIELDS:
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        return raw


class _Checker:
    """Walk parameter values against field specs, appending problems."""

    def __init__(self, spec: ApiSpec, problems: list[str]) -> None:
        self.spec = spec
        self.problems = problems

    def check_fields(
        self, fields: Mapping[str, Field], values: Mapping[str, Any], path: str, note: str
    ) -> None:
        """Check presence, unknown names, and each value of one object or parameter set."""
        present = {name for name, value in values.items() if value is not None}
        for name in sorted(present - fields.keys()):
            self.problems.append(f"{path}: unknown field {name!r}")
        for spec in fields.values():
            if spec.name not in present:
                if self.is_required(spec, present):
                    self.problems.append(f"{path}: required field {spec.name!r} is missing")
                continue
            self.check_value(values[spec.name], spec.types, f"{path}.{spec.name}", spec, values)
        self.check_one_of(fields, present, path, note)

    @staticmethod
    def is_required(spec: Field, present: set[str]) -> bool:
        """Apply 'Required if X is not specified' conditions from the description."""
        if spec.required:
            return True
        match = _REQUIRED_IF.search(spec.description)
        if not match:
            return False
        alternatives = {name for name in match.groups() if name}
        return not alternatives & present

    def check_one_of(
        self, fields: Mapping[str, Field], present: set[str], path: str, note: str
    ) -> None:
        """Enforce 'Exactly/At most one of the fields ...' sentences of a type."""
        match = _ONE_OF_FIELDS.search(note)
        if not match:
            return
        kind, others, first, second = match.groups()
        if others:
            excluded = set(re.findall(r"\w+", others)) - {"and"}
            group = set(fields) - excluded
        elif first:
            group = {first, second}
        else:
            group = {name for name, spec in fields.items() if not spec.required}
        used = sorted(group & present)
        if len(used) > 1 or (kind == "Exactly" and not used):
            self.problems.append(
                f"{path}: {kind.lower()} one of {', '.join(sorted(group))} must be used, got "
                f"{used or 'none'}"
            )

    def check_value(
        self,
        value: Any,
        types: tuple[str, ...],
        path: str,
        spec: Field | None = None,
        siblings: Mapping[str, Any] | None = None,
    ) -> None:
        """Check a value against alternative types, reporting the closest alternative."""
        types = self.discriminate(types, value)
        best: list[str] | None = None
        for type_name in types:
            found: list[str] = []
            _Checker(self.spec, found).check_type(value, type_name, path)
            if not found:
                best = []
                break
            if best is None or len(found) < len(best):
                best = found
        if best:
            if len(types) > 1 and _kind_mismatch(best):
                best = [f"{path}: expected {' or '.join(types)}, got {_kind(value)}"]
            self.problems.extend(best)
            return
        if spec is not None and isinstance(value, str | int) and not isinstance(value, bool):
            self.check_limits(value, spec, path, siblings or {})

    def discriminate(self, types: tuple[str, ...], value: Any) -> tuple[str, ...]:
        """Narrow a union to the type whose "type" field must equal the value's "type"."""
        if not isinstance(value, dict) or "type" not in value:
            return types
        for type_name in types:
            spec = self.spec.types.get(type_name, {}).get("type")
            const = _CONST.search(spec.description) if spec else None
            if const and const.group(1) == value["type"]:
                return (type_name,)
        return types

    def check_type(self, value: Any, type_name: str, path: str) -> None:
        """Check a value against one type name (primitive, array, or object)."""
        if type_name.startswith("Array of "):
            if not isinstance(value, list):
                self.problems.append(f"{path}: expected {type_name}, got {_kind(value)}")
                return
            for index, item in enumerate(value):
                self.check_type(item, type_name.removeprefix("Array of "), f"{path}[{index}]")
            return
        if type_name in _PRIMITIVES:
            if not _is_primitive(value, type_name):
                self.problems.append(f"{path}: expected {type_name}, got {_kind(value)}")
            return
        if type_name == "InputFile":
            if not isinstance(value, _Upload):
                self.problems.append(f"{path}: expected an uploaded file, got {_kind(value)}")
            return
        self.check_object(value, type_name, path)

    def check_object(self, value: Any, type_name: str, path: str) -> None:
        """Check a JSON object against a type of the spec, including abstract unions."""
        if type_name in self.spec.subtypes:
            self.check_value(value, self.spec.subtypes[type_name], path)
            return
        note = self.spec.type_notes.get(type_name, "")
        if isinstance(value, str) and "String can be used instead of this object" in note:
            return
        if not isinstance(value, dict):
            self.problems.append(f"{path}: expected {type_name} object, got {_kind(value)}")
            return
        fields = self.spec.types.get(type_name)
        if fields is None:
            self.problems.append(f"{path}: unknown type {type_name}")
            return
        self.check_fields(fields, value, f"{path}<{type_name}>", note)

    def check_limits(
        self, value: str | int, spec: Field, path: str, siblings: Mapping[str, Any]
    ) -> None:
        """Apply limits stated in the field description."""
        text = spec.description
        if isinstance(value, int):
            match = _INT_RANGE.search(text)
            if match and not int(match.group(1)) <= value <= int(match.group(2)):
                low, high = match.group(1), match.group(2)
                self.problems.append(f"{path}: {value} is outside {low}-{high}")
            return
        const = _CONST.search(text)
        if spec.name == "type" and const and value != const.group(1):
            self.problems.append(f"{path}: must be {const.group(1)!r}, got {value!r}")
        choices = _enumeration(text)
        if choices and value not in choices:
            self.problems.append(f"{path}: {value!r} is not one of {choices}")
        if spec.name.endswith("parse_mode") and value not in PARSE_MODES:
            self.problems.append(f"{path}: unknown parse mode {value!r}, use one of {PARSE_MODES}")
        if _LOWERCASE_COMMAND in text and not re.fullmatch(r"[a-z0-9_]*", value):
            self.problems.append(f"{path}: {value!r} may only use a-z, 0-9 and _")
        match = _RANGE.search(text)
        if match:
            self.check_length(value, match, spec, path, siblings)

    def check_length(
        self, value: str, match: re.Match[str], spec: Field, path: str, siblings: Mapping[str, Any]
    ) -> None:
        """Check a string length range, parsing markup first where the description says so."""
        low, high, unit = int(match.group(1)), int(match.group(2)), match.group(3).lower()
        shown = value
        if _AFTER_PARSING.search(spec.description):
            mode_field = f"{spec.name}_parse_mode"
            mode = siblings.get(mode_field if mode_field in siblings else "parse_mode")
            parsed = parse_text(value, mode if isinstance(mode, str) else None)
            self.problems.extend(f"{path}: HTML: {p}" for p in parsed.errors + parsed.warnings)
            shown = parsed.text
        size = len(shown.encode("utf-8")) if unit == "bytes" else utf16_len(shown)
        if not low <= size <= high:
            after = " after entity parsing" if shown is not value else ""
            self.problems.append(f"{path}: {size} {unit}{after}, allowed {low}-{high}")


def _enumeration(description: str) -> list[str]:
    """Return the quoted values of 'must be one of "a", "b" or "c"', if that is all it says."""
    match = _ONE_OF.search(description)
    if not match:
        return []
    rest = re.sub(r'"[^"]*"|\([^)]*\)|,|\bor\b|\s', "", match.group(1))
    return re.findall(r'"([^"]*)"', match.group(1)) if not rest else []


def _is_primitive(value: Any, type_name: str) -> bool:
    """Check a JSON scalar against Integer/String/Boolean/Float."""
    if type_name == "String":
        return isinstance(value, str)
    if type_name == "Boolean":
        return isinstance(value, bool)
    if isinstance(value, bool):
        return False
    if type_name == "Integer":
        return isinstance(value, int)
    return isinstance(value, int | float)


def _kind(value: Any) -> str:
    """Name a value's JSON kind for messages."""
    if isinstance(value, _Upload):
        return "an uploaded file"
    return {
        bool: "boolean",
        int: "integer",
        float: "float",
        str: "string",
        list: "array",
        dict: "object",
        type(None): "null",
    }.get(type(value), type(value).__name__) + (f" {value!r}" if isinstance(value, str) else "")


def _kind_mismatch(problems: list[str]) -> bool:
    """Return whether the only problem is the top-level value having the wrong kind."""
    return len(problems) == 1 and ": expected " in problems[0]


@functools.cache
def load_spec() -> ApiSpec:
    """Load api.json once per process."""
    if not spec_available():
        raise FileNotFoundError(missing_spec_reason())
    return ApiSpec.load(SPEC_PATH)


def validate_request(
    method: str, params: Mapping[str, Any], files: Mapping[str, Any] | None = None
) -> list[str]:
    """Return every way a request breaks the Bot API; files maps part names to uploads."""
    return load_spec().validate_request(method, params, files)


def decode_form(method: str, fields: Mapping[str, str]) -> dict[str, Any]:
    """Decode form fields to plain Python, by the spec when available, else by guessing."""
    if spec_available():
        spec = load_spec()
        return {name: spec.decode_field(method, name, raw) for name, raw in fields.items()}
    return {name: _guess_decode(name, raw) for name, raw in fields.items()}


def validate_requests(requests: Iterable[Any]) -> list[str]:
    """Validate recorded requests (with method, params, files); prefix problems with the index."""
    return [
        f"request #{index}: {problem}"
        for index, request in enumerate(requests)
        for problem in validate_request(request.method, request.params, request.files)
    ]


def assert_requests_valid(requests: Iterable[Any]) -> None:
    """Fail the current test, listing every Bot API violation among requests."""
    import pytest

    problems = validate_requests(requests)
    if problems:
        pytest.fail("Bot API requests break the spec:\n  " + "\n  ".join(problems), pytrace=False)
