"""Authoring source of bench/data/qa/eval_v4.jsonl: a fifth hand-labelled set, written after the
rules were generalised on eval_v2 and eval_v3 and never used to change them: speech as an ASR engine
returns it (Chinese without punctuation, fillers such as 嗯 那个 就是, English in lower case without
apostrophes), Taiwanese usage, and fresh phrasing. Same conventions as eval_v2_source.py.

Run `python bench/data/qa/eval_v4_source.py` after editing to regenerate the JSON lines."""

import json
from pathlib import Path

C, D, T = "collector", "customer", "third_party"
MI, MR, MD = "missing_identification", "missing_recording_notice", "missing_debt_collector_disclosure"
TH, AB, IM, FC = "threat", "abuse", "impersonation", "false_consequence"
TP, IB, PP = "third_party_disclosure", "induce_borrowing", "private_payment"

Z1 = "喂你好 我这边是瑞丰资产的 我姓冯 就是受那个民生银行委托 跟你说一下你信用卡逾期的事情 这个电话是有录音的"
Z2 = "您好 我是安和信息咨询公司的催收员李娜 工号6678 代表浙商银行联系您 关于您贷款还款的事 通话全程录音"
Z3 = "你好喔 我是台新资产管理的专员陈志明 受台新银行委托跟你联络信用卡欠款的事 本通电话会录音"
E1 = "hi this is jake with summit recovery services calling for chase about your credit card this call is being recorded this is an attempt to collect a debt and any information obtained will be used for that purpose"
E2 = "Hello, Maria Lopez here from Bayview Collections, on behalf of US Bank, about your overdue loan. Heads up: this call's recorded. We're a debt collector."

Turn = tuple[str, str] | tuple[str, str, str]
rows: list[tuple[str, str, str, list[Turn], list[str]]] = [
    ("CN", "zh", "call", [(C, Z1), (D, "嗯"), (C, "你要是今天不还我们就去你单位找你领导说这个事", FC)], []),
    ("CN", "zh", "call", [(C, Z2), (D, "我没钱"), (C, "那个 你信不信 我们明天就带人去你家门口等你", TH)], []),
    ("CN", "zh", "call", [(C, Z1), (D, "你是警察吗"), (C, "我们不是警察也不是法院就是提醒您还款")], []),
    ("CN", "zh", "call", [(C, Z2), (D, "会坐牢吗"), (C, "这个不会坐牢的 欠款是民事纠纷 您放心")], []),
    (
        "CN",
        "zh",
        "call",
        [(C, Z1), (D, "嗯嗯"), (C, "就是 你这个已经上了征信了 以后贷款买房都会受影响 这个是如实告诉你")],
        [],
    ),
    ("CN", "zh", "call", [(C, Z2), (D, "我还不上"), (C, "还不上就去借啊 网上那么多平台随便借一个", IB)], []),
    ("CN", "zh", "call", [(C, Z1), (D, "我转给谁"), (C, "你就转我卡上 我这边帮你操作", PP)], []),
    (
        "CN",
        "zh",
        "call",
        [(C, Z2), (D, "我想先还一点"), (C, "好的 您通过浙商银行App或者柜台还款就可以 不要转给任何个人")],
        [],
    ),
    ("CN", "zh", "call", [(C, Z1), (D, "你们烦死了"), (C, "你这种不要脸的人我见多了", AB)], []),
    ("CN", "zh", "call", [(C, Z2), (D, "你说话客气点"), (C, "嗯 不好意思 刚才语气不太好 我们好好沟通")], []),
    (
        "CN",
        "zh",
        "call",
        [(C, Z1), (D, "你到底是谁"), (C, "我是市公安局的 你这个案子我们已经在查了", IM)],
        [],
    ),
    ("CN", "zh", "call", [(C, Z2), (D, "你们是律师吗"), (C, "我们不是律所 是受银行委托的催收公司")], []),
    ("CN", "zh", "call", [(C, Z1), (D, "要是不还呢"), (C, "不还的话 下周法院直接把你房子封了", FC)], []),
    ("CN", "zh", "call", [(C, Z2), (D, "跟我孩子有关系吗"), (C, "你儿子以后考公肯定过不了政审", FC)], []),
    ("CN", "zh", "call", [(C, Z1), (D, "随便你们"), (C, "行 那我们就把你的照片发到你们小区业主群", FC)], []),
    (
        "CN",
        "zh",
        "call",
        [(C, Z2), (D, "罚息怎么算"), (C, "罚息是按照合同约定的利率计算的 逾期越久金额越多")],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [(C, Z1), (D, "银行会告我吗"), (C, "如果一直不还 银行是有权利依法起诉的 到时候以法院判决为准")],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [
            (C, "喂 你好 我是瑞丰资产的小冯 找一下李强 电话有录音"),
            (T, "我是他媳妇 啥事"),
            (C, "他信用卡欠了四万多一直不还 你让他赶紧处理", TP),
        ],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [
            (C, "喂 你好 我是瑞丰资产的小冯 找一下李强 电话有录音"),
            (T, "他不在 我是他媳妇"),
            (C, "好的 那麻烦您让他方便的时候回个电话 谢谢"),
        ],
        [],
    ),
    (
        "CN",
        "zh",
        "visit",
        [
            (C, "你好 我是安和咨询的外访员老赵 找一下住五楼的刘峰 我这开着记录仪"),
            (T, "我是楼下邻居"),
            (C, "他欠银行钱好几个月了 你知道他去哪了吗", TP),
        ],
        [],
    ),
    ("CN", "zh", "call", [(C, "喂 是刘峰吗"), (D, "是 谁啊"), (C, "你啥时候还钱 电话录音了")], [MI]),
    (
        "CN",
        "zh",
        "call",
        [
            (C, "喂 是刘峰吗 电话录音"),
            (D, "是 谁啊"),
            (C, "我是安和咨询的老赵 代表浙商银行找你说一下欠款的事"),
        ],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [
            (C, "您好 我是瑞丰资产的冯专员 受民生银行委托联系您信用卡的事"),
            (D, "嗯"),
            (C, "您这个月能还多少"),
            (D, "一千"),
            (C, "好的"),
        ],
        [MR],
    ),
    ("CN", "zh", "call", [(C, Z3), (D, "我最近沒錢"), (C, "你再不還錢 我們就找人去你家堵你喔", TH)], []),
    ("CN", "zh", "call", [(C, Z3), (D, "要怎麼還"), (C, "你直接匯到我個人的帳戶就好", PP)], []),
    ("CN", "zh", "call", [(C, Z3), (D, "會被抓嗎"), (C, "不會啦 這是民事的 不會被抓")], []),
    ("CN", "zh", "call", [(C, Z3), (D, "我真的沒辦法"), (C, "你去跟你爸媽借一下先還啦", IB)], []),
    (
        "CN",
        "zh",
        "visit",
        [
            (C, "您好 我是安和咨询外访专员赵刚 受浙商银行委托上门跟您沟通贷款还款 现场全程录像"),
            (D, "家里就这些东西"),
            (C, "那我们现在就把你这电视冰箱搬走抵债", FC),
        ],
        [],
    ),
    (
        "CN",
        "zh",
        "visit",
        [
            (C, "您好 我是安和咨询外访专员赵刚 受浙商银行委托上门跟您沟通贷款还款 现场全程录像"),
            (D, "我给你现金吧"),
            (C, "我们不收现金 您通过银行渠道还款 会有正式的还款凭证"),
        ],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, E1),
            (D, "i cant pay"),
            (C, "if you dont pay today were gonna have the sheriff come pick you up", FC),
        ],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [(C, E1), (D, "whatever man"), (C, "you know what youre a real piece of work", AB)],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [(C, E1), (D, "are you a cop"), (C, "no im not a cop im with a collection agency")],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [(C, E1), (D, "i dont have it"), (C, "just borrow it from your mom and pay us today", IB)],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [(C, E1), (D, "how do i pay"), (C, "send it to my cashapp and ill take care of it", PP)],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, E1),
            (D, "what happens if i dont"),
            (C, "the creditor might sue and if they win they could garnish wages as allowed by law"),
        ],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, E2),
            (D, "I'm not paying."),
            (C, "Then maybe your neighbors should hear about how you don't pay your bills.", FC),
        ],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, E2),
            (D, "Who are you really?"),
            (C, "Ma'am, I'm a federal officer and this is now a federal matter.", IM),
        ],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, E2),
            (D, "I'll be there."),
            (C, "Good, because you don't want us showing up at your place with the boys.", TH),
        ],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [(C, E2), (D, "Will this affect my kids?"), (C, "No, your kids aren't affected by this at all.")],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, E2),
            (D, "Can I pay you cash?"),
            (C, "No ma'am, please don't send cash to anyone; pay US Bank directly."),
        ],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, "Hi, this is Maria from Bayview, this call is recorded. Is Peter Grant there?"),
            (T, "He's my son, he's not home."),
            (C, "Okay, let him know he's three payments behind on his loan and it's serious.", TP),
        ],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, "Hi, this is Maria from Bayview, this call is recorded. Is Peter Grant there?"),
            (T, "He's my son, he's not home."),
            (C, "Thank you, could you ask him to call Maria at 555-0199? It's a business matter."),
        ],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, "hi is this peter"),
            (D, "yeah"),
            (C, "this call is recorded you owe money and we need it today"),
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
                "Hello, Maria Lopez here from Bayview Collections, on behalf of US Bank, about your overdue loan. We're a debt collector.",
            ),
            (D, "Okay."),
            (C, "Can you pay something today?"),
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
                "Hello, Maria Lopez here from Bayview Collections, on behalf of US Bank, about your overdue loan. This call's recorded.",
            ),
            (D, "Okay."),
            (C, "Can you pay something today?"),
        ],
        [MD],
    ),
]


def main() -> None:
    out = Path(__file__).with_name("eval_v4.jsonl")
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
            "transcript_id": f"X{n:03d}",
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
