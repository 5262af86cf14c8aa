from __future__ import annotations

import numpy as np
import pandas as pd

from fieldcollect.scoring.reasons import english_label


def test_reasons_name_real_features_and_direction(fitted, frame_and_target) -> None:
    X, _ = frame_and_target
    row = pd.DataFrame({"balance": [4000.0], "income": [40_000.0], "region": ["south"], "channel": ["app"]})
    reasons = fitted.reasons(row, top=3)[0]
    assert reasons, "a high-balance row must have reasons"
    first = reasons[0]
    assert first.feature == "balance" and first.state == "high"
    assert first.text_en == "balance is high" and first.text_zh == "余额较高"
    assert first.contribution > 0
    assert all(r.feature in X.columns for r in reasons)


def test_category_reason_names_the_category(fitted) -> None:
    row = pd.DataFrame({"balance": [200.0], "income": [40_000.0], "region": ["north"], "channel": ["app"]})
    texts = [r.text_en for r in fitted.reasons(row, top=3)[0]]
    assert "region is 'north'" in texts


def test_batch_reason_strings_match_row_reasons(fitted, frame_and_target) -> None:
    X, _ = frame_and_target
    sample = X.head(40)
    p, strings = fitted.score_with_reasons(sample, top=2, lang="en")
    assert np.allclose(p, fitted.predict_proba(sample)[:, 1])
    rows = fitted.reasons(sample, top=2)
    for text, row in zip(strings, rows, strict=True):
        assert text == "; ".join(r.text_en for r in row)
    _, both = fitted.score_with_reasons(sample.head(5), lang="both")
    assert all(" / " in s for s in both if s)


def test_english_label() -> None:
    assert english_label("credit_amount") == "credit amount"
    assert english_label("monthlyIncome") == "monthly Income"
