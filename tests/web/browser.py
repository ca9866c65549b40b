"""A console server on 127.0.0.1 (uvicorn in a thread, free port) and headless Chromium from
Debian driven by Selenium, for the browser tests and the wallboard benchmark."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn

from voicebot.campaign.store import Store
from voicebot.sim.baresip import free_port
from voicebot.web.app import create_app

CHROMIUM, DRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
ARTIFACTS = Path(__file__).resolve().parents[2] / "out" / "web-artifacts"
DESKTOP, PHONE = (1280, 900), (390, 844)


@contextmanager
def serve(store: Store, out: Path, scripts: Path) -> Iterator[str]:
    """The console at the returned base URL until the block ends (bounded shutdown)."""
    port = free_port(socket.SOCK_STREAM)
    config = uvicorn.Config(
        create_app(store, out, scripts),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=5,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="console-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the console server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(60)


def chromium() -> Any:
    """Headless Chromium; a clear failure when the set-up has not installed it."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    if not (shutil.which(CHROMIUM) and shutil.which(DRIVER)):
        raise RuntimeError(
            "browser tests need Debian's chromium and chromium-driver: "
            "apt-get install chromium chromium-driver (scripts/setup.sh)"
        )
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--autoplay-policy=no-user-gesture-required",
        "--mute-audio",
        f"--window-size={DESKTOP[0]},{DESKTOP[1]}",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_page_load_timeout(30)
    driver.set_script_timeout(30)
    return driver


def screenshot(driver: Any, name: str) -> list[Path]:
    """The page at desktop and at phone width, full height, under out/web-artifacts/."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    paths = []
    for label, (width, height) in (("1280", DESKTOP), ("phone", PHONE)):
        driver.set_window_size(width, height)
        time.sleep(0.3)
        full = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(width, min(max(height, full + 140), 4000))
        time.sleep(0.3)
        path = ARTIFACTS / f"{name}_{label}.png"
        driver.save_screenshot(str(path))
        paths.append(path)
    driver.set_window_size(*DESKTOP)
    return paths
