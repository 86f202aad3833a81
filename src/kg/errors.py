"""The one exception type the CLI turns into a clean one-line message."""


class KgError(Exception):
    """A problem the user can fix: malformed input, an unknown name, a bad parameter, an unreachable endpoint.

    The CLI prints `kg: <message>` on one line and exits with `exit_code` (2, pyshacl's convention for
    bad input or runtime errors), never a traceback.
    """

    exit_code = 2
