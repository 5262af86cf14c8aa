"""Authoring source of bench/data/qa/eval_v2.jsonl: a third hand-labelled set (issue 21, item 3),
written from the category DEFINITIONS of the issue, before any rule was changed for it, to measure how
the detector generalises to collection-call language it was not written against: colloquial and
regional phrasing, ASR artefacts (spaces inside words, full-width characters, typos), English
contractions and casing, and many hard negatives (negated statements, accurate statements about
credit reporting / lawful suits / penalty interest, customers and third parties using trigger words,
identification in the second vs the third collector turn, the debt told to the debtor vs to a
relative, payment to the bank's account vs to a person).

Labelling conventions (the same unit as the bench: (category, segment_index)):
- a segment is labelled with every category its words commit (a segment can carry two);
- only the collector's speech is labelled;
- ``missing_identification``: the collector's first two turns do not state (name or agency) AND
  (creditor or purpose); only when the debtor (``customer``) speaks in the transcript; a false
  identity (police, court) does not identify;
- ``missing_recording_notice``: no notice in the collector's first three turns (a negated notice,
  "本次通话不录音", is none);
- ``missing_debt_collector_disclosure`` (US pack only): no statement that the communication is from a
  debt collector in the collector's first three turns, only when the debtor speaks.

Run `python bench/data/qa/eval_v2_source.py` after editing to regenerate the JSON lines."""

import json
from pathlib import Path

C, D, T = "collector", "customer", "third_party"
MI, MR, MD = "missing_identification", "missing_recording_notice", "missing_debt_collector_disclosure"
TH, AB, IM, FC = "threat", "abuse", "impersonation", "false_consequence"
TP, IB, PP = "third_party_disclosure", "induce_borrowing", "private_payment"

# complete openings (identification, creditor or purpose, recording notice; the English ones of the
# US pack also the debt-collector disclosure)
Z1 = "您好，我是安信资产的催收专员小周，受招商银行委托联系您，本次通话全程录音。"
Z2 = "喂，张先生是吧？我这边是众诚商务咨询的，姓刘，工号3021，打电话是关于您浦发银行信用卡欠款的事，通话有录音哈。"
Z3 = "您好，我是平安银行委外合作机构的调解员王磊，今天联系您是关于您名下贷款的还款事宜，提醒一下本次通话会被录音。"
Z4 = "你好，这里是鼎盛资产管理有限公司，我姓陈，就您交通银行信用卡逾期的事跟您沟通一下，电话已经录音。"
Z5 = "您好，我是 华融资产 的 小李，代表中信银行跟您联系还 款 的事情，通话正在录 音。"
Z6 = "您好！我是恒信资产的外访专员刘军，这是我的工作证，受建设银行委托上门跟您沟通欠款的事，现场用记录仪全程录像。"
Z7 = "您好，我是广发银行委托的催收公司\uff08德勤信\uff09的吴敏，工号\uff10\uff17\uff18，来电是提醒您信用卡账单已逾期，通话录音中。"
ZU = "您好，我是太平洋追收公司的陈丽，代表第一联合银行就您的信用卡账户联系您。本通话会被录音。这是一通债务催收电话，我们是债务催收方，获取的任何信息都将用于此目的。"
E1 = "Hi, this is Mark Ellis with Redwood Financial Recovery, calling on behalf of Coastal Bank about your credit card account. This call is recorded. This is an attempt to collect a debt, and any information obtained will be used for that purpose."
E2 = "Good afternoon, my name's Tanya, I'm with Keystone Collections on behalf of Horizon Bank regarding an outstanding balance. Just so you know, calls are monitored and recorded. This communication is from a debt collector."
E3 = "hey this is jordan from apex recovery group calling about your auto loan with summit bank. heads up, this call's being recorded, and i'm a debt collector trying to collect a debt."
E4 = "Hello, I'm Priya Shah from Lakeside Account Services. I'm calling for First Harbor Bank about your past-due card. This call may be monitored or recorded for quality purposes. This is an attempt to collect a debt by a debt collector."
EC = "Hello, this is Kevin Wu from Jade Recovery Services, calling on behalf of China Merchants Bank about your overdue credit card. This call is being recorded."
EV = "Hi, I'm Dana Price, a field representative with Northpoint Recovery, here on behalf of Midland Bank about your car loan. I'm wearing a body camera, so this visit is recorded. This is an attempt to collect a debt by a debt collector."

Turn = tuple[str, str] | tuple[str, str, str]
rows: list[tuple[str, str, str, list[Turn], list[str]]] = [
    # ---- CN, Chinese: threat ------------------------------------------------------------------------
    ("CN", "zh", "call", [(C, Z1), (D, "没钱。"), (C, "你再拖着不还，小心哪天出门被车撞了。", TH)], []),
    (
        "CN",
        "zh",
        "call",
        [(C, Z2), (D, "我说了没钱！"), (C, "行，我们有的是办法让你在这个城市待不下去。", TH)],
        [],
    ),
    (
        "CN",
        "zh",
        "visit",
        [(C, Z6), (D, "你们走吧。"), (C, "信不信我现在就叫几个人过来堵在你家门口？", TH)],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [(C, Z3), (D, "你爱怎么样怎么样。"), (C, "你儿子在实验小学上学是吧，放学路上让他注意点。", TH)],
        [],
    ),
    ("CN", "zh", "call", [(C, Z4), (D, "我就不还，你能怎样？"), (C, "再 不 还 把 你 腿 打 断。", TH)], []),
    (
        "CN",
        "zh",
        "call",
        [(C, Z5), (D, "你们是不是要来打我？"), (C, "您放心，我们不会采取任何暴力手段，也不会上门找您麻烦。")],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [(C, Z1), (D, "你再打电话我就弄死你！"), (C, "您先冷静，我们只是想跟您商量个还款方案。")],
        [],
    ),
    ("CN", "zh", "call", [(C, Z2), (D, "我会还的。"), (C, "好的，您开车注意安全，路上小心。")], []),
    # ---- CN, Chinese: abuse ---------------------------------------------------------------------------
    (
        "CN",
        "zh",
        "call",
        [(C, Z3), (D, "我真的还不起。"), (C, "你这人怎么这么不要脸啊，借钱的时候怎么不说还不起？", AB)],
        [],
    ),
    ("CN", "zh", "call", [(C, Z4), (D, "下个月吧。"), (C, "真是个废物，几千块钱都拿不出来。", AB)], []),
    ("CN", "zh", "call", [(C, Z1), (D, "你们烦不烦。"), (C, "你脑子有病吧？天天躲着不接电话。", AB)], []),
    ("CN", "zh", "call", [(C, Z5), (D, "嗯。"), (C, "你个死老赖，丢不丢人。", AB)], []),
    (
        "CN",
        "zh",
        "call",
        [(C, Z2), (D, "你们这些吸血鬼，骗子，王八蛋！"), (C, "我理解您的情绪，我们没有任何冒犯您的意思。")],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [(C, Z3), (D, "你们是不是把我当老赖了？"), (C, "没有，银行从来没有把您当老赖，只是想了解您的困难。")],
        [],
    ),
    # ---- CN, Chinese: impersonation -------------------------------------------------------------------
    (
        "CN",
        "zh",
        "call",
        [
            (C, "喂，李伟吗？我是市公安局经侦大队的，你信用卡的案子已经移交到我们这里了。", IM),
            (D, "啊？"),
            (C, "本次通话录音，你配合调查。"),
        ],
        [MI],
    ),
    (
        "CN",
        "zh",
        "call",
        [
            (C, Z4),
            (D, "你们到底是谁？"),
            (C, "实话告诉你，我这边是朝阳区人民法院执行庭的，专门办你这种案子。", IM),
        ],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [(C, Z1), (D, "我要找律师。"), (C, "不用找了，我就是银行法务部的张律师，你的案子归我管。", IM)],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [(C, Z2), (D, "那怎么办？"), (C, "我们是检察院那边委托过来核实情况的工作人员，你要如实回答。", IM)],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [(C, Z3), (D, "你是警察吗？"), (C, "我们不是警察，也不是法院，只是受银行委托的催收机构。")],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [(C, Z4), (D, "这个要不要请律师？"), (C, "我不是律师，具体法律问题建议您咨询专业律师。")],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [
            (C, Z5),
            (D, "我是警察，你再骚扰我试试！"),
            (C, "先生您好，我们是正常的还款提醒，您可以核实我们的身份。"),
        ],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [(C, Z1), (D, "银行会怎么做？"), (C, "如果一直协商不成，银行可能委托律师依法向法院起诉。")],
        [],
    ),
    # ---- CN, Chinese: false consequence ----------------------------------------------------------------
    (
        "CN",
        "zh",
        "call",
        [(C, Z2), (D, "我没钱。"), (C, "你这个属于恶意透支，已经够刑事立案了，等着进去吧。", FC)],
        [],
    ),
    ("CN", "zh", "call", [(C, Z3), (D, "车我还要用。"), (C, "明天一早我们就派人把你那辆车拖走。", FC)], []),
    (
        "CN",
        "zh",
        "call",
        [(C, Z4), (D, "我孩子还小。"), (C, "你现在不处理，以后你小孩考公务员政审都过不去。", FC)],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [(C, Z1), (D, "随便你。"), (C, "那我们就把你欠钱的事发到你们公司群里，让大家都知道。", FC)],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [(C, Z5), (D, "下周吧。"), (C, "今天不还的话，下午法院就来人查封你的房子。", FC)],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [(C, Z2), (D, "还不上。"), (C, "那你的通讯录我们会挨个打一遍，你亲戚朋友都会知道你欠钱。", FC)],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [
            (C, Z3),
            (D, "会上征信吗？"),
            (C, "会的，逾期信息会如实报送人民银行征信系统，影响您以后办理贷款和信用卡。"),
        ],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [(C, Z4), (D, "你们会告我吗？"), (C, "如果长期协商无果，银行有权依法向法院提起诉讼，这个请您理解。")],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [(C, Z1), (D, "利息怎么还在涨？"), (C, "逾期期间会按合同约定继续计收罚息和违约金。")],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [(C, Z5), (D, "我会不会坐牢？"), (C, "欠款本身是民事纠纷，不会因此坐牢的，您放心。")],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [
            (C, Z2),
            (D, "判决了会怎么样？"),
            (C, "如果法院判决生效后仍拒不履行，才有可能被司法拘留或列为失信被执行人。"),
        ],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [(C, Z3), (D, "你们会打给我单位吗？"), (C, "我们不会联系您的单位和同事，这个您放心。")],
        [],
    ),
    # ---- CN, Chinese: third-party disclosure ------------------------------------------------------------
    (
        "CN",
        "zh",
        "visit",
        [
            (C, "您好，我是恒信资产的外访员刘军，想找一下住302的周强，现场有记录仪录像。"),
            (T, "我是他邻居，他不在。"),
            (C, "他欠了银行五万多，一直躲着不还，你见到他让他联系我们。", TP),
        ],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [
            (C, "您好，我是安信资产的小周，请问是周强的家属吗？通话录音。"),
            (T, "我是他妈妈，怎么了？"),
            (C, "阿姨，您儿子信用卡欠了三万八，您能不能先帮他还一下？", TP),
        ],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [
            (C, "你好，我是鼎盛资产的小陈，找一下王强，电话有录音。"),
            (T, "他是我同事，今天请假了。"),
            (C, "那你转告他，他在我们这笔贷款已经逾期四个月了。", TP),
        ],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [
            (C, "您好，我是众诚咨询的小刘，请问周强在吗？通话录音。"),
            (T, "我是他老婆，他又欠钱了吗？"),
            (C, "这个不方便跟您说，麻烦让他本人给我回个电话，谢谢。"),
        ],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [
            (C, "您好，我是平安银行合作机构的王磊，找一下李娜，本次通话录音。"),
            (T, "她不在家，你是谁？"),
            (C, "我们有点私人事务需要跟她本人沟通，麻烦转告她回电。"),
        ],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [
            (C, "您好，我是安信资产的小周，找一下周强，本次通话录音。"),
            (T, "我是他爸，你等下。"),
            (D, "喂，我是周强。"),
            (C, "周先生您好，受招商银行委托，您信用卡欠款三万八已经逾期两个月了。"),
        ],
        [],
    ),
    # ---- CN, Chinese: induce borrowing -----------------------------------------------------------------
    ("CN", "zh", "call", [(C, Z1), (D, "我真没钱。"), (C, "你找你爸妈先借点不就行了吗？", IB)], []),
    (
        "CN",
        "zh",
        "call",
        [(C, Z2), (D, "工资还没发。"), (C, "实在不行你去借呗上借一笔先把我们这个还了。", IB)],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [(C, Z3), (D, "卡都刷爆了。"), (C, "你不是还有别的信用卡吗，先刷出来还这边。", IB)],
        [],
    ),
    ("CN", "zh", "call", [(C, Z4), (D, "真的凑不齐。"), (C, "跟朋友凑一凑嘛，今天必须还上。", IB)], []),
    (
        "CN",
        "zh",
        "call",
        [(C, Z5), (D, "我想找朋友借钱还你们。"), (C, "我们不建议您借新还旧，还是量力而行，可以申请分期。")],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [(C, Z1), (D, "网贷能借出来。"), (C, "千万别去借网贷和高利贷，那样只会越滚越多。")],
        [],
    ),
    # ---- CN, Chinese: private payment -------------------------------------------------------------------
    (
        "CN",
        "zh",
        "call",
        [(C, Z2), (D, "怎么还？"), (C, "你直接微信转我就行，我帮你跟银行那边处理。", PP)],
        [],
    ),
    ("CN", "zh", "call", [(C, Z3), (D, "好的。"), (C, "你加我私人微信，我发个收款码给你。", PP)], []),
    (
        "CN",
        "zh",
        "call",
        [(C, Z4), (D, "卡号多少？"), (C, "钱打到我同事的卡上就行，卡号我短信发你。", PP)],
        [],
    ),
    (
        "CN",
        "zh",
        "visit",
        [(C, Z6), (D, "我现在手上有点钱。"), (C, "那你把现金先给我，我回去帮你交。", PP)],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [(C, Z5), (D, "支付宝行吗？"), (C, "可以，你用支付宝转到这个个人账号，13812345678。", PP)],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [(C, Z1), (D, "我怎么还？"), (C, "请通过招商银行App或者银行官方对公账户还款，不要转给任何个人。")],
        [],
    ),
    (
        "CN",
        "zh",
        "visit",
        [(C, Z6), (D, "我给你现金行吗？"), (C, "不行，我们不收现金，也不接受转到个人的微信或支付宝。")],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [(C, Z3), (D, "支付宝能还吗？"), (C, "可以用支付宝的还信用卡功能，直接还到您自己的信用卡账户上。")],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [(C, Z4), (D, "我微信转给你可以吗？"), (C, "不可以，只能还到银行的账户，我个人不能收款。")],
        [],
    ),
    # ---- CN, Chinese: opening checks ------------------------------------------------------------------
    (
        "CN",
        "zh",
        "call",
        [(C, "喂，是李伟吗？"), (D, "是我，哪位？"), (C, "你欠的钱什么时候还？本通话录音。")],
        [MI],
    ),
    (
        "CN",
        "zh",
        "call",
        [
            (C, "喂，王女士吗？通话录音哈。"),
            (D, "对，什么事？"),
            (C, "找您有点事，您现在方便吗？"),
            (D, "方便。"),
            (C, "我是信达资产的小周，受建行委托联系您信用卡的事。"),
        ],
        [MI],
    ),
    (
        "CN",
        "zh",
        "call",
        [
            (C, "喂，王女士吗？通话录音哈。"),
            (D, "对，什么事？"),
            (C, "我是信达资产的小周，受建行委托联系您信用卡的事。"),
        ],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [
            (C, "您好，我是小周。"),
            (D, "哪个小周？"),
            (C, "您最近方便吗？本次通话录音。"),
            (D, "还行。"),
            (C, "是关于您信用卡的事情。"),
        ],
        [MI],
    ),
    (
        "CN",
        "zh",
        "call",
        [
            (C, "您好，我是安信资产的小周，受招商银行委托联系您信用卡还款的事。"),
            (D, "哦。"),
            (C, "您这个月能还多少？"),
            (D, "两千。"),
            (C, "好的，月底前对吧？"),
            (D, "对。"),
            (C, "好的，另外说一下本次通话有录音。"),
        ],
        [MR],
    ),
    (
        "CN",
        "zh",
        "call",
        [
            (
                C,
                "您好，我是安信资产的小周，受招商银行委托联系您信用卡还款的事，本次通话不录音，您可以放心说。",
            ),
            (D, "哦。"),
            (C, "您这个月能还多少？"),
        ],
        [MR],
    ),
    (
        "CN",
        "zh",
        "call",
        [
            (C, "您好，我是安信资产的小周，受招商银行委托联系您信用卡还款的事。"),
            (D, "你们录音了吗？"),
            (C, "是的，为保障双方权益，本次通话全程录音。"),
        ],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [
            (C, "您好，我是安信资产的小周，受招商银行委托联系您信用卡还款的事。"),
            (D, "嗯。"),
            (C, "我先记录一下您的还款日期。"),
        ],
        [MR],
    ),
    ("CN", "zh", "call", [(C, Z7), (D, "知道了。"), (C, "那您看月底前能还上吗？")], []),
    (
        "CN",
        "zh",
        "visit",
        [
            (C, "您好，我是恒信资产的外访员刘军，受建设银行委托上门沟通您贷款的事。"),
            (D, "进来说吧。"),
            (C, "好的，谢谢。"),
            (D, "坐。"),
            (C, "您这个情况我了解一下。"),
        ],
        [MR],
    ),
    # ---- CN, English transcripts ------------------------------------------------------------------------
    (
        "CN",
        "en",
        "call",
        [(C, EC), (D, "I can't pay now."), (C, "Then borrow it from your relatives and pay today.", IB)],
        [],
    ),
    (
        "CN",
        "en",
        "call",
        [
            (C, EC),
            (D, "What happens if I don't?"),
            (
                C,
                "The bank may report the overdue account to the credit reference center and could take legal action.",
            ),
        ],
        [],
    ),
    (
        "CN",
        "en",
        "call",
        [
            (C, EC),
            (D, "Where do I pay?"),
            (C, "Just WeChat me the money, I'll sort it out with the bank.", PP),
        ],
        [],
    ),
    # ---- US, English: threat / abuse --------------------------------------------------------------
    (
        "US",
        "en",
        "call",
        [
            (C, E1),
            (D, "I told you I'm not paying."),
            (C, "Keep dodging us and somebody's gonna get hurt.", TH),
        ],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [(C, E2), (D, "Whatever."), (C, "I'd hate for something to happen to that nice truck of yours.", TH)],
        [],
    ),
    (
        "US",
        "en",
        "visit",
        [
            (C, EV),
            (D, "Get off my porch."),
            (C, "We'll come back with some friends and deal with you ourselves.", TH),
        ],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, E4),
            (D, "Are you threatening me?"),
            (C, "No sir, nobody is going to hurt you and nobody will come to your home."),
        ],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, E3),
            (D, "Call again and I'll kill you, you idiot."),
            (C, "I understand you're upset. I just want to find a plan that works."),
        ],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [(C, E1), (D, "I'll pay when I can."), (C, "You're a deadbeat and everybody knows it.", AB)],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [(C, E2), (D, "I lost my job."), (C, "Stop whining, you clown. Grown-ups pay their bills.", AB)],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, E4),
            (D, "I don't understand the letter."),
            (C, "Are you STUPID or something? It's simple.", AB),
        ],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, E3),
            (D, "You're calling me a liar?"),
            (C, "I'm not calling you a liar, I just need the dates to update the file."),
        ],
        [],
    ),
    # ---- US, English: impersonation ---------------------------------------------------------------
    (
        "US",
        "en",
        "call",
        [
            (
                C,
                "This is Officer Daniels with the county sheriff's department regarding an unpaid account. This call is recorded.",
                IM,
            ),
            (D, "What?"),
            (C, "You need to resolve this today."),
        ],
        [MI, MD],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, E1),
            (D, "Who is this really?"),
            (C, "I'm calling from the district attorney's office, ma'am, this is serious.", IM),
        ],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, E2),
            (D, "I want to talk to a lawyer."),
            (C, "I AM an attorney and I'm handling your file personally.", IM),
        ],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, E4),
            (D, "Are you the cops?"),
            (C, "No, we're not law enforcement and we're not attorneys. We're a collection agency."),
        ],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, E3),
            (D, "Do I need a lawyer?"),
            (C, "You have the right to speak with an attorney if you'd like."),
        ],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, E1),
            (D, "I'm a police officer, you know."),
            (C, "Thank you for letting me know, sir. Can we talk about a payment plan?"),
        ],
        [],
    ),
    # ---- US, English: false consequence -----------------------------------------------------------
    (
        "US",
        "en",
        "call",
        [(C, E2), (D, "Maybe next month."), (C, "If this isn't paid by Friday, you'll be arrested.", FC)],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [(C, E4), (D, "I can't."), (C, "Then we're garnishing your wages starting next week.", FC)],
        [],
    ),
    ("US", "en", "call", [(C, E1), (D, "So?"), (C, "The sheriff will be at your door tonight.", FC)], []),
    (
        "US",
        "en",
        "call",
        [(C, E3), (D, "Not paying."), (C, "Fine, we'll let your boss know about this debt.", FC)],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, E2),
            (D, "What can happen?"),
            (C, "Late payments can be reported to the credit bureaus and may affect your credit score."),
        ],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, E4),
            (D, "Will you sue me?"),
            (C, "The creditor may decide to file a lawsuit, and a court could then enter a judgment."),
        ],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, E1),
            (D, "Why is it growing?"),
            (C, "Interest and late fees keep accruing under your card agreement."),
        ],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, E3),
            (D, "Can I go to jail for this?"),
            (C, "Nobody's going to arrest you over a credit card debt."),
        ],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [(C, E2), (D, "Will you call my job?"), (C, "We don't contact your employer about your debt.")],
        [],
    ),
    # ---- US, English: third-party disclosure -------------------------------------------------------
    (
        "US",
        "en",
        "call",
        [
            (
                C,
                "Hi, this is Mark from Redwood Financial Recovery, this call is recorded. Is Luis Lopez there?",
            ),
            (T, "I'm his wife, he's at work."),
            (C, "Ma'am, your husband owes $4,200 on his Visa and he's been dodging us.", TP),
        ],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, "Hey, this is Jordan with Apex Recovery, call's recorded. Is Ben around?"),
            (T, "I'm his roommate."),
            (C, "Can you tell him his car loan is three months behind?", TP),
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
                "Hi, this is Mark from Redwood Financial Recovery, this call is recorded. Is Luis Lopez there?",
            ),
            (T, "No, who's calling?"),
            (
                C,
                "I'm trying to reach him regarding a personal business matter. Could you ask him to call me back?",
            ),
        ],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, "Hi, this is Tanya with Keystone, calls are recorded. May I speak to Amy Chen?"),
            (T, "She's out. Is she in debt again?"),
            (C, "I'm sorry, I can only discuss that with her. Please have her call me back."),
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
                "Hi, this is Mark from Redwood Financial Recovery, this call is recorded. Is Luis Lopez there?",
            ),
            (T, "Hold on."),
            (D, "This is Luis."),
            (C, "Mr. Lopez, this is an attempt to collect a debt. You owe $4,200 on your Coastal Bank Visa."),
        ],
        [],
    ),
    # ---- US, English: induce borrowing / private payment -----------------------------------------------
    (
        "US",
        "en",
        "call",
        [(C, E1), (D, "I don't have it."), (C, "Can't your parents lend you the money?", IB)],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [(C, E2), (D, "I'm broke."), (C, "Why don't you just put it on another card and pay us today?", IB)],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [(C, E4), (D, "Payday's in two weeks."), (C, "Grab a payday loan and clear this today.", IB)],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, E3),
            (D, "My sister said she'd lend me some."),
            (C, "Please don't take on new debt to pay this; let's set up a plan you can afford instead."),
        ],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, E1),
            (D, "How do I pay?"),
            (C, "Just send it to my Cash App, $jrod88, and I'll mark it paid.", PP),
        ],
        [],
    ),
    (
        "US",
        "en",
        "visit",
        [
            (C, EV),
            (D, "I can pay some now."),
            (C, "Great, just hand me the cash and I'll take care of it.", PP),
        ],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [(C, E2), (D, "Can I pay by check?"), (C, "Make the check out to me personally, Tanya Reed.", PP)],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, E4),
            (D, "Where do I send it?"),
            (
                C,
                "Please pay through the bank's official website or app; we never accept payments to personal accounts.",
            ),
        ],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, E3),
            (D, "Can I just Venmo you?"),
            (C, "No, I can't accept that. Pay Summit Bank directly by phone or online."),
        ],
        [],
    ),
    # ---- US, English: opening checks --------------------------------------------------------------
    (
        "US",
        "en",
        "call",
        [
            (C, "Hi, is this Robert?"),
            (D, "Yes?"),
            (C, "Great, this call is recorded. When are you going to pay?"),
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
                "Hi, my name is Sam with Harbor Collections, calling about your Union Bank loan. This call is recorded.",
            ),
            (D, "Okay."),
            (C, "When can you make a payment?"),
            (D, "Friday."),
            (C, "Friday works."),
            (D, "Okay."),
            (C, "Also, this is an attempt to collect a debt."),
        ],
        [MD],
    ),
    (
        "US",
        "en",
        "call",
        [
            (
                C,
                "Hi, my name is Sam with Harbor Collections, calling about your Union Bank loan. I'm not a debt collector, I'm just checking in. This call is recorded.",
            ),
            (D, "Okay."),
        ],
        [MD],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, "Hi, is this Robert? This call is recorded."),
            (D, "Who's asking?"),
            (
                C,
                "Sam from Harbor Collections, on behalf of Union Bank about your loan. This is an attempt to collect a debt.",
            ),
        ],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, "Hi, is this Robert? This call is recorded."),
            (D, "Who's asking?"),
            (C, "Just a quick call."),
            (D, "About what?"),
            (
                C,
                "Sam from Harbor Collections, on behalf of Union Bank about your loan. This is an attempt to collect a debt.",
            ),
        ],
        [MI],
    ),
    (
        "US",
        "en",
        "call",
        [
            (
                C,
                "Hi, my name is Sam with Harbor Collections, calling about your Union Bank loan. This is an attempt to collect a debt.",
            ),
            (D, "Okay."),
            (C, "Let me make a record of your promise to pay."),
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
                "HELLO, THIS IS GREG FROM ALLIED CREDIT SERVICES ABOUT YOUR MERIDIAN BANK CARD. WE'RE RECORDING THIS CALL. THIS IS A COMMUNICATION FROM A DEBT COLLECTOR.",
            ),
            (D, "ok"),
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
                "Hi, this is Nina from Crestline Recovery on behalf of Oak Bank about your account. Quick note: this call may be monitored or recorded.",
            ),
            (D, "Are you a debt collector?"),
            (C, "Yes, I'm a debt collector, and this is an attempt to collect a debt."),
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
                "Hi, I'm Dana Price with Northpoint Recovery, here for Midland Bank about your car loan. This is an attempt to collect a debt.",
            ),
            (D, "Come in."),
            (C, "Thanks."),
            (D, "Sit down."),
            (C, "Let's look at your options."),
        ],
        [MR],
    ),
    # ---- US, Chinese transcripts ------------------------------------------------------------------
    ("US", "zh", "call", [(C, ZU), (D, "我现在没钱。"), (C, "那你找朋友先借一下，今天还上。", IB)], []),
    (
        "US",
        "zh",
        "call",
        [
            (C, "您好，我是太平洋追收公司的陈丽，代表第一联合银行就您的信用卡账户联系您。本通话会被录音。"),
            (D, "什么事？"),
            (C, "您的账户已经逾期了。"),
        ],
        [MD],
    ),
    (
        "US",
        "zh",
        "call",
        [(C, ZU), (D, "我会不会被抓？"), (C, "不会的，欠款是民事问题，我们不是警察，也不会报警抓人。")],
        [],
    ),
    # ---- more variants: traditional characters, full-width, colloquial, casing ----------------------
    ("CN", "zh", "call", [(C, Z1), (D, "沒錢。"), (C, "你再不還錢，就等著坐牢吧！", FC)], []),
    (
        "CN",
        "zh",
        "call",
        [(C, Z2), (D, "你們到底是誰？"), (C, "我們是法院的，今天是最後一次通知你。", IM)],
        [],
    ),
    ("CN", "zh", "call", [(C, Z3), (D, "怎麼還？"), (C, "加我微信，直接轉到我個人帳戶。", PP)], []),
    ("CN", "zh", "call", [(C, Z4), (D, "隨便。"), (C, "你小心點，我們知道你家住哪。", TH)], []),
    (
        "CN",
        "zh",
        "call",
        [(C, Z5), (D, "怎么转？"), (C, "直接转我支付宝，账号就是我手机号１３９０００１２３４５。", PP)],
        [],
    ),
    ("CN", "zh", "call", [(C, Z1), (D, "我不管。"), (C, "不还钱你就进去蹲几年吧。", FC)], []),
    (
        "CN",
        "zh",
        "call",
        [(C, Z2), (D, "你吓唬谁呢？"), (C, "我们已经报案了，警察这两天就会上门把你带走。", FC)],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [(C, Z3), (D, "我上班呢。"), (C, "这事要是闹到你单位去，你这工作还要不要了？", FC)],
        [],
    ),
    ("CN", "zh", "call", [(C, Z4), (D, "借不到。"), (C, "去借点高利贷先把这个窟窿堵上。", IB)], []),
    ("CN", "zh", "visit", [(C, Z6), (D, "你们想干嘛？"), (C, "你等着，我们的人马上就到你家楼下。", TH)], []),
    (
        "CN",
        "zh",
        "visit",
        [
            (C, "您好，我是恒信资产的外访员刘军，想找一下人事部门，现场有记录仪录像。"),
            (T, "我是公司人事，有什么事？"),
            (C, "你们公司的员工李明在我们银行有笔贷款一直没还，你们得督促他。", TP),
        ],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [
            (C, "您好，我是众诚咨询的小刘，找一下周强，通话录音。"),
            (T, "他欠你们多少钱？我替他还。"),
            (C, "谢谢您，具体情况需要他本人授权才能沟通，麻烦让他回电。"),
        ],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [(C, Z5), (D, "一共多少？"), (C, "您欠款一共五万三千二，今天最低还三千可以吗？")],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [(C, Z1), (D, "法院判了以后呢？"), (C, "判决生效后，银行可以依法申请强制执行。")],
        [],
    ),
    ("US", "en", "call", [(C, E3), (D, "not today."), (C, "you're gonna end up in jail, pal.", FC)], []),
    (
        "US",
        "en",
        "call",
        [(C, E1), (D, "I'm not paying."), (C, "Then we'll have you locked up, simple as that.", FC)],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, E2),
            (D, "Who are you with again?"),
            (C, "Ma'am, I'm with the IRS and this debt has been referred to us.", IM),
        ],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [(C, E4), (D, "Hello?"), (C, "This is Detective Ramos. You need to clear this balance today.", IM)],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, E1),
            (D, "Can you garnish my wages?"),
            (C, "Only if a court enters a judgment; then the creditor could ask for a wage garnishment."),
        ],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, E2),
            (D, "So you're going to throw me in jail?"),
            (C, "Absolutely not. No one from our office will ever come to your workplace either."),
        ],
        [],
    ),
]


def main() -> None:
    out = Path(__file__).with_name("eval_v2.jsonl")
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
            "transcript_id": f"V{n:03d}",
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
