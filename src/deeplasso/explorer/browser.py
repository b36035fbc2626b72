"""Open explorer pages in the system's headless Chromium (for tests and benchmarks).

Uses Selenium (``pip install selenium``, the ``explorer-test`` extra) with the
system's browser and driver (Debian: ``apt-get install chromium chromium-driver``),
never a downloaded one: the driver path is given to a ``Service`` and Selenium
Manager is kept offline. :func:`why_no_browser` says why a browser cannot be
started (a reason to skip), :func:`headless_chromium` starts one.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile

__all__ = ["BROWSER_CANDIDATES", "DRIVER_CANDIDATES", "find_browser", "why_no_browser", "headless_chromium",
           "network_requests", "console_messages", "wait_ready"]

BROWSER_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
DRIVER_CANDIDATES = ("/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver")
#: Flags that keep Chromium from talking to anything but the page.
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-default-apps", "--disable-extensions", "--hide-scrollbars")


def _first(env: str, candidates, name: str) -> str | None:
    for c in ((os.environ.get(env),) if os.environ.get(env) else ()) + tuple(candidates) + (shutil.which(name),):
        if c and os.path.isfile(c) and os.access(c, os.X_OK):
            return c
    return None


def find_browser() -> tuple[str | None, str | None]:
    """``(browser, driver)`` executables (``DEEPLASSO_CHROMIUM`` / ``DEEPLASSO_CHROMEDRIVER``
    override), None where not found."""
    return (_first("DEEPLASSO_CHROMIUM", BROWSER_CANDIDATES, "chromium"),
            _first("DEEPLASSO_CHROMEDRIVER", DRIVER_CANDIDATES, "chromedriver"))


def why_no_browser() -> str | None:
    """None when a headless Chromium can be driven here, else the reason."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[explorer-test]')"
    browser, driver = find_browser()
    if browser is None:
        return "no Chromium browser found (apt-get install chromium chromium-driver)"
    if driver is None:
        return "no chromedriver found (apt-get install chromium-driver)"
    return None


@contextlib.contextmanager
def headless_chromium(width: int = 1360, height: int = 1700):
    """A Selenium Chrome driver on the system's headless Chromium with a fresh profile,
    logging the console (``browser``) and the DevTools network events (``performance``)."""
    os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager never downloads anything
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    reason = why_no_browser()
    if reason:
        raise RuntimeError(reason)
    browser, driver_path = find_browser()
    profile = tempfile.mkdtemp(prefix="deeplasso-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = browser
    for flag in FLAGS + (f"--window-size={width},{height}", f"--user-data-dir={profile}"):
        opts.add_argument(flag)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(driver_path), options=opts)
    try:
        driver.set_script_timeout(60)
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def network_requests(driver) -> list[str]:
    """URLs of the requests the browser sent since the log was last read (DevTools
    ``Network.requestWillBeSent`` events of the performance log)."""
    urls = []
    for entry in driver.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        if msg.get("method") == "Network.requestWillBeSent":
            urls.append(msg["params"]["request"]["url"])
    return urls


def console_messages(driver, levels=("SEVERE", "WARNING")) -> list[dict]:
    """Console messages (and uncaught errors) of those levels since the log was last read."""
    return [e for e in driver.get_log("browser") if e.get("level") in levels]


def wait_ready(driver, timeout: float = 30.0) -> bool:
    """Wait until the page's ``window.explorer.ready``; False on timeout or an error banner."""
    import time

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if driver.execute_script("return !!(window.explorer && window.explorer.ready)"):
            return True
        if driver.execute_script("var e = document.getElementById('error'); return !!(e && !e.hidden)"):
            return False
        time.sleep(0.02)
    return False
