"""The shipped conduct packs' detectors, loaded once a module (the helpers they are tested with are in
:mod:`fieldcollect.analytics.tests.conduct_speech`)."""

from __future__ import annotations

import pytest

from fieldcollect.analytics.conduct import Detector, load_detector


@pytest.fixture(scope="module")
def cn() -> Detector:
    return load_detector("CN")


@pytest.fixture(scope="module")
def us() -> Detector:
    return load_detector("US")


@pytest.fixture(scope="module")
def pack_of(cn: Detector, us: Detector) -> dict[str, Detector]:
    """The pack a language's speech is tested against: CN for Chinese, US for English."""
    return {"zh": cn, "en": us}
