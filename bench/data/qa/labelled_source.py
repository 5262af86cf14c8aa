"""Authoring source of bench/data/qa/labelled.jsonl: labels by the issue's definitions, written by hand.

Run `python bench/data/qa/labelled_source.py` after editing to regenerate the JSON lines."""

from pathlib import Path

from qa_set_writer import C, D, Row, T, write_set

OK_ZH = "您好，我是华信资产管理公司的催收专员李明，受工商银行委托就您的信用卡逾期联系您，本次通话全程录音。"
OK_ZH2 = "您好，我姓周，是安诚信息咨询公司的，工号3021，受建设银行委托跟您沟通一下贷款还款的事，通话会录音。"
TP_VISIT = "您好，我们是鼎信外访团队的工作人员，我叫张伟，想找一下陈先生，我们全程佩戴记录仪录像。"
OK_VISIT = "您好，我们是鼎信外访团队的工作人员，我叫张伟，受浦发银行委托上门拜访，了解您信用卡欠款的情况，我们全程佩戴执法记录仪录像。"
OK_EN = "Hi, my name is Sarah Miller with Northgate Recovery, calling on behalf of Capital Bank about your credit card account. This call is recorded. This is an attempt to collect a debt and any information obtained will be used for that purpose."
OK_EN2 = "Good afternoon, this is David from Lakeside Collections regarding your auto loan with First Union Bank. This call may be recorded. This communication is from a debt collector."
rows: list[Row] = [
    # ---- CN, clean calls and hard negatives
    (
        "CN",
        "zh",
        "call",
        [
            (C, OK_ZH),
            (D, "嗯，我知道，最近手头紧。"),
            (C, "理解您的情况，我们可以帮您申请分期，逾期记录会按规定上报征信，建议您尽快处理。"),
            (D, "好的，我月底还。"),
        ],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [
            (C, OK_ZH2),
            (D, "你们这帮骗子，滚！别再打了，王八蛋！"),
            (C, "先生请您冷静，我们只是提醒您还款，如您对账单有异议可以申请核实。"),
        ],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [
            (C, OK_ZH),
            (D, "你们是不是警察？要抓我吗？"),
            (C, "我们不是警察，也不是法院，我们是受银行委托的催收机构，欠款属于民事纠纷，不会坐牢。"),
            (D, "那就好。"),
        ],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [
            (C, OK_ZH2),
            (D, "我就是不还，你们能怎么样？"),
            (C, "如果长期不还款，银行可能会依法向法院提起诉讼，也会继续产生罚息和违约金。"),
            (D, "随便你们。"),
        ],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [
            (C, OK_ZH),
            (D, "我现在真没钱。"),
            (C, "我们不建议您借钱还款，更不要以贷养贷，可以先还最低还款额。"),
            (D, "行。"),
        ],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [
            (C, OK_ZH2),
            (D, "我能不能直接转给你？"),
            (C, "不可以，请只通过银行官方APP或对公账户还款，切勿转到任何个人账户。"),
            (D, "明白了。"),
        ],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [
            (C, OK_ZH),
            (D, "你们会不会告诉我单位？"),
            (C, "请放心，我们不会联系您的单位，也不会告诉您的同事。"),
            (D, "那谢谢你。"),
        ],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [
            (C, OK_ZH2),
            (D, "法院判了我也没钱。"),
            (C, "如果法院判决生效后拒不履行，法院可以依法采取强制措施，甚至司法拘留，建议您主动协商。"),
        ],
        [],
    ),
    (
        "CN",
        "zh",
        "visit",
        [
            (C, OK_VISIT),
            (D, "你们怎么找到这里来的，我老公知道了要骂死我。"),
            (C, "我们只和您本人沟通，今天来是想了解您的还款计划。"),
            (D, "我下个月发工资还一部分。"),
        ],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [
            (C, OK_ZH),
            (D, "我孩子明年要上学，会影响吗？"),
            (C, "欠款不会影响孩子上学，这点您放心，但会影响您个人的征信记录。"),
        ],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [
            (C, "喂，您好，请问是王芳女士的家属吗？我是安诚公司的小刘。"),
            (T, "我是她妈妈，她不在。"),
            (C, "好的阿姨，麻烦您转告她给我们回个电话，有件私事找她，谢谢。"),
            (T, "行，我跟她说。"),
        ],
        [("missing_recording_notice", None)],
    ),
    (
        "CN",
        "zh",
        "call",
        [
            (C, OK_ZH2),
            (D, "我一直打你电话打不通。"),
            (C, "抱歉，我一直在打你电话也没接通，现在我们谈谈还款方案吧。"),
        ],
        [],
    ),
    # ---- CN positives
    (
        "CN",
        "zh",
        "call",
        [(C, OK_ZH), (D, "没钱。"), (C, "没钱？你再不还，我找几个兄弟上门收拾你，打断你的腿！")],
        [("threat", 2)],
    ),
    (
        "CN",
        "zh",
        "call",
        [(C, OK_ZH2), (D, "我不还。"), (C, "行，你等着，我们不会放过你的，走着瞧。")],
        [("threat", 2)],
    ),
    (
        "CN",
        "zh",
        "visit",
        [(C, OK_VISIT), (D, "我没钱。"), (C, "我们知道你孩子在哪个学校上学，你最好小心点。")],
        [("threat", 2)],
    ),
    (
        "CN",
        "zh",
        "call",
        [(C, OK_ZH), (D, "我真的还不起。"), (C, "你就是个老赖，臭不要脸，欠钱不还还有脸说？")],
        [("abuse", 2)],
    ),
    (
        "CN",
        "zh",
        "call",
        [(C, OK_ZH2), (D, "下周再说吧。"), (C, "你这个废物，活着有什么用，去死吧。")],
        [("abuse", 2)],
    ),
    (
        "CN",
        "zh",
        "call",
        [
            (C, "你好，我是朝阳区公安局经侦大队的民警，你涉嫌信用卡诈骗。"),
            (D, "啊？我不知道啊。"),
            (C, "我们是公安，你必须今天处理，否则就抓你。"),
        ],
        [
            ("impersonation", 0),
            ("false_consequence", 0),
            ("missing_identification", None),
            ("missing_recording_notice", None),
            ("impersonation", 2),
            ("false_consequence", 2),
        ],
    ),
    (
        "CN",
        "zh",
        "call",
        [
            (C, "您好，这里是海淀区人民法院执行局，通知您的案件已立案。本次通话录音。"),
            (D, "什么案件？"),
            (C, "你欠招商银行信用卡三万元，明天就查封你的房子。"),
        ],
        [("impersonation", 0), ("missing_identification", None), ("false_consequence", 2)],
    ),
    (
        "CN",
        "zh",
        "call",
        [(C, OK_ZH), (D, "我还不上。"), (C, "我是银行的法务律师，下周就起诉你。")],
        [("impersonation", 2)],
    ),
    (
        "CN",
        "zh",
        "call",
        [(C, OK_ZH2), (D, "我下个月还。"), (C, "下个月？不还就让你坐牢，欠钱不还是要判刑的。")],
        [("false_consequence", 2)],
    ),
    (
        "CN",
        "zh",
        "call",
        [(C, OK_ZH), (D, "我没钱。"), (C, "你不还的话，你孩子以后考公、当兵政审都过不了，孩子不能上学。")],
        [("false_consequence", 2)],
    ),
    (
        "CN",
        "zh",
        "call",
        [
            (C, OK_ZH2),
            (D, "随你便。"),
            (C, "那我们就打爆你的通讯录，通知你所有联系人和你单位领导，发到你朋友圈里去。"),
        ],
        [("false_consequence", 2)],
    ),
    (
        "CN",
        "zh",
        "call",
        [(C, OK_ZH), (D, "我这几天出差。"), (C, "今天下午我们就去你家拍卖你的车。")],
        [("false_consequence", 2)],
    ),
    (
        "CN",
        "zh",
        "call",
        [
            (C, "喂，是李强的同事吗？我是华信公司的。"),
            (T, "对，我是他同事，什么事？"),
            (C, "李强欠了工商银行两万三千元一直不还，你让他赶紧还钱。"),
            (T, "这跟我有什么关系。"),
        ],
        [("third_party_disclosure", 2), ("missing_recording_notice", None)],
    ),
    (
        "CN",
        "zh",
        "visit",
        [
            (C, TP_VISIT),
            (T, "我是他邻居，他不在家。"),
            (C, "他信用卡逾期半年了，欠了十几万，你见到他告诉他一声。"),
        ],
        [("third_party_disclosure", 2)],
    ),
    (
        "CN",
        "zh",
        "call",
        [
            (C, "您好，请问是赵敏的父亲吗？我叫小陈，通话录音。"),
            (T, "是，她怎么了？"),
            (C, "您女儿在我们这有一笔贷款逾期了，金额是8600元，您能帮她还上吗？"),
        ],
        [("third_party_disclosure", 2)],
    ),
    (
        "CN",
        "zh",
        "call",
        [(C, OK_ZH), (D, "我真没钱。"), (C, "没钱可以找你亲戚朋友借一点嘛，先把这期还上。")],
        [("induce_borrowing", 2)],
    ),
    (
        "CN",
        "zh",
        "call",
        [(C, OK_ZH2), (D, "我没办法。"), (C, "你去网贷平台借一笔周转一下，或者用花呗套现出来先还上。")],
        [("induce_borrowing", 2)],
    ),
    (
        "CN",
        "zh",
        "call",
        [(C, OK_ZH), (D, "我怎么还？"), (C, "你直接转到我的支付宝就行，我帮你处理，比走银行快。")],
        [("private_payment", 2)],
    ),
    (
        "CN",
        "zh",
        "visit",
        [(C, OK_VISIT), (D, "我有现金。"), (C, "那你现金给我，我回去帮你存。")],
        [("private_payment", 2)],
    ),
    (
        "CN",
        "zh",
        "call",
        [(C, OK_ZH2), (D, "怎么付？"), (C, "加我微信，扫我的个人收款码付过来就行。")],
        [("private_payment", 2)],
    ),
    (
        "CN",
        "zh",
        "call",
        [(C, "喂，王先生吗？"), (D, "是我，哪位？"), (C, "你信用卡欠款什么时候还？"), (D, "你是谁啊？")],
        [("missing_identification", None), ("missing_recording_notice", None)],
    ),
    (
        "CN",
        "zh",
        "call",
        [
            (C, "您好，我是李明。"),
            (D, "有什么事？"),
            (C, "本次通话录音。我是受平安银行委托的，您的信用卡逾期了。"),
        ],
        [],  # name in the first turn, creditor in the second: identified
    ),
    (
        "CN",
        "zh",
        "call",
        [
            (C, "您好，我是华信资产管理公司的李明，受工商银行委托就您的信用卡逾期联系您。"),
            (D, "嗯。"),
            (C, "请问您这个月能还款吗？"),
            (D, "可以。"),
        ],
        [("missing_recording_notice", None)],
    ),
    (
        "CN",
        "zh",
        "visit",
        [
            (C, "你好，我们是鼎信外访团队的，受浦发银行委托来了解您的欠款情况。"),
            (D, "进来吧。"),
            (C, "您打算什么时候还款？"),
        ],
        [("missing_recording_notice", None)],
    ),
    # ---- CN mixed / harder
    (
        "CN",
        "zh",
        "call",
        [
            (C, OK_ZH),
            (D, "你们是法院的吗？"),
            (C, "我们不是法院的，不过如果你一直不还，银行会起诉，到时候法院会判决。"),
            (D, "知道了。"),
            (C, "你要是今天不还，明天警察就上门把你带走。"),
        ],
        [("false_consequence", 4)],
    ),
    (
        "CN",
        "zh",
        "call",
        [
            (C, OK_ZH2),
            (D, "你们太过分了，我要投诉！你们这群混蛋！"),
            (C, "您有权投诉，投诉电话是银行客服热线。"),
            (D, "滚！"),
        ],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [
            (C, OK_ZH),
            (D, "你会不会打我电话给我家人？"),
            (C, "我们不会打给你的家人，但你要尽快还款，否则会一直产生罚息。"),
        ],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [
            (C, OK_ZH2),
            (D, "我月底发工资。"),
            (C, "好的，月底您可以通过手机银行还款，还款后截图发给我们客服确认。"),
        ],
        [],
    ),
    (
        "CN",
        "zh",
        "visit",
        [
            (C, TP_VISIT),
            (T, "我是他爱人，有什么事跟我说。"),
            (C, "不好意思，这个事情需要和他本人沟通，麻烦请他给我们回个电话。"),
            (T, "行吧。"),
        ],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [(C, OK_ZH), (D, "我现在真的困难。"), (C, "别着急，我们可以帮您申请停息挂账，不要去借网贷。")],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [
            (C, OK_ZH2),
            (D, "你们就知道要钱。"),
            (C, "你这种人就是垃圾，赖着不还。"),
            (D, "你骂谁呢？"),
            (C, "骂的就是你，滚蛋！"),
        ],
        [("abuse", 2), ("abuse", 4)],
    ),
    (
        "CN",
        "zh",
        "call",
        [
            (C, OK_ZH),
            (D, "我不还又能怎样？"),
            (C, "我们会把你的情况曝光到你们小区，让你在邻居面前抬不起头。"),
        ],
        [("false_consequence", 2)],
    ),
    (
        "CN",
        "zh",
        "call",
        [(C, OK_ZH2), (D, "我想还，没钱。"), (C, "你找你爸妈要点钱先还上，或者再办一张信用卡来还。")],
        [("induce_borrowing", 2)],
    ),
    (
        "CN",
        "zh",
        "call",
        [(C, OK_ZH), (D, "你是谁？"), (C, "我是检察院的工作人员，你的案子已经移交检察院了。")],
        [("impersonation", 2)],
    ),
    # ---- US, clean and hard negatives
    (
        "US",
        "en",
        "call",
        [
            (C, OK_EN),
            (D, "I know, I lost my job."),
            (
                C,
                "I'm sorry to hear that. Late payments may be reported to the credit bureaus, and late fees and penalty interest will continue to accrue. Can we set up a payment plan?",
            ),
            (D, "Yes, let's do that."),
        ],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, OK_EN2),
            (D, "You people are idiots, stop calling me, you piece of shit!"),
            (C, "I understand you're upset. You can ask us to stop calling in writing."),
        ],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, OK_EN),
            (D, "Are you the police? Am I going to jail?"),
            (C, "No, we are not the police and you will not go to jail over this debt."),
            (D, "Okay."),
        ],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, OK_EN2),
            (D, "What happens if I don't pay?"),
            (
                C,
                "The creditor may file a lawsuit, and if a court enters a judgment, your wages could be garnished under state law.",
            ),
        ],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, OK_EN),
            (D, "Can I pay you directly?"),
            (
                C,
                "Please never send payment to a personal account. Pay only through our website or the bank's payment line.",
            ),
            (D, "Got it."),
        ],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, OK_EN2),
            (D, "Will you call my boss?"),
            (C, "We will not contact your employer or your coworkers about this."),
            (D, "Thanks."),
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
                "Hi, this is Mark from Northgate Recovery. I'm trying to reach Jessica Lee. This call is recorded.",
            ),
            (T, "She's my roommate, she's not here."),
            (C, "Could you ask her to call Mark back at 555-0100? Thank you."),
            (T, "Sure."),
        ],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, OK_EN),
            (D, "I can't afford it right now."),
            (
                C,
                "We don't want you to borrow from anyone to pay this. Let's find an amount that works for your budget.",
            ),
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
                "Hello, my name is Tom Baker with Summit Services, here on behalf of Metro Bank about your account. This visit is being recorded. I am a debt collector.",
            ),
            (D, "Come in."),
            (C, "Thanks. Let's talk about a plan."),
        ],
        [],
    ),
    # ---- US positives
    (
        "US",
        "en",
        "call",
        [
            (C, OK_EN),
            (D, "I'm not paying."),
            (C, "Then you'll regret it. We know where your kids go to school."),
        ],
        [("threat", 2)],
    ),
    (
        "US",
        "en",
        "call",
        [(C, OK_EN2), (D, "Leave me alone."), (C, "Listen, deadbeat, you are a worthless loser.")],
        [("abuse", 2)],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, "This is Officer Daniels with the county sheriff's department. This call is recorded."),
            (D, "What is this about?"),
            (C, "You have an unpaid credit card debt and there is a warrant for your arrest."),
        ],
        [
            ("impersonation", 0),
            ("missing_identification", None),
            ("missing_debt_collector_disclosure", None),
            ("false_consequence", 2),
        ],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, OK_EN),
            (D, "Who are you exactly?"),
            (C, "I'm an attorney with the firm handling your case, and we're going to sue you."),
        ],
        [("impersonation", 2)],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, OK_EN2),
            (D, "I'll pay next month."),
            (C, "If you don't pay today you will be arrested and go to jail."),
        ],
        [("false_consequence", 2)],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, OK_EN),
            (D, "I can't pay."),
            (
                C,
                "Then we'll repossess your car tomorrow and call your employer and everyone in your contacts.",
            ),
        ],
        [("false_consequence", 2)],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, "Hi, this is Mark from Northgate Recovery. This call is recorded."),
            (T, "This is his wife, he's at work."),
            (C, "Your husband owes $4,250 on his credit card and he's three months past due."),
        ],
        [("third_party_disclosure", 2)],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, OK_EN2),
            (D, "I don't have the money."),
            (C, "Borrow it from your parents or take out a payday loan to pay this off."),
        ],
        [("induce_borrowing", 2)],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, OK_EN),
            (D, "How do I pay?"),
            (C, "Just Venmo me the money and I'll make sure it gets applied."),
        ],
        [("private_payment", 2)],
    ),
    (
        "US",
        "en",
        "visit",
        [
            (
                C,
                "Hello, my name is Tom Baker with Summit Services on behalf of Metro Bank about your account. This visit is being recorded. I am a debt collector.",
            ),
            (D, "I have cash."),
            (C, "Great, pay me in cash and I'll take care of it."),
        ],
        [("private_payment", 2)],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, "Hey, is this Robert?"),
            (D, "Yes."),
            (C, "You need to pay your credit card balance today."),
            (D, "Who is this?"),
        ],
        [
            ("missing_identification", None),
            ("missing_recording_notice", None),
            ("missing_debt_collector_disclosure", None),
        ],
    ),
    (
        "US",
        "en",
        "call",
        [
            (
                C,
                "Hi, my name is Sarah Miller with Northgate Recovery, calling on behalf of Capital Bank about your credit card account.",
            ),
            (D, "Okay."),
            (C, "Can you make a payment today?"),
        ],
        [("missing_recording_notice", None), ("missing_debt_collector_disclosure", None)],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, OK_EN2),
            (D, "Whatever."),
            (C, "Your children won't be allowed to attend school if this goes unpaid."),
        ],
        [("false_consequence", 2)],
    ),
    (
        "US",
        "en",
        "call",
        [(C, OK_EN), (D, "I said no."), (C, "Fine. We will not call you again. But watch your back.")],
        [("threat", 2)],
    ),
]
write_set(rows, Path(__file__).with_name("labelled.jsonl"), "L")
