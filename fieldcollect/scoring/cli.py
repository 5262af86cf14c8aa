"""`fieldcollect model ...`: train and score risk models on any tabular CSV file.

Heavy imports (LightGBM, scikit-learn, optbinning) happen inside the commands.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

app = typer.Typer(no_args_is_help=True, help="Train and score models on tabular data.")
err = Console(stderr=True)
out = Console()


def _fail(message: str) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code=2)


@app.command("train")
def train(
    data: Annotated[Path, typer.Option("--data", help="Training data, CSV with a header row")],
    target: Annotated[str, typer.Option("--target", help="Column holding the outcome")],
    positive: Annotated[str, typer.Option("--positive", help="Value of the target that counts as positive (scored)")],
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to write the model artefact to")],
    kind: Annotated[str, typer.Option("--kind", help="auto, gbm, scorecard or logit")] = "auto",
    date_column: Annotated[
        str | None, typer.Option("--date-column", help="Date column for time-aware validation (not a feature)")
    ] = None,
    exclude: Annotated[list[str] | None, typer.Option("--exclude", help="Column never used as a feature (repeatable)")] = None,
    folds: Annotated[int, typer.Option("--folds", help="Validation folds")] = 5,
    seed: Annotated[int, typer.Option("--seed", help="Random seed")] = 0,
    purpose: Annotated[str, typer.Option("--purpose", help="Purpose recorded in the manifest")] = "default",
) -> None:
    """Train a calibrated model with reason codes and write it to --out."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.table import Table

    from fieldcollect.scoring.io import DataError, read_raw, target_vector, typed_frame
    from fieldcollect.scoring.model import KINDS, RiskModel
    from fieldcollect.scoring.registry import save_artefact, sha256_file

    if kind not in KINDS:
        raise _fail(f"--kind must be one of {', '.join(KINDS)}, got {kind!r}")
    if folds < 2:
        raise _fail("--folds must be at least 2")
    try:
        raw = read_raw(data)
    except DataError as exc:
        raise _fail(str(exc)) from exc
    if target not in raw.columns:
        raise _fail(f"target column {target!r} not in {data} (columns: {', '.join(raw.columns)})")
    if date_column and date_column not in raw.columns:
        raise _fail(f"date column {date_column!r} not in {data}")
    for col in exclude or []:
        if col not in raw.columns:
            raise _fail(f"--exclude column {col!r} not in {data}")
    frame = typed_frame(raw)
    if date_column:
        frame[date_column] = raw.get_column(date_column).to_pandas()
    labelled = frame[target].notna()
    dropped = int((~labelled).sum())
    if dropped:
        err.print(f"[yellow]warning:[/] {dropped} rows without a target value are left out of training")
        frame = frame[labelled].reset_index(drop=True)
    try:
        y = target_vector(frame[target], positive=positive)
    except DataError as exc:
        raise _fail(str(exc)) from exc
    X = frame.drop(columns=[target])
    model = RiskModel(
        kind=kind, date_column=date_column, n_splits=folds, exclude=tuple(exclude or ()), random_state=seed
    )
    with Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(), console=err, transient=False,
    ) as bar:
        task = bar.add_task(f"training on {len(X):,} rows", total=None)

        def report(message: str, done: int, total: int) -> None:
            bar.update(task, description=message, completed=done, total=total)

        try:
            model.fit(X, y, progress=report)
        except ValueError as exc:
            raise _fail(str(exc)) from exc
    artefact = save_artefact(
        model,
        out_dir,
        purpose=purpose,
        training_sha256=sha256_file(data),
        extra={"target": target, "positive": positive, "training_rows": len(X), "training_file": data.name},
    )
    table = Table(title=f"Validated ROC-AUC ({model.validation_}, {folds} folds)")
    table.add_column("candidate")
    table.add_column("AUC", justify="right")
    for name, auc in sorted(model.cv_auc_.items(), key=lambda kv: -kv[1]):
        table.add_row(("→ " if name == model.selected_ else "  ") + name, f"{auc:.4f}")
    out.print(table)
    m = model.metrics_
    out.print(
        f"selected [bold]{model.selected_}[/]; held-out AUC {m['auc']:.4f}, KS {m['ks']:.3f}, "
        f"Brier {m['brier']:.4f}, calibration {model.calibrator_['method']}; "
        f"{len(model.preprocessor_.features_)} features"
        + (f", dropped {model.preprocessor_.dropped_}" if model.preprocessor_.dropped_ else ""),
        highlight=False,
    )
    out.print(f"model written to {artefact.path}", highlight=False)


@app.command("score")
def score(
    model_dir: Annotated[Path, typer.Option("--model", help="Model folder written by `model train`")],
    data: Annotated[Path, typer.Option("--data", help="Data to score, CSV with a header row")],
    out_file: Annotated[Path, typer.Option("--out", help="CSV to write: every input row, then score and reasons")],
    top: Annotated[int, typer.Option("--top", help="Reasons per row")] = 3,
    lang: Annotated[str, typer.Option("--lang", help="Reason language: both, en or zh")] = "both",
) -> None:
    """Score every row of --data: probability of the positive class and the top reasons."""
    import polars as pl

    from fieldcollect.scoring.io import DataError, read_raw, typed_frame
    from fieldcollect.scoring.reasons import LANGS
    from fieldcollect.scoring.registry import RegistryError, load_artefact

    if lang not in LANGS:
        raise _fail(f"--lang must be one of {', '.join(LANGS)}")
    if top < 0:
        raise _fail("--top must be 0 or more")
    try:
        model, artefact = load_artefact(model_dir)
    except (RegistryError, OSError, ValueError) as exc:
        raise _fail(f"cannot load model from {model_dir}: {exc}") from exc
    try:
        raw = read_raw(data)
    except DataError as exc:
        raise _fail(str(exc)) from exc
    kinds: dict[str, str] = artefact.manifest.get("feature_kinds", {})
    present = [c for c in kinds if c in raw.columns]
    if not present:
        raise _fail(f"{data} has none of the model's feature columns ({', '.join(kinds)})")
    absent = [c for c in kinds if c not in raw.columns]
    if absent:
        err.print(f"[yellow]warning:[/] columns missing from the data, scored as missing values: {', '.join(absent)}")
    features = typed_frame(raw.select(present), kinds=kinds)
    with err.status(f"scoring {raw.height:,} rows"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            probability, reasons = model.score_with_reasons(features, top=top, lang=lang, n_jobs=2)
    extra: list[Any] = [pl.Series("score", probability, dtype=pl.Float64), pl.Series("reasons", reasons.tolist(), dtype=pl.String)]
    result = raw.drop([c for c in ("score", "reasons") if c in raw.columns]).with_columns(extra)
    try:
        out_file.parent.mkdir(parents=True, exist_ok=True)
        result.write_csv(out_file)
    except OSError as exc:
        raise _fail(f"cannot write {out_file}: {exc}") from exc
    out.print(f"scored {raw.height:,} rows with {artefact.kind} model {artefact.purpose}/{artefact.version} → {out_file}",
              highlight=False)


@app.command("info")
def info(model_dir: Annotated[Path, typer.Option("--model", help="Model folder")]) -> None:
    """Show a model's manifest and validation metrics."""
    import json

    from fieldcollect.scoring.registry import RegistryError, read_artefact

    try:
        artefact = read_artefact(model_dir)
    except (RegistryError, OSError, ValueError) as exc:
        raise _fail(str(exc)) from exc
    summary = {k: v for k, v in artefact.manifest.items() if k not in {"params"}}
    summary["metrics"] = {k: v for k, v in artefact.metrics.items() if k != "calibration_curve"}
    out.print_json(json.dumps(summary, ensure_ascii=False))


@app.command("stability")
def stability(
    model_dir: Annotated[Path, typer.Option("--model", help="Model folder")],
    data: Annotated[Path, typer.Option("--data", help="Current population, CSV")],
) -> None:
    """PSI of the score and CSI of every characteristic against the training population."""
    from rich.table import Table

    from fieldcollect.scoring.io import DataError, read_raw, typed_frame
    from fieldcollect.scoring.registry import RegistryError, load_artefact

    try:
        model, artefact = load_artefact(model_dir)
        raw = read_raw(data)
    except (RegistryError, DataError, OSError, ValueError) as exc:
        raise _fail(str(exc)) from exc
    kinds: dict[str, str] = artefact.manifest.get("feature_kinds", {})
    features = typed_frame(raw.select([c for c in kinds if c in raw.columns]), kinds=kinds)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = model.stability(features)
    table = Table(title=f"Stability of {raw.height:,} rows (<0.10 stable, 0.10–0.25 moderate, ≥0.25 significant)")
    table.add_column("characteristic")
    table.add_column("PSI/CSI", justify="right")
    table.add_column("status")
    table.add_row("[bold]score[/]", f"{report.score_psi:.4f}", report.score_status)
    for c in sorted(report.characteristics, key=lambda c: -c.value):
        table.add_row(c.name, f"{c.value:.4f}", c.status)
    out.print(table)
