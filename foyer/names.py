"""Text that names things (display names, given names, descriptions, message bodies): no control
characters.

A name travels into mail headers (a subject is built from the organization's and the package's
names), into CSV exports and into log lines; a CR or LF in one breaks a header, a NUL cannot be
stored by PostgreSQL at all, and a lone surrogate cannot be encoded as UTF-8. So a name refuses
every control character (C0, DEL, C1), the Unicode line and paragraph separators and lone
surrogates. Multi-line text (a description, a customized message body, a justification) keeps
TAB, LF and CR — a browser's textarea sends CR LF — and refuses the rest.

Shared by the API's request schemas (`DisplayName`, `MultilineText`), the campaign rows, the CLI
and the mail outbox (`one_line`, which folds whatever is already stored into one header line).
"""

import re
from typing import Annotated

from pydantic import AfterValidator

# C0 controls, DEL and C1 controls (Unicode category Cc), U+2028/U+2029, lone surrogates.
_CONTROLS = "\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff"
_NOT_IN_A_NAME = re.compile(f"[{_CONTROLS}]")
_NOT_IN_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_FOLDED = re.compile(f"\\s*[{_CONTROLS}][\\s{_CONTROLS}]*")


def _described(character: str) -> str:
    return f"U+{ord(character):04X}"


def control_character_in_name(value: str) -> str | None:
    """The first character a name may not hold, as U+XXXX, or None."""
    found = _NOT_IN_A_NAME.search(value)
    return _described(found.group()) if found else None


def control_character_in_text(value: str) -> str | None:
    """The first character multi-line text may not hold, as U+XXXX, or None."""
    found = _NOT_IN_TEXT.search(value)
    return _described(found.group()) if found else None


def check_name(value: str) -> str:
    found = control_character_in_name(value)
    if found:
        raise ValueError(f"contains the control character {found}; a name is one line of "
                         "printable text")
    return value


def check_text(value: str) -> str:
    found = control_character_in_text(value)
    if found:
        raise ValueError(f"contains the control character {found}; only tab and line breaks "
                         "are allowed")
    return value


def one_line(value: str) -> str:
    """`value` as one line of printable text: each run of control characters and whitespace
    around them becomes one space (for mail headers built from names stored before they were
    checked)."""
    return _FOLDED.sub(" ", value).strip()


# Request-schema types: `display_name: DisplayName = Field(min_length=1, max_length=256)`.
DisplayName = Annotated[str, AfterValidator(check_name)]
MultilineText = Annotated[str, AfterValidator(check_text)]
