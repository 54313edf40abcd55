"""Markdown to safe HTML (lessons, the charter…): raw HTML escaped, links only to web and mail
addresses.
"""

from __future__ import annotations

from typing import Any
from xml.etree.ElementTree import Element

import markdown
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor
from markupsafe import Markup

SAFE_SCHEMES = ("http://", "https://", "mailto:")


class _SafeLinks(Treeprocessor):
    """Drops link and image addresses with schemes other than http(s) and mailto."""

    def run(self, root: Element) -> None:
        for element in root.iter():
            for attribute in ("href", "src"):
                value = element.get(attribute)
                if value is None:
                    continue
                cleaned = "".join(value.split()).lower()
                relative = not any(c == ":" for c in cleaned.split("/")[0])
                if not (relative or cleaned.startswith(SAFE_SCHEMES)):
                    element.set(attribute, "#")
            if element.tag == "a":
                element.set("rel", "nofollow noopener")


class _SafeMarkdown(Extension):
    def extendMarkdown(self, md: Any) -> None:  # noqa: N802 (Markdown's API name)
        # Raw HTML is shown as text, never passed through.
        md.preprocessors.deregister("html_block")
        md.inlinePatterns.deregister("html")
        md.treeprocessors.register(_SafeLinks(md), "relais_safe_links", 0)


def render_markdown(text: str) -> Markup:
    """Markdown as HTML, with raw HTML escaped and unsafe link schemes removed."""
    html = markdown.markdown(text or "", extensions=[_SafeMarkdown(), "sane_lists"],
                             output_format="html")
    return Markup(html)  # noqa: S704 (built from escaped Markdown above)
