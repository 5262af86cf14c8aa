"""Authoring source of bench/data/qa/eval_v3.jsonl: a fourth hand-labelled set, written after the
rules were generalised on eval_v2 and never used to change them: its first run is the honest figure
for unseen language. Same conventions as eval_v2_source.py (read its docstring); fresh phrasing:
veiled threats, contempt without swear words, authorities named differently, other sanctions,
other payees, other borrowing channels, openings in other words.

Run `python bench/data/qa/eval_v3_source.py` after editing to regenerate the JSON lines."""

import json
from pathlib import Path

C, D, T = "collector", "customer", "third_party"
MI, MR, MD = "missing_identification", "missing_recording_notice", "missing_debt_collector_disclosure"
TH, AB, IM, FC = "threat", "abuse", "impersonation", "false_consequence"
TP, IB, PP = "third_party_disclosure", "induce_borrowing", "private_payment"

Z1 = (
    "喂您好，我这边是德衡资产管理的调解专员，我姓郑，受兴业银行委托，跟您沟通一下信用卡账单的事，通话有录音。"
)
Z2 = (
    "您好，打扰了，我是融信外包服务公司的赵倩，工号5562，代表华夏银行提醒您贷款已经逾期，本次通话会全程录音。"
)
Z3 = "你好，我是博远商务的小孙，受农业银行委托跟你说一下欠款的事，提醒下通话是录音的。"
Z4 = "您好，我们是中诚信合外访组的，我叫马涛，受光大银行委托来了解您的还款情况，我这边开着执法记录仪。"
E1 = "Hi, it's Kelly calling from Brightline Recovery about your Capital One card. This call may be recorded. Please be advised this is a communication from a debt collector."
E2 = "Good morning, my name is Omar Hassan with Sterling Portfolio Services, on behalf of Citizens Bank, about your past-due account. Calls are recorded, and this is an attempt to collect a debt."
E3 = "Hi there, Beth from Granite Collections calling regarding your Wells Fargo loan. We record all calls. This is an attempt to collect a debt, and any information obtained will be used for that purpose."
EC = "This is Lily Zhang from Eastern Asset Management on behalf of ICBC about your credit card balance. This call is being recorded."

Turn = tuple[str, str] | tuple[str, str, str]
rows: list[tuple[str, str, str, list[Turn], list[str]]] = [
    # ---- CN, Chinese ------------------------------------------------------------------------------
    (
        "CN",
        "zh",
        "call",
        [(C, Z1), (D, "我就是不想还。"), (C, "你要是再躲，我保证你以后睡觉都不安稳。", TH)],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [(C, Z2), (D, "你能拿我怎样？"), (C, "我们这边什么人都有，你自己掂量掂量。", TH)],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [(C, Z3), (D, "我搬家了。"), (C, "你家那个小区我熟得很，哪栋哪层我都知道。", TH)],
        [],
    ),
    (
        "CN",
        "zh",
        "visit",
        [(C, Z4), (D, "没钱就是没钱。"), (C, "信不信明天你家门口就喷上欠债还钱四个大字？", TH)],
        [],
    ),
    ("CN", "zh", "call", [(C, Z1), (D, "别烦我。"), (C, "你老婆在超市上班对吧？让她下班早点回家。", TH)], []),
    (
        "CN",
        "zh",
        "call",
        [(C, Z2), (D, "你们会不会找人来？"), (C, "您别担心，我们只是电话沟通，不会有人去打扰您的家人。")],
        [],
    ),
    ("CN", "zh", "call", [(C, Z3), (D, "你们再这样我跟你拼了！"), (C, "您先消消气，我们慢慢商量。")], []),
    ("CN", "zh", "call", [(C, Z1), (D, "行吧。"), (C, "早点休息，注意身体。")], []),
    ("CN", "zh", "call", [(C, Z2), (D, "我没办法。"), (C, "你真是个无耻的人。", AB)], []),
    ("CN", "zh", "call", [(C, Z3), (D, "我过两天再说。"), (C, "跟你这种人说话真是浪费口水。", AB)], []),
    ("CN", "zh", "call", [(C, Z1), (D, "嗯。"), (C, "你是猪吗？听不懂人话？", AB)], []),
    ("CN", "zh", "call", [(C, Z2), (D, "我借的时候没想那么多。"), (C, "没本事就别借钱啊，真丢人。", AB)], []),
    ("CN", "zh", "call", [(C, Z3), (D, "你他妈有完没完！"), (C, "您别激动，我们好好说。")], []),
    ("CN", "zh", "call", [(C, Z1), (D, "我觉得挺丢人的。"), (C, "这不是丢人的事，谁都会遇到困难。")], []),
    (
        "CN",
        "zh",
        "call",
        [
            (C, "喂，张伟吗？我是公安局的，现在正式通知你到派出所配合调查。", IM),
            (D, "啊？什么事？"),
            (C, "你信用卡的事，电话录音了。"),
        ],
        [MI],
    ),
    (
        "CN",
        "zh",
        "visit",
        [(C, Z4), (D, "你们是干什么的？"), (C, "我们是法院派来送达文书的工作人员。", IM)],
        [],
    ),
    ("CN", "zh", "call", [(C, Z2), (D, "你是谁？"), (C, "我是你这个案子的主办律师，姓黄。", IM)], []),
    (
        "CN",
        "zh",
        "call",
        [(C, Z3), (D, "还有别的事吗？"), (C, "我们是市金融办的，专门查处恶意欠款。", IM)],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [(C, Z1), (D, "传票是你们发吗？"), (C, "法院的传票会由法院依法送达，不是由我们送。")],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [(C, Z2), (D, "你们是政府的吗？"), (C, "我们是第三方调解机构，不代表任何政府部门。")],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [(C, Z3), (D, "我哥是律师，我让他跟你谈。"), (C, "可以的，欢迎您的家人一起沟通。")],
        [],
    ),
    ("CN", "zh", "call", [(C, Z1), (D, "会怎样？"), (C, "你这种情况，按照规定是要判三年以上的。", FC)], []),
    (
        "CN",
        "zh",
        "visit",
        [(C, Z4), (D, "我家里没什么值钱的。"), (C, "下礼拜执行局就过来把你家电器都搬走。", FC)],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [(C, Z2), (D, "跟孩子有什么关系？"), (C, "你孩子以后上大学都会被影响，学校会查父母征信。", FC)],
        [],
    ),
    ("CN", "zh", "call", [(C, Z3), (D, "随便。"), (C, "我们会在你们村里贴公告，让全村人都知道。", FC)], []),
    ("CN", "zh", "call", [(C, Z1), (D, "今天还不了。"), (C, "明天就冻结你的微信和支付宝。", FC)], []),
    (
        "CN",
        "zh",
        "call",
        [(C, Z2), (D, "打官司会怎样？"), (C, "如果进入诉讼，法院判决后您可能需要承担诉讼费用。")],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [(C, Z3), (D, "征信多久能好？"), (C, "逾期记录自结清之日起保留五年，结清后会更新。")],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [(C, Z1), (D, "违约金怎么这么多？"), (C, "违约金和利息是按照合同计算的，我可以给您发明细。")],
        [],
    ),
    ("CN", "zh", "call", [(C, Z2), (D, "我会不会被抓？"), (C, "您不用担心坐牢的问题，这是民事纠纷。")], []),
    (
        "CN",
        "zh",
        "call",
        [
            (C, "您好，我是德衡资产的郑专员，请问是刘洋的家人吗？通话录音。"),
            (T, "我是他姐。"),
            (C, "你弟弟在我们这儿借的钱三个多月没还了。", TP),
        ],
        [],
    ),
    (
        "CN",
        "zh",
        "visit",
        [
            (C, "您好，我是中诚信合的马涛，想打听一下住这里的孙磊，我开着执法记录仪。"),
            (T, "我是房东。"),
            (C, "你的租客欠了银行一大笔钱，你知道他去哪了吗？", TP),
        ],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [
            (C, "您好，我是融信的赵倩，找一下陈刚，本次通话录音。"),
            (T, "他在开会，我是他同事。"),
            (C, "麻烦你跟他说，尽快回电话，他的还款已经拖了很久了。", TP),
        ],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [
            (C, "您好，我是博远商务的小孙，找一下王芳，通话录音。"),
            (T, "我是她妈，什么事？"),
            (C, "是她本人的一些事情，麻烦让她给我们回个电话。"),
        ],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [
            (C, "您好，我是博远商务的小孙，找一下王芳，通话录音。"),
            (T, "她欠了多少？"),
            (C, "这个我们没法告诉您，只能跟她本人沟通。"),
        ],
        [],
    ),
    ("CN", "zh", "call", [(C, Z1), (D, "真没钱。"), (C, "你朋友圈那么多人，随便找谁借点不就有了。", IB)], []),
    (
        "CN",
        "zh",
        "call",
        [(C, Z2), (D, "工资下个月才发。"), (C, "可以先在美团月付或者京东白条上周转一下。", IB)],
        [],
    ),
    ("CN", "zh", "call", [(C, Z3), (D, "我也没办法。"), (C, "你亲戚家条件不是挺好吗，开个口的事。", IB)], []),
    (
        "CN",
        "zh",
        "visit",
        [(C, Z4), (D, "车是我唯一的东西了。"), (C, "要不你先把车抵押了，贷点款出来。", IB)],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [(C, Z1), (D, "我要不要再借点？"), (C, "建议您先保证基本生活，再按能力还款，不要为了还款再去借钱。")],
        [],
    ),
    ("CN", "zh", "call", [(C, Z2), (D, "我去找我舅借。"), (C, "好的，那您大概什么时候能还？")], []),
    (
        "CN",
        "zh",
        "call",
        [(C, Z3), (D, "转哪里？"), (C, "你转到我老婆的支付宝上，我跟银行那边对账。", PP)],
        [],
    ),
    ("CN", "zh", "call", [(C, Z1), (D, "五百行吗？"), (C, "行，直接微信红包发我就行。", PP)], []),
    ("CN", "zh", "call", [(C, Z2), (D, "银行账户我不会弄。"), (C, "那你给我转就行，我替你还。", PP)], []),
    ("CN", "zh", "visit", [(C, Z4), (D, "我明天能凑一点。"), (C, "你到时候准备好现金，我过来拿。", PP)], []),
    (
        "CN",
        "zh",
        "call",
        [
            (C, Z3),
            (D, "还到哪个账户？"),
            (C, "还款账户是兴业银行对公账户，户名是兴业银行信用卡中心，请您核对。"),
        ],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [(C, Z1), (D, "有人让我转个人账户。"), (C, "千万不要相信任何要求转到个人账户的人。")],
        [],
    ),
    ("CN", "zh", "call", [(C, Z2), (D, "怎么还最方便？"), (C, "您可以在手机银行里直接还款。")], []),
    (
        "CN",
        "zh",
        "call",
        [(C, "喂？"), (D, "谁啊？"), (C, "你自己心里没数吗？欠的钱什么时候还？通话录音。")],
        [MI],
    ),
    (
        "CN",
        "zh",
        "call",
        [
            (C, "喂，陈先生吗？这个电话是录音的。"),
            (D, "是，哪位？"),
            (C, "我是博远商务的小孙，农业银行委托我们跟您沟通贷款的事。"),
        ],
        [],
    ),
    (
        "CN",
        "zh",
        "call",
        [
            (C, "喂，陈先生吗？这个电话是录音的。"),
            (D, "是，哪位？"),
            (C, "您先别挂。"),
            (D, "说吧。"),
            (C, "我是博远商务的小孙，农业银行委托我们跟您沟通贷款的事。"),
        ],
        [MI],
    ),
    (
        "CN",
        "zh",
        "visit",
        [
            (C, "您好，我是中诚信合的马涛，受光大银行委托上门了解您贷款的还款情况。"),
            (D, "进来吧。"),
            (C, "谢谢，打扰了。"),
            (D, "喝水吗？"),
            (C, "不用，我们聊聊您的情况。"),
        ],
        [MR],
    ),
    (
        "CN",
        "zh",
        "call",
        [
            (C, "您好，我是德衡资产的郑专员，受兴业银行委托联系您信用卡的事。"),
            (D, "嗯。"),
            (C, "先跟您说一下，我们的通话内容会被记录存档。"),
        ],
        [],
    ),
    (
        "CN",
        "en",
        "call",
        [
            (
                C,
                "This is Lily Zhang from Eastern Asset Management on behalf of ICBC about your credit card balance.",
            ),
            (D, "Okay."),
            (C, "When can you pay?"),
        ],
        [MR],
    ),
    (
        "CN",
        "en",
        "call",
        [
            (C, EC),
            (D, "I have no money."),
            (C, "Ask your cousins, someone in your family can surely spare it.", IB),
        ],
        [],
    ),
    # ---- US, English ------------------------------------------------------------------------------
    (
        "US",
        "en",
        "call",
        [(C, E1), (D, "I'm not paying."), (C, "Keep ignoring us and see what happens to you.", TH)],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [(C, E2), (D, "Leave me alone."), (C, "We have people in your area, you know.", TH)],
        [],
    ),
    (
        "US",
        "en",
        "visit",
        [
            (
                C,
                "Hi, I'm Rick Vance with Ironside Recovery for Ally Bank about your auto loan. I'll be recording our conversation on my phone. This is an attempt to collect a debt.",
            ),
            (D, "Go away."),
            (C, "It'd be a real shame if your car got scratched up.", TH),
        ],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [(C, E3), (D, "I can't right now."), (C, "I know your wife works at the diner on Fifth.", TH)],
        [],
    ),
    ("US", "en", "call", [(C, E1), (D, "Okay, bye."), (C, "Take care, and drive safe.")], []),
    (
        "US",
        "en",
        "call",
        [(C, E2), (D, "I'll come down there and punch you."), (C, "I understand you're frustrated, sir.")],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [(C, E3), (D, "Is someone coming to my house?"), (C, "I promise no one will show up at your house.")],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [(C, E1), (D, "I don't have it."), (C, "You're a complete waste of space.", AB)],
        [],
    ),
    ("US", "en", "call", [(C, E2), (D, "I forgot."), (C, "Honestly, people like you make me sick.", AB)], []),
    ("US", "en", "call", [(C, E3), (D, "Can you wait?"), (C, "What a freeloader.", AB)], []),
    ("US", "en", "call", [(C, E1), (D, "What account?"), (C, "Quit acting dumb.", AB)], []),
    (
        "US",
        "en",
        "call",
        [(C, E2), (D, "You people are vultures."), (C, "I hear you. Let's see what we can work out.")],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [(C, E3), (D, "Do you think I'm lying?"), (C, "I don't think you're dishonest, sir.")],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [(C, E1), (D, "Sorry, dumb question."), (C, "It's not a stupid question at all.")],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [(C, E2), (D, "Who is this?"), (C, "This is Deputy Harris from the county.", IM)],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, E3),
            (D, "Why are you calling?"),
            (C, "I'm an investigator with the state attorney general's office.", IM),
        ],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, E1),
            (D, "Who do you work for?"),
            (C, "I'm with the legal department of the federal government.", IM),
        ],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, E2),
            (D, "Are you with the government?"),
            (C, "We are not affiliated with any government agency."),
        ],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, E3),
            (D, "Will a lawyer call me?"),
            (C, "An attorney may contact you if the creditor decides to sue."),
        ],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [(C, E1), (D, "My brother is a cop."), (C, "Okay. Can we talk about the balance?")],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [(C, E2), (D, "What if I don't?"), (C, "Your license will be suspended if you don't pay.", FC)],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [(C, E3), (D, "So?"), (C, "They're going to put a lien on your house next week.", FC)],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, E1),
            (D, "I'll pay later."),
            (C, "We'll report you to your employer and you'll probably get fired.", FC),
        ],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [(C, E2), (D, "It's not a big deal."), (C, "You could be charged with fraud for this.", FC)],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, E3),
            (D, "My kids have nothing to do with it."),
            (C, "Your kids won't get financial aid for college because of this.", FC),
        ],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, E1),
            (D, "Can you take my house?"),
            (C, "If the creditor wins a judgment, a lien may be placed on property as the law allows."),
        ],
        [],
    ),
    ("US", "en", "call", [(C, E2), (D, "Why pay now?"), (C, "Paying in full stops further late fees.")], []),
    (
        "US",
        "en",
        "call",
        [(C, E3), (D, "Will this hurt my kids?"), (C, "This debt won't affect your children in any way.")],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [(C, E1), (D, "Am I going to jail?"), (C, "You won't go to jail for a consumer debt.")],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, "Hi, this is Kelly with Brightline, calls are recorded. Is Tom Reyes available?"),
            (T, "This is his mother."),
            (C, "He has a past-due balance of $1,800 with us, could you remind him?", TP),
        ],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, "Hi, Omar here with Sterling, this call is recorded. Is Grace Kim in?"),
            (T, "I'm her coworker."),
            (C, "Tell her she's in collections and needs to call us.", TP),
        ],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, "Hi, this is Beth from Granite, we record all calls. Is Derek home?"),
            (T, "Yeah, I'm his brother."),
            (C, "Your brother owes money on a credit card and hasn't paid.", TP),
        ],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, "Hi, this is Kelly with Brightline, calls are recorded. Is Tom Reyes available?"),
            (T, "I'm his mom, what's this about?"),
            (C, "It's a personal matter; please ask him to call Kelly at 555-0101."),
        ],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, E2),
            (D, "I spent it all."),
            (C, "You've got a credit line with your other bank, right? Use that.", IB),
        ],
        [],
    ),
    ("US", "en", "call", [(C, E3), (D, "I'm short."), (C, "Maybe your girlfriend can chip in.", IB)], []),
    (
        "US",
        "en",
        "call",
        [
            (C, E1),
            (D, "I get paid in two weeks."),
            (C, "Check cashing places will give you an advance today.", IB),
        ],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, E2),
            (D, "I need time."),
            (C, "I'd rather you not borrow to pay this; let's look at a hardship plan."),
        ],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [(C, E3), (D, "I'll ask my dad for a loan."), (C, "Okay, what date works for you?")],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, E1),
            (D, "Where should I bring it?"),
            (C, "Drop the money off with me at the gas station on Main.", PP),
        ],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [(C, E2), (D, "Can I pay faster?"), (C, "You can Zelle it straight to me, I'll forward it.", PP)],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [(C, E3), (D, "I have cash."), (C, "Pay me in cash and I'll knock fifty bucks off.", PP)],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, E1),
            (D, "How do I pay?"),
            (C, "You can pay online at the bank's website or mail a check to the address on your statement."),
        ],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [(C, E2), (D, "Can I give you cash?"), (C, "We never take cash or payments to individuals.")],
        [],
    ),
    (
        "US",
        "en",
        "call",
        [
            (
                C,
                "Hi, it's Kelly calling from Brightline Recovery about your Capital One card. This call may be recorded.",
            ),
            (D, "Yeah?"),
            (C, "When can you pay?"),
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
                "Morning! Omar with Sterling Portfolio Services, for Citizens Bank, about your account. This is an attempt to collect a debt.",
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
        [(C, "Hello, is this Ms. Lee?"), (D, "Speaking."), (C, "Calls are recorded. You need to pay today.")],
        [MI, MD],
    ),
    (
        "US",
        "en",
        "call",
        [
            (C, "Hello, is this Ms. Lee? This call is recorded."),
            (D, "Speaking."),
            (
                C,
                "This is Beth with Granite Collections on behalf of Wells Fargo about your loan; we're a debt collection agency.",
            ),
        ],
        [],
    ),
    (
        "US",
        "zh",
        "call",
        [
            (C, "您好，我是格兰特追收公司的贝丝，代表富国银行就您的贷款联系您，本通话会被录音。"),
            (D, "嗯。"),
            (C, "您今天能还多少？"),
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
                "您好，我是格兰特追收公司的贝丝，代表富国银行就您的贷款联系您，本通话会被录音。我们是债务催收机构。",
            ),
            (D, "嗯。"),
            (C, "那你去找你爸妈借钱先还上。", IB),
        ],
        [],
    ),
]


def main() -> None:
    out = Path(__file__).with_name("eval_v3.jsonl")
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
            "transcript_id": f"W{n:03d}",
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
