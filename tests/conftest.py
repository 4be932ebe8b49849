"""Shared fixtures: real models loaded once per test session, real sample calls."""

from __future__ import annotations

import importlib.util
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from calmline.monitor.settings import Settings

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "samples"
SHARED_DATA = REPO.parent / "shared" / "data"
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1366, "height": 900}
"""The viewport of the pages' tests unless they say otherwise."""


def load_bench(name: str):
    """A script of ``bench/`` as a module (they are scripts, not a package)."""
    spec = importlib.util.spec_from_file_location(
        f"calmline_bench_{name}", REPO / "bench" / f"{name}.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def shared_data(*parts: str) -> Path:
    """A path under ../shared/data, skipping the test when the evaluation data is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"evaluation data not present: {path}")
    return path


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("calmline-cache")


@pytest.fixture(scope="session")
def settings(cache_dir) -> Settings:
    return Settings(cache_dir=str(cache_dir))


@pytest.fixture(scope="session")
def models(settings):
    from calmline.pipelines.manager import ModelManager

    return ModelManager(settings)


@pytest.fixture(scope="session")
def pipeline(settings, models):
    from calmline.pipelines.batch import BatchPipeline

    return BatchPipeline(settings, models)


_REPORTS: dict[str, object] = {}


@pytest.fixture(scope="session")
def analyzed(pipeline):
    """analyzed(name) -> (report, expected facts) for a bundled sample, analysed once per run."""
    import json

    def get(name: str):
        if name not in _REPORTS:
            _REPORTS[name] = pipeline.analyze(SAMPLES / f"{name}.wav")
        expected = json.loads((SAMPLES / f"{name}.json").read_text(encoding="utf-8"))
        return _REPORTS[name], expected

    return get


# ---------------------------------------------------------------------------- store, both backends


@pytest.fixture(scope="module")
def postgres():
    """A throw-away PostgreSQL server for the module (skips when PostgreSQL is not installed)."""
    from tests.pg import PostgresServer, pg_bin

    if pg_bin() is None:
        pytest.skip("PostgreSQL is not installed; scripts/system-deps.sh installs it")
    server = PostgresServer().start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    """A migrated store on a fresh SQLite file, then on a fresh PostgreSQL database."""
    from calmline.monitor.store import Store

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'calmline.db'}"
    else:
        url = request.getfixturevalue("postgres").create_database(f"t_{uuid.uuid4().hex[:10]}")
    s = Store(url, tmp_path / "audio")
    s.migrate()
    yield s
    s.close()


# ---------------------------------------------------------------------------- headless Chromium


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless, for the module (skips when it is not installed)."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is absent (scripts/system-deps.sh installs Debian's chromium)")
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        # launch() starts Chromium on a fresh temporary profile, removed when it closes
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def signed_in_page(browser, base_url: str, key: str, errors: list[str]) -> tuple[Any, Any]:
    """(context, page): a fresh desktop context signed in with ``key`` on the server at
    ``base_url``, the page's uncaught script errors appended to ``errors``; the caller closes
    the context."""
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{base_url}/signin")
    page.fill("#key", key)
    page.click("#signin-form button[type=submit]")
    page.wait_for_selector("[data-testid=whoami]")
    return context, page


@pytest.fixture
def open_page(browser) -> Iterator[Callable[..., Any]]:
    """open_page(locale=None, viewport=DESKTOP) -> a signed-out page in a fresh context (its own
    cookies and sessionStorage; ``locale`` None: the browser's own); script errors fail."""
    contexts, errors = [], []

    def make(locale: str | None = None, viewport: dict[str, int] = DESKTOP):
        context = browser.new_context(viewport=viewport, locale=locale)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(20_000)
        page.on("pageerror", lambda e: errors.append(str(e)))
        return page

    yield make
    for context in contexts:
        context.close()
    assert not errors, f"uncaught script errors in the page: {errors}"
