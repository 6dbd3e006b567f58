"""Manager alerts as sentences in the reader's language (see `messages`)."""

from __future__ import annotations

from spur.engine.alerts import AlertRule, Finding
from spur.engine.messages import resolve_language, zh_subject


def alert_message(
    lang: str,
    finding: Finding,
    subject: str,
    period: str,
    award: str | None,
    goal: str = "",
) -> str:
    """One line for a manager: who, what moved, against what, and the hint.

    `subject` is a member's or team's name, `award` the suggested reward
    already formatted (or None), `goal` the goal's title for GOAL_AT_RISK.
    """
    zh = resolve_language(lang) == "zh-CN"
    if zh:
        subject = zh_subject(subject)
    value, base = f"{finding.value:f}", f"{finding.baseline:f}"
    rule = finding.rule
    if rule is AlertRule.CONVERSION_LEAD:
        if zh:
            return (
                f"{subject}本月（{period}）询盘转化率 {value}%，高于团队其他人的 "
                f"{base}%。建议奖励 {award}。"
            )
        return (
            f"{subject} converts {value}% of inquiries this month ({period}), "
            f"against {base}% for the rest of the team. Suggested reward: {award}."
        )
    if rule is AlertRule.LOW_UPKEEP:
        if zh:
            return (
                f"{subject}本周（{period}）平台维护率 {value}%，低于 {base}%。"
                "建议加强平台维护激励。"
            )
        return (
            f"{subject}'s platform upkeep rate this week ({period}) is {value}%, "
            f"below {base}%. Consider a stronger platform incentive."
        )
    if rule is AlertRule.REPLY_DRIFT:
        if zh:
            return (
                f"{subject}本周（{period}）平均回复询盘用时 {value} 分钟，"
                f"上周为 {base} 分钟。"
            )
        return (
            f"{subject} took {value} minutes on average to reply to inquiries "
            f"this week ({period}), up from {base} last week."
        )
    if zh:
        return (
            f"{subject}的目标「{goal}」（{period}）只完成了 {value}%，"
            f"时间已过 {base}%，剩余天数不多。"
        )
    return (
        f"{subject}'s goal “{goal}” for {period} is {value}% done with {base}% "
        "of the time gone and few days left."
    )
