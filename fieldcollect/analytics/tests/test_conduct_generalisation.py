"""The conduct detector on language it was not first written against: normalisation (full-width,
traditional characters, spaces inside Chinese words, curly apostrophes, casing), colloquial and
idiomatic phrasing per rule, negation (prefix, span, rhetorical suggestions, negated opening
notices) and, for every rule, hard negatives: accurate statements, negations, other speakers."""

from __future__ import annotations

import pytest

from fieldcollect.analytics.conduct.detector import Detector, load_detector, normalise, parse_transcript
from fieldcollect.analytics.tests.conduct_speech import C, D, T, found, phrase_tests, said

# ---- normalisation ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("通话正在录 音", "通话正在录音"),
        ("再 不 还 把 你 腿 打 断。", "再不还把你腿打断。"),
        ("你再不還錢，就等著坐牢吧！", "你再不还钱，就等着坐牢吧！"),
        ("账号１３９０００１２３４５，ＶＸ转我", "账号13900012345,VX转我".replace(",", "，")),
        ("we won\u2019t  hurt   you", "we won't hurt you"),
        ("Hello, this is Amy", "Hello, this is Amy"),
    ],
)
def test_normalise(raw: str, normal: str) -> None:
    assert normalise(raw) == normal


def test_normalised_speech_is_matched(cn: Detector, us: Detector) -> None:
    assert said(cn, "zh", "再 不 还 把 你 腿 打 断。") == {"threat"}
    assert said(cn, "zh", "你再不還錢，就等著坐牢吧！") == {"false_consequence"}
    assert said(cn, "zh", "加我微信，直接轉到我個人帳戶。") == {"private_payment"}
    assert said(us, "en", "We\u2019ll have you LOCKED UP.") == {"false_consequence"}
    assert said(us, "en", "No one\u2019s going to hurt you.") == set()


# ---- per rule: positives and hard negatives ----------------------------------------------------------

ZH_POSITIVE = [
    ("threat", "你再拖着不还，小心哪天出门被车撞了。"),
    ("threat", "我们有的是办法让你在这个城市待不下去。"),
    ("threat", "信不信我叫几个兄弟过来堵你家门口？"),
    ("threat", "你儿子在实验小学是吧，放学路上让他注意点。"),
    ("threat", "我们的人马上就到你家楼下。"),
    ("threat", "再不还就砸了你的店。"),
    ("threat", "不还后果自负。"),
    ("abuse", "你脑子有病吧？"),
    ("abuse", "你个死老赖，丢不丢人。"),
    ("abuse", "你这种人活着有什么用。"),
    ("abuse", "给我滚！"),
    ("abuse", "你他妈的到底还不还？"),
    ("impersonation", "法院已经委托我们来通知你了。"),
    ("impersonation", "我们是区司法所的。"),
    ("false_consequence", "不还钱你就进去蹲几年吧。"),
    ("false_consequence", "明天一早我们就派人把你那辆车拖走。"),
    ("false_consequence", "以后你小孩考公务员政审都过不去。"),
    ("false_consequence", "你通讯录里的人我们会挨个打一遍。"),
    ("false_consequence", "这事要是闹到你单位去，你这工作还要不要了？"),
    ("false_consequence", "你名下所有银行卡都会被冻结。"),
    ("false_consequence", "你这就是诈骗。"),
    ("false_consequence", "你父母也要替你还。"),
    ("induce_borrowing", "你不是还有别的信用卡吗，先刷出来还这边。"),
    ("induce_borrowing", "去借点高利贷先把这个窟窿堵上。"),
    ("induce_borrowing", "跟朋友凑一凑嘛。"),
    ("induce_borrowing", "让你老婆先帮你还上。"),
    ("induce_borrowing", "你去申请个网贷不就行了。"),
    ("private_payment", "你直接微信转我就行。"),
    ("private_payment", "钱打到我同事的卡上就行。"),
    ("private_payment", "那你把现金先给我，我回去帮你交。"),
    ("private_payment", "收款人写我就可以。"),
    ("private_payment", "我发你一个收款码。"),
    # as an ASR engine returns it: no punctuation
    ("false_consequence", "你要是今天不还我们就去你单位找你领导说这个事"),
    ("false_consequence", "不还的话 下周法院直接把你房子封了"),
    ("threat", "那个 你信不信 我们明天就带人去你家门口等你"),
    ("private_payment", "你就转我卡上 我这边帮你操作"),
    # word-segmented ASR (a space between words)
    ("false_consequence", "那 我们 就 天天 打 你 老婆 电话 让 她 也 知道 你 欠钱"),
    ("private_payment", "你 扫 一下 我 发 给 你 的 微信 二维码 就 行"),
    ("threat", "你 跑 到 哪 我们 都 能 找到 你 你 自己 看着办"),
    ("false_consequence", "不还钱的话，移民局那边会知道，你的绿卡就悬了。"),
    ("induce_borrowing", "你把你那个金项链拿去当了凑一凑。"),
    ("threat", "那你就等着我们的人上门跟你好好聊聊吧，到时候别怪我们不客气。"),
    ("threat", "你这么躲下去，小心你家里人也跟着遭殃。"),
    ("abuse", "你真是个没用的东西。"),
    ("false_consequence", "那我们就把你的欠款信息发给你所有的微信好友。"),
    ("induce_borrowing", "你去网上申请一个小额贷款，先把这期还了。"),
    ("induce_borrowing", "再找找别的亲戚嘛，总有人愿意借给你的。"),
]

ZH_NEGATIVE = [
    "您开车注意安全，路上小心。",
    "我们不会采取任何暴力手段，也不会上门找您麻烦。",
    "千万别去借网贷和高利贷，那样只会越滚越多。",
    "利息是按日滚动计算的。",
    "没有，银行从来没有把您当老赖。",
    "我们不是警察，也不是法院，只是受银行委托的催收机构。",
    "我不是律师，具体法律问题建议您咨询专业律师。",
    "如果一直协商不成，银行可能委托律师依法向法院起诉。",
    "逾期信息会如实报送人民银行征信系统，影响您以后办理贷款和信用卡。",
    "逾期期间会按合同约定继续计收罚息和违约金。",
    "欠款本身是民事纠纷，不会因此坐牢的。",
    "判决生效后，银行可以依法申请强制执行，查封您名下的财产。",
    "如果法院判决生效后仍拒不履行，才有可能被司法拘留。",
    "我们不会联系您的单位和同事。",
    "我们不建议您借新还旧，可以申请分期。",
    "请通过银行App或者官方对公账户还款，不要转给任何个人。",
    "我们不收现金，也不接受转到个人的微信或支付宝。",
    "可以用支付宝的还信用卡功能，直接还到您自己的信用卡账户上。",
    "不可以微信转给我，只能还到银行的账户。",
    "您可以把钱存进去，系统会自动扣款。",
    "我帮您记录一下还款日期。",
    "您稍等，我帮您查一下。",
    "我们不是警察也不是法院就是提醒您还款",
    "这个不会坐牢的 欠款是民事纠纷 您放心",
    "如果一直不还 银行是有权利依法起诉的 到时候以法院判决为准",
    "我们 不会 联系 您 的 家人 也 不会 透露 您 的 信息",
    "请 扫 一下 我们 银行 官方 的 还款 二维码",
    "您之前申请的贷款已经逾期了，我们帮您看看怎么处理。",
    "您可以告诉我一个方便联系的时间。",
]


EN_POSITIVE = [
    ("threat", "Keep dodging us and somebody's gonna get hurt."),
    ("threat", "I'd hate for something to happen to that nice truck of yours."),
    ("threat", "We'll come back with some friends and deal with you ourselves."),
    ("threat", "You don't want to find out what happens next."),
    ("threat", "You'll be sorry."),
    ("abuse", "Stop whining, you clown."),
    ("abuse", "Are you STUPID or something?"),
    ("abuse", "Shut your mouth and listen."),
    ("impersonation", "I'm calling from the clerk of court."),
    ("impersonation", "This is Detective Ramos."),
    ("false_consequence", "If this isn't paid by Friday, you'll be arrested."),
    ("false_consequence", "Then we're garnishing your wages starting next week."),
    ("false_consequence", "The sheriff will be at your door tonight."),
    ("false_consequence", "Fine, we'll let your boss know about this debt."),
    ("false_consequence", "you're gonna end up in jail, pal."),
    ("false_consequence", "They'll take your house."),
    ("false_consequence", "We will press charges."),
    ("induce_borrowing", "Can't your parents lend you the money?"),
    ("induce_borrowing", "Why don't you just put it on another card?"),
    ("induce_borrowing", "Grab a payday loan and clear this."),
    ("induce_borrowing", "Borrow against your 401k."),
    ("private_payment", "Just send it to my Cash App."),
    ("private_payment", "Great, just hand me the cash."),
    ("private_payment", "Make the check out to me personally."),
    ("private_payment", "Wire it to my account."),
    ("private_payment", "Just WeChat me the money."),
    # lower case, no apostrophes
    ("false_consequence", "if you dont pay today were gonna have the sheriff come pick you up"),
    ("abuse", "you know what youre a real piece of work"),
    ("threat", "Good, because you don't want us showing up at your place with the boys."),
    ("threat", "Look, I know your kids get off the bus at three."),
    ("false_consequence", "Honestly? You'll have a warrant out by next month."),
    ("abuse", "Stop making excuses, you useless bum."),
    ("threat", "You'd better pay, or you might not like what happens next."),
    ("false_consequence", "We'll keep calling your job and your mother until you pay."),
    ("threat", "If you don't pay, I'll be back with my partners, and you won't like it."),
    ("false_consequence", "Then maybe your neighbors should hear about how you don't pay your bills."),
]

EN_NEGATIVE = [
    "No sir, nobody is going to hurt you and nobody will come to your home.",
    "I understand you're upset. I just want to find a plan that works.",
    "I'm not calling you a liar, I just need the dates.",
    "No, we're not law enforcement and we're not attorneys.",
    "You have the right to speak with an attorney if you'd like.",
    "Late payments can be reported to the credit bureaus and may affect your credit score.",
    "The creditor may decide to file a lawsuit, and a court could then enter a judgment.",
    "Only if a court enters a judgment; then the creditor could ask for a wage garnishment.",
    "Interest and late fees keep accruing under your card agreement.",
    "Nobody's going to arrest you over a credit card debt.",
    "We don't contact your employer about your debt.",
    "Please don't take on new debt to pay this; let's set up a plan you can afford instead.",
    "Please pay through the bank's official website; we never accept payments to personal accounts.",
    "No, I can't accept that. Pay the bank directly by phone or online.",
    "Let me take your bank account number for the bank's autopay form.",
    "I'll make a record of your promise to pay.",
    "no im not a cop im with a collection agency",
    "the creditor might sue and if they win they could garnish wages as allowed by law",
    "No, your kids aren't affected by this at all.",
    "There is no warrant and there won't be one; this is a civil matter.",
    "We won't call your job or your family about this.",
    "Is this a good number to reach you, or should I call your cell?",
]


test_positive, test_hard_negative = phrase_tests(ZH_POSITIVE, ZH_NEGATIVE, EN_POSITIVE, EN_NEGATIVE)


def test_other_speakers_trigger_words(cn: Detector, us: Detector) -> None:
    assert said(cn, "zh", "你再打电话我就弄死你！你们这些吸血鬼，滚！", speaker=D) == set()
    assert said(cn, "zh", "我是警察，你再骚扰我试试！", speaker=D) == set()
    assert (
        said(us, "en", "Call again and I'll kill you, you idiot. Can I just Venmo you?", speaker=D) == set()
    )
    assert said(us, "en", "I'm a police officer, you know.", speaker=T) == set()


# ---- a compliant call, sentence by sentence: nothing is a finding when said to the debtor ------------

COMPLIANT_ZH = [
    "您好，请问是王先生本人吗？",
    "我这边是受银行委托的，想跟您核实一下还款计划。",
    "您目前的欠款是三万两千元，其中本金两万八。",
    "您看这个月能先还一部分吗？",
    "我们可以帮您向银行申请停息挂账，具体要银行审批。",
    "如果您确实有困难，可以提供一下失业证明或者医院证明。",
    "您放心，我们不会把您的情况告诉任何人。",
    "好的，那我们约定二十五号之前还五千，我给您发一条还款提醒短信。",
    "还款请认准银行官方渠道，手机银行、网银或者柜台都可以。",
    "转账的时候收款户名是银行全称，请您核对清楚。",
    "逾期会影响您的个人征信，这是如实告知您。",
    "逾期信息会报送征信系统，结清以后会显示已结清。",
    "银行保留依法起诉的权利，但我们还是希望协商解决。",
    "如果进入诉讼程序，判决生效后银行可以申请强制执行。",
    "违约金和罚息是按合同约定计算的，我可以申请减免一部分。",
    "您的家人我们不会打扰，请您自己按时接听电话。",
    "您方便的时候回个电话，我的工号是8812。",
    "我理解您现在压力很大，我们一起想办法。",
    "不好意思打扰您休息了。",
    "那我们下周一再跟您联系，祝您生活愉快。",
    "这个月的账单已经出来了，最低还款是一千二。",
    "您可以通过银行App申请分期，分十二期的话每个月两千多。",
    "您先别着急，我们慢慢说。",
    "您孩子上学的事情跟这个欠款没有关系。",
    "欠款是民事纠纷，您不用担心会被抓。",
    "我们是正规的催收机构，有银行的授权书，您可以打银行客服核实。",
    "您提到的情况我会如实反馈给银行。",
    "请问您现在的工作单位还是原来那家吗？我们只是核实联系方式。",
    "您的紧急联系人电话打不通，能提供一个新的吗？",
    "今天先这样，您注意身体。",
    "如果您对我们的服务有意见，可以拨打银行客服投诉。",
    "我记一下您说的还款时间，二十号对吧。",
    "您说家里有人生病，需要的话可以提交证明申请延期。",
    "您可以找银行申请个性化分期，不需要再去借钱。",
    "我们这边只能提醒您，具体减免由银行决定。",
    "这个还款金额我再跟您确认一遍，五千三百元整。",
    "您之前承诺的还款没有到账，是不是遇到什么问题了？",
    "银行的对公账户信息我短信发给您，请您不要转给任何个人。",
    "上门拜访是为了了解您的实际情况，我们会出示工作证。",
    "如果您不方便接电话，可以约个时间我们再打过来。",
    "您这个欠款逾期九十天了，建议尽快处理。",
    "我们的沟通都会留存，您也可以要求查看。",
    "明天我们会再跟您确认一下还款是否到账。",
    "不要着急，钱的问题慢慢解决。",
    "您放心，法院起诉需要经过正式程序，会有正式通知。",
    "如果有人冒充我们要求您转账到个人账户，请直接报警。",
    "您家人那边我们不会透露任何欠款信息。",
    "请您保管好自己的银行卡和密码。",
    "这边帮您登记一下，明早九点前还款。",
    "您说的这个情况我们很同情，能帮的一定帮。",
]

COMPLIANT_EN = [
    "Hi, am I speaking with Mr. Johnson?",
    "I understand things are tough right now. Let's find something that works for you.",
    "Your current balance is $3,250, and the minimum payment due is $150.",
    "Can you make a partial payment this month?",
    "We can set up a payment plan over six months.",
    "Please make payments only to the bank through its official website or app.",
    "Your payment will be applied to the account the same day.",
    "If you're experiencing hardship, you may qualify for a hardship program.",
    "Late payments may be reported to the credit bureaus.",
    "The creditor may choose to file a lawsuit if we can't reach an agreement.",
    "If a court enters a judgment, the creditor could seek wage garnishment as the law allows.",
    "Late fees and interest will continue to accrue as set out in your agreement.",
    "We will not discuss your account with anyone else.",
    "You have the right to dispute this debt in writing within thirty days.",
    "You can request validation of the debt at any time.",
    "I'll note that you'd like us to call after 5 p.m.",
    "Let me confirm the payment date: the 15th, correct?",
    "You won't be arrested over this; it's a civil matter.",
    "No one from our office will contact your employer.",
    "Take your time, there's no pressure to decide today.",
    "I can send you the bank's payment address by email.",
    "If you'd prefer, we can communicate by mail only.",
    "Please don't borrow money to pay this; let's look at a plan you can afford.",
    "We're not going to call your family about this.",
    "Would you like me to email you a summary of our conversation?",
    "Thank you for your time, and have a good evening.",
    "I can't accept payments personally; everything goes to the bank.",
    "I'm sorry to hear about your job. Would a reduced payment help?",
    "Your account was charged off in March, but you can still settle it.",
    "The settlement offer is 60 percent of the balance if paid by the 30th.",
    "Let me make a note on your file that you're disputing the amount.",
    "I'll call you back on Friday to confirm the payment posted.",
    "If you want to speak with an attorney, that's your right.",
    "We'd never threaten you or your family.",
    "Nothing bad will happen if you need a few more days; let's just keep in touch.",
    "I don't want to waste your time, so let's get to the plan.",
    "This is just a reminder, sir; your card payment is late.",
    "Can you confirm your mailing address for the validation notice?",
    "You can pay by phone with a debit card directly to the bank.",
    "We just want to help you resolve this.",
]


@pytest.mark.parametrize("text", COMPLIANT_ZH)
def test_compliant_chinese_speech_is_no_finding(cn: Detector, us: Detector, text: str) -> None:
    assert said(cn, "zh", text) == set()
    assert said(us, "zh", text) == set()


@pytest.mark.parametrize("text", COMPLIANT_EN)
def test_compliant_english_speech_is_no_finding(cn: Detector, us: Detector, text: str) -> None:
    assert said(cn, "en", text) == set()
    assert said(us, "en", text) == set()


# ---- opening: negated notices, turn 2 vs turn 3 -----------------------------------------------------


def test_a_negated_recording_notice_is_none(cn: Detector, us: Detector) -> None:
    base = "您好，我是安信资产的小周，受招商银行委托联系您信用卡还款的事"
    assert ("missing_recording_notice", None) in found(
        cn, "zh", [(C, base + "，本次通话不录音。"), (D, "哦。")]
    )
    assert ("missing_recording_notice", None) in found(cn, "zh", [(C, base + "，我们没有录音。"), (D, "哦。")])
    assert ("missing_recording_notice", None) not in found(
        cn, "zh", [(C, base + "，本次通话全程录 音。"), (D, "哦。")]
    )
    intro = "Hi, my name is Sam with Harbor Collections, calling about your Union Bank loan. "
    notice = intro + "This is an attempt to collect a debt. "
    assert ("missing_recording_notice", None) in found(
        us, "en", [(C, notice + "Let me make a record of that."), (D, "Ok.")]
    )
    assert ("missing_recording_notice", None) not in found(
        us, "en", [(C, notice + "this call's being recorded."), (D, "Ok.")]
    )
    assert ("missing_debt_collector_disclosure", None) in found(
        us, "en", [(C, intro + "I'm not a debt collector. This call is recorded."), (D, "Ok.")]
    )
    assert ("missing_debt_collector_disclosure", None) in found(
        us,
        "en",
        [(C, intro + "This is not an attempt to collect a debt. This call is recorded."), (D, "Ok.")],
    )
    assert ("missing_debt_collector_disclosure", None) not in found(
        us, "en", [(C, intro + "We're a debt collection agency. This call is recorded."), (D, "Ok.")]
    )


def test_identification_turn_two_vs_turn_three(us: Detector) -> None:
    ident = "Sam from Harbor Collections, on behalf of Union Bank about your loan. This is an attempt to collect a debt."
    second = [(C, "Hi, is this Robert? This call is recorded."), (D, "Who's asking?"), (C, ident)]
    assert found(us, "en", second) == set()
    third = [(C, "Hi, is this Robert? This call is recorded."), (D, "Who's asking?"), (C, "Just a quick call."),
             (D, "About what?"), (C, ident)]  # fmt: skip
    assert found(us, "en", third) == {("missing_identification", None)}


def test_the_debt_told_to_the_debtor_vs_to_a_relative(cn: Detector) -> None:
    hello = "您好，我是安信资产的小周，找一下周强，本次通话录音。"
    debt = "受招商银行委托，您信用卡欠款三万八已经逾期两个月了。"
    to_father = [(C, hello), (T, "我是他爸。"), (C, debt)]
    assert found(cn, "zh", to_father) == {("third_party_disclosure", 2)}
    handed_over = [(C, hello), (T, "我是他爸，你等下。"), (D, "喂，我是周强。"), (C, debt)]
    assert found(cn, "zh", handed_over) == set()


# ---- the literal prefilter finds what the whole alternation finds -----------------------------------


def test_required_literals_of_a_pattern() -> None:
    from fieldcollect.analytics.conduct.detector import _literals

    assert _literals("(?<![不没])(录音|录像|记录仪)") == {"录音", "录像", "记录仪"}
    assert _literals(r"\b(hurt|kill) (you|your)\b") == {"hurt you", "hurt your", "kill you", "kill your"}
    assert _literals("打断你的?(腿|手)") == {"打断你"}
    assert _literals(r"\d+") is None


def test_the_prefilter_changes_no_finding(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every labelled transcript scanned with the prefilter and with every pattern of every rule
    tried on every segment: the same findings."""
    import json
    from pathlib import Path

    from fieldcollect.analytics.conduct.detector import Prefilter

    data = Path(__file__).resolve().parents[3] / "bench" / "data" / "qa"
    rows = [json.loads(line) for f in sorted(data.glob("*.jsonl")) for line in f.open(encoding="utf-8")]
    assert len(rows) > 300
    detectors = {"CN": load_detector("CN"), "US": load_detector("US")}
    fast = [[f.as_json() for f in detectors[r["pack"]].scan(parse_transcript(r))] for r in rows]

    def everything(self: Prefilter, text: str) -> dict[int, tuple[int, ...]]:
        return {i: tuple(range(len(p))) for i, p in self.alternatives.items()}

    monkeypatch.setattr(Prefilter, "candidates", everything)
    slow = [[f.as_json() for f in detectors[r["pack"]].scan(parse_transcript(r))] for r in rows]
    assert fast == slow
    assert sum(len(f) for f in fast) > 200


def test_phrases_that_hold_a_cue_and_negate_nothing(cn: Detector, us: Detector) -> None:
    assert said(cn, "zh", "不是我吓唬你 明天就去你单位找你领导") == {"false_consequence"}
    assert said(cn, "zh", "没跟你开玩笑 不还就等着坐牢") == {"false_consequence"}
    assert said(us, "en", "I'm not kidding, you'll be arrested.") == {"false_consequence"}
    assert said(us, "en", "im not joking youll be arrested") == {"false_consequence"}
    assert said(us, "en", "Don't think we won't tell your boss.") == {"false_consequence"}
    # the real negations next to them still negate
    assert said(cn, "zh", "我们不是吓唬你 我们也不会去你单位") == set()
    assert said(us, "en", "We won't tell your boss, I'm not kidding.") == set()


@pytest.mark.parametrize(
    ("pack", "language", "opening"),
    [
        ("CN", "zh", "您好，我是王磊，受工商银行委托联系您信用卡的事，通话录音。"),
        ("CN", "zh", "您好，鼎盛资产的专员，这边联系您花呗的账务，我这边在录着音。"),
        ("CN", "zh", "您好 我 是 宏信 资产 的 催收 专员 王 晓东 受 广发 银行 委托 本次 通话 全程 录音"),
        ("US", "en", "Hi, Sam Ortiz, Midwest Account Solutions, for PNC, about your card. Call recording is on. "
         "We're a collection agency."),
        ("US", "en", "Hi, Sam from Midwest, about your card. We're recording. We are collecting a debt."),
        ("US", "en", "HELLO THIS IS GREG FROM ALLIED CREDIT ABOUT YOUR CARD. THIS CALL IS RECORDED. "
         "THIS IS A COMMUNICATION FROM A DEBT COLLECTOR."),
    ],
)  # fmt: skip
def test_openings_in_other_words_are_complete(pack: str, language: str, opening: str) -> None:
    detector = load_detector(pack)
    assert found(detector, language, [(C, opening), (D, "嗯" if language == "zh" else "ok")]) == set()


def test_openings_that_lack_something(cn: Detector, us: Detector) -> None:
    assert found(us, "en", [(C, "Hi, it's about your card. We're recording."), (D, "ok")]) == {
        ("missing_identification", None),
        ("missing_debt_collector_disclosure", None),
    }
    assert found(
        us, "en", [(C, "Hi, Sam from Midwest, about your card. We're a collection agency."), (D, "ok")]
    ) == {("missing_recording_notice", None)}
    assert found(cn, "zh", [(C, "喂，是李伟吗？"), (D, "是我"), (C, "你欠的钱什么时候还？本通话录音。")]) == {
        ("missing_identification", None)
    }


@pytest.mark.parametrize(
    ("language", "category", "text"),
    [
        ("zh", "threat", "你等着，有你好看的。"),
        ("zh", "threat", "我知道你在哪上班。"),
        ("zh", "abuse", "你妈没教你欠债还钱吗？"),
        ("zh", "false_consequence", "你全家都会上征信。"),
        ("zh", "false_consequence", "我们会派人去你公司。"),
        ("zh", "induce_borrowing", "问你爸妈要点钱先还上。"),
        ("zh", "private_payment", "直接转给我本人就行。"),
        ("en", "threat", "We can make things very difficult for you."),
        ("en", "abuse", "Shame on you."),
        ("en", "false_consequence", "We'll report you to the police."),
        ("en", "false_consequence", "Your social security will be garnished."),
        ("en", "induce_borrowing", "Just borrow the money and pay us."),
        ("en", "private_payment", "You can pay with gift cards."),
    ],
)
def test_more_common_phrasings(us: Detector, language: str, category: str, text: str) -> None:
    assert category in said(us, language, text)


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("zh", "我们不会派人去您公司，也不会联系您的家人。"),
        ("zh", "您家人不会因为这笔欠款上征信。"),
        ("en", "We won't report you to anyone; this is a civil matter."),
        ("en", "Please don't borrow money to pay us."),
        ("en", "We never accept gift cards; pay the bank directly."),
    ],
)
def test_more_common_negations(us: Detector, language: str, text: str) -> None:
    assert said(us, language, text) == set()


def test_after_eval_v7(cn: Detector, us: Detector) -> None:
    assert said(cn, "zh", "惹急了我们什么事都干得出来。") == {"threat"}
    assert said(cn, "zh", "我们的人早就盯上你了。") == {"threat"}
    assert said(cn, "zh", "不还就等着公安上门抓人吧。") == {"false_consequence"}  # not a threat of violence
    assert "false_consequence" in said(cn, "zh", "我们就一个一个给你家里人打电话。")
    assert "false_consequence" in said(cn, "zh", "我们会通知你的雇主，让你丢了工作。")
    assert said(us, "en", "Keep that attitude and see what we do to you.") == {"threat"}
    assert said(us, "en", "You'll be taken into custody.") == {"false_consequence"}
    assert said(us, "en", "We'll contact everyone in your phone.") == {"false_consequence"}
    # an agency's name is no disclosure of the debt to a third party; 'in collections' is
    hello = "Hi, this is Megan from Northstar Collections, this call is recorded. Is Kevin there?"
    assert found(us, "en", [(C, hello), (T, "He's out.")]) == set()
    assert found(us, "en", [(C, hello), (T, "He's out."), (C, "Tell him his card is in collections.")]) == {
        ("third_party_disclosure", 2)
    }


def test_after_eval_v8(cn: Detector, us: Detector) -> None:
    # harm to the debtor's body named as what to mind; the night walk; the debtor kept in
    assert said(cn, "zh", "你要是再不还，小心你的腿。") == {"threat"}
    assert said(cn, "zh", "当心你的小命。") == {"threat"}
    assert said(cn, "zh", "行，那你以后走夜路的时候注意点。") == {"threat"}
    assert said(cn, "zh", "今天不给钱，你家门也别想出。") == {"threat"}
    assert said(cn, "zh", "小心台阶，您慢走。") == set()
    assert said(cn, "zh", "今晚降温，您晚上出门多穿点衣服。") == set()
    assert said(cn, "zh", "我们不会让您出不了门，您放心。") == set()
    # children barred from school, said with the verb-complement
    assert said(cn, "zh", "你不还钱，你孩子以后上不了学。") == {"false_consequence"}
    assert said(cn, "zh", "欠款不会影响您孩子上学。") == set()
    # the credit-impact statement is no inducement to borrow; the card cash-out at a distance is
    assert said(cn, "zh", "逾期记录会上报征信，影响您以后办贷款和信用卡。") == set()
    assert said(cn, "zh", "你不是有别的信用卡吗？套个现出来还不就行了。") == {"induce_borrowing"}
    assert said(cn, "zh", "千万别用信用卡套现还款。") == set()
    # a person's card is a private payee; the debtor's own account is not
    assert said(cn, "zh", "打到这个卡上，是我们经理的个人卡。") == {"private_payment"}
    assert said(cn, "zh", "还款请存入您本人名下的还款账户。") == set()
    # seizure by a deadline within the day, the verb before the time; stopping it is no threat of it
    assert said(us, "en", "We can have your car repossessed by tomorrow morning.") == {"false_consequence"}
    assert said(us, "en", "Your car will not be repossessed tomorrow.") == set()
    # an agency's own name said to whoever answers is identification, not the debt; the debt told is
    zh_hello = "您好，我是信达催收的王磊，找一下张伟，本次通话录音。"
    assert found(cn, "zh", [(C, zh_hello), (T, "我是他同事")]) == set()
    assert (
        found(cn, "zh", [(C, "您好，我是信达催收公司的王磊，找一下张伟，本次通话录音。"), (T, "他不在")])
        == set()
    )
    assert found(cn, "zh", [(C, zh_hello), (T, "我是他同事"), (C, "他的账已经转催收了。")]) == {
        ("third_party_disclosure", 2)
    }
    en_hello = "Hello, this is Lisa with Summit Collection Agency, this call may be recorded. Is Anna there?"
    assert found(us, "en", [(C, en_hello), (T, "This is her boss.")]) == set()
    assert found(
        us, "en", [(C, en_hello), (T, "This is her boss."), (C, "Her account went to a collection agency.")]
    ) == {("third_party_disclosure", 2)}


def test_after_eval_v9(cn: Detector, us: Detector) -> None:
    # the debtor's life promised to be hard; force the debtor drives them to; property smashed with 把
    assert said(cn, "zh", "你要是敢不还，我保证你下半辈子都不好过。") == {"threat"}
    assert said(cn, "zh", "我劝你识相点，不然有你受的。") == {"threat"}
    assert said(cn, "zh", "别逼我们动手。") == {"threat"}
    assert said(cn, "zh", "再躲着，我们就上门把你家砸了。") == {"threat"}
    assert said(cn, "zh", "你儿子在实验小学吧？放学路上可得看好了。") == {"threat"}
    assert said(cn, "zh", "我知道您最近日子不好过，我们可以商量分期。") == set()
    assert said(cn, "zh", "不还钱，你以后晚上睡觉都不安稳。") == {"threat"}  # the threat, not the empathy
    assert said(cn, "zh", "把你的欠款还了就没事了。") == set()
    assert said(cn, "zh", "您儿子今年高考吧？祝他考试顺利。") == set()
    # children barred with 别想; the debt sent to the contacts; the employer through 'your company's boss'
    assert said(cn, "zh", "到时候孩子别想上学了。") == {"false_consequence"}
    assert said(cn, "zh", "我们会把你的欠款信息发到你所有微信好友那里。") == {"false_consequence"}
    assert said(cn, "zh", "我们会打电话给你们公司老板，告诉他你欠钱不还。") == {"false_consequence"}
    assert said(cn, "zh", "我们不会打电话给你们公司老板，请放心。") == set()
    assert said(cn, "zh", "有疑问可以联系我们公司的客服。") == set()
    # borrowing as 周转 from friends; the collector's own payment code; cash brought to the collector
    assert said(cn, "zh", "你可以先找朋友周转一下，把这期还上。") == {"induce_borrowing"}
    assert said(cn, "zh", "您可以先跟家人商量一下还款计划。") == set()
    assert said(cn, "zh", "加我微信，我给你发收款码。") == {"private_payment"}
    assert said(cn, "zh", "拿现金过来，我当面给你开收据。") == {"private_payment"}
    assert said(cn, "zh", "请只向银行官方账户还款，任何个人账户都不要转。") == set()
    assert said(cn, "zh", "银行会给您发一个官方还款二维码，请在App里查看。") == set()
    # English: the family hurt, wished not; a personal number as payee
    assert said(us, "en", "I'd hate for your family to get hurt over this.") == {"threat"}
    assert said(us, "en", "Sure, Zelle it to my personal number.") == {"private_payment"}
    assert (
        said(us, "en", "Please don't Zelle anything to my personal number; pay Discover directly.") == set()
    )


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("zh", "我们会找人打你。"),
        ("zh", "你再不还我就让人去你家闹。"),
        ("zh", "我们有人在你家楼下等着呢。"),
        ("zh", "你等着吧，今晚就有人去找你。"),
        ("zh", "你老婆上班那条路我们都熟。"),
        ("zh", "出了什么事别怪我们。"),
        ("zh", "我们的人会天天跟着你。"),
        ("en", "We'll send some people to pay you a visit."),
        ("en", "We're going to come after you and your family."),
        ("en", "You won't see it coming."),
    ],
)
def test_threats_by_structure(us: Detector, language: str, text: str) -> None:
    """Harm by people sent at the debtor, people waiting or following, the family's routes known."""
    assert said(us, language, text) == {"threat"}


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("zh", "我找人打你电话你都不接。"),
        ("zh", "明天会有外访同事上门拜访您，核实一下情况。"),
        ("zh", "我们会派人上门了解情况。"),
        ("zh", "我一直在跟进您的案子。"),
        ("zh", "您几点下班？我们方便的时候再打。"),
        ("zh", "如果出了什么事，您可以随时联系我们。"),
        ("zh", "我们不会找人去你家闹，请放心。"),
        ("en", "The creditor may come after you in court for the balance."),
        ("en", "A field representative may visit you."),
        ("en", "We'll pay you a call next week."),
    ],
)
def test_threat_structures_leave_lawful_visits_and_calls(us: Detector, language: str, text: str) -> None:
    assert said(us, language, text) == set()
