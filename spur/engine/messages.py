"""Sentences about achievements, in the reader's language.

Messages addressed to the achiever are in the second person; the ``*_by``
variants are third-person lines for the team feed. Every function takes
``lang`` first; a language outside SUPPORTED_LANGUAGES falls back to English.
Amounts arrive already formatted (see ``money.format_money``).
"""

from __future__ import annotations

from collections.abc import Mapping

from spur.engine.periods import PeriodKind

SUPPORTED_LANGUAGES: tuple[str, ...] = ("zh-CN", "en")

_ZH_TAGS = frozenset({"zh", "zh-cn", "zh-hans", "zh-hans-cn"})

_EN_PERIOD = {
    PeriodKind.DAY: "today",
    PeriodKind.WEEK: "this week",
    PeriodKind.MONTH: "this month",
    PeriodKind.QUARTER: "this quarter",
    PeriodKind.YEAR: "this year",
}

_ZH_PERIOD = {
    PeriodKind.DAY: "今天",
    PeriodKind.WEEK: "本周",
    PeriodKind.MONTH: "本月",
    PeriodKind.QUARTER: "本季度",
    PeriodKind.YEAR: "今年",
}


def resolve_language(lang: str) -> str:
    """The supported language to write in for a requested language tag.

    Simplified Chinese tags (``zh``, ``zh_CN``, ``zh-Hans``…) give ``zh-CN``;
    anything else gives ``en``.
    """
    tag = lang.strip().replace("_", "-").lower()
    return "zh-CN" if tag in _ZH_TAGS else "en"


def _is_zh(lang: str) -> bool:
    return resolve_language(lang) == "zh-CN"


def _en_title(title: str) -> str:
    return f"“{title}”"


def _zh_title(title: str) -> str:
    return f"「{title}」"


def zh_subject(name: str) -> str:
    """A name that opens a Chinese sentence, spaced from the Chinese after it
    when it ends in a Latin letter or digit ("Xu Tao 完成了", "王芳完成了")."""
    return f"{name} " if name[-1:].isascii() and name[-1:].isalnum() else name


def _zh_reward(reward_title: str, amount: str | None) -> str:
    return f"{amount} {reward_title}" if amount else reward_title


def _en_reward(reward_title: str, amount: str | None) -> str:
    quoted = _en_title(reward_title)
    return f"{quoted} ({amount})" if amount else quoted


def goal_completed(
    lang: str, *, goal_title: str, period_label: str, period_kind: PeriodKind
) -> str:
    """Congratulates the reader on completing a goal for a period."""
    if _is_zh(lang):
        when = _ZH_PERIOD[period_kind]
        return f"恭喜！你完成了{when}（{period_label}）的目标{_zh_title(goal_title)}。"
    when = _EN_PERIOD[period_kind]
    return (
        f"You completed {_en_title(goal_title)} for {when} ({period_label}). Well done!"
    )


def milestone_reached(
    lang: str,
    *,
    goal_title: str,
    percent: int,
    period_label: str,
    period_kind: PeriodKind,
) -> str:
    """Tells the reader how far along a goal they are, e.g. halfway."""
    if _is_zh(lang):
        when = _ZH_PERIOD[period_kind]
        return (
            f"你已完成{when}（{period_label}）目标{_zh_title(goal_title)}"
            f"的 {percent}%，继续加油！"
        )
    when = _EN_PERIOD[period_kind]
    where = f"halfway ({percent}%)" if percent == 50 else f"{percent}% of the way"
    return (
        f"You are {where} to {_en_title(goal_title)} for {when} ({period_label})."
        " Keep going!"
    )


def reward_earned(
    lang: str,
    *,
    reward_title: str,
    amount: str | None,
    goal_title: str | None,
    period_kind: PeriodKind | None,
) -> str:
    """Tells the reader which reward they earned and, if known, for what."""
    if _is_zh(lang):
        reason = _zh_reason(goal_title, period_kind)
        return f"恭喜你{reason}获得奖励：{_zh_reward(reward_title, amount)}！"
    reason = _en_reason(goal_title, period_kind)
    return f"You earned {_en_reward(reward_title, amount)}{reason}. Congratulations!"


def _zh_reason(goal_title: str | None, period_kind: PeriodKind | None) -> str:
    if goal_title is None:
        return ""
    when = "" if period_kind is None else _ZH_PERIOD[period_kind]
    return f"完成{when}目标{_zh_title(goal_title)}，"


def _en_reason(goal_title: str | None, period_kind: PeriodKind | None) -> str:
    if goal_title is None:
        return ""
    when = "" if period_kind is None else f" {_EN_PERIOD[period_kind]}"
    return f" for completing {_en_title(goal_title)}{when}"


def goal_completed_by(
    lang: str,
    *,
    member_name: str,
    goal_title: str,
    period_label: str,
    period_kind: PeriodKind,
) -> str:
    """Team feed line: a member completed a goal for a period."""
    if _is_zh(lang):
        when = _ZH_PERIOD[period_kind]
        return (
            f"{zh_subject(member_name)}完成了{when}（{period_label}）的目标"
            f"{_zh_title(goal_title)}。"
        )
    when = _EN_PERIOD[period_kind]
    return (
        f"{member_name} completed {_en_title(goal_title)} for {when} ({period_label})."
    )


def milestone_reached_by(
    lang: str,
    *,
    member_name: str,
    goal_title: str,
    percent: int,
    period_label: str,
    period_kind: PeriodKind,
) -> str:
    """Team feed line: a member got part of the way to a goal."""
    if _is_zh(lang):
        when = _ZH_PERIOD[period_kind]
        return (
            f"{zh_subject(member_name)}已完成{when}（{period_label}）目标"
            f"{_zh_title(goal_title)}的 {percent}%。"
        )
    when = _EN_PERIOD[period_kind]
    where = f"halfway ({percent}%)" if percent == 50 else f"{percent}% of the way"
    return (
        f"{member_name} is {where} to {_en_title(goal_title)}"
        f" for {when} ({period_label})."
    )


def reward_earned_by(
    lang: str, *, member_name: str, reward_title: str, amount: str | None
) -> str:
    """Team feed line: a member earned a reward."""
    if _is_zh(lang):
        return (
            f"{zh_subject(member_name)}获得了奖励：{_zh_reward(reward_title, amount)}！"
        )
    return f"{member_name} earned {_en_reward(reward_title, amount)}."


def team_event(lang: str, *, member_name: str, inner: str) -> str:
    """Team feed line made of a member's name and a third-person predicate.

    ``inner`` must already be in the target language and read as what the
    member did without a subject, e.g. "closed an order with ACME" or
    "成交了一笔订单". Never pass a second-person message here; use
    ``goal_completed_by`` or ``reward_earned_by`` for those events.
    """
    if _is_zh(lang):
        return f"{zh_subject(member_name)}{inner}"
    return f"{member_name} {inner}"


def _market_suffix(lang: str, market: str | None) -> str:
    if not market:
        return ""
    return f"（{market} 市场）" if _is_zh(lang) else f" in {market}"


def order_closed(lang: str, *, amount: str, market: str | None) -> str:
    """Congratulates the reader on an order they closed."""
    where = _market_suffix(lang, market)
    if _is_zh(lang):
        return f"恭喜你成交了一笔 {amount} 的订单{where}！"
    return f"You closed an order of {amount}{where}. Nice work!"


def order_closed_by(
    lang: str, *, member_name: str, amount: str, market: str | None
) -> str:
    """Team feed line: a member closed an order."""
    if _is_zh(lang):
        who, where = zh_subject(member_name), _market_suffix(lang, market)
        return f"{who}成交了一笔 {amount} 的订单{where}。"
    return f"{member_name} closed an order of {amount}{_market_suffix(lang, market)}."


_ZH_GRADES = {
    "EXCELLENT": "优秀",
    "GOOD": "良好",
    "QUALIFIED": "合格",
    "UNQUALIFIED": "不合格",
}
_EN_GRADES = {
    "EXCELLENT": "excellent",
    "GOOD": "good",
    "QUALIFIED": "qualified",
    "UNQUALIFIED": "unqualified",
}


def appraisal_finalized(lang: str, *, cycle_name: str, grade: str, score: str) -> str:
    """Tells the reader their appraisal is final, with its grade and score.

    `cycle_name` is the cycle's name in the reader's language (it names the
    appraisal, e.g. "2026-Q3 appraisal", so the sentence quotes it whole).
    """
    if _is_zh(lang):
        return f"你的{_zh_title(cycle_name)}已完成：{_ZH_GRADES[grade]}（{score} 分）。"
    return (
        f"Your {_en_title(cycle_name)} is final: {_EN_GRADES[grade]} ({score} points)."
    )


def appraisal_finalized_by(
    lang: str, *, member_name: str, cycle_name: str, grade: str
) -> str:
    """Team feed line: a member's appraisal was finalised."""
    if _is_zh(lang):
        who = zh_subject(member_name)
        return f"{who}的{_zh_title(cycle_name)}已完成：{_ZH_GRADES[grade]}。"
    return f"{member_name}'s {_en_title(cycle_name)} is final: {_EN_GRADES[grade]}."


def localized(default: str, titles: Mapping[str, str], lang: str) -> str:
    """A name in the reader's language when one is given, else the default.

    `titles` maps language tags (``zh-CN``, ``en``) to names; tags are matched
    after `resolve_language`, so ``zh`` finds the ``zh-CN`` name.
    """
    wanted = resolve_language(lang)
    for tag, title in titles.items():
        if resolve_language(tag) == wanted and title.strip():
            return title
    return default


_EN_RANK_PERIOD = {
    PeriodKind.DAY: "today's",
    PeriodKind.WEEK: "this week's",
    PeriodKind.MONTH: "this month's",
    PeriodKind.QUARTER: "this quarter's",
    PeriodKind.YEAR: "this year's",
}


def rank_changed(
    lang: str, *, rank: int, metric_name: str, period_kind: PeriodKind
) -> str:
    """Tells the reader they rose to a rank on a company leaderboard."""
    if _is_zh(lang):
        when = _ZH_PERIOD[period_kind]
        return f"你在{when}{_zh_title(metric_name)}排行榜上升至第 {rank} 名！"
    when = _EN_RANK_PERIOD[period_kind]
    return f"You are now #{rank} on {when} {_en_title(metric_name)} leaderboard!"


def rank_changed_by(
    lang: str, *, member_name: str, rank: int, metric_name: str, period_kind: PeriodKind
) -> str:
    """Team feed line: a member rose to a rank on a company leaderboard."""
    if _is_zh(lang):
        when = _ZH_PERIOD[period_kind]
        who, board = zh_subject(member_name), _zh_title(metric_name)
        return f"{who}在{when}{board}排行榜上升至第 {rank} 名。"
    when = _EN_RANK_PERIOD[period_kind]
    return (
        f"{member_name} is now #{rank} on {when} {_en_title(metric_name)} leaderboard."
    )


def best_of_week(lang: str, *, count: int, metric_name: str, week_label: str) -> str:
    """Tells the reader they were their team's best of a week on a metric."""
    if _is_zh(lang):
        return f"你是团队 {week_label} 的{_zh_title(metric_name)}周冠军（{count}）！"
    return (
        f"You were your team's best of {week_label} for "
        f"{_en_title(metric_name)} ({count})!"
    )


def best_of_week_by(
    lang: str, *, member_name: str, count: int, metric_name: str, week_label: str
) -> str:
    """Team feed line: the team's best of a week on a metric, with the count."""
    if _is_zh(lang):
        return (
            f"{zh_subject(member_name)}是团队 {week_label} 的{_zh_title(metric_name)}"
            f"周冠军（{count}）。"
        )
    return (
        f"{member_name} was the team's best of {week_label} for "
        f"{_en_title(metric_name)} ({count})."
    )
