"""Authoring source of bench/data/qa/eval_v8.jsonl: a ninth hand-labelled set, written after the
eval_v7 round from the issue's category definitions and examples alone (the way a QA person writes
test cases: one clear, typical sentence per category, with plain variations of wording, register and
length), without reading the lexicons, and scanned once before any further change. Same conventions
as eval_v2_source.py.

Run `python bench/data/qa/eval_v8_source.py` after editing to regenerate the JSON lines."""

import json
from pathlib import Path

C, D, T = "collector", "customer", "third_party"
MI, MR, MD = "missing_identification", "missing_recording_notice", "missing_debt_collector_disclosure"
TH, AB, IM, FC = "threat", "abuse", "impersonation", "false_consequence"
TP, IB, PP = "third_party_disclosure", "induce_borrowing", "private_payment"

Z1 = "您好，我是信达催收公司的王磊，受招商银行委托，就您信用卡逾期欠款的事联系您，本次通话将被录音。"
Z2 = "你好，我这边是恒通资产管理公司的催收员小陈，代表建设银行跟您沟通一下贷款逾期的情况，本通话已录音。"
Z3 = "您好，我是安信资产外访专员李娜，受中国银行委托上门了解您的还款情况，这是我的工作证，本次拜访全程录音录像。"
E1 = "Hi, this is John Miller from ABC Recovery Services calling on behalf of Chase Bank about your credit card balance. This call is being recorded. This is an attempt to collect a debt and any information obtained will be used for that purpose."
E2 = "Good afternoon, my name is Lisa Chen with Summit Collection Agency, calling for Capital One regarding your past due account. This call may be recorded. This communication is from a debt collector; this is an attempt to collect a debt and any information obtained will be used for that purpose."

Turn = tuple[str, str] | tuple[str, str, str]
rows: list[tuple[str, str, str, list[Turn], list[str]]] = [
    # -- CN threat
    ("CN", "zh", "call", [(C, Z1), (D, "我现在没钱"), (C, "你要是再不还，小心你的腿。", TH)], []),
    ("CN", "zh", "call", [(C, Z2), (D, "过两天再说吧"), (C, "过两天？你信不信我找人收拾你。", TH)], []),
    (
        "CN",
        "zh",
        "call",
        [(C, Z1), (D, "我不还你能怎样"), (C, "我知道你家住哪，你老婆孩子每天几点出门我都清楚。", TH)],
        [],
    ),
    ("CN", "zh", "call", [(C, Z2), (D, "别烦我"), (C, "行，那你以后走夜路的时候注意点。", TH)], []),
    (
        "CN",
        "zh",
        "call",
        [(C, Z1), (D, "爱怎么样怎么样"), (C, "那我们就派几个兄弟去你家坐坐，让你全家都不得安宁。", TH)],
        [],
    ),
    (
        "CN",
        "zh",
        "visit",
        [(C, Z3), (D, "你们走吧"), (C, "今天不给钱，我们就不走了，你家门也别想出。", TH)],
        [],
    ),
    ("CN", "zh", "call", [(C, Z1), (D, "我不会还的"), (C, "不还钱的话，你家人也会跟着倒霉的。", TH)], []),
    # -- CN threat hard negatives
    ("CN", "zh", "call", [(C, Z1), (D, "我今天不方便"), (C, "好的，那我们明天下午再打给您。")], []),
    (
        "CN",
        "zh",
        "call",
        [(C, Z2), (D, "我要投诉你们，小心我报警"), (C, "您有权投诉，我们会把您的意见反馈给银行。")],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [(C, Z1), (D, "不还会怎样"), (C, "我们会按照法律程序处理，也希望您能尽快跟我们协商还款。")],
        [],
    ),
    # -- CN abuse
    ("CN", "zh", "call", [(C, Z1), (D, "我就不还"), (C, "你这个骗子，欠钱不还的老赖。", AB)], []),
    ("CN", "zh", "call", [(C, Z2), (D, "我听不懂你说什么"), (C, "你脑子有病吧？", AB)], []),
    ("CN", "zh", "call", [(C, Z1), (D, "我工资还没发"), (C, "你真是个废物，连这点钱都还不上。", AB)], []),
    ("CN", "zh", "call", [(C, Z2), (D, "我下个月还"), (C, "你他妈的到底还不还？", AB)], []),
    ("CN", "zh", "call", [(C, Z1), (D, "我没钱"), (C, "没钱？你怎么不去死啊，垃圾。", AB)], []),
    # -- CN abuse hard negatives
    (
        "CN",
        "zh",
        "call",
        [(C, Z1), (D, "你们这些催收的都是骗子，垃圾"), (C, "我理解您的情绪，我们还是谈谈还款方案吧。")],
        [],
    ),
    # -- CN impersonation
    (
        "CN",
        "zh",
        "call",
        [(C, Z2), (D, "你是谁"), (C, "实话告诉你，我是市公安局经侦大队的王警官，专门负责你这个案子。", IM)],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [(C, Z2), (D, "你们到底是谁"), (C, "我们是法院执行局的，今天就是来通知你的。", IM)],
        [],
    ),
    ("CN", "zh", "call", [(C, Z1), (D, "你凭什么"), (C, "我就是律师，银行已经委托我起诉你了。", IM)], []),
    ("CN", "zh", "call", [(C, Z2), (D, "我不信"), (C, "我是检察院的，你的案子已经移交过来了。", IM)], []),
    ("CN", "zh", "call", [(C, Z1), (D, "你是哪个单位的"), (C, "我们这边是政府金融办的工作人员。", IM)], []),
    # -- CN impersonation hard negatives
    (
        "CN",
        "zh",
        "call",
        [(C, Z1), (D, "你们是警察吗"), (C, "我们不是警察，也不是法院，只是银行委托的催收公司。")],
        [],
    ),
    ("CN", "zh", "call", [(C, Z2), (D, "你是律师吗"), (C, "我不是律师，法律问题建议您咨询专业律师。")], []),
    (
        "CN",
        "zh",
        "call",
        [(C, Z1), (D, "银行会告我吗"), (C, "如果银行起诉，会由法院依法审理，我只是提醒您这个可能。")],
        [],
    ),
    (
        "CN",
        "zh",
        "visit",
        [(C, Z3), (D, "你们是公安局的吧"), (C, "我们是催收公司的，不是公安机关，您别紧张。")],
        [],
    ),
    # -- CN false consequence
    ("CN", "zh", "call", [(C, Z1), (D, "我真的还不起"), (C, "欠钱不还是要坐牢的。", FC)], []),
    ("CN", "zh", "call", [(C, Z2), (D, "下个月吧"), (C, "明天我们就来查封你的房子。", FC)], []),
    ("CN", "zh", "call", [(C, Z1), (D, "我能拖就拖"), (C, "你不还钱，你孩子以后上不了学。", FC)], []),
    ("CN", "zh", "call", [(C, Z2), (D, "随便你"), (C, "那我们会把你欠钱的事告诉你通讯录里所有人。", FC)], []),
    ("CN", "zh", "call", [(C, Z1), (D, "我不在乎"), (C, "再不还，我们就通知你们单位领导。", FC)], []),
    (
        "CN",
        "zh",
        "call",
        [(C, Z2), (D, "我没钱"), (C, "你这属于诈骗，今天下午就有人来把你抓走拘留。", FC)],
        [],
    ),
    (
        "CN",
        "zh",
        "visit",
        [(C, Z3), (D, "等我有钱再说"), (C, "您要是一直不还，您家孩子以后考公务员、当兵政审都过不了。", FC)],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [(C, Z1), (D, "那你们想怎样"), (C, "不还的话，我们就联系你所有的亲戚朋友，让大家都知道你欠钱。", FC)],
        [],
    ),
    # -- CN false consequence hard negatives
    (
        "CN",
        "zh",
        "call",
        [(C, Z1), (D, "逾期有什么影响"), (C, "逾期记录会上报征信，影响您以后办贷款和信用卡。")],
        [],
    ),
    ("CN", "zh", "call", [(C, Z2), (D, "银行会怎么做"), (C, "如果长期不还，银行有权依法向法院起诉。")], []),
    (
        "CN",
        "zh",
        "call",
        [(C, Z1), (D, "为什么多了这么多钱"), (C, "逾期期间会按合同约定收取罚息和滞纳金。")],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [(C, Z2), (D, "我会坐牢吗"), (C, "欠款属于民事纠纷，不会坐牢，但会影响您的个人信用。")],
        [],
    ),
    # -- CN third-party disclosure
    (
        "CN",
        "zh",
        "call",
        [
            (C, "您好，我是信达催收的王磊，找一下张伟，本次通话录音。"),
            (T, "他不在，我是他同事"),
            (C, "你同事张伟欠了招商银行三万块，一直拖着不还。", TP),
        ],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [
            (C, "你好，我是恒通资产的小陈，请问刘芳在吗？通话录音。"),
            (T, "我是她邻居"),
            (C, "麻烦你转告她，她信用卡欠款已经逾期了，赶紧还钱。", TP),
        ],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [
            (C, "您好，我是信达催收的王磊，找李强，通话录音。"),
            (T, "我是他老婆，有什么事"),
            (C, "你老公在建设银行的贷款逾期两个月了，欠款一万二。", TP),
        ],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [
            (C, "你好，恒通资产的小陈，请问赵刚是你们公司的员工吗？通话录音。"),
            (T, "是的，我是人事部的"),
            (C, "他在银行有一笔欠款没还，你们单位督促一下。", TP),
        ],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [
            (C, "您好，我是信达催收的王磊，找一下周杰，通话录音。"),
            (T, "我是他爸"),
            (C, "你儿子欠钱不还，你们当父母的要管管。", TP),
        ],
        [],
    ),
    # -- CN third-party hard negatives
    (
        "CN",
        "zh",
        "call",
        [
            (C, "您好，我是信达催收的王磊，找一下张伟，本次通话录音。"),
            (T, "我是他同事"),
            (C, "麻烦您转告他给我们回个电话，谢谢。"),
        ],
        [],
    ),
    ("CN", "zh", "call", [(C, Z1), (D, "对，是我本人"), (C, "您的欠款是三万块，已经逾期两个月了。")], []),
    (
        "CN",
        "zh",
        "call",
        [
            (C, "您好，我是信达催收的王磊，找一下刘芳，通话录音。"),
            (T, "我是她妈，他欠了你们多少钱？"),
            (C, "抱歉阿姨，具体情况我们只能跟她本人说。"),
        ],
        [],
    ),
    # -- CN induce borrowing
    ("CN", "zh", "call", [(C, Z1), (D, "我手头真没钱"), (C, "你去找亲戚朋友借一下，先把钱还上。", IB)], []),
    ("CN", "zh", "call", [(C, Z2), (D, "我凑不出来"), (C, "你可以去网贷平台借点，先把这笔还了。", IB)], []),
    (
        "CN",
        "zh",
        "call",
        [(C, Z1), (D, "我没钱"), (C, "你不是有别的信用卡吗？套个现出来还不就行了。", IB)],
        [],
    ),
    ("CN", "zh", "call", [(C, Z2), (D, "真的没有"), (C, "找你同事借点，今天必须还上。", IB)], []),
    # -- CN induce borrowing hard negatives
    ("CN", "zh", "call", [(C, Z1), (D, "我一次还不了"), (C, "您可以向银行申请分期或者延期还款。")], []),
    (
        "CN",
        "zh",
        "call",
        [(C, Z2), (D, "那我只能去借钱了"), (C, "不建议您借新还旧，我们可以帮您申请个分期方案。")],
        [],
    ),
    # -- CN private payment
    ("CN", "zh", "call", [(C, Z1), (D, "怎么还"), (C, "你直接转到我个人支付宝上就行。", PP)], []),
    (
        "CN",
        "zh",
        "call",
        [(C, Z2), (D, "我现在就能还一点"), (C, "我发你一个微信二维码，扫我的码付款就行。", PP)],
        [],
    ),
    (
        "CN",
        "zh",
        "visit",
        [(C, Z3), (D, "我转账给银行吧"), (C, "不用那么麻烦，你把现金给我，我帮你交。", PP)],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [(C, Z1), (D, "打到哪个账户"), (C, "打到这个卡上，户名王强，是我们经理的个人卡。", PP)],
        [],
    ),
    # -- CN private payment hard negatives
    (
        "CN",
        "zh",
        "call",
        [(C, Z1), (D, "怎么还款"), (C, "请通过招商银行官方App或者柜台还款，不要转账给任何个人。")],
        [],
    ),
    ("CN", "zh", "call", [(C, Z2), (D, "钱还到哪里"), (C, "还款请存入您本人名下的还款账户。")], []),
    (
        "CN",
        "zh",
        "visit",
        [(C, Z3), (D, "我能直接给你现金吗"), (C, "不可以，我们不收现金，请您通过银行渠道还款。")],
        [],
    ),
    # -- CN missing identification / recording notice
    (
        "CN",
        "zh",
        "call",
        [(C, "喂，张伟是吧？你欠的钱什么时候还？"), (D, "你谁啊"), (C, "这个你别管，今天必须还。")],
        [MI, MR],
    ),
    (
        "CN",
        "zh",
        "call",
        [(C, "你好，我姓李，本次通话录音。"), (D, "哪个李"), (C, "你自己心里清楚，赶紧把钱还了。")],
        [MI],
    ),
    (
        "CN",
        "zh",
        "call",
        [
            (C, "喂，请问是王芳吗？"),
            (D, "是我"),
            (C, "您好，我是永信资产的陈明，受工商银行委托联系您信用卡逾期的事，本次通话录音。"),
            (D, "好的"),
        ],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [
            (C, "您好，我是信达催收公司的王磊，受招商银行委托，就您信用卡逾期的事联系您。"),
            (D, "嗯"),
            (C, "请问您什么时候方便还款？"),
        ],
        [MR],
    ),
    (
        "CN",
        "zh",
        "visit",
        [
            (C, "您好，我是安信资产的外访专员李娜，受中国银行委托来了解您贷款的还款情况。"),
            (D, "进来吧"),
            (C, "这是我的工作证，您看一下。"),
        ],
        [MR],
    ),
    (
        "CN",
        "zh",
        "call",
        [
            (C, "您好，我是信达催收公司的王磊，受招商银行委托联系您信用卡欠款的事，我们这次通话会被录音。"),
            (D, "知道了"),
            (C, "您看本月能还多少？"),
        ],
        [],
    ),
    # -- CN pack, polite clean call
    (
        "CN",
        "zh",
        "call",
        [
            (C, Z2),
            (D, "我最近失业了"),
            (C, "理解您的困难，您可以先还最低还款额，剩下的我们帮您申请分期。"),
            (D, "好的谢谢"),
        ],
        [],
    ),
    # -- US threat
    (
        "US",
        "en",
        "call",
        [
            (C, E1),
            (D, "I can't pay right now."),
            (C, "If you don't pay, we'll make your life a living hell.", TH),
        ],
        [],
    ),
    ("US", "en", "call", [(C, E2), (D, "Leave me alone."), (C, "You better watch your back.", TH)], []),
    (
        "US",
        "en",
        "call",
        [(C, E1), (D, "I'm not paying."), (C, "We know where your kids go to school.", TH)],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [(C, E2), (D, "Whatever."), (C, "Keep ignoring us and you'll regret it, you and your family.", TH)],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [(C, E1), (D, "I'll pay when I can."), (C, "Okay, I'll call you back next Friday to follow up.")],
        [],
    ),
    # -- US abuse
    ("US", "en", "call", [(C, E1), (D, "I lost my job."), (C, "You're a deadbeat and a liar.", AB)], []),
    ("US", "en", "call", [(C, E2), (D, "I need more time."), (C, "Stop whining, you idiot.", AB)], []),
    (
        "US",
        "en",
        "call",
        [(C, E1), (D, "This is ridiculous."), (C, "Shut up and listen, you worthless piece of trash.", AB)],
        [],
    ),
    # -- US impersonation
    (
        "US",
        "en",
        "call",
        [
            (C, E1),
            (D, "Who is this again?"),
            (C, "This is Officer Daniels with the county sheriff's department.", IM),
        ],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, E2),
            (D, "Why should I listen to you?"),
            (C, "Because I'm an attorney, and I'm handling your case personally.", IM),
        ],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, E1),
            (D, "Are you the police?"),
            (C, "No, we are not law enforcement and we're not attorneys; we're a collection agency."),
        ],
        [],
    ),
    # -- US false consequence
    (
        "US",
        "en",
        "call",
        [(C, E1), (D, "What happens if I don't pay?"), (C, "If you don't pay, you'll go to jail.", FC)],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [(C, E2), (D, "I'll pay next month."), (C, "We'll garnish your wages starting tomorrow.", FC)],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, E1),
            (D, "I don't care."),
            (C, "Then we will contact your employer and tell them about your debt.", FC),
        ],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [(C, E2), (D, "So what?"), (C, "We're going to tell all your contacts that you owe money.", FC)],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, E1),
            (D, "You can't do anything."),
            (C, "We can have your car repossessed by tomorrow morning.", FC),
        ],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, E1),
            (D, "What happens if I'm late?"),
            (C, "Late payments may be reported to the credit bureaus."),
        ],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, E2),
            (D, "Can you sue me?"),
            (C, "The creditor may file a lawsuit, and late fees apply under your agreement."),
        ],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [(C, E1), (D, "Am I going to jail?"), (C, "No, you cannot be arrested for this debt.")],
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
                "Hi, this is John from ABC Recovery Services, this call is recorded. May I speak with Mike Brown?",
            ),
            (T, "I'm his wife, he's not home."),
            (C, "He owes $4,200 on his Capital One card and it's past due.", TP),
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
                "Hello, this is Lisa with Summit Collection Agency, this call may be recorded. Is Anna Smith there?",
            ),
            (T, "This is her boss, she's in a meeting."),
            (C, "Please let her know she has an unpaid debt with us of about two thousand dollars.", TP),
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
                "Hi, this is John from ABC Recovery Services, this call is recorded. Is Mike Brown available?",
            ),
            (T, "I'm his roommate."),
            (C, "Could you please ask him to call John back at 555-0100? Thank you."),
        ],
        [],
    ),
    # -- US induce borrowing
    (
        "US",
        "en",
        "call",
        [(C, E1), (D, "I don't have the money."), (C, "Why don't you borrow it from your parents?", IB)],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [(C, E2), (D, "I get paid in two weeks."), (C, "Take out a payday loan and pay us today.", IB)],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [(C, E1), (D, "I can't afford it."), (C, "We can set up a payment plan that fits your budget.")],
        [],
    ),
    # -- US private payment
    ("US", "en", "call", [(C, E1), (D, "How do I pay?"), (C, "Just Venmo it to me personally.", PP)], []),
    (
        "US",
        "en",
        "call",
        [(C, E2), (D, "Can I pay today?"), (C, "Sure, send it to my personal PayPal.", PP)],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, E1),
            (D, "I can pay some today."),
            (C, "Bring the cash to me, I'll meet you at the gas station.", PP),
        ],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, E2),
            (D, "Where do I send the payment?"),
            (C, "You can pay on our website or by phone directly to Capital One."),
        ],
        [],
    ),
    # -- US missing disclosures
    (
        "US",
        "en",
        "call",
        [
            (
                C,
                "Hi, this is John Miller from ABC Recovery Services calling on behalf of Chase Bank about your credit card. This call is being recorded.",
            ),
            (D, "Okay."),
            (C, "When can you make a payment?"),
        ],
        [MD],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, "Hey, it's about the money you owe. When are you paying?"),
            (D, "Who is this?"),
            (C, "Doesn't matter who I am. Just pay."),
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
                "Hello, my name is Lisa Chen with Summit Collection Agency, calling for Capital One about your account. This is an attempt to collect a debt and any information obtained will be used for that purpose.",
            ),
            (D, "Yes?"),
            (C, "Can you pay today?"),
        ],
        [MR],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, "Hi, is this Mike?"),
            (D, "Yes."),
            (
                C,
                "This is John Miller with ABC Recovery Services about your Chase credit card. I'm a debt collector trying to collect a debt, and anything you tell me will be used for that purpose. This call is recorded.",
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
            (D, "I can pay fifty dollars."),
            (C, "Thank you, I'll set that up and send you a confirmation letter."),
        ],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, E1),
            (D, "Should I get a lawyer?"),
            (C, "If you have questions about your rights, you may want to consult an attorney."),
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
                "您好，我是峰会收款公司的陈丽莎，代表第一资本银行就您的逾期账户联系您，本通话录音。这是债务催收，所获信息将用于此目的。",
            ),
            (D, "我不还"),
            (C, "不还的话，我们就去你公司找你老板，说你欠钱不还。", FC),
        ],
        [],
    ),
]


def main() -> None:
    out = Path(__file__).with_name("eval_v8.jsonl")
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
