"""Debian's Chromium driven by Playwright (no browser download: executable_path is fixed)."""

from contextlib import asynccontextmanager

from playwright.async_api import async_playwright

CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps dialling out of a closed network.
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage"]


@asynccontextmanager
async def chromium_page():
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        try:
            context = await browser.new_context()
            yield await context.new_page()
        finally:
            await browser.close()
