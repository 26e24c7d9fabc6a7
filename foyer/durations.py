"""ISO 8601 durations (P30D, PT12H, P1DT2H30M), as Graph writes them. Pure: workflows use it too."""

import re
from datetime import timedelta

_PATTERN = re.compile(
    r"^P(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)


def parse_duration(text: str) -> timedelta:
    match = _PATTERN.match(text or "")
    if not match or text in ("P", "PT") or text.endswith("T"):
        raise ValueError(f"{text!r} is not an ISO 8601 duration such as P30D or PT12H")
    parts = {name: float(value) for name, value in match.groupdict().items() if value}
    return timedelta(**parts)


def format_duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    time = "".join(f"{v}{u}" for v, u in ((hours, "H"), (minutes, "M"), (seconds, "S")) if v)
    return "P" + (f"{days}D" if days else "") + (f"T{time}" if time else ("" if days else "T0S"))


def check_duration(value: object, field: str | None = None, *, at_least: str | None = None,
                   at_most: str | None = None) -> timedelta:
    """The one rule for a duration a caller gives (a lifetime, a timeout, a reminder, an
    escalation): an ISO 8601 duration, nothing around it, longer than zero, and within
    [at_least, at_most] when given. Returns its length; ValueError naming `field` (or, where the
    caller names the field itself, the value) otherwise, never OverflowError: a duration too
    long for Python is simply longer than the longest allowed.

    parse_duration stays the lenient reader of what is already stored; only this decides what
    may be stored."""
    subject = field or repr(value)
    try:
        if not isinstance(value, str) or not _PATTERN.fullmatch(value):
            raise ValueError
        length: timedelta | None = parse_duration(value)
    except ValueError:
        raise ValueError(f"{field + ': ' if field else ''}{value!r} is not an ISO 8601 duration "
                         "such as P30D or PT12H") from None
    except OverflowError:
        length = None  # longer than any timedelta, so longer than any bound
    if length is None and at_most is None:
        raise ValueError(f"{subject} is far too long")
    if length is not None and length <= timedelta(0):
        raise ValueError(f"{subject} must be longer than zero")
    too_short = length is not None and at_least is not None and length < parse_duration(at_least)
    too_long = at_most is not None and (length is None or length > parse_duration(at_most))
    if too_short or too_long:
        if at_least and at_most:
            raise ValueError(f"{subject} must be between {at_least} and {at_most}")
        raise ValueError(f"{subject} must be at least {at_least}" if too_short else f"{subject} must be at most {at_most}")
    assert length is not None
    return length
