"""Encrypted model fields: ciphertext in the database, plaintext in Python, look-up by blind index,
the data migration's pass over rows written before encryption."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core import checks, serializers
from django.core.exceptions import FieldError
from django.db import connection, transaction

from fieldcollect.cases.models import Note
from fieldcollect.core.models import Role
from fieldcollect.portfolio.models import Customer
from fieldcollect.portfolio.selectors import customer_find
from fieldcollect.privacy.crypto import CryptoError
from fieldcollect.privacy.fields import Sealed, count_by_key, current_keyring, open_values, reencrypt_rows
from fieldcollect.testing import factories as f

pytestmark = pytest.mark.django_db


def _raw(table: str, col: str, pk_col: str, pk: Any) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {col} FROM {table} WHERE {pk_col} = %s", [pk])
        return str(cursor.fetchone()[0])


def _customer(**kw: object) -> Customer:
    values: dict[str, object] = {"customer_id": 1, "name": "张三丰", "id_number": "11010519491231002X",
                                 "mobile": "13800138000", "province": "北京", "city": "北京",
                                 "district": "朝阳区", "address": "建国路88号"}
    values.update(kw)
    return Customer.objects.create(**values)


def test_customer_pii_is_ciphertext_in_the_database_and_plaintext_in_python(fc_home) -> None:
    _customer()
    for col, plain in (("name", "张三丰"), ("id_number", "11010519491231002X"), ("mobile", "13800138000"),
                       ("address", "建国路88号")):
        raw = _raw("portfolio_customer", col, "customer_id", 1)
        assert raw.startswith("fc2$") and plain not in raw
    c = Customer.objects.get(pk=1)
    assert (c.name, c.id_number, c.mobile, c.address) == ("张三丰", "11010519491231002X", "13800138000", "建国路88号")
    assert c.district == "朝阳区"  # not personal on its own: stays plaintext for filtering


def test_customer_find_by_blind_index(fc_home) -> None:
    _customer()
    _customer(customer_id=2, mobile="13900000000", id_number="110105199001011234")
    assert [c.pk for c in customer_find(mobile="+86 138 0013 8000")] == [1]
    assert [c.pk for c in customer_find(id_number="11010519491231002x")] == [1]
    assert [c.pk for c in customer_find(mobile="13900000000", id_number="110105199001011234")] == [2]
    assert customer_find(mobile="13800138000", id_number="110105199001011234") == []
    assert customer_find() == []
    c = Customer.objects.get(pk=1)
    c.mobile = "13700000000"
    c.save()
    assert customer_find(mobile="13800138000") == []
    assert [x.pk for x in customer_find(mobile="13700000000")] == [1]


def test_encrypted_columns_refuse_sql_comparison(fc_home) -> None:
    _customer()
    with pytest.raises(FieldError):
        list(Customer.objects.filter(mobile="13800138000"))
    assert Customer.objects.filter(mobile__isnull=False).count() == 1


def test_notes_and_contact_notes_are_encrypted(fc_home) -> None:
    case = f.make_case()
    user = f.make_user(role=Role.COLLECTIONS_MANAGER)
    note = Note.objects.create(case=case, author=user, body="客户说下周五还款, 电话13800138000")
    raw = _raw("cases_note", "body", "id", note.pk)
    assert raw.startswith("fc2$") and "13800138000" not in raw
    assert Note.objects.get(pk=note.pk).body.endswith("13800138000")


def test_reencrypt_rows_encrypts_legacy_plaintext_and_fills_indexes(fc_home) -> None:
    _customer()
    with connection.cursor() as cursor:  # a row as written before this change
        cursor.execute("UPDATE portfolio_customer SET mobile = %s, id_number = %s, mobile_bidx = '', "
                       "id_number_bidx = '' WHERE customer_id = 1", ["13800138000", "11010519491231002X"])
    assert count_by_key(Customer).get("plain") == 2
    assert Customer.objects.get(pk=1).mobile == "13800138000"  # readable meanwhile
    assert customer_find(mobile="13800138000") == []
    reencrypt_rows(Customer)
    assert "plain" not in count_by_key(Customer)
    assert _raw("portfolio_customer", "mobile", "customer_id", 1).startswith("fc2$")
    assert [c.pk for c in customer_find(mobile="13800138000")] == [1]
    assert Customer.objects.get(pk=1).id_number == "11010519491231002X"


def test_bulk_ingest_encrypts_and_indexes(fc_home) -> None:
    import polars as pl

    from fieldcollect.portfolio.services import CUSTOMER_COLUMNS, bulk_upsert, customer_rows

    frame = pl.DataFrame({"customer_id": [7], "name": ["李四"], "id_number": ["110105199001011234"],
                          "mobile": ["13600000000"], "province": ["北京"], "city": ["北京"], "district": ["海淀区"],
                          "address": ["中关村大街1号"], "lat": [39.9], "lon": [116.3]})
    bulk_upsert(model=Customer, columns=CUSTOMER_COLUMNS, rows=customer_rows(frame))
    assert "中关村" not in _raw("portfolio_customer", "address", "customer_id", 7)
    assert [c.address for c in customer_find(mobile="136 0000 0000")] == ["中关村大街1号"]
    assert current_keyring().primary_id in _raw("portfolio_customer", "name", "customer_id", 7)


# -- binding to table, column and row (issue 17): a ciphertext copied elsewhere does not decrypt

def _set_raw(table: str, col: str, pk_col: str, pk: Any, value: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET {col} = %s WHERE {pk_col} = %s", [value, pk])


def test_ciphertext_copied_into_another_row_does_not_decrypt(fc_home) -> None:
    _customer()
    _customer(customer_id=2, mobile="13900000000", id_number="110105199001011234")
    a_mobile = _raw("portfolio_customer", "mobile", "customer_id", 1)
    _set_raw("portfolio_customer", "mobile", "customer_id", 2, a_mobile)
    with pytest.raises(CryptoError, match=r"portfolio_customer\.mobile.*another table, column or row"):
        Customer.objects.get(pk=2)
    assert Customer.objects.get(pk=1).mobile == "13800138000"  # A itself still reads


def test_ciphertext_copied_into_another_column_of_the_row_does_not_decrypt(fc_home) -> None:
    _customer()
    _set_raw("portfolio_customer", "name", "customer_id", 1, _raw("portfolio_customer", "mobile", "customer_id", 1))
    with pytest.raises(CryptoError, match=r"portfolio_customer\.name"):
        Customer.objects.get(pk=1)


def test_ciphertext_copied_into_another_table_does_not_decrypt(fc_home) -> None:
    case = f.make_case()
    note = Note.objects.create(case=case, author=f.make_user(role=Role.COLLECTIONS_MANAGER), body="下周五还款")
    mobile = _raw("portfolio_customer", "mobile", "customer_id", case.customer_id)
    _set_raw("cases_note", "body", "id", note.pk, mobile)
    with pytest.raises(CryptoError, match=r"cases_note\.body"):
        Note.objects.get(pk=note.pk)


def test_copying_the_binding_too_is_needed_and_bindings_differ_per_row(fc_home) -> None:
    one, two = _customer(), _customer(customer_id=2, mobile="13900000000")
    assert len(one.row_binding) == 32 and one.row_binding != two.row_binding
    # the binding is what ties the value to the row: a row's own ciphertexts follow their binding
    assert Customer.objects.only("mobile").get(pk=2).mobile == "13900000000"  # binding not selected: read
    c = Customer.objects.get(pk=2)
    c.refresh_from_db(fields=["mobile"])
    assert c.mobile == "13900000000"


def test_values_stay_sealed_until_opened_with_the_row_binding(fc_home) -> None:
    _customer()
    row = Customer.objects.values("customer_id", "mobile", "row_binding").get()
    assert isinstance(row["mobile"], Sealed) and "13800138000" not in repr(row)
    with pytest.raises(CryptoError, match="without its row binding"):
        str(row["mobile"])
    assert open_values(Customer, [row])[0]["mobile"] == "13800138000"


def test_writes_that_cannot_bind_are_refused_and_saves_bind(fc_home) -> None:
    _customer()
    with pytest.raises(CryptoError, match=r"QuerySet\.update"), transaction.atomic():
        Customer.objects.filter(pk=1).update(mobile="13700000000")
    c = Customer.objects.get(pk=1)
    c.mobile = "13700000000"
    c.save(update_fields=["mobile", "mobile_bidx"])
    assert _raw("portfolio_customer", "mobile", "customer_id", 1).startswith("fc2$")
    assert Customer.objects.get(pk=1).mobile == "13700000000"


def test_unbound_values_still_read_and_reencrypt_rows_binds_them(fc_home) -> None:
    _customer()
    legacy = current_keyring().encrypt("13800138000", None)  # as stored before the row binding
    _set_raw("portfolio_customer", "mobile", "customer_id", 1, legacy)
    assert Customer.objects.get(pk=1).mobile == "13800138000"
    assert reencrypt_rows(Customer) == 1
    stored = _raw("portfolio_customer", "mobile", "customer_id", 1)
    assert stored.startswith("fc2$") and stored != legacy
    assert Customer.objects.get(pk=1).mobile == "13800138000"
    assert reencrypt_rows(Customer) == 0  # nothing left to do


def test_serialised_rows_carry_ciphertext_and_load_back(fc_home) -> None:
    _customer()
    text = serializers.serialize("json", Customer.objects.all())
    assert "13800138000" not in text and "张三丰" not in text and "fc2$" in text
    Customer.objects.all().delete()
    for obj in serializers.deserialize("json", text):
        obj.save()
    assert Customer.objects.get(pk=1).mobile == "13800138000"
    # a dump from before: values in clear, no row binding -> stored encrypted and bound to a new binding
    old = json.loads(text)
    old[0]["fields"].update(mobile="13800138000", name="张三丰", id_number="11010519491231002X", address="建国路88号")
    del old[0]["fields"]["row_binding"]
    Customer.objects.all().delete()
    for obj in serializers.deserialize("json", json.dumps(old)):
        obj.save()
    assert _raw("portfolio_customer", "mobile", "customer_id", 1).startswith("fc2$")
    assert Customer.objects.get(pk=1).mobile == "13800138000"


def test_every_model_with_encrypted_fields_has_a_row_binding() -> None:
    assert not [m for m in checks.run_checks() if m.id == "privacy.E001"]
