from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spur.engine import messages
from spur.engine.messages import (
    SUPPORTED_LANGUAGES,
    goal_completed,
    goal_completed_by,
    milestone_reached,
    milestone_reached_by,
    resolve_language,
    reward_earned,
    reward_earned_by,
    team_event,
)
from spur.engine.money import format_money
from spur.engine.periods import PeriodKind

GOAL = "10 new-customer follow-ups"
GOAL_ZH = "10 个新客户跟进"
AMOUNT = format_money(Decimal(500), "CNY")
WEEK = PeriodKind.WEEK


def test_supported_languages() -> None:
    assert SUPPORTED_LANGUAGES == ("zh-CN", "en")


@pytest.mark.parametrize(
    ("requested", "resolved"),
    [
        ("zh-CN", "zh-CN"),
        ("zh_CN", "zh-CN"),
        ("zh-cn", "zh-CN"),
        ("zh", "zh-CN"),
        ("zh-Hans", "zh-CN"),
        ("en", "en"),
        ("en-GB", "en"),
        ("de", "en"),
        ("", "en"),
    ],
)
def test_resolve_language(requested: str, resolved: str) -> None:
    assert resolve_language(requested) == resolved


def test_goal_completed_in_english() -> None:
    text = goal_completed(
        "en", goal_title=GOAL, period_label="2026-W49", period_kind=WEEK
    )
    assert text == (
        "You completed “10 new-customer follow-ups” for this week (2026-W49)."
        " Well done!"
    )


def test_goal_completed_in_chinese() -> None:
    text = goal_completed(
        "zh-CN", goal_title=GOAL_ZH, period_label="2026-W49", period_kind=WEEK
    )
    assert text == "恭喜！你完成了本周（2026-W49）的目标「10 个新客户跟进」。"


@pytest.mark.parametrize(
    ("kind", "label", "english", "chinese"),
    [
        (PeriodKind.DAY, "2026-12-04", "today", "今天"),
        (PeriodKind.WEEK, "2026-W49", "this week", "本周"),
        (PeriodKind.MONTH, "2026-12", "this month", "本月"),
        (PeriodKind.QUARTER, "2026-Q4", "this quarter", "本季度"),
        (PeriodKind.YEAR, "2026", "this year", "今年"),
    ],
)
def test_period_is_named_by_kind(
    kind: PeriodKind, label: str, english: str, chinese: str
) -> None:
    en = goal_completed("en", goal_title=GOAL, period_label=label, period_kind=kind)
    zh = goal_completed("zh-CN", goal_title=GOAL, period_label=label, period_kind=kind)
    assert f"{english} ({label})" in en
    assert f"{chinese}（{label}）" in zh


def test_unknown_language_falls_back_to_english() -> None:
    text = goal_completed(
        "fr", goal_title=GOAL, period_label="2026-W49", period_kind=WEEK
    )
    assert text.startswith("You completed")


def test_halfway_milestone() -> None:
    en = milestone_reached(
        "en", goal_title=GOAL, percent=50, period_label="2026-W49", period_kind=WEEK
    )
    zh = milestone_reached(
        "zh-CN",
        goal_title=GOAL_ZH,
        percent=50,
        period_label="2026-W49",
        period_kind=WEEK,
    )
    assert en == (
        "You are halfway (50%) to “10 new-customer follow-ups”"
        " for this week (2026-W49). Keep going!"
    )
    assert zh == "你已完成本周（2026-W49）目标「10 个新客户跟进」的 50%，继续加油！"


def test_other_milestone_percentages() -> None:
    en = milestone_reached(
        "en",
        goal_title=GOAL,
        percent=75,
        period_label="2026-12",
        period_kind=PeriodKind.MONTH,
    )
    assert "75% of the way to “10 new-customer follow-ups” for this month" in en


def test_reward_for_a_goal_in_chinese() -> None:
    text = reward_earned(
        "zh-CN",
        reward_title="现金奖励",
        amount=AMOUNT,
        goal_title=GOAL_ZH,
        period_kind=WEEK,
    )
    assert (
        text == "恭喜你完成本周目标「10 个新客户跟进」，获得奖励：500.00 CNY 现金奖励！"
    )


def test_reward_for_a_goal_in_english() -> None:
    text = reward_earned(
        "en",
        reward_title="Cash bonus",
        amount=AMOUNT,
        goal_title=GOAL,
        period_kind=WEEK,
    )
    assert text == (
        "You earned “Cash bonus” (500.00 CNY) for completing"
        " “10 new-customer follow-ups” this week. Congratulations!"
    )


def test_reward_without_amount_or_goal() -> None:
    en = reward_earned(
        "en", reward_title="Team dinner", amount=None, goal_title=None, period_kind=None
    )
    zh = reward_earned(
        "zh-CN", reward_title="团队聚餐", amount=None, goal_title=None, period_kind=None
    )
    assert en == "You earned “Team dinner”. Congratulations!"
    assert zh == "恭喜你获得奖励：团队聚餐！"


def test_reward_for_a_goal_without_a_period() -> None:
    en = reward_earned(
        "en", reward_title="Trophy", amount=None, goal_title=GOAL, period_kind=None
    )
    zh = reward_earned(
        "zh-CN", reward_title="奖杯", amount=None, goal_title=GOAL_ZH, period_kind=None
    )
    assert en == (
        "You earned “Trophy” for completing “10 new-customer follow-ups”."
        " Congratulations!"
    )
    assert zh == "恭喜你完成目标「10 个新客户跟进」，获得奖励：奖杯！"


def test_team_feed_goal_is_third_person() -> None:
    en = goal_completed_by(
        "en",
        member_name="Li Wei",
        goal_title=GOAL,
        period_label="2026-W49",
        period_kind=WEEK,
    )
    zh = goal_completed_by(
        "zh-CN",
        member_name="李伟",
        goal_title=GOAL_ZH,
        period_label="2026-W49",
        period_kind=WEEK,
    )
    assert (
        en == "Li Wei completed “10 new-customer follow-ups” for this week (2026-W49)."
    )
    assert zh == "李伟完成了本周（2026-W49）的目标「10 个新客户跟进」。"


def test_team_feed_milestone_is_third_person() -> None:
    en = milestone_reached_by(
        "en",
        member_name="Li Wei",
        goal_title=GOAL,
        percent=50,
        period_label="2026-W49",
        period_kind=WEEK,
    )
    zh = milestone_reached_by(
        "zh-CN",
        member_name="李伟",
        goal_title=GOAL_ZH,
        percent=50,
        period_label="2026-W49",
        period_kind=WEEK,
    )
    assert en == (
        "Li Wei is halfway (50%) to “10 new-customer follow-ups”"
        " for this week (2026-W49)."
    )
    assert zh == "李伟已完成本周（2026-W49）目标「10 个新客户跟进」的 50%。"


def test_team_feed_reward_is_third_person() -> None:
    en = reward_earned_by(
        "en", member_name="Li Wei", reward_title="Cash bonus", amount=AMOUNT
    )
    zh = reward_earned_by(
        "zh-CN", member_name="李伟", reward_title="现金奖励", amount=AMOUNT
    )
    assert en == "Li Wei earned “Cash bonus” (500.00 CNY)."
    assert zh == "李伟获得了奖励：500.00 CNY 现金奖励！"
    assert reward_earned_by(
        "en", member_name="Ana", reward_title="Mug", amount=None
    ) == ("Ana earned “Mug”.")


def test_team_event_joins_name_and_predicate() -> None:
    assert team_event("en", member_name="Li Wei", inner="closed an order") == (
        "Li Wei closed an order"
    )
    assert team_event("zh-CN", member_name="李伟", inner="成交了一笔订单") == (
        "李伟成交了一笔订单"
    )


titles = st.text(min_size=1, max_size=40)


@given(
    lang=st.sampled_from([*SUPPORTED_LANGUAGES, "xx"]),
    goal=titles,
    reward=titles,
    amount=st.decimals(min_value=0, max_value=10**7, places=2),
    kind=st.sampled_from(PeriodKind),
)
def test_reward_message_names_goal_and_amount(
    lang: str, goal: str, reward: str, amount: Decimal, kind: PeriodKind
) -> None:
    money = format_money(amount, "CNY")
    text = reward_earned(
        lang, reward_title=reward, amount=money, goal_title=goal, period_kind=kind
    )
    assert goal in text
    assert money in text
    assert reward in text


@given(
    lang=st.sampled_from(SUPPORTED_LANGUAGES),
    goal=titles,
    label=st.sampled_from(["2026-12-04", "2026-W49", "2026-12", "2026-Q4", "2026"]),
    kind=st.sampled_from(PeriodKind),
)
def test_goal_messages_name_goal_and_period(
    lang: str, goal: str, label: str, kind: PeriodKind
) -> None:
    for text in (
        goal_completed(lang, goal_title=goal, period_label=label, period_kind=kind),
        goal_completed_by(
            lang,
            member_name="Ana",
            goal_title=goal,
            period_label=label,
            period_kind=kind,
        ),
        milestone_reached(
            lang, goal_title=goal, percent=50, period_label=label, period_kind=kind
        ),
        milestone_reached_by(
            lang,
            member_name="Ana",
            goal_title=goal,
            percent=75,
            period_label=label,
            period_kind=kind,
        ),
    ):
        assert goal in text
        assert label in text


def test_order_closed_names_the_amount_and_market_in_both_languages() -> None:
    zh = messages.order_closed("zh-CN", amount="12345.67 USD", market="SEA")
    en = messages.order_closed("en", amount="12345.67 USD", market=None)
    feed = messages.order_closed_by(
        "en", member_name="Li Wei", amount="500.00 CNY", market="EU"
    )
    assert "12345.67 USD" in zh
    assert "SEA" in zh
    assert en == "You closed an order of 12345.67 USD. Nice work!"
    assert feed == "Li Wei closed an order of 500.00 CNY in EU."


def test_localized_names_fall_back_to_the_default() -> None:
    titles = {"zh-CN": "每周 10 个新客户跟进", "en": "10 new-customer follow-ups"}
    assert messages.localized("x", titles, "zh") == "每周 10 个新客户跟进"
    assert messages.localized("x", titles, "en") == "10 new-customer follow-ups"
    assert messages.localized("default", {}, "zh-CN") == "default"
    assert messages.localized("default", {"zh-CN": " "}, "zh-CN") == "default"


# --- names in Chinese sentences ------------------------------------------------


@pytest.mark.parametrize(
    ("name", "opened"),
    [
        ("Xu Tao", "Xu Tao "),
        ("Team 7", "Team 7 "),
        ("王芳", "王芳"),
        ("Li 伟", "Li 伟"),
    ],
)
def test_a_latin_name_is_spaced_from_the_chinese_after_it(
    name: str, opened: str
) -> None:
    assert messages.zh_subject(name) == opened
    line = team_event("zh-CN", member_name=name, inner="成交了一笔订单")
    assert line == f"{opened}成交了一笔订单"


def test_team_feed_lines_space_a_latin_name_in_chinese() -> None:
    done = goal_completed_by(
        "zh-CN",
        member_name="Xu Tao",
        goal_title=GOAL_ZH,
        period_label="2026-W49",
        period_kind=WEEK,
    )
    earned = reward_earned_by(
        "zh-CN", member_name="Xu Tao", reward_title="现金奖励", amount=None
    )
    assert done == "Xu Tao 完成了本周（2026-W49）的目标「10 个新客户跟进」。"
    assert earned == "Xu Tao 获得了奖励：现金奖励！"


# --- leaderboards and appraisals, named in the reader's language ----------------

ORDERS = {"zh-CN": "成交订单", "en": "Orders closed"}


def _metric(lang: str) -> str:
    return messages.localized("orders", ORDERS, lang)


def test_rank_changed_names_the_board_in_the_readers_language() -> None:
    zh = messages.rank_changed(
        "zh-CN", rank=35, metric_name=_metric("zh-CN"), period_kind=WEEK
    )
    en = messages.rank_changed(
        "en", rank=35, metric_name=_metric("en"), period_kind=WEEK
    )
    feed = messages.rank_changed_by(
        "zh",
        member_name="Xu Tao",
        rank=3,
        metric_name=_metric("zh"),
        period_kind=PeriodKind.MONTH,
    )
    assert zh == "你在本周「成交订单」排行榜上升至第 35 名！"
    assert en == "You are now #35 on this week's “Orders closed” leaderboard!"
    assert feed == "Xu Tao 在本月「成交订单」排行榜上升至第 3 名。"


def test_best_of_week_names_the_metric_in_the_readers_language() -> None:
    zh = messages.best_of_week(
        "zh-CN", count=13, metric_name="新客户跟进", week_label="2026-W48"
    )
    feed = messages.best_of_week_by(
        "zh-CN",
        member_name="Xu Tao",
        count=13,
        metric_name="新客户跟进",
        week_label="2026-W48",
    )
    en = messages.best_of_week_by(
        "en",
        member_name="Xu Tao",
        count=13,
        metric_name="New-customer follow-ups",
        week_label="2026-W48",
    )
    assert zh == "你是团队 2026-W48 的「新客户跟进」周冠军（13）！"
    assert feed == "Xu Tao 是团队 2026-W48 的「新客户跟进」周冠军（13）。"
    assert en == (
        "Xu Tao was the team's best of 2026-W48 for “New-customer follow-ups” (13)."
    )


def test_appraisal_finalized_quotes_the_cycle_once() -> None:
    zh = messages.appraisal_finalized(
        "zh-CN", cycle_name="2026 年第 3 季度考核", grade="EXCELLENT", score="92.50"
    )
    en = messages.appraisal_finalized(
        "en", cycle_name="2026-Q3 appraisal", grade="GOOD", score="85.00"
    )
    feed_zh = messages.appraisal_finalized_by(
        "zh-CN", member_name="Xu Tao", cycle_name="2025 年度评审", grade="QUALIFIED"
    )
    feed_en = messages.appraisal_finalized_by(
        "en", member_name="Xu Tao", cycle_name="2025 yearly review", grade="QUALIFIED"
    )
    assert zh == "你的「2026 年第 3 季度考核」已完成：优秀（92.50 分）。"
    assert en == "Your “2026-Q3 appraisal” is final: good (85.00 points)."
    assert feed_zh == "Xu Tao 的「2025 年度评审」已完成：合格。"
    assert feed_en == "Xu Tao's “2025 yearly review” is final: qualified."
