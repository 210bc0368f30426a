"""Reading region profiles from `regions/*.yml`: one loader for every command.

Each problem comes back as a `Problem` located at the line of the YAML node it concerns, so a
technician sees `regions/bungo.yml:14: opd.2.code: ...` and can go straight to it.
"""

from __future__ import annotations

import contextlib
import difflib
import functools
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from kit.errors import Problem, ProfileError
from kit.profile import Profile, ProfileContext

try:  # libyaml is several times faster; fall back to pure Python where it is missing
    _Base: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover
    _Base = yaml.SafeLoader


class _Loader(_Base):  # type: ignore[misc, valid-type]
    """The safe loader, noting while it builds each mapping whether two keys are spelled the same.

    Only then is the whole node tree walked again to name each duplicate (`_duplicate_keys`).
    """

    has_duplicates = False

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        keys = [k.value for k, _ in node.value if isinstance(k, yaml.ScalarNode)]
        if len(set(keys)) < len(keys):
            self.has_duplicates = True
        return super().construct_mapping(node, deep)


# What `kit profile init` writes where only the region knows the value; never a valid value.
FILL_IN = "(fill in)"
# A line with FILL_IN before any comment: only then is the data walked for the blanks (the
# header comment of a profile made by `kit profile init` names FILL_IN too).
_FILL_IN_LINE = re.compile(r"^[^#\n]*" + re.escape(FILL_IN), re.MULTILINE)


@dataclass
class Loaded:
    """A profile file after loading: the model when valid, its problems otherwise."""

    path: Path
    slug: str
    profile: Profile | None = None
    problems: list[Problem] = field(default_factory=list)
    raw: Any = None
    text_sha256: str = ""


def display_path(path: Path) -> str:
    """The path as the user should see it: relative to the working directory when inside it."""
    try:
        return str(_resolved(path).relative_to(_resolved_dir(Path.cwd())))
    except ValueError:
        return str(path)


def _resolved(path: Path) -> Path:
    # Resolving each folder once (not each of 552 files) keeps `kit validate` fast; a file
    # that is itself a symlink is resolved on its own.
    if path.is_symlink() or not path.is_absolute():
        return path.resolve()
    return _resolved_dir(path.parent) / path.name


@functools.lru_cache(maxsize=64)
def _resolved_dir(folder: Path) -> Path:
    return folder.resolve()


def profile_paths(regions_dir: Path, slugs: Iterable[str] = ()) -> list[Path]:
    """The profile files to read: all of them, or those of the named slugs."""
    slugs = list(slugs)
    if not slugs:
        return sorted(p for p in regions_dir.glob("*.yml") if not p.name.startswith("."))
    return [regions_dir / f"{s}.yml" for s in slugs]


def load_file(path: Path, assets_root: Path) -> Loaded:
    """Read and check one profile file; never raises for bad content."""
    shown = display_path(path)
    loaded = Loaded(path=path, slug=path.stem)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        loaded.problems.append(
            Problem(shown, None, "file", f"no profile {path.name}; create it with `kit profile init` or check the slug")
        )
        return loaded
    except UnicodeDecodeError as exc:
        loaded.problems.append(
            Problem(shown, None, "file", f"not UTF-8 text ({exc.reason} at byte {exc.start}); save it as UTF-8")
        )
        return loaded
    loaded.text_sha256 = hashlib.sha256(text.encode()).hexdigest()
    try:
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        col = mark.column + 1 if mark else None
        loaded.problems.append(
            Problem(shown, line, "syntax", f"{exc.problem or exc.context}; {_syntax_hint(exc)}", col)
        )
        return loaded
    loaded.raw = data
    if not isinstance(data, dict):
        loaded.problems.append(
            Problem(shown, 1, "file", "a profile must be a mapping of keys such as slug:, name:, kode:")
        )
        return loaded
    if loader.has_duplicates:
        loaded.problems.extend(_duplicate_keys(node, shown))
    context = ProfileContext(file_stem=path.stem, assets_dir=assets_root / path.stem)
    blanks = list(_fill_ins(data)) if _FILL_IN_LINE.search(text) else []
    try:
        loaded.profile = Profile.model_validate(data, context=context)
    except ValidationError as exc:
        found = _problems_from(exc, node, data, shown)
        if blanks:  # a field still to fill in gets one line saying so, not a complaint about "(fill in)"
            found = [
                p
                for p in found
                if not any(p.field == _dotted(b) or p.field.startswith(_dotted(b) + ".") for b in blanks)
            ]
        loaded.problems.extend(found)
    if blanks:
        for loc in blanks:
            description = _description(list(loc))
            loaded.problems.append(
                Problem(
                    shown,
                    _locate(node, loc)[0],
                    _dotted(loc),
                    "not filled in yet" + (f": {description}" if description else ""),
                )
            )
        loaded.problems.sort(key=lambda p: (p.line or 0, p.column or 0))
    if loaded.problems:
        loaded.profile = None
    return loaded


def _fill_ins(data: Any, loc: tuple = ()) -> Iterable[tuple]:
    """Paths of the values still marked `(fill in)`."""
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _fill_ins(value, (*loc, key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from _fill_ins(value, (*loc, i))
    elif data == FILL_IN:
        yield loc


def load_all(regions_dir: Path, slugs: Iterable[str] = ()) -> list[Loaded]:
    """Load the named profiles (all when none) and run the checks across profiles.

    Cross-profile checks (unique slug, kode and domain) always compare against every profile in
    the folder, so `kit validate tasikmalaya` still catches a kode another region already uses.
    """
    slugs = list(slugs)
    assets_root = regions_dir / "assets"
    wanted = [load_file(p, assets_root) for p in profile_paths(regions_dir, slugs)]
    # The others matter only for their slug, kode and domain: read, not checked (a fleet of 552
    # profiles costs a plain YAML load instead of a full validation per `kit new` or `kit deploy`).
    # A profile can share a value only if its text contains it: the others whose text does not
    # are not parsed at all (`kit validate` with no slugs checks every profile fully anyway).
    mine = {item.path for item in wanted}
    needles = {v.lower() for item in wanted for v in _cross_values(item.raw)}
    others = []
    for path in profile_paths(regions_dir) if needles else []:
        if path in mine:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        lowered = text.lower()
        if any(n in lowered for n in needles):
            others.append(_load_raw(path, text))
    _cross_check(others + wanted, wanted)
    return wanted


# What the checks across profiles read of the others (`_cross_check`).
_CROSS_KEYS = {"slug": None, "kode": None, "site": {"domain"}}


def _load_raw(path: Path, text: str) -> Loaded:
    """Only the slug, kode and site.domain of a profile, as YAML says, without checks.

    libyaml builds the node tree; only those three values are turned into Python objects (the
    rest of a profile, most of the time of a full load, is never constructed). raw stays None
    when the text is not YAML or not a mapping.
    """
    loaded = Loaded(path=path, slug=path.stem)
    with contextlib.suppress(yaml.YAMLError):
        loader = _Base(text)
        try:
            node = loader.get_single_node()
            if isinstance(node, yaml.MappingNode):
                loaded.raw = _pick(loader, node, _CROSS_KEYS)
        finally:
            loader.dispose()
    return loaded


def _pick(loader: Any, node: yaml.MappingNode, keys: dict) -> dict:
    picked: dict = {}
    for key_node, value_node in node.value:
        key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
        if key not in keys:
            continue
        sub = keys[key]
        if sub is None:
            picked[key] = loader.construct_object(value_node, deep=True)
        elif isinstance(value_node, yaml.MappingNode):
            picked[key] = _pick(loader, value_node, dict.fromkeys(sub))
    return picked


def load_one(regions_dir: Path, slug: str) -> Profile:
    """The valid profile of one region; raises ProfileError listing every problem."""
    (loaded,) = load_all(regions_dir, [slug])
    if loaded.problems or loaded.profile is None:
        raise ProfileError(loaded.problems)
    return loaded.profile


_CROSS_GETTERS = {
    "slug": lambda d: d.get("slug"),
    "kode": lambda d: d.get("kode"),
    "site.domain": lambda d: (d.get("site") or {}).get("domain") if isinstance(d.get("site"), dict) else None,
}


def _cross_value(raw: Any, field_name: str) -> str | None:
    """The profile's value of one field the checks across profiles compare, when it has one."""
    if not isinstance(raw, dict):
        return None
    value = _CROSS_GETTERS[field_name](raw)
    return value if isinstance(value, str) and value and value != FILL_IN else None


def _cross_values(raw: Any) -> list[str]:
    return [v for f in _CROSS_GETTERS if (v := _cross_value(raw, f))]


def _cross_check(everyone: list[Loaded], wanted: list[Loaded]) -> None:
    """Slug, kode and domain must each be unique across the fleet."""
    for field_name in _CROSS_GETTERS:
        owners: dict[str, list[Loaded]] = {}
        for item in everyone:
            value = _cross_value(item.raw, field_name)
            if value:
                owners.setdefault(value.lower(), []).append(item)
        for value, items in owners.items():
            if len(items) < 2:
                continue
            for item in wanted:
                if item in items:
                    others = ", ".join(display_path(o.path) for o in items if o is not item)
                    line = _line_of_path(item, field_name.split("."))
                    item.problems.append(
                        Problem(
                            display_path(item.path),
                            line,
                            field_name,
                            f"{value} is also used by {others}; each region needs its own {field_name}",
                        )
                    )
                    item.profile = None


def _line_of_path(item: Loaded, path: list) -> int | None:
    try:
        loader = _Loader(item.path.read_text(encoding="utf-8"))
        try:
            node = loader.get_single_node()
        finally:
            loader.dispose()
    except (OSError, yaml.YAMLError):
        return None
    return _locate(node, path)[0]


def _syntax_hint(exc: yaml.MarkedYAMLError) -> str:
    problem = (exc.problem or "").lower()
    if "tab" in problem:
        return "indent with spaces, not tabs"
    if "mapping values are not allowed" in problem:
        return "check the indentation, or quote a value that contains ': '"
    if "expected <block end>" in problem or "did not find expected key" in problem:
        return "check the indentation of this line and the one above"
    if "found character" in problem or "found unexpected" in problem:
        return "quote the value"
    return "fix the YAML at this position"


def _duplicate_keys(node: yaml.Node | None, shown: str, path: tuple = ()) -> list[Problem]:
    """PyYAML silently keeps the last of two equal keys; a profile must not have any."""
    out: list[Problem] = []
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key, value in node.value:
            name = key.value if isinstance(key, yaml.ScalarNode) else str(key)
            if name in seen:
                out.append(
                    Problem(
                        shown,
                        key.start_mark.line + 1,
                        _dotted((*path, name)),
                        f"key {name!r} appears twice (first at line {seen[name]}); keep one",
                    )
                )
            else:
                seen[name] = key.start_mark.line + 1
            out.extend(_duplicate_keys(value, shown, (*path, name)))
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            out.extend(_duplicate_keys(item, shown, (*path, i)))
    return out


def _dotted(loc: Iterable) -> str:
    return ".".join(str(p) for p in loc) or "(top level)"


def _locate(node: yaml.Node | None, loc: Iterable) -> tuple[int | None, bool]:
    """Line of the node at `loc`, or of its deepest existing ancestor; and whether it was found."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value == str(part):
                    node, line = value, key.start_mark.line + 1
                    break
            else:
                return line, False
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line, False
    return line, True


def _problems_from(exc: ValidationError, node: yaml.Node, data: Any, shown: str) -> list[Problem]:
    out = []
    for err in exc.errors(include_url=False):
        loc = [p for p in err["loc"] if not isinstance(p, str) or not p.startswith("function-")]
        ctx = err.get("ctx") or {}
        loc += [p for p in ctx.get("subloc", []) if p is not None]
        kind = err["type"]
        message = _message(kind, err, loc)
        line, _ = _locate(node, loc if kind != "missing" else loc[:-1])
        out.append(Problem(shown, line, _dotted(loc), message))
    return out


_TYPE_WORDS = {
    "string_type": "text",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "list_type": "a list (lines starting with '- ')",
    "model_type": "a mapping of keys",
    "dict_type": "a mapping of keys",
}


def _message(kind: str, err: dict, loc: list) -> str:
    value = err.get("input")
    if kind == "missing":
        name = loc[-1] if loc else "?"
        description = _description(loc)
        return f"required field is missing; add {name}:" + (f" ({description})" if description else "")
    if kind == "extra_forbidden":
        name = str(loc[-1]) if loc else "?"
        allowed = _allowed_keys(loc[:-1])
        close = difflib.get_close_matches(name, allowed, n=1)
        if close:
            return f"unknown key {name!r}; did you mean {close[0]!r}?"
        return f"unknown key {name!r}; allowed keys here: {', '.join(allowed)}"
    if kind in _TYPE_WORDS:
        return f"expected {_TYPE_WORDS[kind]}, got {_show(value)}"
    if kind == "literal_error":
        return f"{_show(value)} is not allowed; use one of {err['ctx']['expected']}"
    if kind == "string_pattern_mismatch":
        description = _description(loc)
        return f"{_show(value)} has the wrong form" + (
            f"; expected {description}" if description else f" (pattern {err['ctx']['pattern']})"
        )
    if kind == "too_short":
        return f"needs at least {err['ctx']['min_length']} item(s) or character(s)"
    return err["msg"].removeprefix("Value error, ")


def _show(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing (empty value)"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _field_info(loc: list):
    """The pydantic FieldInfo at a loc, walking nested models and lists."""
    model: type[BaseModel] | None = Profile
    info = None
    for part in loc:
        if isinstance(part, int):
            continue
        if model is None or part not in model.model_fields:
            return None
        info = model.model_fields[part]
        model = _inner_model(info.annotation)
    return info


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _inner_model(arg)
        if found:
            return found
    return None


def _description(loc: list) -> str | None:
    info = _field_info(loc)
    return info.description if info is not None else None


def _allowed_keys(loc: list) -> list[str]:
    if not [p for p in loc if not isinstance(p, int)]:
        return list(Profile.model_fields)
    info = _field_info(loc)
    model = _inner_model(info.annotation) if info is not None else None
    return list(model.model_fields) if model else []


def fail_if_problems(items: list[Loaded]) -> None:
    """Raise ProfileError with every problem of every item, if there are any."""
    problems = [p for item in items for p in item.problems]
    if problems:
        raise ProfileError(problems)
