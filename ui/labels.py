"""Every text the window shows, Indonesian first, English as a translation.

One table keyed by a stable name keeps the wording in one place and lets the operator choose
the language (setting `language`, applied when the window opens): the texts are data, each
part's in its file under ui/texts/ (the window's own in window.toml), and the programme's words
(reasons, cohorts, statuses) by code through `term`, their Indonesian being the shared
vocabulary's. No widget shows a text that does not come from here (tests/test_ui_english.py).
`t(key, **values)` formats the text with `str.format`.
"""

from __future__ import annotations

from ui import texts

LANGUAGES = {"id": "Bahasa Indonesia", "en": "English"}
_language = "id"

# Filled from ui/texts/ below; `t` and `term` read it.
TEXT: dict[str, tuple[str, str]] = {}


def _join(*tables: texts.Table) -> None:
    """Add the tables of the window's parts (ui/texts/); a key is never defined twice."""
    for table in tables:
        twice = TEXT.keys() & table.keys()
        if twice:
            raise KeyError(f"texts defined twice: {sorted(twice)}")
        TEXT.update(table)


_join(*texts.tables())


def set_language(language: str) -> None:
    """Choose the language for texts made from now on ("id" or "en"; anything else → "id")."""
    global _language
    _language = language if language in LANGUAGES else "id"


def language() -> str:
    return _language


def t(key: str, **values: object) -> str:
    """The text for `key` in the current language, formatted with `values`."""
    indonesian, english = TEXT[key]
    text = english if _language == "en" else indonesian
    return text.format(**values) if values else text


def term(kind: str, code: str, fallback: str = "") -> str:
    """A programme word by its code (`kind` "reject", "reprint", "cohort", "status",
    "relationship" or "step"; ui/texts/terms.py); an unknown code shows `fallback` (the
    server's own label) or the code."""
    key = f"{kind}.{code}"
    return t(key) if key in TEXT else (fallback or code)


def plain(key: str, **values: object) -> str:
    """The text without Qt's `&` mnemonic marker (for messages and tests)."""
    return t(key, **values).replace("&", "")
