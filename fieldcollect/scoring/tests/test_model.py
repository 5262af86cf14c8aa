from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.metrics import roc_auc_score

from fieldcollect.scoring import RiskModel, time_splits
from fieldcollect.scoring.tests.conftest import make_frame


def test_sklearn_contract_clone_and_params() -> None:
    model = RiskModel(kind="gbm", n_splits=3, random_state=7, exclude=("id",))
    params = model.get_params()
    assert params["kind"] == "gbm" and params["n_splits"] == 3 and params["exclude"] == ("id",)
    twin = clone(model)
    assert twin is not model and twin.get_params() == params
    twin.set_params(kind="scorecard")
    assert twin.kind == "scorecard" and model.kind == "gbm"
    assert not any(name.endswith("_") for name in vars(model))


def test_fit_returns_self_and_learned_attributes_end_with_underscore(frame_and_target) -> None:
    X, y = frame_and_target
    model = RiskModel(kind="scorecard", n_splits=3)
    before = set(vars(model))
    assert model.fit(X, y) is model
    learned = set(vars(model)) - before
    assert learned and all(name.endswith("_") for name in learned)
    assert model.get_params()["kind"] == "scorecard"


def test_invalid_parameters_rejected_at_fit(frame_and_target) -> None:
    X, y = frame_and_target
    with pytest.raises(ValueError, match="kind"):
        RiskModel(kind="forest").fit(X, y)
    with pytest.raises(ValueError, match="both classes"):
        RiskModel().fit(X, np.zeros(len(X)))


def test_auto_model_is_calibrated_and_discriminates(fitted) -> None:
    X, y = make_frame(n=1500, seed=1)  # fresh data from the same process
    p = fitted.predict_proba(X)
    assert p.shape == (len(X), 2) and np.allclose(p.sum(axis=1), 1.0)
    assert roc_auc_score(y, p[:, 1]) > 0.75
    assert abs(p[:, 1].mean() - y.mean()) < 0.05  # calibrated on average
    assert fitted.selected_ in fitted.cv_auc_
    assert fitted.cv_auc_[fitted.selected_] >= max(fitted.cv_auc_.values()) - 0.001
    assert set(fitted.predict(X)) <= {0, 1}


def test_unseen_categories_and_missing_values_are_scored(fitted) -> None:
    X = pd.DataFrame(
        {
            "balance": [3000.0, np.nan, 100.0],
            "income": ["n/a", None, "52000"],  # text in a numeric column
            "region": ["atlantis", None, "north"],  # unseen category, missing
        }
    )  # column "channel" absent altogether
    with pytest.warns(UserWarning, match="channel"):
        p = fitted.predict_proba(X)[:, 1]
    assert np.all(np.isfinite(p)) and np.all((p > 0) & (p < 1))
    assert p[0] > p[2]  # high balance is riskier


def test_numeric_text_and_identifier_columns(frame_and_target) -> None:
    X, y = frame_and_target
    X = X.copy()
    X["balance"] = X["balance"].round(2).astype(str)  # numbers stored as text stay numbers
    X["customer_ref"] = [f"C{i:05d}" for i in range(len(X))]  # identifier: dropped
    model = RiskModel(kind="logit", n_splits=3).fit(X, y)
    pre = model.preprocessor_
    assert pre.kinds_[pre.features_.index("balance")] == "numeric"
    assert "customer_ref" in pre.dropped_ and "customer_ref" not in pre.features_


def test_time_splits_train_on_earlier_validate_on_later() -> None:
    dates = pd.Series(pd.date_range("2024-01-01", periods=400, freq="D")).sample(frac=1.0, random_state=0)
    dates = dates.reset_index(drop=True)
    folds = time_splits(dates, n_splits=4)
    assert len(folds) == 4
    for train, valid in folds:
        assert dates.iloc[train].max() < dates.iloc[valid].min()


def test_time_aware_fit_uses_date_column_only_for_validation(frame_and_target) -> None:
    X, y = frame_and_target
    X = X.assign(opened=pd.date_range("2023-01-01", periods=len(X), freq="D").astype(str))
    model = RiskModel(kind="gbm", date_column="opened", n_splits=3).fit(X, y)
    assert model.validation_ == "time-split"
    assert "opened" not in model.preprocessor_.features_
    assert model.metrics_["n_validated"] < len(X)  # the earliest period is never validated


def test_scorecard_points_follow_the_scale(frame_and_target) -> None:
    X, y = frame_and_target
    model = RiskModel(kind="scorecard", n_splits=3).fit(X, y)
    card = model.learners_[0]
    Z = model.transform_features(X.head(50))
    points = card.points(Z)
    assert np.allclose(points, card.offset - card.factor * card.decision(Z))
    table = model.points_table()
    assert table is not None and {row[0] for row in table} == set(model.preprocessor_.features_)
    # higher balance, fewer points (more risk)
    bal = [row for row in table if row[0] == "balance" and row[1] != "missing"]
    assert bal[0][3] > bal[-1][3]


def test_row_number_column_is_not_a_feature(frame_and_target) -> None:
    X, y = frame_and_target
    X = X.assign(ID=np.arange(1, len(X) + 1), loan_no=np.arange(len(X)) * 7 + 3)
    pre = RiskModel(kind="logit", n_splits=3).fit(X, y).preprocessor_
    assert "ID" in pre.dropped_ and "loan_no" in pre.dropped_
    assert "balance" in pre.features_
