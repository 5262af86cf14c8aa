"""Locust users for bench/load.py (run by locust in its own process, never imported by pytest).

Environment: FC_LOAD_ACKS (file that receives the id of every acknowledged contact), FC_LOAD_CLIENTS (JSON file: [{"token": ..., "cases": [...]}, ...]), FC_LOAD_MODE
(``paced``: list cases and record contacts with ~1 s pauses; ``contacts``: record contacts without
pauses; ``trivial``: GET /healthz without pauses).
"""

from __future__ import annotations

import itertools
import json
import os
import random
from pathlib import Path
from typing import Any

from load_bodies import contact_body  # bench/: locust puts the locustfile's folder on sys.path
from locust import FastHttpUser, between, constant, task

CLIENTS: list[dict[str, Any]] = json.loads(Path(os.environ["FC_LOAD_CLIENTS"]).read_text())
MODE = os.environ.get("FC_LOAD_MODE", "paced")
ACKS = open(os.environ["FC_LOAD_ACKS"], "a", buffering=1)  # noqa: SIM115 - one acknowledged id a line, open while locust runs
REFUSALS = open(os.environ["FC_LOAD_ACKS"] + ".refused", "a", buffering=1)  # noqa: SIM115
_ids = itertools.count()


class AgencyClient(FastHttpUser):
    wait_time = between(0.8, 1.2) if MODE == "paced" else constant(0)

    def on_start(self) -> None:
        me = CLIENTS[next(_ids) % len(CLIENTS)]
        self.headers = {"Authorization": f"Bearer {me['token']}"}
        self.cases = me["cases"]
        self.rng = random.Random()

    def _contact(self) -> None:
        case_id = self.rng.choice(self.cases)
        with self.client.post(f"/api/v1/cases/{case_id}/contacts", json=contact_body(self.rng), headers=self.headers,
                              name="POST /api/v1/cases/{id}/contacts", catch_response=True) as r:
            if r.status_code == 201:
                ACKS.write(f"{r.json()['id']}\n")
            elif r.status_code == 422 and "compliance.blocked" in (r.text or ""):
                REFUSALS.write("1\n")  # the compliance engine refused the attempt: an answer, not an error
                r.success()
            else:
                r.failure(f"status {r.status_code}: {(r.text or '')[:200]}")

    @task
    def work(self) -> None:
        if MODE == "trivial":
            self.client.get("/healthz", name="GET /healthz")
        elif MODE == "contacts":
            self._contact()
        elif self.rng.random() < 0.5:
            self.client.get("/api/v1/cases?limit=20", headers=self.headers, name="GET /api/v1/cases")
        else:
            self._contact()
