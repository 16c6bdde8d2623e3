"""Shared test settings: hypothesis profiles and the gpu / data markers.

Profiles: ``ci`` (default: derandomized, modest example counts) and
``thorough`` (``HYPOTHESIS_PROFILE=thorough``).
"""
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("ci", derandomize=True, max_examples=25, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", max_examples=400, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("GANPHASE_TEST_DATA", ROOT.parent / "shared" / "data"))


def pytest_collection_modifyitems(config, items):
    import torch

    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs CUDA, which this machine does not have")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def shared_data():
    """Folder of the real datasets (../shared/data); tests skip where a file is absent."""
    return SHARED_DATA


def need_data_file(name: str) -> Path:
    path = SHARED_DATA / name
    if not path.exists():
        pytest.skip(f"{path} is absent: put the dataset there (or set GANPHASE_TEST_DATA) to run this test")
    return path
