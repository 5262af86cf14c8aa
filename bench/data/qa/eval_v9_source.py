"""Authoring source of bench/data/qa/eval_v9.jsonl: a tenth hand-labelled set, written after the
eval_v8 round, again from the issue's category definitions and examples in fresh wording (other
agencies, openings and sentences than eval_v8), and scanned once before any further change: the
branch's last unseen figure. Same conventions as eval_v2_source.py.

Run `python bench/data/qa/eval_v9_source.py` after editing to regenerate the JSON lines."""

import json
from pathlib import Path

C, D, T = "collector", "customer", "third_party"
MI, MR, MD = "missing_identification", "missing_recording_notice", "missing_debt_collector_disclosure"
TH, AB, IM, FC = "threat", "abuse", "impersonation", "false_consequence"
TP, IB, PP = "third_party_disclosure", "induce_borrowing", "private_payment"

Y1 = "喂您好，这里是鼎盛资产管理有限公司，我是调解员赵敏，受平安银行委托，联系您关于信用卡欠款的事宜，通话会录音。"
Y2 = "您好，我是华融信催收中心的工作人员孙浩，受农业银行委托就您的消费贷逾期跟您联系，本次通话全程录音。"
Y3 = "您好，我是鼎盛资产的外访员周涛，受平安银行委托上门，这是我的工牌，我们佩戴了记录仪，全程录音。"
F1 = "Hello, may I speak with Jennifer Lopez? My name is Tom Baker and I'm calling from Keystone Recovery Group on behalf of Discover regarding your account. Please note this call is recorded. This is an attempt to collect a debt, and any information obtained will be used for that purpose."
F2 = "Hi, this is Rachel from Liberty Credit Services, calling about your Synchrony Bank store card. This call is monitored and recorded. I'm required to tell you this is a communication from a debt collector attempting to collect a debt; any information obtained will be used for that purpose."

Turn = tuple[str, str] | tuple[str, str, str]
rows: list[tuple[str, str, str, list[Turn], list[str]]] = [
    # -- CN threat
    (
        "CN",
        "zh",
        "call",
        [(C, Y1), (D, "我就是不还"), (C, "你要是敢不还，我保证你下半辈子都不好过。", TH)],
        [],
    ),
    ("CN", "zh", "call", [(C, Y2), (D, "你能把我怎么样"), (C, "别逼我们动手。", TH)], []),
    (
        "CN",
        "zh",
        "call",
        [(C, Y1), (D, "我没钱"), (C, "你儿子在实验小学读三年级吧？放学路上可得看好了。", TH)],
        [],
    ),
    ("CN", "zh", "call", [(C, Y2), (D, "别打了"), (C, "再躲着不接电话，我们就上门把你家砸了。", TH)], []),
    ("CN", "zh", "visit", [(C, Y3), (D, "我真拿不出来"), (C, "我劝你识相点，不然有你受的。", TH)], []),
    ("CN", "zh", "call", [(C, Y1), (D, "这周不方便"), (C, "好的，您要是这周不方便，下周我再联系您。")], []),
    ("CN", "zh", "call", [(C, Y2), (D, "你再打电话我就报警"), (C, "您可以报警，我们是合法合规的催收。")], []),
    # -- CN abuse
    ("CN", "zh", "call", [(C, Y1), (D, "关我什么事"), (C, "你个不要脸的东西。", AB)], []),
    ("CN", "zh", "call", [(C, Y2), (D, "我不明白"), (C, "蠢得要死，听不懂人话吗？", AB)], []),
    ("CN", "zh", "call", [(C, Y1), (D, "我不还了"), (C, "你就是个人渣。", AB)], []),
    ("CN", "zh", "call", [(C, Y2), (D, "你们这帮吸血鬼"), (C, "请您不要骂人，我们好好沟通。")], []),
    # -- CN impersonation
    ("CN", "zh", "call", [(C, Y1), (D, "你到底是谁"), (C, "我是派出所的民警，现在依法通知你还款。", IM)], []),
    (
        "CN",
        "zh",
        "call",
        [(C, Y2), (D, "你们凭什么催我"), (C, "我们是人民法院的，给你打电话是要你配合还款。", IM)],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [(C, Y1), (D, "你什么身份"), (C, "我是专门处理你这个案子的律师，正式通知你。", IM)],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [(C, Y2), (D, "你们是法院的吗"), (C, "我们不是法院的，也没有执法权，只是提醒您还款。")],
        [],
    ),
    ("CN", "zh", "call", [(C, Y1), (D, "会被起诉吗"), (C, "如果进入诉讼程序，法院会依法给您送达传票。")], []),
    # -- CN false consequence
    ("CN", "zh", "call", [(C, Y1), (D, "我不还"), (C, "不还钱的话，警察会来抓你，你要坐牢的。", FC)], []),
    ("CN", "zh", "call", [(C, Y2), (D, "我过几天还"), (C, "今天不还，明天法院就来把你的车拖走。", FC)], []),
    (
        "CN",
        "zh",
        "call",
        [(C, Y1), (D, "随你们"), (C, "那我们会通知你孩子的学校，到时候孩子别想上学了。", FC)],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [(C, Y2), (D, "无所谓"), (C, "我们会把你的欠款信息发到你所有微信好友那里。", FC)],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [(C, Y1), (D, "你吓唬谁"), (C, "我们会打电话给你们公司老板，告诉他你欠钱不还。", FC)],
        [],
    ),
    ("CN", "zh", "call", [(C, Y2), (D, "我就拖着"), (C, "你这属于恶意逃债，是要判刑的。", FC)], []),
    ("CN", "zh", "call", [(C, Y1), (D, "会上征信吗"), (C, "按照规定，逾期信息会报送人民银行征信中心。")], []),
    (
        "CN",
        "zh",
        "call",
        [(C, Y2), (D, "还有什么后果"), (C, "逾期会产生违约金，银行也可能通过诉讼追偿。")],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [(C, Y1), (D, "我会不会坐牢啊"), (C, "欠钱不还不会坐牢，您别担心，但请尽快处理。")],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [(C, Y1), (D, "你们会告诉我家里人吗"), (C, "我们不会告诉您的家人和同事，这是您的隐私。")],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [(C, Y2), (D, "不还会怎么样"), (C, "您不还的话，银行可能会依法起诉，到时候由法院判决。")],
        [],
    ),
    # -- CN third-party disclosure
    (
        "CN",
        "zh",
        "call",
        [
            (C, "您好，我是鼎盛资产的赵敏，请问王涛在吗？通话录音。"),
            (T, "他不在，我是他姐姐"),
            (C, "你弟弟欠了平安银行五万块钱，已经逾期半年了。", TP),
        ],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [
            (C, "您好，我是鼎盛资产的赵敏，找一下陈静，通话录音。"),
            (T, "我是她同事，她今天请假了"),
            (C, "那你跟她说一下，她信用卡欠了八千多没还。", TP),
        ],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [
            (C, "你好，我是华融信的孙浩，请问马超住这吗？本次通话录音。"),
            (T, "我是房东"),
            (C, "你的租客欠银行的钱，一直不还。", TP),
        ],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [
            (C, "您好，我是鼎盛资产的赵敏，请问王涛在吗？通话录音。"),
            (T, "我是他哥哥"),
            (C, "好的，麻烦您让他方便的时候回个电话，谢谢。"),
        ],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [
            (C, "您好，我是鼎盛资产的赵敏，找一下陈静，通话录音。"),
            (T, "她是不是欠钱了？"),
            (C, "不好意思，涉及个人隐私，我们不方便透露。"),
        ],
        [],
    ),
    # -- CN induce borrowing
    ("CN", "zh", "call", [(C, Y1), (D, "这期还不上"), (C, "你可以先找朋友周转一下，把这期还上。", IB)], []),
    ("CN", "zh", "call", [(C, Y2), (D, "我没有钱"), (C, "借呗、微粒贷都可以借出来还嘛。", IB)], []),
    ("CN", "zh", "call", [(C, Y1), (D, "我实在拿不出来"), (C, "你让你爸妈先帮你垫上。", IB)], []),
    ("CN", "zh", "call", [(C, Y2), (D, "我太难了"), (C, "如果实在困难，可以和银行协商减免或者延期。")], []),
    # -- CN private payment
    ("CN", "zh", "call", [(C, Y1), (D, "我怎么还"), (C, "你把钱转给我，我帮你去银行还。", PP)], []),
    ("CN", "zh", "call", [(C, Y2), (D, "我想还一部分"), (C, "加我微信，我给你发收款码。", PP)], []),
    ("CN", "zh", "visit", [(C, Y3), (D, "我凑了两千"), (C, "拿现金过来，我当面给你开收据。", PP)], []),
    (
        "CN",
        "zh",
        "call",
        [(C, Y1), (D, "往哪里还"), (C, "请只向银行官方账户还款，任何个人账户都不要转。")],
        [],
    ),
    ("CN", "zh", "call", [(C, Y2), (D, "我在外地"), (C, "您可以通过手机银行的信用卡还款功能还款。")], []),
    # -- CN openings
    (
        "CN",
        "zh",
        "call",
        [(C, "喂，刘洋是吧？"), (D, "是"), (C, "欠的钱准备什么时候还？本次通话录音。")],
        [MI],
    ),
    (
        "CN",
        "zh",
        "call",
        [
            (C, "您好，我是鼎盛资产的赵敏，本次通话录音。"),
            (D, "什么事？"),
            (C, "受平安银行委托，跟您沟通信用卡还款的事。"),
        ],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [
            (C, "您好，我是鼎盛资产管理公司的赵敏，受平安银行委托联系您信用卡欠款事宜。"),
            (D, "哦"),
            (C, "您打算什么时候处理？"),
        ],
        [MR],
    ),
    (
        "CN",
        "zh",
        "visit",
        [
            (C, "你好，我们是鼎盛资产的外访员，我叫周涛，受平安银行委托过来了解一下情况。"),
            (D, "请进"),
            (C, "您最近收入怎么样？"),
        ],
        [MR],
    ),
    # -- US threat
    (
        "US",
        "en",
        "call",
        [(C, F1), (D, "I'm not paying that."), (C, "Pay up, or something bad might happen to you.", TH)],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [(C, F2), (D, "I don't have it."), (C, "I'd hate for your family to get hurt over this.", TH)],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, F1),
            (D, "Stop calling me."),
            (C, "We're coming to your house tonight, and you won't like it.", TH),
        ],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [(C, F2), (D, "I'll see."), (C, "All right, I'll follow up with you by mail this week.")],
        [],
    ),
    # -- US abuse
    (
        "US",
        "en",
        "call",
        [(C, F1), (D, "I forgot."), (C, "You're pathetic. Grow up and pay your bills, loser.", AB)],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [(C, F2), (D, "I thought it was paid."), (C, "What kind of moron doesn't pay their bills?", AB)],
        [],
    ),
    ("US", "en", "call", [(C, F1), (D, "You're an idiot."), (C, "I understand you're upset, sir.")], []),
    # -- US impersonation
    (
        "US",
        "en",
        "call",
        [(C, F1), (D, "Who are you with?"), (C, "I'm calling from the district attorney's office.", IM)],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, F2),
            (D, "What do you want?"),
            (C, "This is Detective Harris, and I need to talk to you about your debt.", IM),
        ],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [(C, F1), (D, "Are you a lawyer?"), (C, "I'm not a lawyer, and I can't give you legal advice.")],
        [],
    ),
    # -- US false consequence
    (
        "US",
        "en",
        "call",
        [(C, F1), (D, "And if I don't?"), (C, "You could be arrested if this isn't paid by Friday.", FC)],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [(C, F2), (D, "I'll pay later."), (C, "We'll freeze your bank account tomorrow.", FC)],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, F1),
            (D, "I don't care."),
            (C, "If you don't pay, we'll call your boss and let him know you don't pay your debts.", FC),
        ],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [(C, F2), (D, "So?"), (C, "We will post your debt on Facebook so all your friends see it.", FC)],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, F1),
            (D, "What if I wait?"),
            (C, "If the account remains unpaid, the creditor may report it to the credit bureaus."),
        ],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, F2),
            (D, "Why is it higher?"),
            (C, "Interest and late fees will continue to accrue as allowed by your agreement."),
        ],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, F1),
            (D, "Are you going to call my job?"),
            (C, "We won't contact your employer; we only discuss this with you."),
        ],
        [],
    ),
    # -- US third-party disclosure
    (
        "US",
        "en",
        "call",
        [
            (
                C,
                "Hi, this is Tom Baker with Keystone Recovery Group, this call is recorded. Is Jason Lee there?",
            ),
            (T, "I'm his mother."),
            (C, "Your son has an outstanding balance of $1,850 with Discover.", TP),
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
                "Hi, this is Rachel from Liberty Credit Services, this call is recorded. Is Jason available?",
            ),
            (T, "This is his coworker."),
            (C, "Tell him he needs to pay his overdue credit card bill.", TP),
        ],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, "Hi, this is Rachel from Liberty Credit Services, this call is recorded. Is Maria there?"),
            (T, "I'm her sister, can I take a message?"),
            (C, "Yes, please ask her to call Rachel at 800-555-0199 about a personal business matter."),
        ],
        [],
    ),
    # -- US induce borrowing
    (
        "US",
        "en",
        "call",
        [(C, F1), (D, "I'm broke."), (C, "Can't you get a cash advance on another card?", IB)],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [(C, F2), (D, "I don't have it."), (C, "Ask your friends to lend you the money.", IB)],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, F1),
            (D, "Maybe I'll take out a loan."),
            (C, "Please don't take out new loans to pay this; let's find a plan you can afford."),
        ],
        [],
    ),
    # -- US private payment
    (
        "US",
        "en",
        "call",
        [(C, F1), (D, "How can I pay?"), (C, "Pay me in cash and I'll take care of it.", PP)],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [(C, F2), (D, "I want to pay now."), (C, "Send the money to my Cash App, it's $tombaker.", PP)],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [(C, F1), (D, "Can I Zelle it?"), (C, "Sure, Zelle it to my personal number.", PP)],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, F2),
            (D, "Where do I pay?"),
            (C, "Payments should be made to Synchrony Bank through their official website only."),
        ],
        [],
    ),
    # -- US openings
    (
        "US",
        "en",
        "call",
        [
            (
                C,
                "Hi, this is Tom Baker from Keystone Recovery Group calling on behalf of Discover about your account. Please note this call is recorded.",
            ),
            (D, "Okay."),
            (C, "Can we set up a payment today?"),
        ],
        [MD],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, "Yeah, I'm calling about your debt. You need to pay it today."),
            (D, "Who are you?"),
            (C, "Just pay."),
        ],
        [MI, MR, MD],
    ),
    (
        "US",
        "en",
        "call",
        [
            (
                C,
                "Hi, this is Rachel from Liberty Credit Services, calling about your Synchrony Bank store card. This is an attempt to collect a debt and any information obtained will be used for that purpose.",
            ),
            (D, "Okay."),
            (C, "Can you pay today?"),
        ],
        [MR],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, "Hi, is this Jennifer?"),
            (D, "Yes."),
            (
                C,
                "This is Tom Baker from Keystone Recovery Group calling for Discover about your account. This call is recorded. This is an attempt to collect a debt, and any information obtained will be used for that purpose.",
            ),
        ],
        [],
    ),
    # -- US pack in Chinese
    (
        "US",
        "zh",
        "call",
        [
            (
                C,
                "您好，我是基石追偿集团的汤姆，代表发现卡就您的账户联系您，本通话录音。这是债务催收，所获信息将用于此目的。",
            ),
            (D, "我没身份"),
            (C, "你不还钱的话，我们会让移民局把你遣返。", FC),
        ],
        [],
    ),
]


def main() -> None:
    out = Path(__file__).with_name("eval_v9.jsonl")
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
