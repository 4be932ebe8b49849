"""Shared fixtures: real models loaded once per test session, real sample calls."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from calmline.monitor.settings import Settings

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "samples"
SHARED_DATA = REPO.parent / "shared" / "data"


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
