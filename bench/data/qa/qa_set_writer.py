"""The one writer of the hand-labelled conduct sets (``labelled.jsonl``, ``held_out.jsonl``): their
authoring sources hold the rows, this module turns them into JSON lines (segments 7.5 s apart, each
6 s long; ids ``<prefix><n:03d>``)."""

import json
from pathlib import Path

C, D, T = "collector", "customer", "third_party"
Row = tuple[str, str, str, list[tuple[str, str]], list[tuple[str, int | None]]]


def write_set(rows: list[Row], path: Path, prefix: str) -> None:
    """Write ``rows`` to ``path`` (UTF-8, one transcript a line) and print how many."""
    with open(path, "w", encoding="utf-8") as fh:
        for i, (pack, lang, ch, segs, labels) in enumerate(rows):
            obj = {
                "transcript_id": f"{prefix}{i + 1:03d}",
                "pack": pack,
                "language": lang,
                "channel": ch,
                "segments": [
                    {"speaker": s, "start_s": round(j * 7.5, 1), "end_s": round(j * 7.5 + 6.0, 1), "text": t}
                    for j, (s, t) in enumerate(segs)
                ],
                "labels": [{"category": c, "segment_index": k} for c, k in labels],
            }
            fh.write(json.dumps(obj, ensure_ascii=False) + "\n")
    print(len(rows))
