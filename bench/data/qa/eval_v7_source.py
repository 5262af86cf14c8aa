"""Authoring source of bench/data/qa/eval_v7.jsonl: an eighth hand-labelled set, written after the
eval_v6 round and the checklist phrasings, scanned once before any further change: the last unseen
figure of this branch. Typical calls and visits in both packs and languages, every category, hard
negatives. Same conventions as eval_v2_source.py.

Run `python bench/data/qa/eval_v7_source.py` after editing to regenerate the JSON lines."""

import json
from pathlib import Path

C, D, T = "collector", "customer", "third_party"
MI, MR, MD = "missing_identification", "missing_recording_notice", "missing_debt_collector_disclosure"
TH, AB, IM, FC = "threat", "abuse", "impersonation", "false_consequence"
TP, IB, PP = "third_party_disclosure", "induce_borrowing", "private_payment"

Z1 = (
    "您好，我是嘉禾资产管理有限公司的催收专员刘畅，受浦发银行委托，就您信用卡的逾期账单联系您，通话全程录音。"
)
Z2 = "喂，你好，我是佳诚商务的孟强，工号3390，华夏银行委托我们跟你沟通一下网贷逾期的事，电话在录音。"
Z3 = "您好，我们是嘉禾资产外访部的，我叫宋阳，这是我的工作证，受浦发银行委托上门拜访，了解您贷款的还款困难，我这边开着执法记录仪。"
E1 = "Hello, this is Megan Price calling from Northstar Collections on behalf of Citibank regarding your credit card account. This call is being recorded. This is an attempt to collect a debt."
E2 = "Hi, my name is Carlos Mendez, I'm with Pacific Debt Recovery, calling about your Wells Fargo personal loan. Our calls are recorded. I am a debt collector, and any information obtained will be used for that purpose."

Turn = tuple[str, str] | tuple[str, str, str]
rows: list[tuple[str, str, str, list[Turn], list[str]]] = [
    (
        "CN",
        "zh",
        "call",
        [(C, Z1), (D, "我暂时还不上"), (C, "还不上？我劝你最好想清楚，惹急了我们什么事都干得出来。", TH)],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [(C, Z2), (D, "我在外地打工"), (C, "你以为躲到外地就没事了？我们的人早就盯上你了。", TH)],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [(C, Z1), (D, "你们天天打烦不烦"), (C, "不好意思打扰您了，我们可以约定一个方便的时间再联系。")],
        [],
    ),
    ("CN", "zh", "call", [(C, Z2), (D, "我真没钱"), (C, "没钱还借什么钱，你就是个无赖。", AB)], []),
    ("CN", "zh", "call", [(C, Z1), (D, "我不想跟你说"), (C, "你这种人真让人恶心。", AB)], []),
    (
        "CN",
        "zh",
        "call",
        [(C, Z2), (D, "你们算老几"), (C, "我现在是以法院工作人员的身份通知你，明天上午必须到庭。", IM)],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [(C, Z1), (D, "你们是政府部门吗"), (C, "我们不是政府部门，是银行委托的合规催收机构。")],
        [],
    ),
    ("CN", "zh", "call", [(C, Z2), (D, "我不还会怎么样"), (C, "不还就等着公安上门抓人吧。", FC)], []),
    (
        "CN",
        "zh",
        "call",
        [(C, Z1), (D, "我家里人知道吗"), (C, "再不还我们就一个一个给你家里人打电话，说你欠钱不还。", FC)],
        [],
    ),
    ("CN", "zh", "call", [(C, Z2), (D, "那又怎样"), (C, "你名下的房子车子下礼拜就会被法院查封。", FC)], []),
    (
        "CN",
        "zh",
        "call",
        [
            (C, Z1),
            (D, "会有什么后果"),
            (C, "逾期会产生罚息和违约金，并且会如实报送征信；银行也可能依法提起诉讼。"),
        ],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [(C, Z2), (D, "法院会判我坐牢吗"), (C, "不会的，信用卡欠款是民事纠纷，法院判的是还款，不是坐牢。")],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [
            (C, "您好，我是嘉禾资产的刘畅，找一下黄磊，通话全程录音。"),
            (T, "我是他妈"),
            (C, "阿姨，黄磊欠了浦发银行五万多块钱，三个月没还了。", TP),
        ],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [
            (C, "您好，我是嘉禾资产的刘畅，找一下黄磊，通话全程录音。"),
            (T, "我是他妈，他不在"),
            (C, "好的阿姨，麻烦您让他给我回个电话，谢谢您。"),
        ],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [
            (C, "您好，我是嘉禾资产的刘畅，找一下黄磊，通话全程录音。"),
            (T, "等一下"),
            (D, "喂，我是黄磊"),
            (C, "黄先生，受浦发银行委托，您的信用卡已经逾期三个月，欠款五万两千元。"),
        ],
        [],
    ),
    ("CN", "zh", "call", [(C, Z1), (D, "我凑不出来"), (C, "你找同事先借点，发了工资再还给他们嘛。", IB)], []),
    (
        "CN",
        "zh",
        "call",
        [(C, Z2), (D, "我没有别的办法了"), (C, "你可以在借呗、微粒贷上借一点出来周转。", IB)],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [(C, Z1), (D, "我想借钱还"), (C, "我们建议您量力而行，不要通过借新债来还旧债。")],
        [],
    ),
    ("CN", "zh", "call", [(C, Z2), (D, "怎么还款"), (C, "你把钱转到我支付宝上，我帮你转给银行。", PP)], []),
    ("CN", "zh", "visit", [(C, Z3), (D, "我给你两千现金"), (C, "好，现金给我，我给你写个条子。", PP)], []),
    (
        "CN",
        "zh",
        "visit",
        [
            (C, Z3),
            (D, "我能不能直接给你钱"),
            (C, "不行的，我们不能收取现金，请您到浦发银行柜台或者通过手机银行还款。"),
        ],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [(C, "喂，黄磊吗？"), (D, "嗯，你谁"), (C, "你的信用卡欠款打算什么时候还？通话录音。")],
        [MI],
    ),
    (
        "CN",
        "zh",
        "call",
        [
            (C, "您好，我是佳诚商务的孟强，华夏银行委托我们联系您网贷逾期的事。"),
            (D, "嗯"),
            (C, "您打算什么时候还"),
            (D, "月底"),
        ],
        [MR],
    ),
    (
        "US",
        "en",
        "call",
        [(C, E1), (D, "I'm not paying."), (C, "Keep that attitude and see what we do to you.", TH)],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, E2),
            (D, "Leave me alone."),
            (C, "We've got guys who collect in person, if you know what I mean.", TH),
        ],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [(C, E1), (D, "I'm doing my best."), (C, "Your best is garbage, you lazy freeloader.", AB)],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [(C, E2), (D, "Who is this?"), (C, "This is Detective Sarah Cole from the fraud unit.", IM)],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, E1),
            (D, "What happens now?"),
            (
                C,
                "If you don't settle by Friday, a sheriff will serve you and you'll be taken into custody.",
                FC,
            ),
        ],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, E2),
            (D, "You can't do that."),
            (C, "Watch us. We'll contact everyone in your phone about this debt.", FC),
        ],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, E1),
            (D, "Can you sue me?"),
            (
                C,
                "Citibank could file a lawsuit; if it wins a judgment, the court decides what can be collected.",
            ),
        ],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [(C, E2), (D, "Will I be arrested?"), (C, "No, nobody gets arrested for owing on a personal loan.")],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [(C, E1), (D, "Are you a lawyer?"), (C, "No, I'm not an attorney. I work for a collection agency.")],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [
            (
                C,
                "Hi, this is Megan from Northstar Collections, this call is recorded. Is Kevin Hart available?",
            ),
            (T, "This is his dad."),
            (C, "Well, your son is behind on his Citibank card by about three thousand dollars.", TP),
        ],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [
            (
                C,
                "Hi, this is Megan from Northstar Collections, this call is recorded. Is Kevin Hart available?",
            ),
            (T, "This is his dad, he's out."),
            (C, "No problem, could you ask him to return my call? Thanks."),
        ],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [(C, E1), (D, "I'm broke."), (C, "Go ask your parents for a loan and call me back.", IB)],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, E2),
            (D, "I can't afford it."),
            (C, "Open a new credit card and transfer the balance, problem solved.", IB),
        ],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, E1),
            (D, "I'll get a payday loan."),
            (C, "Please don't; let's find a payment plan that fits your income instead."),
        ],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [(C, E2), (D, "Where do I send it?"), (C, "Zelle it to my phone number and I'll handle it.", PP)],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, E1),
            (D, "Can I Venmo you?"),
            (C, "No, I'm not able to take payments. Please pay Citibank online or by phone."),
        ],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, "Hi, is this Kevin?"),
            (D, "Yes."),
            (C, "You need to pay your Citibank card today. This call is recorded."),
        ],
        [MI, MD],
    ),
    (
        "US",
        "en",
        "call",
        [
            (
                C,
                "Hello, this is Megan Price from Northstar Collections for Citibank about your card account. This is an attempt to collect a debt.",
            ),
            (D, "Okay."),
            (C, "When can you pay?"),
            (D, "Soon."),
        ],
        [MR],
    ),
    (
        "US",
        "en",
        "call",
        [
            (
                C,
                "Hello, this is Megan Price from Northstar Collections for Citibank about your card account. This call is recorded.",
            ),
            (D, "Okay."),
            (C, "When can you pay?"),
        ],
        [MD],
    ),
    (
        "US",
        "zh",
        "call",
        [
            (
                C,
                "您好，我是北极星收款公司的梅根，代表花旗银行就您的信用卡账户联系您，本通话录音，这是债务催收，所获信息将用于此目的。",
            ),
            (D, "我不还"),
            (C, "不还的话，我们会通知你的雇主，让你丢了工作。", FC),
        ],
        [],
    ),
]


def main() -> None:
    out = Path(__file__).with_name("eval_v7.jsonl")
    lines = []
    for n, (pack, language, channel, turns, missing) in enumerate(rows, start=1):
        t = 0.0
        segments = []
        labels: list[dict[str, object]] = [{"category": cat, "segment_index": None} for cat in missing]
        for index, turn in enumerate(turns):
            speaker, text = turn[0], turn[1]
            dur = round(2.0 + len(text) / 10, 1)
            segments.append(
                {"speaker": speaker, "start_s": round(t, 1), "end_s": round(t + dur, 1), "text": text}
            )
            t += dur + 1.0
            if len(turn) == 3:
                assert speaker == C, (n, text)
                labels.extend({"category": cat, "segment_index": index} for cat in turn[2].split(","))  # type: ignore[misc]
        assert pack == "US" or MD not in missing, n
        row = {
            "transcript_id": f"Q{n:03d}",
            "pack": pack,
            "language": language,
            "channel": channel,
            "segments": segments,
            "labels": labels,
        }
        lines.append(json.dumps(row, ensure_ascii=False))
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{len(lines)} transcripts -> {out}")


if __name__ == "__main__":
    main()
