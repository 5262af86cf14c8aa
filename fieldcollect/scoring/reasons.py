"""Reason codes: the features that raised a row's score most, as plain phrases in zh-Hans and English.

A reason names the real input column (or its label) and what its value is: high, low, typical or
missing for a number (compared with the training median); the category itself for text.
Phrases are pre-built per (feature, state) so that rendering a million rows is array indexing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from fieldcollect.scoring.preprocessing import NUMERIC, TabularPreprocessor

LANGS = ("en", "zh", "both")

# Chinese labels of column names seen often in credit data; unknown columns keep their own name.
GLOSSARY_ZH: dict[str, str] = {
    "balance": "余额",
    "income": "收入",
    "student": "学生身份",
    "age": "年龄",
    "age_in_years": "年龄",
    "limit_bal": "授信额度",
    "bill_amt1": "最近账单金额",
    "education": "教育程度",
    "marriage": "婚姻状况",
    "sex": "性别",
    "credit_amount": "贷款金额",
    "duration_in_month": "贷款期限（月）",
    "duration": "期限",
    "purpose": "贷款用途",
    "housing": "住房情况",
    "job": "职业",
    "telephone": "电话登记",
    "foreign_worker": "外籍劳工",
    "property": "财产",
    "status_of_existing_checking_account": "支票账户状态",
    "credit_history": "信用记录",
    "savings_account_and_bonds": "储蓄与债券",
    "present_employment_since": "现职年限",
    "installment_rate_in_percentage_of_disposable_income": "月供占可支配收入比例",
    "personal_status_and_sex": "婚姻状况与性别",
    "other_debtors_or_guarantors": "其他债务人或担保人",
    "present_residence_since": "现住址年限",
    "other_installment_plans": "其他分期计划",
    "number_of_existing_credits_at_this_bank": "本行现有贷款笔数",
    "number_of_people_being_liable_to_provide_maintenance_for": "需供养人数",
    "dpd": "逾期天数",
    "days_past_due": "逾期天数",
    "overdue_amount": "逾期金额",
    "principal": "本金",
    "tenure": "账龄",
    "city": "城市",
    "province": "省份",
    "gender": "性别",
    "salary": "工资",
    "debt_ratio": "负债率",
    "utilization": "额度使用率",
}


def english_label(name: str) -> str:
    """Readable English label of a column name: underscores and camel case become spaces."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z][a-z])", " ", name).replace("_", " ").strip()
    return re.sub(r"\s+", " ", spaced)


def chinese_label(name: str) -> str:
    return GLOSSARY_ZH.get(name.strip().lower(), name)


@dataclass(frozen=True)
class Reason:
    """One reason of one row."""

    feature: str
    state: str  # "high", "low", "typical", "missing", "category", "other"
    value: str  # the category, or the number as text
    contribution: float  # log-odds added to this row's score by the feature
    text_en: str
    text_zh: str


class PhraseBook:
    """Every phrase a model can say, indexed by (feature, state)."""

    def __init__(self, *, pre: TabularPreprocessor, labels: Mapping[str, tuple[str, str]] | None = None) -> None:
        labels = dict(labels or {})
        self.pre = pre
        self.en: list[str] = []
        self.zh: list[str] = []
        self.state: list[str] = []
        self.value: list[str] = []
        self.base: list[int] = []
        for j, name in enumerate(pre.features_):
            zh_label, en_label = labels.get(name, (chinese_label(name), english_label(name)))
            self.base.append(len(self.en))
            if pre.kinds_[j] == NUMERIC:
                self._add(f"{en_label} is high", f"{zh_label}较高", "high", "")
                self._add(f"{en_label} is low", f"{zh_label}较低", "low", "")
                self._add(f"{en_label} is typical", f"{zh_label}处于常见水平", "typical", "")
                self._add(f"{en_label} is missing", f"{zh_label}缺失", "missing", "")
            else:
                for cat in pre.categories_[name]:
                    self._add(f"{en_label} is '{cat}'", f"{zh_label}为“{cat}”", "category", cat)
                self._add(f"{en_label} is a rare or new value", f"{zh_label}为少见或新的取值", "other", "")
                self._add(f"{en_label} is missing", f"{zh_label}缺失", "missing", "")
        self.en.append("")
        self.zh.append("")
        self.state.append("")
        self.value.append("")
        self.both = [f"{z} / {e}" if e else "" for z, e in zip(self.zh, self.en, strict=True)]
        self.empty = len(self.en) - 1
        self._base = np.array(self.base, dtype=np.int64)
        self._numeric = np.array([k == NUMERIC for k in pre.kinds_])
        self._n_codes = np.array([0 if k == NUMERIC else pre.n_codes(j) for j, k in enumerate(pre.kinds_)])
        self._median = np.asarray(pre.medians_, dtype=float)

    def _add(self, en: str, zh: str, state: str, value: str) -> None:
        self.en.append(en)
        self.zh.append(zh)
        self.state.append(state)
        self.value.append(value)

    def phrase_ids(self, features: np.ndarray, values: np.ndarray) -> np.ndarray:
        """Phrase id for each (feature index, encoded value) pair; arrays of equal shape."""
        numeric = self._numeric[features]
        missing = np.isnan(values)
        median = self._median[features]
        with np.errstate(invalid="ignore"):
            num_state = np.where(values > median, 0, np.where(values < median, 1, 2))
        num_state = np.where(missing, 3, num_state)
        n_codes = self._n_codes[features]
        code = np.where(missing, n_codes, np.nan_to_num(values)).astype(np.int64)
        cat_state = np.clip(code, 0, n_codes)
        return self._base[features] + np.where(numeric, num_state, cat_state)

    def table(self, lang: str) -> np.ndarray:
        if lang not in LANGS:
            raise ValueError(f"lang must be one of {LANGS}, got {lang!r}")
        source = {"en": self.en, "zh": self.zh, "both": self.both}[lang]
        return np.array(source, dtype=object)


def top_positive(contrib: np.ndarray, *, top: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices and values of the ``top`` largest positive contributions per row (-1 where none)."""
    n, p = contrib.shape
    k = min(top, p)
    if k == 0:
        return np.full((n, 0), -1, dtype=np.int64), np.zeros((n, 0))
    part = np.argpartition(-contrib, k - 1, axis=1)[:, :k] if k < p else np.tile(np.arange(p), (n, 1))
    vals = np.take_along_axis(contrib, part, axis=1)
    order = np.argsort(-vals, axis=1, kind="stable")
    idx = np.take_along_axis(part, order, axis=1).astype(np.int64)
    vals = np.take_along_axis(vals, order, axis=1)
    idx[vals <= 1e-9] = -1
    return idx, vals


def render(book: PhraseBook, Z: np.ndarray, idx: np.ndarray, *, lang: str, sep: str = "; ") -> np.ndarray:
    """One string per row joining its reason phrases."""
    table = book.table(lang)
    n = len(Z)
    out = np.full(n, "", dtype=object)
    rows = np.arange(n)
    for slot in range(idx.shape[1]):
        feat = idx[:, slot]
        valid = feat >= 0
        safe = np.where(valid, feat, 0)
        ids = np.where(valid, book.phrase_ids(safe, Z[rows, safe]), book.empty)
        text = table[ids]
        if slot == 0:
            out = text.copy()
        else:
            joined = out + sep + text
            out = np.where(valid, joined, out)
    return out


def reasons_for_rows(
    book: PhraseBook, Z: np.ndarray, idx: np.ndarray, vals: np.ndarray, raw_values: list[list[str]]
) -> list[list[Reason]]:
    rows: list[list[Reason]] = []
    for i in range(len(Z)):
        row: list[Reason] = []
        for slot in range(idx.shape[1]):
            j = int(idx[i, slot])
            if j < 0:
                continue
            pid = int(book.phrase_ids(np.array([j]), np.array([Z[i, j]]))[0])
            row.append(
                Reason(
                    feature=book.pre.features_[j],
                    state=book.state[pid],
                    value=book.value[pid] or raw_values[i][slot],
                    contribution=float(vals[i, slot]),
                    text_en=book.en[pid],
                    text_zh=book.zh[pid],
                )
            )
        rows.append(row)
    return rows
