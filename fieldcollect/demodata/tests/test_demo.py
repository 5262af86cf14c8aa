"""The demo is set up by ``fieldcollect.demodata`` (the command only prints); nothing in ``core`` or a
feature app builds it."""

from __future__ import annotations

import re
import stat
from pathlib import Path

from fieldcollect.demodata.demo import save_logins

PACKAGE = Path(__file__).resolve().parents[2]


def test_demo_set_up_lives_in_demodata() -> None:
    builders = sorted(str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py") if "tests" not in p.parts
                      and re.search(r"^def (setup_demo_users_and_placements|demo_candidate_files|build_demo)\b",
                                    p.read_text(encoding="utf-8"), re.M))
    assert builders == ["demodata/candidates.py", "demodata/demo.py", "demodata/setup.py"]
    cli = (PACKAGE / "cli.py").read_text(encoding="utf-8")
    assert not any(name in cli for name in ("setup_demo_users_and_placements", "demo_candidate_files", "demo_logins"))


def test_logins_file_is_owner_only(fc_home: Path) -> None:
    path = save_logins([("manager", "pw1", "collections_manager", None, "KEY"), ("am1", "pw2", "agency_manager", 7, "")])
    assert path == fc_home / "demo_logins.tsv"
    assert path.read_text().splitlines() == ["username\tpassword\trole\tagency_id\ttotp_key",
                                             "manager\tpw1\tcollections_manager\t\tKEY", "am1\tpw2\tagency_manager\t7\t"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
