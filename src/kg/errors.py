"""The library's exceptions. The CLI turns each into one line on stderr, `kg: <message>`, and exit code 2.

Messages say what went wrong in the library's own words (a file, a name, a limit and its value); they never
name a command-line flag, so the same errors read well from Python, the CLI and, later, the web server. The
CLI adds the flag that changes a limit where it helps.
"""


class KgError(Exception):
    """A problem the user can fix: malformed input, an unknown name, a bad parameter, an unreachable endpoint.

    `exit_code` is 2, pyshacl's convention for bad input or runtime errors.
    """

    exit_code = 2


class LimitExceeded(KgError):
    """A time, size, depth or row limit was hit: the answer would be partial, so there is no answer.

    `limit` names the limit (a key of `kg.limits.DEFAULTS`), so the CLI can say how to raise it.
    """

    def __init__(self, message: str, limit: str) -> None:
        super().__init__(message)
        self.limit = limit


class Refused(KgError):
    """A request the tool will not carry out: a SPARQL update, a SERVICE call from the embedded engine, a
    write into the installed package, a redirect to a host the user did not name."""


class NotFound(KgError):
    """No stored query, check or term of that name. `noun` says what was looked for and `suggestions` holds
    the closest names, so a caller can add its own way to list them."""

    def __init__(self, message: str, noun: str, suggestions: list[str]) -> None:
        super().__init__(message)
        self.noun = noun
        self.suggestions = suggestions
