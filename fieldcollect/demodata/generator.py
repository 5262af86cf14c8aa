"""A seeded, realistic book of a Chinese consumer lender, written as a core-banking export.

Everything is vectorised with NumPy so that a million loans take seconds. Behaviour is driven by a
latent risk per customer: most loans are paid on or near the due date, some are paid late, some
partly; a share of loans default at some instalment, of which some cure later with a lump sum and
the rest roll forward (occasional partial payments) to 180+ days; a few loans are prepaid in full.

The schedule follows the bank's rules (see ``fieldcollect.plans.schedule``): monthly rate = annual
rate / 12; interest = outstanding × monthly rate rounded half-up to the fen; equal-instalment payment
= P·r·(1+r)^n / ((1+r)^n − 1) rounded half-up; equal-principal principal = P // n; the last instalment
takes the remainder. Due date k = start + k months, clamped to the month's last day.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from fieldcollect.analytics.schemas import AGENCIES, COLLECTORS, CUSTOMERS, INSTALLMENTS, LOANS, PAYMENTS
from fieldcollect.demodata import geo

EPOCH = np.datetime64("1970-01-01", "D")
TERMS = np.array([3, 6, 9, 12, 18, 24, 36], dtype=np.int32)
TERM_WEIGHTS = np.array([0.06, 0.14, 0.06, 0.34, 0.12, 0.18, 0.10])
PRODUCTS = np.array(["cash_loan", "consumer", "renovation", "education", "auto_accessory"])
PRODUCT_WEIGHTS = np.array([0.55, 0.25, 0.10, 0.05, 0.05])
GB11643_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
GB11643_CHECK = np.array(list("10X98765432"))
LOAN_CHUNK = 500_000


@dataclass(frozen=True)
class DemoBook:
    """Sizes of what was written."""

    customers: int
    loans: int
    installments: int
    payments: int
    agencies: int
    collectors: int


def gb11643_check_digit(first17: str) -> str:
    """Check digit of an 18-digit resident identity number (GB 11643-1999)."""
    total = sum(int(c) * int(w) for c, w in zip(first17, GB11643_WEIGHTS, strict=True))
    return str(GB11643_CHECK[total % 11])


def _days(d: date) -> int:
    return (d - date(1970, 1, 1)).days


def add_months_clamped(start_days: np.ndarray, months: np.ndarray | int) -> np.ndarray:
    """Add calendar months to day numbers (days since 1970-01-01), clamping to the month's last day."""
    d64 = start_days.astype("datetime64[D]")
    month0 = d64.astype("datetime64[M]")
    day_of_month = (d64 - month0.astype("datetime64[D]")).astype(np.int64)
    target = month0 + np.asarray(months).astype("timedelta64[M]")
    month_len = ((target + np.timedelta64(1, "M")).astype("datetime64[D]") - target.astype("datetime64[D]")).astype(
        np.int64
    )
    out = target.astype("datetime64[D]") + np.minimum(day_of_month, month_len - 1).astype("timedelta64[D]")
    return (out - EPOCH).astype(np.int32)


def _pick(rng: np.random.Generator, options: np.ndarray, n: int) -> np.ndarray:
    return options[rng.integers(0, len(options), n)]


# resident ID numbers: the birth date (ages 20-60 at 2026) and the three-digit sequence number come from
# one seeded affine permutation of the customer index over every (day, sequence) pair, so no two
# customers share them, and so no two share an ID number whatever their area code
ID_BIRTH_DAYS = 365 * 40
ID_SLOTS = ID_BIRTH_DAYS * 1000


def id_permutation(seed: int) -> tuple[int, int]:
    """``(a, b)`` of the permutation ``k -> (a * k + b) mod ID_SLOTS`` for ``seed`` (``a`` coprime to
    ``ID_SLOTS``, so the map is one-to-one)."""
    rng = np.random.default_rng([seed, 4])
    a = int(rng.integers(ID_SLOTS // 3, 2 * ID_SLOTS // 3))
    while math.gcd(a, ID_SLOTS) != 1:
        a += 1
    return a, int(rng.integers(0, ID_SLOTS))


def _customers(rng: np.random.Generator, n: int, *, first: int = 0, perm: tuple[int, int] = (1, 0)) -> pl.DataFrame:
    """``n`` customers, the first of which is customer number ``first`` (0-based) of the book."""
    weights = np.array([c[2] for c in geo.CITIES])
    city_idx = rng.choice(len(geo.CITIES), size=n, p=weights / weights.sum())
    provinces = np.array([c[0] for c in geo.CITIES])
    cities = np.array([c[1] for c in geo.CITIES])
    # district flat table
    flat = [(ci, d) for ci, c in enumerate(geo.CITIES) for d in c[3]]
    offsets = np.cumsum([0] + [len(c[3]) for c in geo.CITIES])
    counts = np.diff(offsets)
    dist_idx = offsets[city_idx] + (rng.random(n) * counts[city_idx]).astype(np.int64)
    d_names = np.array([f[1][0] for f in flat])
    d_codes = np.array([f[1][1] for f in flat])
    d_lat = np.array([f[1][2] for f in flat])
    d_lon = np.array([f[1][3] for f in flat])
    # about 2 km spread around the district centre
    lat = np.round(d_lat[dist_idx] + rng.normal(0, 0.018, n), 6)
    lon = np.round(d_lon[dist_idx] + rng.normal(0, 0.021, n), 6)

    surnames = np.array(list(geo.SURNAMES))
    given = np.array(list(geo.GIVEN))
    two_char = rng.random(n) < 0.7
    name = np.char.add(np.char.add(_pick(rng, surnames, n), _pick(rng, given, n)),
                       np.where(two_char, _pick(rng, given, n), ""))

    # resident ID: area code + birth date (ages 20-60) + sequence + GB 11643 check digit
    if first + n > ID_SLOTS:
        raise ValueError(f"at most {ID_SLOTS:,} customers have distinct demo ID numbers")
    slot = (perm[0] * np.arange(first, first + n, dtype=np.int64) + perm[1]) % ID_SLOTS
    birth = np.datetime64("1966-01-01") + (slot // 1000).astype("timedelta64[D]")
    birth_str = np.char.replace(np.datetime_as_string(birth, unit="D"), "-", "")
    seq = np.char.zfill((slot % 1000).astype(str), 3)
    first17 = np.char.add(np.char.add(d_codes[dist_idx], birth_str), seq)
    digits = np.frombuffer(first17.astype("S17").tobytes(), dtype=np.uint8).reshape(n, 17).astype(np.int64) - 48
    check = GB11643_CHECK[(digits @ GB11643_WEIGHTS) % 11]
    id_number = np.char.add(first17, check)

    mobile = np.char.add(_pick(rng, np.array(geo.MOBILE_PREFIXES), n),
                         np.char.zfill(rng.integers(0, 100_000_000, n).astype(str), 8))
    road = _pick(rng, np.array(geo.ROADS), n)
    community = _pick(rng, np.array(geo.COMMUNITIES), n)
    address = pl.DataFrame({
        "d": d_names[dist_idx], "r": road, "no": rng.integers(1, 400, n), "c": community,
        "b": rng.integers(1, 30, n), "u": rng.integers(1, 6, n),
        "room": rng.integers(1, 33, n) * 100 + rng.integers(1, 5, n),
    }).select(pl.format("{}{}{}号{}{}栋{}单元{}室", "d", "r", "no", "c", "b", "u", "room")).to_series()
    return pl.DataFrame({
        "customer_id": np.arange(1, n + 1, dtype=np.int64),
        "name": name,
        "id_number": id_number,
        "mobile": mobile,
        "province": provinces[city_idx],
        "city": cities[city_idx],
        "district": d_names[dist_idx],
        "address": address,
        "lat": lat,
        "lon": lon,
    }, schema=CUSTOMERS)


def customer_chunk(*, seed: int, lo: int, hi: int) -> pl.DataFrame:
    """Customers ``lo`` to ``hi - 1`` (0-based) of the book of ``seed``, as written to the export."""
    chunk = _customers(np.random.default_rng([seed, 1, lo]), hi - lo, first=lo, perm=id_permutation(seed))
    return chunk.with_columns(pl.col("customer_id") + lo)


def _loans(rng: np.random.Generator, n_loans: int, n_customers: int, as_of: date) -> tuple[pl.DataFrame, np.ndarray]:
    """Loans and, per loan, a latent risk score (higher = riskier)."""
    # every customer has a loan; the rest are second loans of random customers
    cust = np.concatenate([np.arange(1, n_customers + 1), rng.integers(1, n_customers + 1, n_loans - n_customers)])
    rng.shuffle(cust)
    cust_risk = rng.normal(0.0, 1.0, n_customers + 1)
    term = rng.choice(TERMS, size=n_loans, p=TERM_WEIGHTS)
    # principal 1,000 - 200,000 CNY, log-uniform-ish, rounded to 100 CNY
    principal_cny = np.exp(rng.uniform(np.log(1000), np.log(200_000), n_loans) * 0.6 + rng.normal(np.log(20000), 0.8, n_loans) * 0.4)
    principal_cny = np.clip(np.round(principal_cny / 100) * 100, 1000, 200_000)
    risk = cust_risk[cust] + rng.normal(0, 0.5, n_loans)
    # riskier customers pay more: 7 % - 24 % APR, in basis points
    rate_bp = np.clip(np.round(1450 + 280 * risk + rng.normal(0, 250, n_loans)), 700, 2400).astype(np.int64)
    method = np.where(rng.random(n_loans) < 0.72, "equal_instalment", "equal_principal")
    start = _days(as_of) - 3 * 365
    disbursed = rng.integers(start, _days(as_of), n_loans).astype(np.int32)
    frame = pl.DataFrame({
        "loan_id": np.arange(1, n_loans + 1, dtype=np.int64),
        "customer_id": cust.astype(np.int64),
        "product": rng.choice(PRODUCTS, size=n_loans, p=PRODUCT_WEIGHTS),
        "principal_fen": (principal_cny * 100).astype(np.int64),
        "annual_rate": rate_bp / 10_000,
        "term_months": term.astype(np.int32),
        "method": method,
        "disbursed_on": disbursed,
    }).with_columns(pl.col("disbursed_on").cast(pl.Date)).cast(LOANS)  # type: ignore[arg-type]
    return frame, risk


def schedule_arrays(
    principal_fen: np.ndarray, rate_bp: np.ndarray, term: np.ndarray, equal_instalment: np.ndarray, disbursed: np.ndarray
) -> dict[str, np.ndarray]:
    """Instalment rows for many loans at once (loan index, seq, due day, principal, interest)."""
    n = len(principal_fen)
    r = rate_bp / 120_000.0
    growth = np.power(1.0 + r, term)
    with np.errstate(divide="ignore", invalid="ignore"):
        annuity = np.where(r > 0, principal_fen * r * growth / (growth - 1.0), principal_fen / term)
    payment = np.floor(annuity + 0.5).astype(np.int64)
    flat_principal = principal_fen // term
    outstanding = principal_fen.astype(np.int64).copy()
    max_term = int(term.max()) if n else 0
    rows_idx, rows_seq, rows_due, rows_p, rows_i = [], [], [], [], []
    for k in range(1, max_term + 1):
        active = np.nonzero(term >= k)[0]
        o = outstanding[active]
        interest = (o * rate_bp[active] * 2 + 120_000) // 240_000
        last = term[active] == k
        principal = np.where(equal_instalment[active], payment[active] - interest, flat_principal[active])
        principal = np.where(last, o, np.minimum(principal, o))
        outstanding[active] = o - principal
        rows_idx.append(active)
        rows_seq.append(np.full(len(active), k, dtype=np.int32))
        rows_due.append(add_months_clamped(disbursed[active], k))
        rows_p.append(principal)
        rows_i.append(interest)
    idx = np.concatenate(rows_idx)
    order = np.lexsort((np.concatenate(rows_seq), idx))
    return {
        "idx": idx[order],
        "seq": np.concatenate(rows_seq)[order],
        "due": np.concatenate(rows_due)[order],
        "principal": np.concatenate(rows_p)[order],
        "interest": np.concatenate(rows_i)[order],
    }


def _payments_for_chunk(
    rng: np.random.Generator, sched: dict[str, np.ndarray], risk: np.ndarray, term: np.ndarray, as_of_day: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Payment rows (loan index, paid day, amount) for a chunk of loans, only those paid by ``as_of``."""
    n = len(risk)
    idx, seq, due = sched["idx"], sched["seq"], sched["due"]
    amount = sched["principal"] + sched["interest"]
    # per-loan behaviour
    p_default = 1.0 / (1.0 + np.exp(-(-4.1 + 1.0 * risk)))  # about 3 % of loans default some time
    defaults = rng.random(n) < p_default
    default_seq = np.where(defaults, 1 + (rng.random(n) ** 1.6 * term).astype(np.int32), 10_000)
    cures = defaults & (rng.random(n) < 0.4)
    cure_delay = rng.integers(8, 150, n)
    prepay = (~defaults) & (rng.random(n) < 0.05)
    prepay_seq = np.where(prepay, 1 + (rng.random(n) * term).astype(np.int32), 10_000)
    p_late = np.clip(0.06 + 0.06 * risk, 0.01, 0.35)

    r = rng.random(len(idx))
    loan_default_seq = default_seq[idx]
    # the due date of the first missed instalment, to time cures
    first_missed_due = np.full(n, np.iinfo(np.int32).max, dtype=np.int64)
    missed_mask = seq == loan_default_seq
    first_missed_due[idx[missed_mask]] = due[missed_mask]
    cure_day = np.where(cures, first_missed_due + cure_delay, np.iinfo(np.int32).max)
    row_cure_day = cure_day[idx]

    normal = seq < loan_default_seq
    after_cure = (seq >= loan_default_seq) & (due > row_cure_day)
    in_cure = (seq >= loan_default_seq) & (due <= row_cure_day) & cures[idx]
    missed = (seq >= loan_default_seq) & ~cures[idx]
    regular = (normal | after_cure) & (seq <= prepay_seq[idx])

    # regular payments: mostly on the due date (auto-debit), some early, some late
    late = rng.random(len(idx)) < p_late[idx]
    delay = np.where(late, np.minimum(1 + rng.geometric(0.18, len(idx)), 45),
                     np.where(r < 0.7, 0, -rng.integers(1, 8, len(idx))))
    paid_day = due + delay
    split = regular & (rng.random(len(idx)) < 0.03)  # paid in two parts
    first_part = np.where(split, amount // 2, amount)

    out_idx = [idx[regular], idx[split]]
    out_day = [paid_day[regular], (paid_day + rng.integers(3, 16, len(idx)))[split]]
    out_amt = [first_part[regular], (amount - first_part)[split]]

    # prepayment: at the prepay instalment, pay everything still scheduled afterwards
    pre_rows = seq > prepay_seq[idx]
    if pre_rows.any():
        remaining = np.bincount(idx[pre_rows], weights=amount[pre_rows], minlength=n).astype(np.int64)
        at_prepay = (seq == prepay_seq[idx]) & prepay[idx]
        out_idx.append(idx[at_prepay])
        out_day.append(paid_day[at_prepay] + 1)
        out_amt.append(remaining[idx[at_prepay]])
    # cures: a lump sum covering the missed instalments due by the cure day
    out_idx.append(idx[in_cure])
    out_day.append(row_cure_day[in_cure])
    out_amt.append(amount[in_cure])
    # partial payments while in default
    partial = missed & (rng.random(len(idx)) < 0.15)
    out_idx.append(idx[partial])
    out_day.append((due + rng.integers(10, 60, len(idx)))[partial])
    out_amt.append((amount * rng.uniform(0.2, 0.6, len(idx))).astype(np.int64)[partial])

    pi = np.concatenate(out_idx)
    pd = np.concatenate(out_day).astype(np.int64)
    pa_ = np.concatenate(out_amt).astype(np.int64)
    keep = (pd <= as_of_day) & (pa_ > 0)
    return pi[keep], pd[keep], pa_[keep]


def _agencies(rng: np.random.Generator, n_loans: int, as_of: date) -> tuple[pl.DataFrame, pl.DataFrame]:
    n_agencies = int(np.clip(n_loans // 100_000, 6, 100))
    cities = [c[1] for c in geo.CITIES]
    city_centres = {c[1]: (np.mean([d[2] for d in c[3]]), np.mean([d[3] for d in c[3]])) for c in geo.CITIES}
    rows = []
    coll_rows = []
    collectors_per_agency = int(np.clip(n_loans // (n_agencies * 1000), 6, 100))
    cid = 1
    for a in range(1, n_agencies + 1):
        # each city is served by at least two agencies: spread cities round-robin, plus random extras
        served = {cities[(a - 1) % len(cities)], cities[(a + len(cities) // 2) % len(cities)]}
        served |= set(rng.choice(cities, size=int(rng.integers(0, 4)), replace=False).tolist())
        served_list = sorted(served, key=cities.index)
        word = geo.AGENCY_WORDS[(a - 1) % len(geo.AGENCY_WORDS)]
        home_city = served_list[0]
        name = f"{home_city[:-1]}{word}资产管理有限公司" + (f"（{a}）" if a > len(geo.AGENCY_WORDS) else "")
        early = a % 3 != 0
        buckets = ["M1", "M2", "M3"] if early else ["M2", "M3", "M4", "M5", "M6", "M6+"]
        tiers = {"M1": 0.08, "M2": 0.12, "M3": 0.15, "M4": 0.2, "M5": 0.25, "M6": 0.28, "M6+": 0.3}
        tiers = {b: round(t + float(rng.normal(0, 0.01)), 3) for b, t in tiers.items() if b in buckets}
        rows.append({
            "agency_id": a, "name": name, "name_en": f"{word} Asset Management ({home_city})",
            "regions": "|".join(served_list),
            "capacity": int(max(200, n_loans * 0.04 * 2 / n_agencies * rng.uniform(0.6, 1.4))),
            "eligible_buckets": "|".join(buckets), "placement_days": int(rng.choice([30, 60, 90])),
            "commission_tiers": json.dumps(tiers, sort_keys=True),
            "min_amount_fen": 50_000, "max_amount_fen": 30_000_000,
            "dsa_valid_until": as_of + timedelta(days=int(rng.integers(-30, 700))),
            "founded_year": int(rng.integers(2005, 2022)),
        })
        for _ in range(collectors_per_agency):
            city = served_list[int(rng.integers(0, len(served_list)))]
            lat0, lon0 = city_centres[city]
            coll_rows.append({
                "collector_id": cid, "agency_id": a,
                "name": str(rng.choice(list(geo.SURNAMES))) + "".join(rng.choice(list(geo.GIVEN), size=2)),
                "city": city, "base_lat": round(lat0 + rng.normal(0, 0.03), 6),
                "base_lon": round(lon0 + rng.normal(0, 0.03), 6),
                "certified_until": as_of + timedelta(days=int(rng.integers(-60, 720))),
                "trained_until": as_of + timedelta(days=int(rng.integers(-30, 365))),
            })
            cid += 1
    return pl.DataFrame(rows, schema=AGENCIES), pl.DataFrame(coll_rows, schema=COLLECTORS)


class _TableWriter:
    """Writes one export table as Parquet (row groups per chunk) or CSV (appending)."""

    def __init__(self, path: Path, schema: dict[str, pl.DataType], fmt: str) -> None:
        self.path = path.with_suffix("." + fmt)
        self.fmt = fmt
        self.schema = schema
        self._pq: pq.ParquetWriter | None = None
        self._first = True
        self.rows = 0

    def write(self, frame: pl.DataFrame) -> None:
        frame = frame.select(list(self.schema)).cast(self.schema)  # type: ignore[arg-type]
        self.rows += frame.height
        if self.fmt == "parquet":
            table = frame.to_arrow()
            if self._pq is None:
                self._pq = pq.ParquetWriter(self.path, table.schema, compression="zstd")
            self._pq.write_table(table, row_group_size=1_000_000)
        else:
            with self.path.open("w" if self._first else "a", encoding="utf-8", newline="") as fh:
                frame.write_csv(fh, include_header=self._first)
        self._first = False

    def close(self) -> None:
        if self._pq is not None:
            self._pq.close()
        elif self._first:  # nothing written: still produce an empty file with a header / schema
            empty = pl.DataFrame(schema=self.schema)
            if self.fmt == "parquet":
                pq.write_table(empty.to_arrow(), self.path)
            else:
                empty.write_csv(self.path)


def write_demo_portfolio(out: Path, *, n_loans: int, seed: int, as_of: date, fmt: str = "parquet",
                         progress: bool = True) -> dict[str, int]:
    """Write customers, loans, installments, payments, agencies and collectors into ``out``."""
    from rich.progress import Progress

    if n_loans < 1:
        raise ValueError("n_loans must be at least 1")
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    n_customers = max(1, int(n_loans / 1.15))
    as_of_day = _days(as_of)
    counts: dict[str, int] = {}
    with Progress(disable=not progress, transient=True) as bar:
        task = bar.add_task("demo book", total=n_loans + 2 * n_customers)
        cw = _TableWriter(out / "customers", CUSTOMERS, fmt)
        for lo in range(0, n_customers, LOAN_CHUNK):
            hi = min(n_customers, lo + LOAN_CHUNK)
            cw.write(customer_chunk(seed=seed, lo=lo, hi=hi))
            bar.advance(task, hi - lo)
        cw.close()
        counts["customers"] = cw.rows
        loans, risk = _loans(rng, n_loans, n_customers, as_of)
        bar.advance(task, n_customers)
        writers = {
            "loans": _TableWriter(out / "loans", LOANS, fmt),
            "installments": _TableWriter(out / "installments", INSTALLMENTS, fmt),
            "payments": _TableWriter(out / "payments", PAYMENTS, fmt),
        }
        writers["loans"].write(loans)
        next_payment_id = 1
        for lo in range(0, n_loans, LOAN_CHUNK):
            hi = min(n_loans, lo + LOAN_CHUNK)
            part = loans.slice(lo, hi - lo)
            crng = np.random.default_rng([seed, 2, lo])
            principal = part["principal_fen"].to_numpy()
            rate_bp = np.round(part["annual_rate"].to_numpy() * 10_000).astype(np.int64)
            term = part["term_months"].to_numpy()
            disbursed = part["disbursed_on"].cast(pl.Int32).to_numpy()
            sched = schedule_arrays(principal, rate_bp, term, (part["method"] == "equal_instalment").to_numpy(), disbursed)
            loan_ids = part["loan_id"].to_numpy()
            writers["installments"].write(pl.DataFrame({
                "loan_id": loan_ids[sched["idx"]], "seq": sched["seq"], "due_date": sched["due"],
                "principal_due_fen": sched["principal"], "interest_due_fen": sched["interest"],
            }).with_columns(pl.col("due_date").cast(pl.Date)))
            pidx, pday, pamt = _payments_for_chunk(crng, sched, risk[lo:hi], term, as_of_day)
            pay = (pl.DataFrame({"loan_id": loan_ids[pidx], "paid_on": pday.astype(np.int32), "amount_fen": pamt})
                   .group_by("loan_id", "paid_on").agg(pl.col("amount_fen").sum())
                   .sort("loan_id", "paid_on")
                   .with_columns(pl.col("paid_on").cast(pl.Date)))
            pay = pay.with_columns(pl.int_range(next_payment_id, next_payment_id + pay.height, dtype=pl.Int64)
                                   .alias("payment_id"))
            next_payment_id += pay.height
            writers["payments"].write(pay)
            bar.advance(task, hi - lo)
        for name, w in writers.items():
            w.close()
            counts[name] = w.rows
        agencies, collectors = _agencies(np.random.default_rng([seed, 3]), n_loans, as_of)
        for name, frame, schema in (("agencies", agencies, AGENCIES), ("collectors", collectors, COLLECTORS)):
            w = _TableWriter(out / name, schema, fmt)
            w.write(frame)
            w.close()
            counts[name] = w.rows
    (out / "manifest.json").write_text(json.dumps(
        {"generator": "fieldcollect demo-data", "seed": seed, "as_of": as_of.isoformat(), "format": fmt,
         "counts": counts}, indent=2))
    return counts


def write_payments_export(out: Path, *, payments: list[tuple[int, int, date, int]], as_of: date,
                          fmt: str = "parquet") -> int:
    """Write a later export of the same book that only adds payments: ``(payment_id, loan_id, paid_on,
    amount_fen)`` rows, with empty customers, loans and installments (the store keeps the rows it has;
    see ``fieldcollect.ingest.store.merge_tables``). The demo uses it for the payments its simulated
    customers make after a promise or a visit. Returns the number of payments written."""
    out.mkdir(parents=True, exist_ok=True)
    for name, schema in (("customers", CUSTOMERS), ("loans", LOANS), ("installments", INSTALLMENTS)):
        w = _TableWriter(out / name, schema, fmt)
        w.close()
    frame = pl.DataFrame(
        {"payment_id": [p[0] for p in payments], "loan_id": [p[1] for p in payments],
         "paid_on": [p[2] for p in payments], "amount_fen": [p[3] for p in payments]},
        schema={"payment_id": pl.Int64, "loan_id": pl.Int64, "paid_on": pl.Date, "amount_fen": pl.Int64})
    w = _TableWriter(out / "payments", PAYMENTS, fmt)
    w.write(frame)
    w.close()
    (out / "manifest.json").write_text(json.dumps(
        {"generator": "fieldcollect demo-data (payments after collection)", "as_of": as_of.isoformat(),
         "format": fmt, "counts": {"payments": w.rows}}, indent=2))
    return w.rows


__all__ = ["DemoBook", "add_months_clamped", "gb11643_check_digit", "schedule_arrays", "write_demo_portfolio",
           "write_payments_export"]
_ = pa  # pyarrow is the Parquet engine used through polars/pyarrow.parquet
