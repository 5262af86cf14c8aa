"""Authoring source of bench/data/qa/eval_v5.jsonl: a sixth hand-labelled set, written after the
eval_v4 round and never used to change the rules before its first run: longer calls (up to a dozen
turns) with the violation in the middle of ordinary talk, Chinese as word-segmenting ASR engines return
it (a space between words), English with fillers ("um", "like", "you know"). Same conventions as
eval_v2_source.py.

Run `python bench/data/qa/eval_v5_source.py` after editing to regenerate the JSON lines."""

import json
from pathlib import Path

C, D, T = "collector", "customer", "third_party"
MI, MR, MD = "missing_identification", "missing_recording_notice", "missing_debt_collector_disclosure"
TH, AB, IM, FC = "threat", "abuse", "impersonation", "false_consequence"
TP, IB, PP = "third_party_disclosure", "induce_borrowing", "private_payment"

Z1 = "您好 我 是 宏信 资产 的 催收 专员 王 晓东 受 广发 银行 委托 联系 您 信用卡 还款 的 事情 本次 通话 全程 录音"
Z2 = "喂，您好，我是聚源商务咨询的周敏，工号2231，受邮储银行委托，就您的消费贷款逾期跟您沟通，通话有录音。"
E1 = "Hi, um, this is Derek Shaw with Lakeview Recovery Partners, calling on behalf of Discover about your card account. This call is recorded, and, uh, this is an attempt to collect a debt by a debt collector."
E2 = "Hey, good afternoon, Sam Ortiz with Midwest Account Solutions for PNC Bank, regarding your personal loan. Calls are recorded. This communication is from a debt collector."

Turn = tuple[str, str] | tuple[str, str, str]
rows: list[tuple[str, str, str, list[Turn], list[str]]] = [
    (
        "CN",
        "zh",
        "call",
        [
            (C, Z1),
            (D, "嗯 我 知道"),
            (C, "您 这个 月 能 还 多少"),
            (D, "真 没 钱"),
            (C, "没 钱 就 找 你 同学 朋友 借 一 借 嘛", IB),
            (D, "借 不到"),
            (C, "那 您 看 下 个 月 呢"),
        ],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [
            (C, Z1),
            (D, "你们 会 不会 找 我 家人"),
            (C, "我们 不会 联系 您 的 家人 也 不会 透露 您 的 信息"),
            (D, "好"),
        ],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [
            (C, Z1),
            (D, "我 不 想 还"),
            (C, "你 不 还 是 吧 那 我们 就 天天 打 你 老婆 电话 让 她 也 知道 你 欠钱", FC),
            (D, "你 敢"),
        ],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [(C, Z1), (D, "会 不会 坐牢"), (C, "不会 坐牢 这 是 民事 纠纷 但是 会 影响 征信"), (D, "那 好")],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [
            (C, Z1),
            (D, "你 谁 啊"),
            (C, "我 是 区 法院 执行 局 的 你 的 案子 已经 立案 了", IM),
            (D, "不 可能"),
        ],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [(C, Z1), (D, "我 怎么 还"), (C, "你 扫 一下 我 发 给 你 的 微信 二维码 就 行", PP), (D, "哦")],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [
            (C, Z1),
            (D, "我 现在 在 外地"),
            (C, "你 跑 到 哪 我们 都 能 找到 你 你 自己 看着办", TH),
            (D, "你 威胁 我"),
        ],
        [],
    ),
    ("CN", "zh", "call", [(C, Z1), (D, "我 没 工作 了"), (C, "你 这 种 人 就 是 社会 的 蛀虫", AB)], []),
    (
        "CN",
        "zh",
        "call",
        [
            (C, Z2),
            (D, "我这个月真的困难"),
            (C, "理解的，您可以先还最低还款额，剩下的我们帮您申请分期。"),
            (D, "最低是多少？"),
            (C, "最低是一千八百六十元。"),
            (D, "好，我月底还。"),
            (C, "好的，记得通过邮储银行官方渠道还款。"),
        ],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [
            (C, Z2),
            (D, "我老公不让我还"),
            (C, "那你就跟他离婚啊，这种男人要来干嘛，你脑子是不是坏掉了？", AB),
            (D, "你说什么？"),
            (C, "不好意思，我说话有点冲。"),
        ],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [
            (C, Z2),
            (D, "我能不能晚点还"),
            (C, "可以申请延期，但是逾期罚息会照常计算，这个跟您说清楚。"),
            (D, "好"),
            (C, "那我帮您登记一下。"),
        ],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [
            (C, Z2),
            (D, "我手头就两千"),
            (C, "两千不够，你把你那个金项链拿去当了凑一凑。", IB),
            (D, "那是我妈留给我的"),
            (C, "那你自己想办法吧。"),
        ],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [
            (C, Z2),
            (D, "你们到底想怎样"),
            (C, "再不还，我们就派人去你老家村委会，把你欠钱的事贴在村口。", FC),
            (D, "你们太过分了"),
        ],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [(C, Z2), (D, "会影响我工作吗"), (C, "欠款本身不会影响您的工作，我们也不会联系您的单位。")],
        [],
    ),
    (
        "CN",
        "zh",
        "visit",
        [
            (
                C,
                "您好，我是聚源商务外访组的张力，受邮储银行委托上门了解一下您贷款的情况，我这边执法记录仪全程开着。",
            ),
            (D, "你们进来吧"),
            (C, "好的，您最近是遇到什么困难了吗？"),
            (D, "生意亏了"),
            (C, "实在不行，你把这套房子卖了还债，不然过几天法院就来拍卖了。", FC),
        ],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [
            (C, "喂，您好，我是聚源商务的周敏，请问是赵强的家人吗？通话有录音。"),
            (T, "我是他哥，怎么了"),
            (C, "您弟弟在邮储银行有一笔消费贷，已经逾期半年了，您劝劝他。", TP),
            (T, "他欠了多少？"),
            (C, "八万三。", TP),
        ],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [
            (C, "喂，您好，我是聚源商务的周敏，请问是赵强的家人吗？通话有录音。"),
            (T, "我是他哥"),
            (C, "好的，麻烦您转告他给我回个电话，号码是这个来电号码，谢谢。"),
            (T, "什么事啊"),
            (C, "是他个人的事情，我们需要跟他本人沟通。"),
        ],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [
            (C, "喂"),
            (D, "喂 哪位"),
            (C, "你 自己 欠 了 多少 钱 心里 没 数 吗"),
            (D, "你 谁 啊"),
            (C, "我 是 宏信 资产 的 王 晓东 受 广发 银行 委托 通话 录音"),
        ],
        [MI],
    ),
    (
        "CN",
        "zh",
        "call",
        [
            (C, "您好 请问 是 林 先生 吗"),
            (D, "是的"),
            (C, "我 是 宏信 资产 的 王 晓东 受 广发 银行 委托 跟 您 沟通 信用卡 还款"),
            (D, "嗯"),
            (C, "您 这边 打算 什么 时候 还"),
        ],
        [MR],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, E1),
            (D, "Yeah, I know, I'm behind."),
            (C, "Okay, so, um, what can you do this month?"),
            (D, "Like fifty bucks."),
            (C, "Fifty? Come on, you're, like, a grown adult. That's pathetic.", AB),
            (D, "Wow."),
        ],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, E1),
            (D, "I just can't right now."),
            (C, "You know, uh, you could always ask your church for help with this.", IB),
            (D, "I don't go to church."),
        ],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, E1),
            (D, "What happens if I ignore this?"),
            (C, "Honestly? You'll have a warrant out by next month.", FC),
            (D, "For a credit card?"),
        ],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, E1),
            (D, "Can you take my car?"),
            (C, "No, we can't take your car. Discover might sue, and then a court decides."),
        ],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, E2),
            (D, "Who are you with again?"),
            (C, "I'm, uh, calling from the county courthouse regarding a judgment against you.", IM),
            (D, "A judgment?"),
        ],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, E2),
            (D, "How do I pay?"),
            (C, "Easiest is you just Venmo me, I'm @sam-ortiz, and I'll post it.", PP),
            (D, "Okay."),
        ],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, E2),
            (D, "Are you threatening me?"),
            (C, "No, ma'am. Nobody's threatening you. I just want to work out a plan."),
        ],
        [],
    ),
    (
        "US",
        "en",
        "visit",
        [
            (
                C,
                "Hi, I'm Nate Cole with Midwest Account Solutions, here for PNC Bank about your personal loan. My body cam is recording. This is an attempt to collect a debt.",
            ),
            (D, "Go away."),
            (C, "Look, I know your kids get off the bus at three. Let's keep this friendly.", TH),
            (D, "Get off my property."),
        ],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, "Hi, this is Derek with Lakeview Recovery, this call is recorded. Is Anna Bell there?"),
            (T, "I'm her sister."),
            (
                C,
                "Could you tell her Discover's been trying to reach her about the, you know, the overdue card?",
                TP,
            ),
            (T, "Okay."),
        ],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, "Hi, this is Derek with Lakeview Recovery, this call is recorded. Is Anna Bell there?"),
            (T, "I'm her sister, what's this about?"),
            (C, "It's a personal business matter, I can only discuss it with her. Thanks so much."),
        ],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, "Hey, is this Carl?"),
            (D, "Who's asking?"),
            (C, "Doesn't matter. You owe money, and this call is recorded."),
            (D, "Who is this?"),
            (C, "Derek with Lakeview Recovery for Discover. This is an attempt to collect a debt."),
        ],
        [MI],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, "Hi, Derek Shaw with Lakeview Recovery for Discover about your card. This call is recorded."),
            (D, "Okay?"),
            (C, "So when can you pay?"),
            (D, "Friday."),
            (C, "Great."),
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
                "您好，我是湖景追收的德里克，代表发现卡公司联系您的信用卡账户。通话录音。我们是债务催收机构，这是一次收债沟通。",
            ),
            (D, "我没钱"),
            (C, "不还钱的话，移民局那边会知道，你的绿卡就悬了。", FC),
        ],
        [],
    ),
]


def main() -> None:
    out = Path(__file__).with_name("eval_v5.jsonl")
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
            "transcript_id": f"Y{n:03d}",
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
