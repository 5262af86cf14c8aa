"""Model artefacts on disk and a registry of versions with one champion per purpose.

An artefact is a folder::

    model.joblib     the fitted estimator (joblib pickle: load only artefacts you trust)
    manifest.json    purpose, version, created_at, kind, features, SHA-256 of the training data and of model.joblib
    metrics.json     validation metrics (AUC, Gini, KS, Brier, calibration curve, per-candidate CV AUC)

A registry is a folder ``<root>/<purpose>/v0001/``, ``v0002/`` ... plus ``<root>/<purpose>/champion.json``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

FORMAT_VERSION = 1
MODEL_FILE = "model.joblib"
MANIFEST_FILE = "manifest.json"
METRICS_FILE = "metrics.json"
CHAMPION_FILE = "champion.json"
_PURPOSE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class RegistryError(Exception):
    """Artefact missing, tampered with, or registry misuse."""


def sha256_file(path: Path | str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fingerprint_frame(frame: pd.DataFrame) -> str:
    """SHA-256 of a frame's column names, dtypes and values (row order matters, index does not)."""
    digest = hashlib.sha256()
    digest.update(json.dumps([[str(c), str(t)] for c, t in frame.dtypes.items()]).encode())
    digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return digest.hexdigest()


@dataclass(frozen=True)
class ModelArtefact:
    """What a saved model is: read from its manifest."""

    path: Path
    purpose: str
    version: str
    created_at: str
    kind: str
    features: tuple[str, ...]
    training_sha256: str
    model_sha256: str
    metrics: dict[str, Any]
    manifest: dict[str, Any]


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if hasattr(value, "item") and callable(value.item):
        return value.item()
    if isinstance(value, float) and value != value:
        return None
    return value


def save_artefact(
    model: Any,
    directory: Path | str,
    *,
    purpose: str = "default",
    version: str = "v0001",
    training_data: pd.DataFrame | None = None,
    training_sha256: str | None = None,
    extra: dict[str, Any] | None = None,
) -> ModelArtefact:
    """Write a fitted :class:`~fieldcollect.scoring.RiskModel` into ``directory`` (created or replaced).

    The training-data fingerprint is ``training_sha256`` when given (e.g. the CSV file's SHA-256),
    else computed from ``training_data``.
    """
    import joblib

    if not hasattr(model, "learners_"):
        raise RegistryError("the model is not fitted")
    if training_sha256 is None:
        if training_data is None:
            raise RegistryError("give training_data or training_sha256 for the fingerprint")
        training_sha256 = fingerprint_frame(training_data)
    target = Path(directory)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        joblib.dump(model, staging / MODEL_FILE, compress=3)
        pre = model.preprocessor_
        metrics = _jsonable({**model.metrics_, "cv_auc_by_candidate": model.cv_auc_, "selected": model.selected_,
                             "validation": model.validation_})
        manifest = _jsonable(
            {
                "format_version": FORMAT_VERSION,
                "purpose": purpose,
                "version": version,
                "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "kind": model.selected_,
                "estimator": type(model).__name__,
                "params": {k: v for k, v in model.get_params().items() if k != "feature_labels"},
                "features": list(pre.features_),
                "feature_kinds": dict(zip(pre.features_, pre.kinds_, strict=True)),
                "dropped_columns": dict(pre.dropped_),
                "input_columns": [str(c) for c in pre.feature_names_in_],
                "training_data": {"sha256": training_sha256},
                "model_sha256": sha256_file(staging / MODEL_FILE),
                "libraries": _library_versions(),
                **(extra or {}),
            }
        )
        (staging / METRICS_FILE).write_text(json.dumps(metrics, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        (staging / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return read_artefact(target)


def _library_versions() -> dict[str, str]:
    import lightgbm
    import optbinning
    import sklearn

    return {"scikit-learn": sklearn.__version__, "lightgbm": lightgbm.__version__, "optbinning": optbinning.__version__}


def read_artefact(directory: Path | str) -> ModelArtefact:
    """Read an artefact's manifest and metrics (not the model)."""
    path = Path(directory)
    manifest_file = path / MANIFEST_FILE
    if not manifest_file.is_file() or not (path / MODEL_FILE).is_file():
        raise RegistryError(f"{path} is not a model folder (needs {MANIFEST_FILE} and {MODEL_FILE})")
    manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
    metrics_file = path / METRICS_FILE
    metrics = json.loads(metrics_file.read_text(encoding="utf-8")) if metrics_file.is_file() else {}
    return ModelArtefact(
        path=path,
        purpose=str(manifest["purpose"]),
        version=str(manifest["version"]),
        created_at=str(manifest["created_at"]),
        kind=str(manifest["kind"]),
        features=tuple(manifest["features"]),
        training_sha256=str(manifest["training_data"]["sha256"]),
        model_sha256=str(manifest["model_sha256"]),
        metrics=metrics,
        manifest=manifest,
    )


def load_artefact(directory: Path | str, *, verify: bool = True) -> tuple[Any, ModelArtefact]:
    """Load the model of an artefact folder; with ``verify`` its SHA-256 must match the manifest."""
    import joblib

    artefact = read_artefact(directory)
    model_file = artefact.path / MODEL_FILE
    if verify and sha256_file(model_file) != artefact.model_sha256:
        raise RegistryError(f"{model_file} does not match the SHA-256 in its manifest")
    return joblib.load(model_file), artefact


class ModelRegistry:
    """Versioned artefacts per purpose under ``root``; one champion per purpose."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    def _purpose_dir(self, purpose: str) -> Path:
        if not _PURPOSE_RE.match(purpose):
            raise RegistryError(f"invalid purpose name {purpose!r} (letters, digits, . _ -)")
        return self.root / purpose

    def versions(self, purpose: str) -> list[ModelArtefact]:
        folder = self._purpose_dir(purpose)
        if not folder.is_dir():
            return []
        names = sorted(p.name for p in folder.iterdir() if p.is_dir() and re.fullmatch(r"v\d{4,}", p.name))
        return [read_artefact(folder / name) for name in names]

    def register(
        self,
        model: Any,
        *,
        purpose: str,
        training_data: pd.DataFrame | None = None,
        training_sha256: str | None = None,
        extra: dict[str, Any] | None = None,
        make_champion: bool | None = None,
    ) -> ModelArtefact:
        """Save ``model`` as the next version of ``purpose``. It becomes champion if it is the first
        version or ``make_champion`` is true."""
        folder = self._purpose_dir(purpose)
        existing = self.versions(purpose)
        number = int(existing[-1].version[1:]) + 1 if existing else 1
        version = f"v{number:04d}"
        artefact = save_artefact(
            model,
            folder / version,
            purpose=purpose,
            version=version,
            training_data=training_data,
            training_sha256=training_sha256,
            extra=extra,
        )
        if make_champion or (make_champion is None and self.champion_version(purpose) is None):
            self.set_champion(purpose, version)
        return artefact

    def champion_version(self, purpose: str) -> str | None:
        file = self._purpose_dir(purpose) / CHAMPION_FILE
        if not file.is_file():
            return None
        return str(json.loads(file.read_text(encoding="utf-8"))["version"])

    def set_champion(self, purpose: str, version: str) -> None:
        folder = self._purpose_dir(purpose)
        if not (folder / version / MANIFEST_FILE).is_file():
            raise RegistryError(f"no version {version!r} for purpose {purpose!r}")
        payload = {"version": version, "set_at": datetime.now(UTC).isoformat(timespec="seconds")}
        tmp = folder / f".{CHAMPION_FILE}.tmp"
        tmp.write_text(json.dumps(payload) + "\n", encoding="utf-8")
        os.replace(tmp, folder / CHAMPION_FILE)

    def champion(self, purpose: str) -> ModelArtefact:
        version = self.champion_version(purpose)
        if version is None:
            raise RegistryError(f"no champion for purpose {purpose!r}")
        return read_artefact(self._purpose_dir(purpose) / version)

    def load(self, purpose: str, version: str | None = None) -> tuple[Any, ModelArtefact]:
        """Load a version of ``purpose`` (the champion when ``version`` is None)."""
        chosen = version or self.champion(purpose).version
        return load_artefact(self._purpose_dir(purpose) / chosen)
