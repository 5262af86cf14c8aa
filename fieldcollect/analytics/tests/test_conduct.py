"""The conduct detector: each rule with a positive and hard negatives, speaker, negation and position
constraints, and the packs' and transcripts' validation."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fieldcollect.analytics.conduct import (
    CATEGORIES,
    PackError,
    TranscriptError,
    load_detector,
    parse_transcript,
)
from fieldcollect.analytics.conduct.detector import PACKS_DIR, Detector, Finding
from fieldcollect.analytics.tests.conduct_speech import (
    OPEN_ZH,
    C,
    D,
    T,
    found,
    phrase_tests,
    said,
    transcript,
)

# ---- every category, positive and hard negatives (Chinese, CN pack) -----------------------------------

ZH_POSITIVE = [
    ("threat", "你再不还，我找几个兄弟上门收拾你。"),
    ("threat", "我们绝不会放过你的。"),
    ("threat", "小心你的家人出点什么事。"),
    ("abuse", "你这种人就是垃圾。"),
    ("abuse", "你这个废物。"),
    ("impersonation", "我是区公安局的民警。"),
    ("impersonation", "我们这边是人民法院执行局。"),
    ("impersonation", "我是银行的律师。"),
    ("false_consequence", "欠钱不还是要坐牢的。"),
    ("false_consequence", "明天就来查封你的房子。"),
    ("false_consequence", "你孩子以后不能上学。"),
    ("false_consequence", "我们会通知你所有联系人和你单位领导。"),
    ("induce_borrowing", "找你亲戚朋友借一点先还上。"),
    ("induce_borrowing", "你去网贷平台借一笔周转一下。"),
    ("induce_borrowing", "千万要还，实在不行就以贷养贷。"),
    ("private_payment", "直接转到我的微信就行。"),
    ("private_payment", "扫我的个人收款码。"),
    ("private_payment", "现金交给我就可以。"),
]

ZH_NEGATIVE = [
    "逾期记录会按规定上报征信，影响您的个人信用。",
    "如果长期不还款，银行可能会依法向法院提起诉讼。",
    "逾期会继续产生罚息和违约金。",
    "我们不是警察，也不是法院。",
    "欠款属于民事纠纷，不会坐牢。",
    "欠款不会影响孩子上学。",
    "我们不会联系您的单位，也不会告诉您的同事。",
    "我们不建议您借钱还款，更不要以贷养贷。",
    "请通过银行官方渠道还款，切勿转到任何个人账户。",
    "我们从不收取现金。",
    "我一直在打你电话也没接通。",
    "如果法院判决生效后拒不履行，法院可以依法司法拘留。",
    "您路上小心点。",
]


EN_POSITIVE = [
    ("threat", "You'll regret this. We know where your kids go to school."),
    ("threat", "Watch your back."),
    ("abuse", "You are a worthless deadbeat."),
    ("impersonation", "This is Officer Daniels with the police department."),
    ("impersonation", "I'm an attorney handling your case."),
    ("false_consequence", "If you don't pay today you will be arrested."),
    ("false_consequence", "We'll repossess your car tomorrow."),
    ("false_consequence", "We will call your employer and all your contacts."),
    ("false_consequence", "Your children won't be allowed to attend school."),
    ("induce_borrowing", "Borrow it from your parents to pay this off."),
    ("induce_borrowing", "Take out a payday loan to pay us."),
    ("private_payment", "Just Venmo me the money."),
    ("private_payment", "Pay me in cash when I come by."),
]

EN_NEGATIVE = [
    "Late payments may be reported to the credit bureaus.",
    "The creditor may file a lawsuit, and a court judgment could lead to wage garnishment under state law.",
    "Late fees and penalty interest will continue to accrue.",
    "We are not the police, and you will not go to jail over this debt.",
    "We will not contact your employer or your coworkers.",
    "We don't want you to borrow from anyone to pay this.",
    "Please never send payment to a personal account.",
    "You may want to speak to a lawyer about your options.",
]


test_positive, test_hard_negative = phrase_tests(ZH_POSITIVE, ZH_NEGATIVE, EN_POSITIVE, EN_NEGATIVE)


# ---- constraints ----------------------------------------------------------------------------------------


def test_only_the_collectors_speech_counts(cn: Detector, us: Detector) -> None:
    assert said(cn, "zh", "你们这帮骗子，王八蛋，滚蛋！我要打断你的腿。", speaker=D) == set()
    assert said(us, "en", "You idiots, I'll make your life hell, watch your back!", speaker=D) == set()
    assert said(cn, "zh", "你这种人就是垃圾。", speaker=T) == set()


def test_negation_does_not_cross_clauses(cn: Detector) -> None:
    assert said(cn, "zh", "我们不是警察，但是你不还钱，明天警察就上门把你带走。") == {"false_consequence"}
    assert said(cn, "zh", "我们不是法院的，我们是公安局的。") == {"impersonation"}


def test_a_condition_is_not_a_negation(cn: Detector, us: Detector) -> None:
    assert "induce_borrowing" in said(cn, "zh", "你要是没有钱就找朋友借点先还")
    assert "false_consequence" in said(us, "en", "if you don't pay you will go to jail")


def test_third_party_disclosure_needs_a_third_party(cn: Detector, us: Detector) -> None:
    to_neighbour = [
        (C, "您好，我是华信公司的小王，找一下陈先生，通话录音。"),
        (T, "我是他邻居。"),
        (C, "他信用卡欠了我们两万块。"),
    ]
    assert ("third_party_disclosure", 2) in found(cn, "zh", to_neighbour)
    to_debtor = [(C, OPEN_ZH), (D, "我是本人。"), (C, "您信用卡欠了两万块。")]
    assert not any(cat == "third_party_disclosure" for cat, _ in found(cn, "zh", to_debtor))
    polite = [
        (C, "您好，我是华信公司的小王，找一下陈先生，通话录音。"),
        (T, "他不在。"),
        (C, "麻烦让他回个电话，谢谢。"),
    ]
    assert found(cn, "zh", polite) == set()
    wife = [(C, "Hi, this is Mark from Northgate. This call is recorded."), (T, "I'm his wife."),
            (C, "Your husband owes $4,250 and is past due.")]  # fmt: skip
    assert found(us, "en", wife) == {("third_party_disclosure", 2)}


def test_identification_in_the_first_two_collector_turns(cn: Detector) -> None:
    late = [(C, "喂，王先生吗？本次通话录音。"), (D, "是我。"), (C, "请问您方便吗？"), (D, "方便。"),
            (C, "我是华信公司的李明，受工商银行委托就您的信用卡联系您。")]  # fmt: skip
    assert ("missing_identification", None) in found(cn, "zh", late)
    early = [
        (C, "喂，王先生吗？本次通话录音。"),
        (D, "是我。"),
        (C, "我是华信公司的李明，受工商银行委托就您的信用卡联系您。"),
    ]
    assert ("missing_identification", None) not in found(cn, "zh", early)
    # the customer's speech does not count as the collector's turn
    customer_says = [
        (D, "你是华信公司的吧，工商银行信用卡的事？"),
        (C, "对，本次通话录音。"),
        (C, "请问您什么时候还？"),
    ]
    assert ("missing_identification", None) in found(cn, "zh", customer_says)


def test_recording_notice_and_debt_collector_disclosure(cn: Detector, us: Detector) -> None:
    no_notice = [
        (C, "您好，我是华信公司的李明，受工商银行委托联系您。"),
        (D, "嗯。"),
        (C, "请问什么时候还款？"),
    ]
    assert found(cn, "zh", no_notice) == {("missing_recording_notice", None)}
    mini = [
        (C, "Hi, my name is Sam with Harbor Collections about your Union Bank loan. This call is recorded."),
        (D, "Yes?"),
    ]
    assert found(us, "en", mini) == {("missing_debt_collector_disclosure", None)}
    assert found(cn, "en", mini) == set()  # not a rule of the CN pack
    # to a third party, the debt collector disclosure would itself be a disclosure: not required
    third = [(C, "Hi, this is Sam from Harbor. This call is recorded. Is Jessica there?"), (T, "No.")]
    assert found(us, "en", third) == set()


def test_visit_channel_and_no_collector_speech(cn: Detector) -> None:
    visit = [
        (C, "您好，我们是鼎信外访团队的张伟，受浦发银行委托上门拜访，了解您欠款的情况，全程执法记录仪录像。"),
        (D, "请进。"),
    ]
    assert found(cn, "zh", visit, channel="visit") == set()
    assert found(cn, "zh", [(D, "喂？喂？")]) == set()


def test_findings_carry_rule_id_evidence_and_the_output_shape(cn: Detector) -> None:
    t = transcript("zh", [(C, "喂。"), (D, "谁？"), (C, "不还就让你坐牢。")])
    row = cn.scan_json(t)
    assert row["transcript_id"] == "t1"
    by_cat = {f["category"]: f for f in row["findings"]}
    assert by_cat["false_consequence"] == {"category": "false_consequence", "segment_index": 2,
                                           "rule_id": "CN-QA-FALSE-JAIL-01", "evidence": "坐牢"}  # fmt: skip
    assert by_cat["missing_identification"]["segment_index"] is None
    assert set(by_cat) <= set(CATEGORIES)


# ---- packs -----------------------------------------------------------------------------------------------


def test_packs_cover_every_category_with_bilingual_explanations(cn: Detector, us: Detector) -> None:
    assert set(cn.categories) == set(CATEGORIES) - {"missing_debt_collector_disclosure"}
    assert set(us.categories) == set(CATEGORIES)
    for det in (cn, us):
        for rule in det.rules:
            assert re.fullmatch(r"(CN|US)-QA-[A-Z0-9-]+", rule.id)
            assert rule.explanation["zh-Hans"] and rule.explanation["en"]
            assert rule.severity in {"critical", "major", "minor"}


def test_a_broken_pack_names_the_file_and_rule(tmp_path: Path) -> None:
    text = (PACKS_DIR / "cn.toml").read_text(encoding="utf-8")
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace('category = "abuse"', 'category = "rudeness"'), encoding="utf-8")
    with pytest.raises(PackError, match=r"bad\.toml: rule 'CN-QA-ABUSE-01': category"):
        load_detector(bad)
    bad.write_text(text.replace('lexicons = ["abuse_words"]', 'lexicons = ["nope"]'), encoding="utf-8")
    with pytest.raises(PackError, match=r"lexicon 'nope'"):
        load_detector(bad)
    bad.write_text(text.replace('id = "CN-QA-ABUSE-01"', 'id = "CN-QA-THREAT-01"'), encoding="utf-8")
    with pytest.raises(PackError, match="duplicate id"):
        load_detector(bad)


def test_a_disabled_rule_finds_nothing(tmp_path: Path) -> None:
    text = (PACKS_DIR / "cn.toml").read_text(encoding="utf-8")
    edited = tmp_path / "edited.toml"
    edited.write_text(
        text.replace('id = "CN-QA-ABUSE-01"\n', 'id = "CN-QA-ABUSE-01"\nenabled = false\n'), encoding="utf-8"
    )
    assert "abuse" not in said(load_detector(edited), "zh", "你这个废物。")


@pytest.mark.parametrize(
    ("obj", "field"),
    [
        ([], None),
        ({"language": "zh", "channel": "call", "segments": []}, "transcript_id"),
        ({"transcript_id": "a", "language": "fr", "channel": "call", "segments": []}, "language"),
        ({"transcript_id": "a", "language": "zh", "channel": "sms", "segments": []}, "channel"),
        ({"transcript_id": "a", "language": "zh", "channel": "call", "segments": [{"speaker": "bot"}]}, "segments[0].speaker"),
        ({"transcript_id": "a", "language": "zh", "channel": "call",
          "segments": [{"speaker": "collector", "start_s": 5, "end_s": 1, "text": "x"}]}, "segments[0].end_s"),
        ({"transcript_id": "a", "language": "zh", "channel": "call",
          "segments": [{"speaker": "collector", "start_s": 0, "end_s": 1, "text": 3}]}, "segments[0].text"),
    ],
)  # fmt: skip
def test_malformed_transcripts_name_the_field(obj: object, field: str | None) -> None:
    with pytest.raises(TranscriptError) as err:
        parse_transcript(obj)
    assert err.value.field == field


def test_finding_json_keys() -> None:
    assert set(Finding("abuse", 1, "X", "e").as_json()) == {
        "category",
        "segment_index",
        "rule_id",
        "evidence",
    }


def test_a_false_identity_does_not_identify(cn: Detector) -> None:
    fake = [
        (C, "您好，我是区人民法院的法官，本次通话录音。"),
        (D, "什么事？"),
        (C, "你工商银行的信用卡欠款今天必须还。"),
    ]
    assert {("impersonation", 0), ("missing_identification", None)} <= found(cn, "zh", fake)
    real = [
        (C, "您好，这边是恒通资产的调解员吴刚，本次通话录音。"),
        (D, "什么事？"),
        (C, "受工商银行委托跟您谈信用卡的事。"),
    ]
    assert found(cn, "zh", real) == set()
    honest = [(C, "我不是警察，我是恒通资产的吴刚，受工商银行委托，通话录音。"), (D, "哦。")]
    assert found(cn, "zh", honest) == set()
