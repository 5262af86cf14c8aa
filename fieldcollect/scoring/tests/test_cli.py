from __future__ import annotations

import polars as pl
import pytest
from typer.testing import CliRunner

from fieldcollect.scoring.cli import app
from fieldcollect.scoring.tests.conftest import CREDIT_DATA

GERMAN = CREDIT_DATA / "germancredit.csv"
runner = CliRunner()


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> str:
    out = tmp_path_factory.mktemp("model") / "german"
    result = runner.invoke(
        app,
        ["train", "--data", str(GERMAN), "--target", "creditability", "--positive", "bad", "--out", str(out),
         "--kind", "gbm", "--folds", "3"],
    )
    assert result.exit_code == 0, result.output
    return str(out)


def test_train_then_score_keeps_every_row_in_order(trained, tmp_path) -> None:
    scored = tmp_path / "scored.csv"
    result = runner.invoke(app, ["score", "--model", trained, "--data", str(GERMAN), "--out", str(scored)])
    assert result.exit_code == 0, result.output
    original = pl.read_csv(GERMAN, infer_schema=False)
    output = pl.read_csv(scored, infer_schema=False)
    assert output.columns == [*original.columns, "score", "reasons"]
    assert output.drop(["score", "reasons"]).equals(original)
    score = output.get_column("score").cast(pl.Float64).to_numpy()
    assert score.min() > 0 and score.max() < 1
    bad = (original.get_column("creditability") == "bad").to_numpy()
    assert score[bad].mean() > score[~bad].mean() + 0.1
    reasons = output.get_column("reasons").fill_null("").to_list()
    assert sum(1 for r in reasons if r) > 0.9 * len(reasons)
    assert any("支票账户状态" in r for r in reasons) and any("checking account" in r for r in reasons)


def test_score_without_target_and_with_unseen_values(trained, tmp_path) -> None:
    data = pl.read_csv(GERMAN, infer_schema=False).head(30).drop("creditability")
    data = data.with_columns(
        pl.when(pl.int_range(pl.len()) == 0).then(pl.lit("spaceship")).otherwise(pl.col("purpose")).alias("purpose"),
        pl.when(pl.int_range(pl.len()) == 1).then(None).otherwise(pl.col("credit_amount")).alias("credit_amount"),
    )
    src, dst = tmp_path / "new.csv", tmp_path / "new_scored.csv"
    data.write_csv(src)
    result = runner.invoke(app, ["score", "--model", trained, "--data", str(src), "--out", str(dst), "--lang", "en"])
    assert result.exit_code == 0, result.output
    output = pl.read_csv(dst, infer_schema=False)
    assert output.height == 30 and output.get_column("score").null_count() == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--target", "nope", "--positive", "bad"], "target column"),
        (["--target", "creditability", "--positive", "terrible"], "positive value"),
    ],
)
def test_train_errors_exit_2(args, message, tmp_path) -> None:
    result = runner.invoke(app, ["train", "--data", str(GERMAN), "--out", str(tmp_path / "m"), *args])
    assert result.exit_code == 2
    assert message in result.output


def test_unreadable_files_exit_2(trained, tmp_path) -> None:
    result = runner.invoke(
        app, ["train", "--data", str(tmp_path / "missing.csv"), "--target", "y", "--positive", "1", "--out", str(tmp_path)]
    )
    assert result.exit_code == 2 and "not found" in result.output
    result = runner.invoke(app, ["score", "--model", str(tmp_path), "--data", str(GERMAN), "--out", str(tmp_path / "o.csv")])
    assert result.exit_code == 2 and "cannot load model" in result.output
