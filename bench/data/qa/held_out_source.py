"""Authoring source of bench/data/qa/held_out.jsonl: a second hand-labelled set, written after the
lexicons of the first commit were frozen and never used to tune them (the bench reports it apart).

Run `python bench/data/qa/held_out_source.py` after editing to regenerate the JSON lines."""

from pathlib import Path

from qa_set_writer import C, D, Row, T, write_set

Z1 = "喂您好，这边是恒通资产的调解员吴刚，受光大银行委托，跟您沟通信用卡账单的事，电话有录音。"
Z2 = "您好，我是德信咨询公司的钱女士，工号A118，代表民生银行联系您贷款逾期的问题，本通话会被录音。"
E1 = "Hello, this is Karen Brooks from Pinecrest Associates on behalf of Summit Credit Union regarding your personal loan. This call is being recorded, and this is an attempt to collect a debt."
rows: list[Row] = [
    (
        "CN",
        "zh",
        "call",
        [(C, Z1), (D, "我失业了。"), (C, "明白，您可以先申请延期，我们也会如实向银行反映。")],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [(C, Z2), (D, "你们再打电话我就报警！神经病！"), (C, "您可以报警，我们的通话是合法的催收沟通。")],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [(C, Z1), (D, "会不会上黑名单？"), (C, "逾期信息会依法报送人民银行征信中心，按时还款后会更新。")],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [(C, Z2), (D, "你们会起诉我吗？"), (C, "如果协商不成，银行有权向法院起诉，这是法律赋予的权利。")],
        [],
    ),
    ("CN", "zh", "call", [(C, Z1), (D, "你是警察吗？"), (C, "我不是警察，我是资产公司的调解员。")], []),
    (
        "CN",
        "zh",
        "call",
        [(C, Z2), (D, "我没钱。"), (C, "没钱也别去借高利贷，我们可以帮您做个分期方案。")],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [(C, Z1), (D, "你们要跟我家里人说吗？"), (C, "不会的，您的欠款信息我们不会透露给任何第三方。")],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [(C, Z2), (D, "还钱给谁？"), (C, "还款请还到您信用卡本身的账户，我们不会让您转给个人。")],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [(C, Z1), (D, "不还。"), (C, "你要是再不还，信不信我叫人去你家堵你。")],
        [("threat", 2)],
    ),
    (
        "CN",
        "zh",
        "call",
        [(C, Z2), (D, "我就不还。"), (C, "你等着，你家里人出了事别怪我。")],
        [("threat", 2)],
    ),
    ("CN", "zh", "call", [(C, Z1), (D, "随便。"), (C, "你真是个无赖，一点脸都不要。")], [("abuse", 2)]),
    (
        "CN",
        "zh",
        "call",
        [
            (C, "您好，我是市中级人民法院的法官，你被起诉了，本次通话录音。"),
            (D, "真的假的？"),
            (C, "你欠银行的钱今天必须还清。"),
        ],
        [("impersonation", 0), ("missing_identification", None)],
    ),
    (
        "CN",
        "zh",
        "call",
        [(C, Z2), (D, "我下周还。"), (C, "下周？这种情况属于恶意欠款，要追究你的刑事责任。")],
        [("false_consequence", 2)],
    ),
    (
        "CN",
        "zh",
        "call",
        [(C, Z1), (D, "我还不上。"), (C, "还不上我们就挨个打给你通讯录里的人。")],
        [("false_consequence", 2)],
    ),
    (
        "CN",
        "zh",
        "call",
        [(C, Z2), (D, "你们能怎样？"), (C, "影响你子女以后考公务员，政审过不了。")],
        [("false_consequence", 2)],
    ),
    (
        "CN",
        "zh",
        "visit",
        [
            (C, "您好，我们是恒通资产外访组的，找一下刘军，我们佩戴了记录仪。"),
            (T, "我是他同事，他出去了。"),
            (C, "他在工商银行的信用卡欠款一直没还，麻烦你转告他。"),
        ],
        [("third_party_disclosure", 2)],
    ),
    (
        "CN",
        "zh",
        "call",
        [(C, Z1), (D, "我没办法。"), (C, "问你同事借一下嘛，先把钱还了。")],
        [("induce_borrowing", 2)],
    ),
    (
        "CN",
        "zh",
        "call",
        [(C, Z2), (D, "怎么还？"), (C, "你打到我私人银行卡上，卡号我短信发你。")],
        [("private_payment", 2)],
    ),
    (
        "CN",
        "zh",
        "call",
        [(C, "喂，刘军是吧。"), (D, "是。"), (C, "你那笔钱什么时候还？"), (D, "你是哪位？")],
        [("missing_identification", None), ("missing_recording_notice", None)],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, E1),
            (D, "I'm between jobs."),
            (C, "Understood. We can pause collection for thirty days while you look for work."),
        ],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, E1),
            (D, "Go to hell, you scumbags."),
            (C, "I'll note that you'd prefer to be contacted by mail."),
        ],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [(C, E1), (D, "Can you arrest me?"), (C, "No, nobody can arrest you for this debt.")],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, E1),
            (D, "What if I ignore this?"),
            (C, "The credit union may sue, and missed payments are reported to the credit bureaus."),
        ],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [(C, E1), (D, "I won't pay."), (C, "Then I'll send some guys over to have a talk with you.")],
        [("threat", 2)],
    ),
    ("US", "en", "call", [(C, E1), (D, "No."), (C, "You're pathetic, you know that?")], [("abuse", 2)]),
    (
        "US",
        "en",
        "call",
        [
            (C, E1),
            (D, "Who is this?"),
            (C, "I'm calling from the district attorney's office about a bad check."),
        ],
        [("impersonation", 2)],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, E1),
            (D, "I'll pay later."),
            (C, "We're going to garnish your paycheck today if you don't pay."),
        ],
        [("false_consequence", 2)],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, "Hi, this is Karen from Pinecrest Associates. This call is being recorded. Is Mike there?"),
            (T, "This is his brother."),
            (C, "Mike is behind on his loan and owes us about three thousand dollars."),
        ],
        [("third_party_disclosure", 2)],
    ),
    (
        "US",
        "en",
        "call",
        [(C, E1), (D, "I'm broke."), (C, "Ask your family for a loan and pay us by Friday.")],
        [("induce_borrowing", 2)],
    ),
    (
        "US",
        "en",
        "call",
        [(C, E1), (D, "How?"), (C, "Send it through Zelle to my number, that's the fastest.")],
        [("private_payment", 2)],
    ),
    (
        "US",
        "en",
        "call",
        [(C, "Hi, I'm Karen with Pinecrest about your loan."), (D, "Yes?"), (C, "When can you pay?")],
        [("missing_recording_notice", None), ("missing_debt_collector_disclosure", None)],
    ),
]
write_set(rows, Path(__file__).with_name("held_out.jsonl"), "H")
