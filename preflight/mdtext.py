"""Markdown-safe text, shared by every part of the pull-request comment: a value from the program (a
name, a type, a policy message) can neither inject HTML nor break a table."""

from __future__ import annotations

from typing import Any


def text(value: Any) -> str:
    """Free text safe for Markdown outside tables: no raw HTML."""
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def cell(value: Any) -> str:
    """Text safe inside a Markdown table cell."""
    return text(value).replace("|", "\\|").replace("\n", " ")
