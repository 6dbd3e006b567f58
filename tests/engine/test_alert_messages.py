"""Manager alerts in Chinese and English: names, goals and spacing."""

from decimal import Decimal

from spur.engine.alert_messages import alert_message
from spur.engine.alerts import AlertRule, Finding

DRIFT = Finding(AlertRule.REPLY_DRIFT, Decimal("95"), Decimal("40"))
AT_RISK = Finding(AlertRule.GOAL_AT_RISK, Decimal("20"), Decimal("80"))


def test_a_latin_name_is_spaced_from_chinese_and_a_chinese_one_is_not() -> None:
    latin = alert_message("zh-CN", DRIFT, "Xu Tao", "2026-W49", None)
    chinese = alert_message("zh-CN", DRIFT, "王芳", "2026-W49", None)
    assert latin.startswith("Xu Tao 本周（2026-W49）平均回复询盘用时 95 分钟")
    assert chinese.startswith("王芳本周（2026-W49）")


def test_the_goal_is_named_as_given_in_either_language() -> None:
    zh = alert_message("zh", AT_RISK, "Xu Tao", "2026-12", None, "本月 50 单")
    en = alert_message("en", AT_RISK, "Xu Tao", "2026-12", None, "50 orders")
    assert zh == (
        "Xu Tao 的目标「本月 50 单」（2026-12）只完成了 20%，"
        "时间已过 80%，剩余天数不多。"
    )
    assert en == (
        "Xu Tao's goal “50 orders” for 2026-12 is 20% done with 80% "
        "of the time gone and few days left."
    )
