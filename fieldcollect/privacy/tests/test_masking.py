"""Masking rules (pure)."""

from __future__ import annotations

import pytest

from fieldcollect.privacy.masking import mask_address, mask_field, mask_id_number, mask_mobile, mask_name


@pytest.mark.parametrize(("name", "masked"), [("张三丰", "张*丰"), ("张三", "张*"), ("欧阳娜娜", "欧**娜"), ("张", "张"),
                                              ("", "")])
def test_name(name: str, masked: str) -> None:
    assert mask_name(name) == masked


def test_mobile_and_id_number() -> None:
    assert mask_mobile("13812345678") == "138****5678"
    assert mask_mobile("+86 138-1234-5678") == "138****5678"
    assert mask_id_number("110105194912311234") == "110105********1234"
    assert mask_id_number("11010519491231123x") == "110105********123X"
    assert mask_id_number("110105491231123") == "110105*****1123"  # old 15-digit ID


def test_address_to_district_level() -> None:
    full = "建邺区学府路8号碧桂园5栋5单元1902室"
    masked = mask_address(full, province="江苏", city="南京", district="建邺区")
    assert masked == "江苏南京建邺区 ****"
    assert "学府路" not in masked and "1902" not in masked
    assert mask_address("北京市朝阳区建国路88号") == "北京市朝阳区 ****"
    assert mask_address("朝阳区建国路88号", province="北京", city="北京") == "北京朝阳区 ****"


def test_mask_field_leaves_non_identifying_fields() -> None:
    assert mask_field("city", "南京") == "南京"
    assert mask_field("mobile", "") == ""
    assert mask_field("address", "建邺区学府路8号", district="建邺区") == "建邺区 ****"


def test_address_without_administrative_prefix_shows_nothing_of_the_street() -> None:
    assert mask_address("学府路8号碧桂园小区5栋") == "****"
    assert mask_address("昆山市玉山镇") == "昆山市 ****"
