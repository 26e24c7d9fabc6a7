"""Debian's Chromium driven by Playwright (no browser download: executable_path is fixed).

One Chromium serves the whole run: starting Playwright's driver and the browser costs a couple of
seconds, a fresh context (its own cookies, storage and cache) a fraction of that. Each
`chromium_page()` gets a context of its own, closed when it ends, so no test sees another's state.
The browser is closed by `close_chromium()` at the end of the session (tests/conftest.py)."""

from contextlib import asynccontextmanager

from playwright.async_api import Browser, Playwright, async_playwright

CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps dialling out of a closed network.
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage"]

_playwright: Playwright | None = None
_browser: Browser | None = None


async def _shared_browser() -> Browser:
    global _playwright, _browser
    if _browser is None or not _browser.is_connected():
        await close_chromium()
        _playwright = await async_playwright().start()
        _browser = await _playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                                     args=FLAGS)
    return _browser


async def close_chromium() -> None:
    global _playwright, _browser
    browser, playwright, _browser, _playwright = _browser, _playwright, None, None
    if browser is not None:
        await browser.close()
    if playwright is not None:
        await playwright.stop()


@asynccontextmanager
async def chromium_page():
    context = await (await _shared_browser()).new_context()
    try:
        yield await context.new_page()
    finally:
        await context.close()
