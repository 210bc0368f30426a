"""Keep the app's English catalog in step with its Indonesian source strings.

    python scripts/i18n.py update    # extract _() strings from template/src, merge into en
    python scripts/i18n.py compile   # write the .mo file the app loads
    python scripts/i18n.py check     # exit 1 if a string has no English or the .mo is stale

Source strings are Bahasa Indonesia (the default language); translations/en holds English.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

from babel.messages import frontend  # noqa: F401  (ensures babel is installed)
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

TEMPLATE = Path(__file__).resolve().parents[1] / "template"
SRC = TEMPLATE / "src" / "hibahbansos"
PO = SRC / "translations" / "en" / "LC_MESSAGES" / "messages.po"
MO = PO.with_suffix(".mo")
METHODS = [("**.py", "python"), ("**/templates/**.html", "jinja2")]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None}


def extract() -> Catalog:
    catalog = Catalog(locale="id", project="hibahbansos")
    for filename, lineno, message, comments, context in extract_from_dir(
        str(SRC), METHODS, keywords=KEYWORDS, options_map={"**/templates/**.html": {"extensions": "jinja2.ext.do"}}
    ):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def load() -> Catalog:
    if not PO.exists():
        return Catalog(locale="en", project="hibahbansos")
    with PO.open("rb") as fh:
        return read_po(fh, locale="en")


def update() -> None:
    template = extract()
    catalog = load()
    catalog.update(template, no_fuzzy_matching=True)
    catalog.obsolete.clear()
    PO.parent.mkdir(parents=True, exist_ok=True)
    with PO.open("wb") as fh:
        write_po(fh, catalog, width=100, omit_header=False, sort_output=True, include_lineno=False)
    missing = [m.id for m in catalog if m.id and not m.string]
    print(f"{PO}: {len(catalog)} strings, {len(missing)} without English")


def compile_mo() -> bytes:
    buf = io.BytesIO()
    write_mo(buf, load(), use_fuzzy=False)
    return buf.getvalue()


def check() -> int:
    template = extract()
    catalog = load()
    problems = []
    for msg in template:
        if not msg.id:
            continue
        found = catalog.get(msg.id, context=msg.context)
        if found is None or not found.string or (isinstance(found.string, tuple) and not all(found.string)):
            problems.append(f"no English for {msg.id!r}")
    if not MO.exists() or MO.read_bytes() != compile_mo():
        problems.append(f"{MO.name} is stale; run `python scripts/i18n.py compile`")
    for p in problems:
        print(p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    cmd = sys.argv[1] if len(sys.argv) > 1 else "check"
    if cmd == "update":
        update()
    elif cmd == "compile":
        MO.write_bytes(compile_mo())
        print(f"wrote {MO}")
    elif cmd == "check":
        sys.exit(check())
    else:
        sys.exit(__doc__)
