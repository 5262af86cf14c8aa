"""Ingestion: clear errors that name file, row, column and reason; all or nothing; idempotent."""

from __future__ import annotations

import shutil
from datetime import date

import polars as pl
import pytest

from fieldcollect.demodata.generator import write_demo_portfolio
from fieldcollect.ingest import store
from fieldcollect.ingest.reader import IngestError
from fieldcollect.portfolio.models import Customer, IngestBatch
from fieldcollect.portfolio.services import ingest_export

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def csv_export(tmp_path_factory):
    out = tmp_path_factory.mktemp("export")
    write_demo_portfolio(out, n_loans=300, seed=3, as_of=date(2026, 6, 30), fmt="csv", progress=False)
    return out


@pytest.fixture
def export(csv_export, tmp_path):
    dst = tmp_path / "export"
    shutil.copytree(csv_export, dst)
    return dst


def edit_line(path, line_no, col, value):
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    header = lines[0].rstrip("\n").split(",")
    fields = lines[line_no].rstrip("\n").split(",")
    fields[header.index(col)] = value
    lines[line_no] = ",".join(fields) + "\n"
    path.write_text("".join(lines), encoding="utf-8")


def assert_nothing_applied():
    assert store.current_version() is None
    assert IngestBatch.objects.count() == 0
    assert Customer.objects.count() == 0


def errors_of(export_dir) -> list[str]:
    with pytest.raises(IngestError) as exc:
        ingest_export(source=export_dir)
    return [str(i) for i in exc.value.issues]


def test_valid_export_then_idempotent(fc_home, export):
    first = ingest_export(source=export)
    assert first.applied and first.counts["loans"] == 300
    assert Customer.objects.count() == first.counts["customers"]
    version = store.require_current()
    second = ingest_export(source=export)
    assert not second.applied and "already" in second.message
    assert store.require_current().name == version.name
    assert IngestBatch.objects.count() == 1


def test_wrong_type(fc_home, export):
    edit_line(export / "loans.csv", 3, "principal_fen", "12x00")
    errs = errors_of(export)
    assert any(e.startswith("loans.csv row 3 column principal_fen") and "not an integer" in e for e in errs), errs
    assert_nothing_applied()


def test_negative_amount(fc_home, export):
    edit_line(export / "payments.csv", 5, "amount_fen", "-500")
    errs = errors_of(export)
    assert any("payments.csv row 5 column amount_fen" in e and "-500" in e for e in errs), errs
    assert_nothing_applied()


def test_unknown_loan(fc_home, export):
    edit_line(export / "payments.csv", 2, "loan_id", "999999")
    errs = errors_of(export)
    assert any("payments.csv row 2 column loan_id: unknown loan 999999" in e for e in errs), errs
    assert_nothing_applied()


def test_duplicate_id(fc_home, export):
    lines = (export / "loans.csv").read_text().splitlines(keepends=True)
    lines.append(lines[1])
    (export / "loans.csv").write_text("".join(lines))
    errs = errors_of(export)
    assert any("loans.csv row" in e and "duplicate id 1" in e for e in errs), errs
    assert_nothing_applied()


def test_bad_date_and_method(fc_home, export):
    edit_line(export / "loans.csv", 4, "disbursed_on", "2026-02-30")
    edit_line(export / "loans.csv", 6, "method", "balloon")
    errs = errors_of(export)
    assert any("loans.csv row 4 column disbursed_on" in e and "not a date" in e for e in errs), errs
    assert any("loans.csv row 6 column method" in e and "balloon" in e for e in errs), errs
    assert_nothing_applied()


def test_truncated_csv(fc_home, export):
    raw = (export / "payments.csv").read_bytes()
    (export / "payments.csv").write_bytes(raw[: len(raw) // 2])
    errs = errors_of(export)
    assert any(e.startswith("payments.csv row") and "truncated" in e for e in errs), errs
    assert_nothing_applied()


def test_truncated_parquet(fc_home, export):
    frame = pl.read_csv(export / "installments.csv")
    (export / "installments.csv").unlink()
    frame.write_parquet(export / "installments.parquet")
    raw = (export / "installments.parquet").read_bytes()
    (export / "installments.parquet").write_bytes(raw[: len(raw) - 100])
    errs = errors_of(export)
    assert any(e.startswith("installments.parquet: cannot read Parquet") for e in errs), errs
    assert_nothing_applied()


def test_gbk_csv_is_detected(fc_home, export):
    text = (export / "customers.csv").read_text(encoding="utf-8")
    (export / "customers.csv").write_bytes(text.encode("gbk"))
    result = ingest_export(source=export)
    assert result.applied
    first = pl.read_csv(export / "loans.csv")["customer_id"][0]
    name = Customer.objects.get(customer_id=first).name
    assert name == pl.read_csv(text.encode("utf-8")).filter(pl.col("customer_id") == first)["name"][0]


def test_later_export_adds_payments(fc_home, export, tmp_path):
    ingest_export(source=export)
    before = store.require_current().counts["payments"]
    later = tmp_path / "later"
    later.mkdir()
    for name in ("customers", "loans", "installments"):
        shutil.copy(export / f"{name}.csv", later / f"{name}.csv")
    pays = pl.read_csv(export / "payments.csv")
    extra = pl.DataFrame({"payment_id": [10_000_001], "loan_id": [1], "paid_on": ["2026-07-01"], "amount_fen": [12345]})
    pl.concat([pays.cast({"paid_on": pl.String}), extra], how="vertical_relaxed").write_csv(later / "payments.csv")
    result = ingest_export(source=later)
    assert result.applied
    assert store.require_current().counts["payments"] == before + 1
    # and the same later export again changes nothing
    assert not ingest_export(source=later).applied


def test_crash_while_writing_store_keeps_previous_version(fc_home, export, tmp_path):
    ingest_export(source=export)
    good = store.require_current()
    edit_line(export / "payments.csv", 2, "amount_fen", "777")
    with pytest.raises(RuntimeError, match="simulated crash"):
        ingest_export(source=export, fail_after="installments")
    assert store.require_current().name == good.name
    assert IngestBatch.objects.count() == 1
    assert not list((fc_home / "store").glob(".staging-*"))


def test_same_id_number_on_two_customer_rows_is_refused(fc_home, export):
    lines = (export / "customers.csv").read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    id_number = lines[2].split(",")[header.index("id_number")]
    edit_line(export / "customers.csv", 7, "id_number", id_number)
    errs = errors_of(export)
    clash = [e for e in errs if "customers.csv row 7 column id_number" in e]
    assert clash and "also on row 2" in clash[0], errs
    assert id_number not in clash[0]  # named masked, not in clear
    assert_nothing_applied()


def test_id_number_of_a_customer_already_loaded_is_refused(fc_home, export, tmp_path):
    ingest_export(source=export)
    before = (store.require_current().name, IngestBatch.objects.count(), Customer.objects.count())
    taken = Customer.objects.get(customer_id=1).id_number
    later = tmp_path / "later"
    later.mkdir()
    header = (export / "customers.csv").read_text(encoding="utf-8").splitlines()[0].split(",")
    row = dict(zip(header, (export / "customers.csv").read_text(encoding="utf-8").splitlines()[1].split(","),
                   strict=True))
    row |= {"customer_id": "900001", "id_number": taken}
    (later / "customers.csv").write_text(",".join(header) + "\n" + ",".join(row[c] for c in header) + "\n",
                                         encoding="utf-8")
    for name in ("loans", "installments", "payments"):
        text = (export / f"{name}.csv").read_text(encoding="utf-8").splitlines()[0] + "\n"
        (later / f"{name}.csv").write_text(text, encoding="utf-8")
    errs = errors_of(later)
    assert any("customers.csv row 1 column id_number" in e and "customer 900001" in e
               and "belongs to customer 1 already loaded" in e for e in errs), errs
    assert (store.require_current().name, IngestBatch.objects.count(), Customer.objects.count()) == before
    assert not Customer.objects.filter(customer_id=900001).exists()


def test_hard_negative_re_sending_a_customer_with_its_own_id_number(fc_home, export, tmp_path):
    ingest_export(source=export)
    later = tmp_path / "later"
    shutil.copytree(export, later)
    edit_line(later / "customers.csv", 1, "district", "浦东新区")  # same customer, same ID number, new data
    assert ingest_export(source=later).applied
