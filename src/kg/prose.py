"""Generated prose from Jinja2 templates in `kg/templates/` (package data): Markdown pages and the comments at
the head of generated files, and HTML pages. An undefined name is an error, never an empty string.

Two environments. `render` (Markdown, text, Turtle comments) does not escape. `render_html` (templates named
`*.html.j2`) escapes every `{{ … }}` as `html.escape` does (`&amp; &lt; &gt; &quot; &#x27;`; a value marked
safe — a macro's output — is printed as it is), and reads the template's layout as layout only: a line break
and the indentation after it are dropped outside Jinja tags, so that an indented template gives a page on one
line; text between `{% raw %}` and `{% endraw %}` is kept as written, and a line break the page needs is
written `{{ "\\n" }}`. Keep words that belong together on one line of the template.
"""

from __future__ import annotations

import functools
import html
import re
from pathlib import Path

import jinja2
import jinja2.ext
import markupsafe

TEMPLATES = Path(__file__).resolve().parent / "templates"

# In an `*.html.j2` template: what is kept as written (group 1: a raw block, a tag, an expression, a comment)
# and what is layout (a line break and the indentation after it).
_LAYOUT = re.compile(r"(\{%-?\s*raw\s*-?%\}.*?\{%-?\s*endraw\s*-?%\}|\{%.*?%\}|\{\{.*?\}\}|\{#.*?#\})|\n[ \t]*",
                     re.DOTALL)


@functools.cache
def environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=False,
                              undefined=jinja2.StrictUndefined, keep_trailing_newline=True, trim_blocks=True,
                              lstrip_blocks=True)


def render(template: str, **context: object) -> str:
    """The text of `template` (a file name in kg/templates/) with `context`."""
    return environment().get_template(template).render(**context)


class _LayoutOnly(jinja2.ext.Extension):
    """Drops the line breaks and indentation of an `*.html.j2` template, outside tags and raw blocks."""

    def preprocess(self, source: str, name: str | None, filename: str | None = None) -> str:
        if not (name or "").endswith(".html.j2"):
            return source
        return _LAYOUT.sub(lambda m: m.group(1) or "", source)


def _escape(value: object) -> object:
    """What `{{ value }}` prints in HTML: escaped as `html.escape(…, quote=True)`, unless already markup."""
    if hasattr(value, "__html__"):
        return value
    return markupsafe.Markup(html.escape(str(value), quote=True))


@functools.cache
def html_environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES),
                              autoescape=jinja2.select_autoescape(["html.j2"]), finalize=_escape,
                              undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                              extensions=[_LayoutOnly])


def render_html(template: str, **context: object) -> str:
    """The page `template` (an `*.html.j2` file name in kg/templates/) with `context`, escaped."""
    return html_environment().get_template(template).render(**context)
