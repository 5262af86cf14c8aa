from __future__ import annotations

import json

import numpy as np
import pytest

from fieldcollect.scoring import ModelRegistry, fingerprint_frame, load_artefact, save_artefact
from fieldcollect.scoring.registry import RegistryError


def test_artefact_round_trip_gives_identical_scores(tmp_path, fitted, frame_and_target) -> None:
    X, _ = frame_and_target
    artefact = save_artefact(fitted, tmp_path / "m", training_data=X)
    loaded, meta = load_artefact(tmp_path / "m")
    assert np.array_equal(loaded.predict_proba(X), fitted.predict_proba(X))
    assert meta.features == tuple(fitted.preprocessor_.features_)
    assert meta.training_sha256 == fingerprint_frame(X) and len(meta.training_sha256) == 64
    assert meta.kind == fitted.selected_ and artefact.created_at
    metrics = json.loads((tmp_path / "m" / "metrics.json").read_text())
    assert 0.5 < metrics["auc"] <= 1.0


def test_tampered_model_file_is_refused(tmp_path, fitted, frame_and_target) -> None:
    X, _ = frame_and_target
    save_artefact(fitted, tmp_path / "m", training_data=X)
    with open(tmp_path / "m" / "model.joblib", "ab") as fh:
        fh.write(b"x")
    with pytest.raises(RegistryError, match="SHA-256"):
        load_artefact(tmp_path / "m")


def test_fingerprint_changes_with_data(frame_and_target) -> None:
    X, _ = frame_and_target
    changed = X.copy()
    changed.loc[0, "balance"] += 1
    assert fingerprint_frame(X) == fingerprint_frame(X.copy())
    assert fingerprint_frame(X) != fingerprint_frame(changed)


def test_registry_versions_and_champion(tmp_path, fitted, frame_and_target) -> None:
    X, _ = frame_and_target
    registry = ModelRegistry(tmp_path)
    first = registry.register(fitted, purpose="early-warning", training_data=X)
    second = registry.register(fitted, purpose="early-warning", training_data=X)
    assert (first.version, second.version) == ("v0001", "v0002")
    assert registry.champion("early-warning").version == "v0001"
    registry.set_champion("early-warning", "v0002")
    model, meta = registry.load("early-warning")
    assert meta.version == "v0002"
    assert np.array_equal(model.predict_proba(X.head(20)), fitted.predict_proba(X.head(20)))
    assert [a.version for a in registry.versions("early-warning")] == ["v0001", "v0002"]
    with pytest.raises(RegistryError):
        registry.set_champion("early-warning", "v0009")
    with pytest.raises(RegistryError):
        registry.champion("propensity")
    with pytest.raises(RegistryError):
        registry.register(fitted, purpose="../escape", training_data=X)
