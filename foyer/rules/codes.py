"""One-time codes by mail (sign-in, self-service sign-up, invitation redemption): how long a code
lives, how many wrong tries lock it, and how often an address may be sent one.

Code requests are limited per (address, client) — one a minute, five an hour — and per address
by a higher ceiling, CODES_PER_ADDRESS_PER_HOUR, that a browser known for the address (it
completed a code for it before: foyer.sessions.DEVICE_COOKIE) passes. So a stranger cannot use
the limits to stop the owner getting codes, and brute force stays bounded: five tries a code.
"""

from datetime import datetime, timedelta

CODE_LIFETIME = timedelta(minutes=10)
MAX_WRONG_TRIES = 5
CODES_PER_HOUR = 5  # per address and client
RESEND_INTERVAL = timedelta(seconds=60)  # per address and client
CODES_PER_ADDRESS_PER_HOUR = 30  # from all clients together; a known device passes it


def code_limit(recent: list[tuple[datetime, str | None]], client: str | None, known_device: bool,
               now: datetime) -> str | None:
    """"hourly" or "resend" when one more code may not be sent now, else None. `recent`: the
    (created, client) of the address's code requests in the last hour."""
    mine = [created for created, asker in recent if asker == client]
    if len(mine) >= CODES_PER_HOUR:
        return "hourly"
    if any(created > now - RESEND_INTERVAL for created in mine):
        return "resend"
    if not known_device and len(recent) >= CODES_PER_ADDRESS_PER_HOUR:
        return "hourly"
    return None
