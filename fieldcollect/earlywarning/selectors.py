"""Reads for the early-warning pages and for other apps' dashboards.

:func:`model_cards` is the stable entry point for dashboards (``fieldcollect.reports``): one plain
dictionary per registered purpose with the champion's accuracy (AUC, KS, Brier), its training-data
fingerprint and its drift (score PSI of each nightly list).
"""

from __future__ import annotations

import json
import math
from datetime import date
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db.models import QuerySet

from fieldcollect.earlywarning import engine
from fieldcollect.earlywarning.models import Reminder, StrategyRun, WarningEntry, WarningList
from fieldcollect.home import home_dir
from fieldcollect.scoring.registry import ModelArtefact, RegistryError
from fieldcollect.scoring.stability import MODERATE_THRESHOLD, SIGNIFICANT_THRESHOLD, stability_status

BANDS = {"high": 0.2, "medium": 0.05}  # probability at least: high ≥ 0.2, medium ≥ 0.05, else low


def _num(value: Any) -> float | None:
    if value is None:
        return None
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def _purposes() -> list[str]:
    root = engine.registry_root()
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))


def drift_history(purpose: str = engine.PURPOSE, *, limit: int = 90) -> list[dict[str, Any]]:
    """Score PSI of the nightly lists (oldest first), with the model version that scored them."""
    if purpose != engine.PURPOSE:
        return []
    rows = (WarningList.objects.filter(purpose=purpose).order_by("-as_of", "-id")
            .values("as_of", "model_version", "score_psi", "scored_loans", "mean_probability")[:limit])
    out = []
    for r in reversed(list(rows)):
        psi = _num(r["score_psi"])
        out.append({"as_of": r["as_of"].isoformat(), "model_version": r["model_version"], "score_psi": psi,
                    "status": stability_status(psi) if psi is not None else "", "scored_loans": r["scored_loans"],
                    "mean_probability": r["mean_probability"]})
    return out


def _card(artefact: ModelArtefact, *, champion: bool) -> dict[str, Any]:
    m = artefact.metrics
    man = artefact.manifest
    return {
        "purpose": artefact.purpose,
        "version": artefact.version,
        "champion": champion,
        "kind": artefact.kind,
        "created_at": artefact.created_at,
        "trained_as_of": man.get("trained_as_of", ""),
        "label": man.get("label", ""),
        "auc": _num(m.get("auc")),
        "gini": _num(m.get("gini")),
        "ks": _num(m.get("ks")),
        "brier": _num(m.get("brier")),
        "log_loss": _num(m.get("log_loss")),
        "n_validated": m.get("n_validated"),
        "positive_rate": _num(m.get("positive_rate")),
        "validation": m.get("validation", ""),
        "calibration_curve": m.get("calibration_curve", []),
        "cv_auc_by_candidate": m.get("cv_auc_by_candidate", {}),
        "training_sha256": artefact.training_sha256,
        "model_sha256": artefact.model_sha256,
        "features": list(artefact.features),
        "feature_kinds": man.get("feature_kinds", {}),
        "feature_labels": man.get("feature_labels", {}),
        "rows": man.get("rows"),
        "positives": man.get("positives"),
        "snapshots": man.get("snapshots", []),
        "libraries": man.get("libraries", {}),
        "timings": man.get("timings", {}),
    }


def model_cards() -> list[dict[str, Any]]:
    """One card per purpose in the registry: the champion's metrics, fingerprint and drift.

    Keys: purpose, version, champion, kind, created_at, trained_as_of, auc, gini, ks, brier, log_loss,
    n_validated, positive_rate, calibration_curve, training_sha256, model_sha256, features, versions
    (all versions, newest first: version, created_at, auc, ks, brier, champion), drift (score PSI per
    nightly list, oldest first), latest_psi, latest_psi_status. Purposes without a champion are left out.
    """
    reg = engine.registry()
    cards = []
    for purpose in _purposes():
        try:
            champ = reg.champion(purpose)
            versions = reg.versions(purpose)
        except RegistryError:
            continue
        card = _card(champ, champion=True)
        card["versions"] = [{"version": v.version, "created_at": v.created_at, "kind": v.kind,
                             "auc": _num(v.metrics.get("auc")), "ks": _num(v.metrics.get("ks")),
                             "brier": _num(v.metrics.get("brier")), "champion": v.version == champ.version}
                            for v in reversed(versions)]
        drift = drift_history(purpose)
        card["drift"] = drift
        last = next((d for d in reversed(drift) if d["score_psi"] is not None), None)
        card["latest_psi"] = last["score_psi"] if last else None
        card["latest_psi_status"] = last["status"] if last else ""
        cards.append(card)
    return cards


def model_card(purpose: str, version: str | None = None) -> dict[str, Any] | None:
    """Full card of one version (the champion when ``version`` is None), or None."""
    reg = engine.registry()
    try:
        champ_version = reg.champion_version(purpose)
        chosen = version or champ_version
        if chosen is None:
            return None
        artefact = next((v for v in reg.versions(purpose) if v.version == chosen), None)
    except RegistryError:
        return None
    if artefact is None:
        return None
    card = _card(artefact, champion=artefact.version == champ_version)
    card["drift"] = drift_history(purpose)
    latest = WarningList.objects.filter(purpose=purpose).order_by("-as_of", "-id").first()
    stab = (latest.summary or {}).get("stability", {}) if latest else {}
    chars = sorted(stab.get("characteristics", []), key=lambda c: -(c.get("csi") or 0))
    card["characteristics"] = chars
    card["stability_as_of"] = latest.as_of.isoformat() if latest else ""
    card["thresholds"] = {"moderate": MODERATE_THRESHOLD, "significant": SIGNIFICANT_THRESHOLD}
    return card


def latest_list(as_of: date | None = None) -> WarningList | None:
    qs = WarningList.objects.filter(purpose=engine.PURPOSE)
    if as_of is not None:
        qs = qs.filter(as_of=as_of)
    return qs.order_by("-as_of", "-id").first()


def band_of(probability: float) -> str:
    if probability >= BANDS["high"]:
        return "high"
    if probability >= BANDS["medium"]:
        return "medium"
    return "low"


def list_entries(warning_list: WarningList, *, city: str = "", bucket: str = "", band: str = "") -> QuerySet[WarningEntry]:
    qs = warning_list.entries.all()
    if city:
        qs = qs.filter(city=city)
    if bucket:
        qs = qs.filter(bucket=bucket)
    if band == "high":
        qs = qs.filter(probability__gte=BANDS["high"])
    elif band == "medium":
        qs = qs.filter(probability__gte=BANDS["medium"], probability__lt=BANDS["high"])
    elif band == "low":
        qs = qs.filter(probability__lt=BANDS["medium"])
    return qs.order_by("rank")


def list_filters(warning_list: WarningList) -> dict[str, list[str]]:
    entries = warning_list.entries.all()
    return {"cities": sorted({c for c in entries.values_list("city", flat=True) if c}),
            "buckets": sorted(set(entries.values_list("bucket", flat=True)))}


def reminder_counts(warning_list: WarningList) -> dict[str, int]:
    loans = list(warning_list.entries.values_list("loan_id", flat=True))
    counts = {s.value: 0 for s in Reminder.Status}
    for status in Reminder.objects.filter(loan_id__in=loans).values_list("status", flat=True):
        counts[status] = counts.get(status, 0) + 1
    return counts


# ------------------------------------------------------------------------------------ experiments
def experiment_sources() -> list[Path]:
    """Result files of champion/challenger experiments: ``$FIELDCOLLECT_HOME/experiments/*.json``,
    then the strategy benchmark of the repository (``bench/results/strategy.json``)."""
    files = sorted((home_dir() / "experiments").glob("*.json")) if (home_dir() / "experiments").is_dir() else []
    bench = Path(getattr(settings, "BASE_DIR", Path.cwd())) / "bench" / "results" / "strategy.json"
    if bench.is_file():
        files.append(bench)
    return files


def experiment_results() -> list[dict[str, Any]]:
    """Each experiment: its design and, per challenger, the uplift over the champion with its CI."""
    out = []
    for path in experiment_sources():
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        strategies = data.get("strategies")
        if not isinstance(strategies, dict) or "champion" not in strategies:
            continue
        champion = strategies["champion"]
        arms = []
        for name, s in strategies.items():
            if name == "champion" or not isinstance(s, dict) or "net_uplift" not in s:
                continue
            up = s["net_uplift"]
            comp = s.get("complaint_delta_per_1000") or {}
            arms.append({
                "name": name,
                "net_recovery_cny": _num(s.get("net_recovery_cny_mean")),
                "complaints_per_1000": _num(s.get("complaints_per_1000_customers_mean")),
                "uplift_cny": _num(up.get("uplift")), "ci_low": _num(up.get("ci_low")),
                "ci_high": _num(up.get("ci_high")), "level": _num(up.get("level")), "method": up.get("method", ""),
                "n": up.get("n_treatment"),
                "relative": (_num(up.get("uplift")) or 0.0) / champion["net_recovery_cny_mean"]
                if champion.get("net_recovery_cny_mean") else None,
                "complaint_delta": _num(comp.get("uplift")), "complaint_ci_low": _num(comp.get("ci_low")),
                "complaint_ci_high": _num(comp.get("ci_high")),
                "significant": (_num(up.get("ci_low")) or 0) > 0 or (_num(up.get("ci_high")) or 0) < 0,
                "target_met": s.get("target_met"),
            })
        ab_rows = []
        ab = data.get("ab_experiment") if isinstance(data.get("ab_experiment"), dict) else {}
        for metric in ("net_fen", "paid", "complaints"):
            for method, est in (ab.get(metric) or {}).items():
                if isinstance(est, dict) and "uplift" in est:
                    scale = 0.01 if metric == "net_fen" else 1.0  # net recovery per customer in CNY
                    ab_rows.append({"metric": metric, "method": method, "n_control": est.get("n_control"),
                                    "n_treatment": est.get("n_treatment"),
                                    "mean_control": (_num(est.get("mean_control")) or 0.0) * scale,
                                    "mean_treatment": (_num(est.get("mean_treatment")) or 0.0) * scale,
                                    "uplift": (_num(est.get("uplift")) or 0.0) * scale,
                                    "ci_low": (_num(est.get("ci_low")) or 0.0) * scale,
                                    "ci_high": (_num(est.get("ci_high")) or 0.0) * scale,
                                    "p_value": _num(est.get("p_value")),
                                    "significant": (_num(est.get("ci_low")) or 0) > 0 or (_num(est.get("ci_high")) or 0) < 0})
        out.append({"name": path.stem, "source": str(path), "design": data.get("design", {}),
                    "ab": ab_rows, "ab_customers": ab.get("customers"), "ab_shares": ab.get("shares", {}),
                    "champion": {"net_recovery_cny": _num(champion.get("net_recovery_cny_mean")),
                                 "complaints_per_1000": _num(champion.get("complaints_per_1000_customers_mean"))},
                    "arms": arms})
    return out


def latest_strategy_run() -> StrategyRun | None:
    return StrategyRun.objects.order_by("-created_at", "-id").first()


def loan_entries(loan_id: int, *, limit: int = 30) -> list[WarningEntry]:
    """The loan's places on the nightly lists, newest first."""
    return list(WarningEntry.objects.filter(loan_id=loan_id).select_related("warning_list")
                .order_by("-warning_list__as_of", "-warning_list_id")[:limit])


def loan_reminders(loan_id: int) -> list[Reminder]:
    return list(Reminder.objects.filter(loan_id=loan_id).select_related("message").order_by("-due_on"))
