"""The one rule for an email address someone gives Foyer: the API's bodies and CSV rows, the
sign-in and sign-up pages, the workflows' Update validators and the emailBox attributes of a
user flow all ask it, so an address one of them takes the others take too.

An address is at most 254 characters (what SMTP can carry); its local part holds no blank,
quote, angle bracket, separator or control character (an address goes into a mail header as it
is); its domain is dot-separated DNS labels, at least two. Surrounding blanks are trimmed, and
the address is compared and kept in lower case."""

import re

MAX_LENGTH = 254
EMAIL_PATTERN = re.compile(
    r"[^@\s\"<>,;\x00-\x1f\x7f-\x9f]+"
    r"@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+")


def normalize_email(value: object, field: str = "email address") -> str:
    """The address, trimmed and lower-cased; ValueError "'…' is not a valid <field>" if it is not
    one."""
    text = value.strip() if isinstance(value, str) else ""
    if len(text) > MAX_LENGTH or not EMAIL_PATTERN.fullmatch(text):
        raise ValueError(f"{text if isinstance(value, str) else value!r} is not a valid {field}")
    return text.lower()


def is_email_address(value: object) -> bool:
    """Whether normalize_email takes it (for callers with a message of their own)."""
    try:
        normalize_email(value)
    except ValueError:
        return False
    return True
