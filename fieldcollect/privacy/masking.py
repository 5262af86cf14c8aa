"""Masking of personal data for display (pure: no Django).

=========  =======================  ==========================
field      plaintext                masked
=========  =======================  ==========================
name       张三丰 / 欧阳娜娜 / 张三   张*丰 / 欧**娜 / 张*
mobile     13812345678              138****5678
ID number  110105194912310021       110105********0021
address    建邺区学府路8号碧桂园…     江苏省南京市建邺区 ****
=========  =======================  ==========================

Masking keeps what a person needs to recognise a record (surname, network prefix, the area code and
the last digits) and nothing that locates or identifies the person.
"""

from __future__ import annotations

import re

STAR = "*"
HIDDEN = "****"


def mask_name(name: str) -> str:
    """Keep the first and the last character; a two-character name keeps the first only."""
    name = (name or "").strip()
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + STAR
    return name[0] + STAR * (len(name) - 2) + name[-1]


def mask_mobile(mobile: str) -> str:
    """138****5678: the first three and the last four digits of an 11-digit number."""
    digits = re.sub(r"\D", "", mobile or "")
    if len(digits) >= 13 and digits.startswith("86"):
        digits = digits[2:]
    if len(digits) >= 8:
        return digits[:3] + STAR * (len(digits) - 7) + digits[-4:]
    if len(digits) > 2:
        return STAR * (len(digits) - 2) + digits[-2:]
    return STAR * len(digits)


def mask_id_number(id_number: str) -> str:
    """110105********1234: the six-digit area code and the last four characters."""
    value = re.sub(r"\s", "", id_number or "").upper()
    if len(value) >= 11:
        return value[:6] + STAR * (len(value) - 10) + value[-4:]
    if len(value) > 4:
        return STAR * (len(value) - 4) + value[-4:]
    return STAR * len(value)


_DISTRICT_END = re.compile(r"^[^区县旗]*?(?:区|县|旗)")
_CITY_END = re.compile(r"^.*?市")


def mask_address(address: str, *, province: str = "", city: str = "", district: str = "") -> str:
    """The address to district level: province, city and district, the rest hidden."""
    parts: list[str] = []
    for part in (province, city, district):
        if part and part not in parts and not any(part in p for p in parts):
            parts.append(part)
    if district:
        return "".join(parts) + " " + HIDDEN
    m = _DISTRICT_END.match(address or "") or _CITY_END.match(address or "")
    head = m.group(0) if m else ""
    if len(head) > 12 or re.search(r"\d", head):  # not an administrative prefix (e.g. "...8号碧桂园小区")
        head = ""
    prefix = "".join(p for p in parts if p not in head)
    return (prefix + head + " " + HIDDEN).strip()


MASKERS = {"name": mask_name, "mobile": mask_mobile, "id_number": mask_id_number}


def mask_field(field: str, value: str, *, province: str = "", city: str = "", district: str = "") -> str:
    """The masked form of one customer field (fields that identify no one are returned unchanged)."""
    if not value:
        return value
    if field == "address":
        return mask_address(value, province=province, city=city, district=district)
    masker = MASKERS.get(field)
    return masker(value) if masker is not None else value


_PHONE_LIKE = re.compile(r"^\+?[\d\s()-]{5,}$")
PHONE_FIELDS = frozenset({"mobile", "phone", "contact_phone", "to", "number"})


def mask_stored(field: str, value: str) -> str:
    """The masked form of any encrypted column, for screens that never show clear values (the admin):
    customer fields as :func:`mask_field`, phone numbers as :func:`mask_mobile`, anything else (free text,
    an address typed into a number field) hidden, with its length."""
    if not value:
        return ""
    if field in ("name", "id_number", "address"):
        return mask_field(field, value)
    if field in PHONE_FIELDS and _PHONE_LIKE.match(value):
        return mask_mobile(value)
    return f"{HIDDEN} ({len(value)})"
