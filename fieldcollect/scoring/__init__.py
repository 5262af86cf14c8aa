"""Risk models with the scikit-learn contract: LightGBM, WOE scorecard, calibration, reason codes,
stability (PSI/CSI) and a versioned model registry. Pure library: no Django."""

from fieldcollect.scoring.io import DataError, read_raw, read_table, target_vector, typed_frame
from fieldcollect.scoring.model import Explanation, RiskModel, time_splits
from fieldcollect.scoring.preprocessing import TabularPreprocessor
from fieldcollect.scoring.reasons import Reason
from fieldcollect.scoring.registry import (
    ModelArtefact,
    ModelRegistry,
    fingerprint_frame,
    load_artefact,
    save_artefact,
)
from fieldcollect.scoring.stability import (
    CharacteristicStability,
    StabilityReport,
    psi,
    psi_from_shares,
    stability_status,
)

__all__ = [
    "CharacteristicStability",
    "DataError",
    "Explanation",
    "ModelArtefact",
    "ModelRegistry",
    "Reason",
    "RiskModel",
    "StabilityReport",
    "TabularPreprocessor",
    "fingerprint_frame",
    "load_artefact",
    "psi",
    "psi_from_shares",
    "read_raw",
    "read_table",
    "save_artefact",
    "stability_status",
    "target_vector",
    "time_splits",
    "typed_frame",
]
