"""The Japanese demo: しおさい町, a fictional coastal town, consults on its comprehensive plan.

Three rounds, one per layer of the plan (理念 / 経営指針 / 個別計画), so each layer has its
own proposals, opinion map and agenda. The people are simulated by a small generative
model with three latent opinion groups; each proposal has an agree probability per group,
so some proposals bridge the groups and some divide them. The votes are written with the
bulk writer, then the real clustering and escalation engine runs on them; the council's
answers go through the agenda service. Everything is deterministic (fixed seeds).

The story is dated: votes fall over the weeks each round has been open, and the agenda
items the council has answered (and the one it has not answered in time) are dated to
when, in the story, they reached the agenda. Idempotent: every step checks what is there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

import numpy as np
import sqlalchemy as sa

from deliberation.bulk import EpochSeconds, insert_columns, without_reference_triggers
from deliberation.database import db
from deliberation.models import (
    TOKYO,
    AuditEntry,
    Escalation,
    OfficialResponse,
    Participant,
    Proposal,
    Round,
    User,
    Vote,
    VoteEvent,
    utcnow,
)
from deliberation.models.snapshot import latest_snapshot
from deliberation.text import text_key

TOWN = "しおさい町"
SEED = 2029
PEOPLE = 560
# Latent opinion groups (never stored): young families and commuters; long-time, older
# residents; people connected to the town from outside (関係人口) and local businesses.
GROUP_WEIGHTS = (0.42, 0.38, 0.20)
# Kind of participant per latent group: resident, e_citizen (関係人口), visitor.
GROUP_KINDS = ((0.90, 0.05, 0.05), (0.96, 0.03, 0.01), (0.30, 0.60, 0.10))
PASS_SHARE = 0.3  # of the votes that are not agree
VERIFIED_RESIDENTS = 36  # simulated residents with an account verified at the counter
# made-up numbers of the documents they showed, one per resident
DEMO_NUMBERS = {"my_number_card": "DEMO{:08d}", "driving_licence": "99{:08d}00",
                "residence_card": "XX{:08d}ZZ"}
ASSISTED_LABEL = "中央公民館 出前講座"


def _sheet_labels(assisted: np.ndarray) -> np.ndarray:
    """A label per paper sheet, numbered as a facilitator would (the form asks for one that
    tells the sheets apart), None for everyone else."""
    labels = np.full(len(assisted), None, dtype=object)
    rows = np.flatnonzero(assisted)
    labels[rows] = [f"{ASSISTED_LABEL} 用紙{n}" for n in range(1, len(rows) + 1)]
    return labels


@dataclass(frozen=True)
class Answer:
    """The council's answer (or its absence) in the story."""

    status: str  # received | under_review | answered
    department: str
    theme: str
    escalated_days_ago: int
    outcome: str | None = None
    answer: str = ""
    reasons: str = ""
    answered_days_ago: int | None = None


@dataclass(frozen=True)
class Idea:
    text: str
    support: tuple[float, float, float]  # agree probability per latent group
    answer: Answer | None = None
    pending: bool = False  # waits for moderation


@dataclass(frozen=True)
class Layer:
    slug: str
    layer: str  # the council's plan layer (deliberation.models.agenda.PLAN_LAYERS)
    title: str
    summary: str
    description: str
    phase: str
    opened_days_ago: int
    closes_in_days: int
    turnout: float  # share of the simulated people who take part
    seen: float  # share of the proposals a participant votes on
    ideas: tuple[Idea, ...]
    moderation_mode: str = "open"


_FICTION = (
    f"> {TOWN}は、Hiroba のデモのための**架空の町**です（海沿いの人口約1万8千人の町）。"
    "参加者と投票はシミュレーションで作ったもので、実在の人や団体とは関係ありません。\n\n"
)

VISION = Layer(
    slug="shiosai-vision",
    layer="vision",
    title=f"{TOWN} まちの理念（基本構想）",
    summary="10年後にどんな町でありたいか。総合計画のいちばん上にある「理念」への意見です。"
            "投票は締め切り、議会が回答を進めています。",
    description=_FICTION + (
        "## この広場について\n\n"
        f"{TOWN}は、2027年度から10年間の第6次総合計画をつくっています。総合計画は三つの層で"
        "できています。\n\n"
        "1. **理念**（基本構想）：町がめざす姿。この広場です。\n"
        "2. **経営指針**：お金・職員・施設をどう使うか。\n"
        "3. **個別計画**：子育て、交通、防災など分野ごとの取り組み。\n\n"
        "意見の違うグループのどこからも支持された提案は、根拠といっしょに議会の検討課題に"
        "なり、議会が公開で回答します。"),
    phase="reflection",
    opened_days_ago=150,
    closes_in_days=-60,
    turnout=0.55,
    seen=0.85,
    ideas=(
        Idea("海と山の景色を、次の世代にそのまま残せる町にしたい", (0.86, 0.90, 0.88), Answer(
            status="answered", outcome="partly_adopted", department="企画課",
            theme="まちづくりの理念", escalated_days_ago=95, answered_days_ago=40,
            answer="基本理念に「海と山の景色を次の世代へ引き継ぐ」ことを書き込みます。"
                   "ただし、景観を守るための新しい条例は、今回の計画には含めません。",
            reasons="景色を残すことには意見の違いを越えて強い支持がありました。一方で、"
                    "建物の高さや色を制限する条例は土地の持ち主への影響が大きく、"
                    "別に時間をかけて話し合う必要があるためです。")),
        Idea("若い世代が住み続けることを、町のいちばんの目標にしてほしい", (0.92, 0.35, 0.60)),
        Idea("人口が減ることを前提に、小さくても暮らしやすい町をつくってほしい",
             (0.60, 0.45, 0.74)),
        Idea("移住してくる人を、もっと積極的に呼び込む町にしたい", (0.82, 0.30, 0.90)),
        Idea("昔からの祭りや地区の行事を大切にする町であってほしい", (0.45, 0.93, 0.62)),
        Idea("年をとっても、車がなくても暮らせる町にしたい", (0.82, 0.93, 0.78), Answer(
            status="under_review", department="企画課", theme="まちづくりの理念",
            escalated_days_ago=50)),
        Idea("観光客を増やすより、住んでいる人の暮らしを優先してほしい", (0.55, 0.86, 0.18)),
        Idea("災害に強いことを、すべての計画の土台にしてほしい", (0.90, 0.93, 0.86), Answer(
            status="answered", outcome="adopted", department="企画課", theme="まちづくりの理念",
            escalated_days_ago=70, answered_days_ago=25,
            answer="第6次総合計画の基本理念の一つに「災害に強く、安心して住み続けられるまち」を"
                   "掲げます。分野ごとの個別計画にも、防災の視点からの点検項目を設けます。",
            reasons="意見の違うどのグループでも8割以上が賛成しており、町としての優先順位が"
                    "はっきりしているためです。南海トラフ地震の被害想定の見直しも踏まえました。")),
        Idea("町の外に住んでいても、町づくりに関われる仕組みがほしい", (0.60, 0.32, 0.95)),
        Idea("役場が何をどう決めたのか、住民に見える町にしてほしい", (0.86, 0.76, 0.85), Answer(
            status="answered", outcome="adopted", department="総務課",
            theme="まちづくりの理念", escalated_days_ago=90, answered_days_ago=30,
            answer="基本理念に「決め方が見えるまち」を掲げ、町の審議会の議事録と資料を"
                   "すべてウェブで公開します。",
            reasons="どのグループからも7割以上の賛成がありました。議事録の公開は費用が小さく、"
                    "すぐに始められるためです。")),
        Idea("漁業と農業を、町の誇りとして守り続けたい", (0.62, 0.91, 0.76)),
        Idea("役場に行かなくても、手続きがスマホで済む町にしたい", (0.93, 0.38, 0.86)),
    ),
)

MANAGEMENT = Layer(
    slug="shiosai-management",
    layer="management_guideline",
    title=f"{TOWN} 経営指針：お金・施設・役場の仕事",
    summary="限られた予算と職員で、何を優先するか。行財政運営の指針について投票できます。",
    description=_FICTION + (
        "## 経営指針とは\n\n"
        "町の収入が減っていくなかで、施設の維持、職員の配置、借金の返し方をどう考えるかを"
        "決める指針です。提案に「賛成」「反対」「パス」で答えてください。"),
    phase="voting",
    opened_days_ago=45,
    closes_in_days=30,
    turnout=0.50,
    seen=0.80,
    ideas=(
        Idea("使われていない公共施設は、統合して維持費を減らすべきだ", (0.72, 0.30, 0.76)),
        Idea("ふるさと納税の寄付金を何に使ったか、毎年わかりやすく公表してほしい",
             (0.88, 0.86, 0.95), Answer(
                 status="answered", outcome="adopted", department="財政課",
                 theme="行財政運営", escalated_days_ago=30, answered_days_ago=6,
                 answer="今年度の決算から、寄付金の使い道を事業ごとに町のウェブサイトと広報誌で"
                        "公表します。寄付された方にもメールでお知らせします。",
                 reasons="使い道の公表は寄付者からも要望が多く、追加の費用もほとんどかからない"
                         "ためです。")),
        Idea("町の借金がこの先どう増減するのか、グラフで示してほしい", (0.82, 0.79, 0.80)),
        Idea("職員を減らしてでも、窓口の手続きをオンライン化すべきだ", (0.76, 0.24, 0.70)),
        Idea("ごみ処理や消防を、近くの市と共同で運営することを検討してほしい",
             (0.66, 0.42, 0.70)),
        Idea("予算の一部は、住民の投票で使い道を決められるようにしてほしい",
             (0.84, 0.45, 0.86)),
        Idea("小学校の統合は、保護者だけでなく地域全体で話し合って決めてほしい",
             (0.78, 0.88, 0.72)),
        Idea("水道料金の値上げはやむを得ないが、理由を丁寧に説明してほしい",
             (0.56, 0.40, 0.62)),
        Idea("大きな新しい建物より、道路や橋の修繕を優先してほしい", (0.48, 0.90, 0.55)),
        Idea("町の審議会に、若い世代や女性の委員をもっと増やしてほしい", (0.91, 0.44, 0.85)),
        Idea("企業を呼ぶための補助金は、効果を確かめてから続けるべきだ", (0.50, 0.75, 0.25)),
        Idea("役場の窓口を、月に一度は土曜日も開けてほしい", (0.91, 0.45, 0.40)),
        Idea("町の会議の資料は、すべてウェブで公開してほしい", (0.86, 0.48, 0.90)),
        Idea("町外の人には、町の施設の利用料を多めに払ってもらうべきだ", (0.35, 0.76, 0.10)),
    ),
)

PLANS = Layer(
    slug="shiosai-plans",
    layer="sector_plan",
    title=f"{TOWN} 個別計画：子育て・交通・防災ほか",
    summary="子育て、バス、空き家、防災、観光、図書館、ごみ、農業。分野ごとの取り組みへの"
            "提案を募集中です。",
    description=_FICTION + (
        "## 分野ごとの提案を募集しています\n\n"
        "暮らしの中で「こうなったらいいのに」と思うことを、短い一文で提案してください。"
        "提案はスタッフが確認してから公開されます（個人への攻撃や宣伝は公開しません）。\n\n"
        "ほかの人の提案にも「賛成」「反対」「パス」で答えてください。"),
    phase="collecting",
    opened_days_ago=100,
    closes_in_days=45,
    turnout=0.85,
    seen=0.72,
    moderation_mode="strict",
    ideas=(
        # 子育て
        Idea("保育園の一時預かりを、前の日の夜でもスマホで予約できるようにしてほしい",
             (0.95, 0.42, 0.55)),
        Idea("学童保育の時間を、夜7時まで延ばしてほしい", (0.92, 0.50, 0.40)),
        Idea("雨の日でも子どもが遊べる屋内の遊び場を、町に一つはつくってほしい",
             (0.92, 0.76, 0.82)),
        Idea("高校生までの医療費の無料化を続けてほしい", (0.95, 0.48, 0.45)),
        # 公共交通
        Idea("町営バスの最終便を、駅に夜9時台に着く電車に合わせてほしい",
             (0.88, 0.80, 0.82)),
        Idea("町営バスを、予約して乗るデマンド交通に切り替えてほしい", (0.70, 0.28, 0.70)),
        Idea("バスの時刻表を、停留所だけでなく町の LINE でも見られるようにしてほしい",
             (0.90, 0.45, 0.86)),
        Idea("駅前に、送り迎えの車が停められる場所を増やしてほしい", (0.80, 0.45, 0.35)),
        # 高齢者の移動
        Idea("運転免許を返納した人に、タクシー券を一年中使えるように配ってほしい",
             (0.45, 0.95, 0.40)),
        Idea("通院や買い物のために、地区ごとに乗り合いの送迎をしてほしい",
             (0.82, 0.94, 0.78), Answer(
                 status="answered", outcome="partly_adopted", department="福祉課",
                 theme="高齢者の移動", escalated_days_ago=80, answered_days_ago=35,
                 answer="来年度から、山側の2地区で乗り合い送迎を試験的に始めます。ほかの地区は、"
                        "試験運行の利用状況を見て判断します。",
                 reasons="町全体で一度に始めると運転手と車両が足りないためです。利用が多い"
                         "地区から始め、1年後に結果を公表します。")),
        Idea("高齢者の運転に年齢の上限を設けるよう、町から国に要望してほしい",
             (0.58, 0.14, 0.50)),
        # 空き家
        Idea("空き家バンクの物件を、写真と間取りつきでネットに載せてほしい",
             (0.90, 0.78, 0.93), Answer(
                 status="answered", outcome="adopted", department="企画課 移住定住係",
                 theme="空き家", escalated_days_ago=85, answered_days_ago=40,
                 answer="空き家バンクのページを作り直し、登録物件はすべて写真と間取り図を載せます。"
                        "所有者の同意が取れた物件から順に掲載します。",
                 reasons="問い合わせの多くが写真や間取りについてで、掲載すれば見学の手間も"
                         "減らせるためです。費用は今年度の予算内で賄えます。")),
        Idea("危ない空き家は、町が持ち主に代わって早めに取り壊してほしい",
             (0.45, 0.82, 0.50)),
        Idea("空き家を直して、お試し移住用の住宅にしてほしい", (0.62, 0.30, 0.95)),
        Idea("商店街の空き店舗を、若い人が店を試せる場所として安く貸してほしい",
             (0.86, 0.42, 0.90)),
        # 防災
        Idea("津波避難タワーまでの道に、夜でも見える案内板をつけてほしい",
             (0.93, 0.94, 0.88), Answer(
                 status="answered", outcome="adopted", department="総務課 防災係",
                 theme="防災", escalated_days_ago=90, answered_days_ago=45,
                 answer="来年度、避難タワー3か所までの避難路に、暗い中でも光る案内板を設置します。",
                 reasons="夜の避難訓練で「案内が見えない」という声が複数の地区から出ていたためです。"
                         "国の防災・減災の起債が使え、町の負担は小さく抑えられます。")),
        Idea("避難所に、ペットと一緒に避難できる場所をつくってほしい", (0.80, 0.40, 0.76)),
        Idea("支援が必要な人の名簿を、自主防災組織と前もって共有してほしい",
             (0.45, 0.84, 0.40)),
        Idea("防災無線が聞こえにくい地区があるので、同じ内容をスマホにも流してほしい",
             (0.91, 0.86, 0.86), Answer(
                 status="received", department="総務課 防災係", theme="防災",
                 escalated_days_ago=75)),
        # 観光
        Idea("海水浴場の駐車場を有料にして、その収入を浜の清掃に使ってほしい",
             (0.45, 0.40, 0.85)),
        Idea("観光客のために、町の中に外国語の案内表示を増やしてほしい", (0.55, 0.30, 0.92)),
        Idea("民泊をもっと認めて、空き家を観光に活かしてほしい", (0.40, 0.15, 0.88)),
        Idea("夏の花火大会を、ふるさと納税の寄付で続けられるようにしてほしい",
             (0.78, 0.86, 0.92), Answer(
                 status="answered", outcome="not_adopted", department="商工観光課",
                 theme="観光", escalated_days_ago=65, answered_days_ago=20,
                 answer="ふるさと納税の使い道に花火大会を加えることは見送ります。実行委員会が"
                        "行うクラウドファンディングを、町のウェブサイトや広報誌で紹介して支えます。",
                 reasons="花火大会は民間の実行委員会の行事で、警備費を含めた費用を寄付で毎年"
                         "確実に賄える見込みが立たないためです。")),
        # 図書館
        Idea("図書館を、平日は夜8時まで開けてほしい", (0.88, 0.45, 0.40)),
        Idea("図書館に、静かに仕事や勉強ができる席を増やしてほしい", (0.86, 0.42, 0.78)),
        Idea("図書館の本を、近くの公民館でも借りたり返したりできるようにしてほしい",
             (0.82, 0.90, 0.72), Answer(
                 status="under_review", department="生涯学習課", theme="図書館",
                 escalated_days_ago=20)),
        # ごみ
        Idea("ごみの分け方の表を、イラスト入りで外国語版もつくってほしい", (0.86, 0.46, 0.88)),
        Idea("ごみ袋を値上げして、そのお金をごみを減らす取り組みに使ってほしい",
             (0.40, 0.20, 0.55)),
        Idea("一人でごみ出しが難しいお年寄りを、近所で手伝える仕組みがほしい",
             (0.80, 0.90, 0.76)),
        # 農業の担い手
        Idea("使われていない畑を、新しく農業を始めたい人に安く貸してほしい",
             (0.82, 0.46, 0.90)),
        Idea("みかんの収穫の時期に、町外から手伝いに来る人が泊まれる宿を用意してほしい",
             (0.45, 0.60, 0.93)),
        Idea("学校給食に、町でとれた野菜や魚をもっと使ってほしい", (0.94, 0.91, 0.86)),
        # 暮らし
        Idea("公民館の部屋の予約を、ネットでできるようにしてほしい", (0.90, 0.45, 0.80)),
        Idea("通学路で歩道がせまい所を、優先して広げてほしい", (0.95, 0.82, 0.72)),
        # waiting for moderation
        Idea("海沿いの県道で、ガードレールのない所がないか調べてほしい", (0.8, 0.8, 0.8),
             pending=True),
        Idea("駅前の○○商店で今週末セールをやっています！みなさん来てください",
             (0.1, 0.1, 0.1), pending=True),
        Idea("図書館は夜も開けてほしいです", (0.8, 0.5, 0.6), pending=True),
    ),
)

LAYERS = (VISION, MANAGEMENT, PLANS)


@dataclass
class TownResult:
    slugs: list[str]
    created: bool
    votes: int
    groups: dict[str, int]


def seed_town(*, facilitator: User, council: User, admin: User,
              consent_version: str) -> TownResult:
    """Create the town's rounds, people and votes, cluster them, and play the council's part.

    Rounds are created in layer order, so the home page (newest first) lists the sector
    plans, where people can propose and vote, first."""
    created = False
    rng = np.random.default_rng(SEED)
    people = _people(rng)
    residents = _verified_residents(admin, people, consent_version)
    rounds = []
    for index, layer in enumerate(LAYERS):
        round_ = db.session.scalar(sa.select(Round).where(Round.slug == layer.slug))
        # Each layer has its own random stream, so adding a layer never changes another.
        layer_rng = np.random.default_rng([SEED, index])
        if round_ is None:
            round_ = _create_round(layer, layer_rng, people, residents, facilitator)
            created = True
        rounds.append(round_)
    groups = {}
    for layer, round_ in zip(LAYERS, rounds, strict=True):
        snapshot = latest_snapshot(round_.id)
        if snapshot is None:
            from deliberation.jobs.runner import refresh_and_escalate

            snapshot = refresh_and_escalate(round_.id)
        groups[layer.slug] = snapshot.k if snapshot is not None else 0
        _play_council(layer, round_, council)
    votes = db.session.scalar(sa.select(sa.func.count()).select_from(Vote).where(
        Vote.round_id.in_([r.id for r in rounds])))
    return TownResult([r.slug for r in rounds], created, votes or 0, groups)


@dataclass
class People:
    group: np.ndarray  # latent opinion group per person
    kind: np.ndarray  # resident | e_citizen | visitor
    assisted: np.ndarray  # votes taken on paper at the community centre


def _people(rng: np.random.Generator) -> People:
    group = rng.choice(3, size=PEOPLE, p=GROUP_WEIGHTS)
    kinds = np.array(["resident", "e_citizen", "visitor"])
    draw = rng.random(PEOPLE)
    cumulative = np.cumsum(np.array(GROUP_KINDS)[group], axis=1)
    kind = kinds[(draw[:, None] > cumulative).sum(axis=1)]
    # A few older residents take part through a facilitator at the community centre.
    assisted = (group == 1) & (kind == "resident") & (rng.random(PEOPLE) < 0.12)
    return People(group, kind, assisted)


def _verified_residents(admin: User, people: People,
                        consent_version: str) -> dict[int, User]:
    """Accounts for some resident participants, verified at the town's counter
    (through the verification service, so the records and the audit log are real)."""
    from deliberation.services import verification

    candidates = [int(i) for i in np.flatnonzero((people.kind == "resident") & ~people.assisted)]
    chosen = candidates[:VERIFIED_RESIDENTS]
    documents = ("my_number_card", "driving_licence", "residence_card")
    now = utcnow()
    users = {}
    for n, person in enumerate(chosen):
        email = f"resident{n + 1:02d}@shiosai.example"
        user = db.session.scalar(sa.select(User).where(User.email == email))
        if user is None:
            # Simulated people cannot log in (no password), so no shared password.
            joined = now - timedelta(days=95 - 2 * n, hours=n * 5 % 11)
            user = User(email=email, display_name=f"しおさい町民{n + 1:02d}", kind="resident",
                        consent_version=consent_version, consented_at=joined,
                        email_confirmed_at=joined, verification_level="email",
                        created_at=joined)
            db.session.add(user)
            db.session.flush()
            document = documents[n % len(documents)]
            verification.verify_at_counter(user, actor=admin, document=document,
                                           number=DEMO_NUMBERS[document].format(n + 1),
                                           secret=verification.person_secret())
        users[person] = user
    return users


def _create_round(layer: Layer, rng: np.random.Generator, people: People,
                  residents: dict[int, User], facilitator: User) -> Round:
    now = utcnow()
    opens = _day(-layer.opened_days_ago, hour=9)
    closes = _day(layer.closes_in_days, hour=17)
    round_ = Round(slug=layer.slug, title=layer.title, summary=layer.summary,
                   description=layer.description, phase=layer.phase, opens_at=opens,
                   closes_at=closes, moderation_mode=layer.moderation_mode,
                   escalation_armed=True, created_by_id=facilitator.id, created_at=now)
    db.session.add(round_)
    db.session.flush()

    taking_part = np.flatnonzero(rng.random(PEOPLE) < layer.turnout)
    voting_until = min(closes, now)
    span = (voting_until - opens).total_seconds()
    # Arrival: each person comes once, some time after the round opened.
    arrival = opens.timestamp() + span * (0.03 + 0.95 * rng.random(len(taking_part)))
    # Paper sheets are typed in by staff at the office, not at 3 a.m.
    arrival = np.where(people.assisted[taking_part],
                       _office_hours(arrival, opens.timestamp()), arrival)
    # What each person sees and answers is drawn here, person by person, before the
    # arrivals are sorted: the sort depends on the hour the demo is seeded (office hours
    # move the paper sheets), and the votes must not.
    published_ideas = [idea for idea in layer.ideas if not idea.pending]
    agree_p = np.array([idea.support for idea in published_ideas])[
        :, people.group[taking_part]].T  # participants x proposals
    shown = rng.random(agree_p.shape) < layer.seen
    draw = rng.random(agree_p.shape)
    values = np.where(draw < agree_p, 1,
                      np.where(draw < agree_p + (1 - agree_p) * PASS_SHARE, 0, -1))
    # Each person votes in one sitting, a proposal every 10 to 40 seconds.
    step = np.cumsum(10 + 30 * rng.random(agree_p.shape), axis=1)
    order = np.argsort(arrival, kind="stable")
    taking_part, arrival = taking_part[order], arrival[order]
    shown, values, step = shown[order], values[order], step[order]
    source = np.where(people.assisted[taking_part], "assisted", "import").astype(object)
    user_ids = np.array([residents[p].id if p in residents else None for p in taking_part],
                        dtype=object)
    source[np.isin(taking_part, list(residents))] = "account"
    insert_columns(Participant.__table__, {
        "round_id": round_.id,
        "user_id": user_ids,
        "source": source,
        "kind": people.kind[taking_part].astype(object),
        "external_id": np.array([f"shiosai-{p:04d}" for p in taking_part], dtype=object),
        "label": _sheet_labels(source == "assisted"),
        "created_at": EpochSeconds(arrival),
    }, len(taking_part))
    pid = dict(db.session.execute(
        sa.select(Participant.external_id, Participant.id).where(
            Participant.round_id == round_.id)).tuples().all())
    participant_ids = np.array([pid[f"shiosai-{p:04d}"] for p in taking_part], dtype=np.int64)

    proposals = []
    for j, idea in enumerate(layer.ideas):
        author = participant_ids[(j * 7) % len(participant_ids)]
        created = opens + timedelta(hours=6 * j) if not idea.pending else now - timedelta(
            hours=5 + 9 * j % 30)
        proposal = Proposal(
            round_id=round_.id, author_id=int(author), text=idea.text,
            text_key=text_key(idea.text), status="pending" if idea.pending else "published",
            created_at=created,
            moderated_at=None if idea.pending else created + timedelta(hours=3),
            moderated_by_id=None if idea.pending else facilitator.id)
        db.session.add(proposal)
        proposals.append(proposal)
    db.session.flush()

    when = arrival[:, None] + step
    rows, cols = np.nonzero(shown)
    proposal_ids = np.array([p.id for p, idea in zip(proposals, layer.ideas, strict=True)
                             if not idea.pending], dtype=np.int64)
    n = len(rows)
    vote_source = np.where(source[rows] == "assisted", "assisted", "import").astype(object)
    vote_source[source[rows] == "account"] = "web"
    common = {
        "round_id": round_.id,
        "participant_id": participant_ids[rows],
        "proposal_id": proposal_ids[cols],
        "value": values[rows, cols].astype(np.int64),
        "created_at": EpochSeconds(when[rows, cols]),
    }
    # Every reference is to the round, participants and proposals created above in this
    # transaction, so PostgreSQL's per-row foreign-key checks would only repeat what holds.
    with without_reference_triggers():
        insert_columns(Vote.__table__,
                       {**common, "updated_at": EpochSeconds(when[rows, cols])}, n)
        insert_columns(VoteEvent.__table__, {**common, "source": vote_source}, n)
    db.session.commit()
    return round_


def _play_council(layer: Layer, round_: Round, council: User) -> None:
    """The council's answers in the story, through the agenda service, dated as told."""
    from deliberation.services import agenda

    by_text = {idea.text: idea.answer for idea in layer.ideas if idea.answer is not None}
    items = db.session.execute(
        sa.select(Escalation, Proposal.text).join(Proposal, Proposal.id == Escalation.proposal_id)
        .where(Escalation.round_id == round_.id)).all()
    for escalation, text in items:
        told = by_text.get(text)
        response = escalation.response
        # Once someone has worked on the item (the story on an earlier seed, or a person
        # trying the demo), it is theirs: a later seed leaves it as it is.
        if told is None or response is None or response.updated_by_id is not None:
            continue
        escalated_at = _story_day(round_, layer, told.escalated_days_ago, hour=10)
        # The deadline the item had when the story sends it, not one counted from the day
        # of the seed: the council's answer would otherwise read as a deadline moved, and
        # the public page said 当初の期限は… with a date after the one in force.
        due_at = escalated_at + timedelta(days=round_.response_deadline_days)
        response.due_at = due_at
        db.session.flush()
        agenda.update_response(
            escalation.id, actor=council, status=told.status, outcome=told.outcome,
            reasons=told.reasons, answer=told.answer, department=told.department,
            plan_theme=told.theme, plan_layer=layer.layer, due_at=due_at)
        answered_at = None
        if told.answered_days_ago is not None:
            answered_at = _story_day(round_, layer, told.answered_days_ago, hour=15)
        _date(escalation, response, escalated_at, answered_at)
    db.session.commit()


def _office_hours(seconds: np.ndarray, earliest: float) -> np.ndarray:
    """Epoch seconds moved into 9:00-17:00 Japan time: a time after 17:00 into the same
    day's office hours, one before 9:00 into the day before's, so never later than it was
    (nothing lands in the future), and never before ``earliest`` (the round's opening)."""
    offset = 9 * 3600  # Japan has no daylight saving time
    local = seconds + offset
    into_day = np.mod(local, 86400)
    day = local - into_day
    inside = (into_day >= 9 * 3600) & (into_day < 17 * 3600)
    base = np.where(into_day < 9 * 3600, day - 86400, day)
    moved = base + 9 * 3600 + into_day / 86400 * 8 * 3600 - offset
    return np.where(inside, seconds, np.maximum(moved, earliest))


def _day(days: int, *, hour: int) -> datetime:
    """A whole hour in Tokyo, ``days`` from today (a story told in office hours)."""
    today = utcnow().astimezone(TOKYO).date() + timedelta(days=days)
    return datetime.combine(today, time(hour), TOKYO).astimezone(UTC)


def _story_day(round_: Round, layer: Layer, days_ago: int, *, hour: int) -> datetime:
    """``days_ago`` days before the day the round was seeded (so a second seed, on another
    day, dates the story the same), at ``hour`` in Tokyo."""
    seeded = round_.opens_at.astimezone(TOKYO).date() + timedelta(days=layer.opened_days_ago)
    day = seeded - timedelta(days=days_ago)
    return datetime.combine(day, time(hour), TOKYO).astimezone(UTC)


def _date(escalation: Escalation, response: OfficialResponse, escalated_at: datetime,
          answered_at: datetime | None) -> None:
    """Place an agenda item where the story puts it, with its audit entries and the date
    its frozen evidence gives the groups: the page says the groups were drawn from the
    votes "as they stood on" that date, and a September item whose groups dated from the
    day of the seed told a visitor the council was sent it before its evidence existed."""
    escalation.escalated_at = escalated_at
    frozen = dict(escalation.evidence)
    if frozen.get("snapshot"):
        frozen["snapshot"] = {**frozen["snapshot"], "created_at": escalated_at.isoformat()}
    frozen["recorded_at"] = escalated_at.isoformat()
    escalation.evidence = frozen
    response.answered_at = answered_at
    for entry in db.session.scalars(sa.select(AuditEntry).where(sa.or_(
            sa.and_(AuditEntry.target_type == Escalation.__tablename__,
                    AuditEntry.target_id == escalation.id),
            sa.and_(AuditEntry.target_type == OfficialResponse.__tablename__,
                    AuditEntry.target_id == response.id)))):
        entry.created_at = escalated_at if entry.target_type == Escalation.__tablename__ \
            else (answered_at or escalated_at + timedelta(days=7))
