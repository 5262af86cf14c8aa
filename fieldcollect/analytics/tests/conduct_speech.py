"""What the conduct detector's tests say to it: the speakers, the complete openings, a transcript
built from (speaker, text) turns, its findings, the categories found on one turn said after a
clean opening and the customer's reply, and the tests of lists of positives and hard negatives."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from fieldcollect.analytics.conduct import parse_transcript
from fieldcollect.analytics.conduct.detector import Detector, Transcript

C, D, T = "collector", "customer", "third_party"
OPEN_ZH = "您好，我是华信资产管理公司的专员孙丽，受中国银行委托就您的信用卡还款联系您，本次通话录音。"
OPEN_EN = (
    "Hello, my name is Amy Chen with Harbor Collections, calling on behalf of Union Bank about your loan. "
    "This call is recorded. This is an attempt to collect a debt."
)


def transcript(language: str, turns: list[tuple[str, str]], channel: str = "call") -> Transcript:
    """Transcript ``t1``: one five-second segment a turn."""
    return parse_transcript(
        {
            "transcript_id": "t1",
            "language": language,
            "channel": channel,
            "segments": [
                {"speaker": s, "start_s": 5.0 * i, "end_s": 5.0 * i + 4, "text": text}
                for i, (s, text) in enumerate(turns)
            ],
        }
    )


def found(
    detector: Detector, language: str, turns: list[tuple[str, str]], channel: str = "call"
) -> set[tuple[str, int | None]]:
    """The (category, segment index) of every finding on the transcript of ``turns``."""
    return {(f.category, f.segment_index) for f in detector.scan(transcript(language, turns, channel))}


def said(detector: Detector, language: str, text: str, speaker: str = C) -> set[str]:
    """The categories found on the third segment, ``text``, after a complete opening and a reply."""
    opening = OPEN_ZH if language == "zh" else OPEN_EN
    reply = "嗯。" if language == "zh" else "Okay."
    return {
        cat for cat, seg in found(detector, language, [(C, opening), (D, reply), (speaker, text)]) if seg == 2
    }


def phrase_tests(
    zh_positive: list[tuple[str, str]],
    zh_negative: list[str],
    en_positive: list[tuple[str, str]],
    en_negative: list[str],
) -> tuple[Callable[..., None], Callable[..., None]]:
    """``test_positive`` (each (category, text) said finds its category) and ``test_hard_negative``
    (each text said finds nothing) over a module's phrases: Chinese on the CN pack, English on the US
    pack (the ``pack_of`` fixture). A test module binds them to those names for pytest to collect."""

    @pytest.mark.parametrize(
        ("language", "category", "text"),
        [("zh", category, text) for category, text in zh_positive]
        + [("en", category, text) for category, text in en_positive],
    )
    def test_positive(pack_of: dict[str, Detector], language: str, category: str, text: str) -> None:
        assert category in said(pack_of[language], language, text)

    @pytest.mark.parametrize(
        ("language", "text"), [("zh", text) for text in zh_negative] + [("en", text) for text in en_negative]
    )
    def test_hard_negative(pack_of: dict[str, Detector], language: str, text: str) -> None:
        assert said(pack_of[language], language, text) == set()

    return test_positive, test_hard_negative
