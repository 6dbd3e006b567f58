from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from spur.engine.alerts import AlertRule
from spur.engine.periods import PeriodKind
from spur.models.event import EventKind
from spur.models.fields import ScaledDecimalField
from spur.models.insight import AlertStatus
from spur.models.ledger import EntryCause
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index


class ChoicesOnly(ops.AlterField):
    """A new enum value: the column (a varchar) is unchanged, only the state.

    Altering a field on SQLite rebuilds the table, which fails on a table
    that other tables' rows point at; there is nothing to rebuild here.
    """

    async def database_forward(self, *args: object, **kwargs: object) -> None:
        return None

    async def database_backward(self, *args: object, **kwargs: object) -> None:
        return None


class Migration(migrations.Migration):
    dependencies = [("models", "0005_leaderboards")]

    initial = False

    operations = [
        ops.CreateModel(
            name="ManagerAlert",
            fields=[
                (
                    "id",
                    fields.BigIntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                (
                    "company",
                    fields.ForeignKeyField(
                        "models.Company",
                        source_field="company_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="alerts",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "team",
                    fields.ForeignKeyField(
                        "models.Team",
                        source_field="team_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="alerts",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "member",
                    fields.ForeignKeyField(
                        "models.Member",
                        source_field="member_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="alerts",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "goal",
                    fields.ForeignKeyField(
                        "models.Goal",
                        source_field="goal_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="alerts",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("key", fields.CharField(max_length=200)),
                (
                    "rule",
                    fields.CharEnumField(
                        description="CONVERSION_LEAD: CONVERSION_LEAD\nLOW_UPKEEP: LOW_UPKEEP\nREPLY_DRIFT: REPLY_DRIFT\nGOAL_AT_RISK: GOAL_AT_RISK",
                        enum_type=AlertRule,
                        max_length=24,
                    ),
                ),
                (
                    "status",
                    fields.CharEnumField(
                        default=AlertStatus.OPEN,
                        description="OPEN: OPEN\nACCEPTED: ACCEPTED\nDISMISSED: DISMISSED",
                        enum_type=AlertStatus,
                        max_length=16,
                    ),
                ),
                (
                    "period_kind",
                    fields.CharEnumField(
                        description="DAY: DAY\nWEEK: WEEK\nMONTH: MONTH\nQUARTER: QUARTER\nYEAR: YEAR",
                        enum_type=PeriodKind,
                        max_length=8,
                    ),
                ),
                ("period_start", fields.DateField()),
                ("value", ScaledDecimalField(scale=4)),
                ("baseline", ScaledDecimalField(scale=4)),
                ("suggested_amount", ScaledDecimalField(null=True, scale=4)),
                ("currency", fields.CharField(null=True, max_length=3)),
                (
                    "facts",
                    fields.JSONField(
                        default=dict,
                        encoder=functools.partial(dumps, separators=(",", ":")),
                        decoder=loads,
                    ),
                ),
                ("message", fields.TextField(unique=False)),
                ("raised_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                (
                    "decided_by",
                    fields.ForeignKeyField(
                        "models.Member",
                        source_field="decided_by_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="decided_alerts",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                (
                    "decided_at",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
                ("reason", fields.TextField(default="", unique=False)),
                (
                    "ledger_entry",
                    fields.ForeignKeyField(
                        "models.LedgerEntry",
                        source_field="ledger_entry_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="alerts",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
            ],
            options={
                "table": "manager_alert",
                "app": "models",
                "unique_together": (("company", "key"),),
                "indexes": [Index(fields=["company_id", "team_id", "status"])],
                "pk_attr": "id",
                "table_description": "A condition a rule found in a team, for its manager to act on.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="PreferenceSurvey",
            fields=[
                (
                    "id",
                    fields.BigIntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                (
                    "company",
                    fields.ForeignKeyField(
                        "models.Company",
                        source_field="company_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="preference_surveys",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "member",
                    fields.ForeignKeyField(
                        "models.Member",
                        source_field="member_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="preference_surveys",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "ranking",
                    fields.JSONField(
                        default=list,
                        encoder=functools.partial(dumps, separators=(",", ":")),
                        decoder=loads,
                    ),
                ),
                ("answered_on", fields.DateField()),
                (
                    "submitted_at",
                    fields.DatetimeField(auto_now=False, auto_now_add=False),
                ),
            ],
            options={
                "table": "preference_survey",
                "app": "models",
                "indexes": [Index(fields=["member_id", "submitted_at"])],
                "pk_attr": "id",
                "table_description": "An answer of a member to the preference survey, the latest counting.",
            },
            bases=["Model"],
        ),
        ChoicesOnly(
            model_name="AchievementEvent",
            name="kind",
            field=fields.CharEnumField(
                description="GOAL_COMPLETED: GOAL_COMPLETED\nMILESTONE_REACHED: MILESTONE_REACHED\nREWARD_EARNED: REWARD_EARNED\nRANK_CHANGED: RANK_CHANGED\nORDER_CLOSED: ORDER_CLOSED\nAPPRAISAL_FINALIZED: APPRAISAL_FINALIZED\nTEAM_BEST_OF_WEEK: TEAM_BEST_OF_WEEK\nMANAGER_ALERT: MANAGER_ALERT",
                enum_type=EventKind,
                max_length=24,
            ),
        ),
        ChoicesOnly(
            model_name="LedgerEntry",
            name="cause",
            field=fields.CharEnumField(
                default=EntryCause.EARNED,
                description="EARNED: EARNED\nVOID: VOID\nRERATE: RERATE\nAPPRAISAL: APPRAISAL\nMANAGER_AWARD: MANAGER_AWARD",
                db_default="EARNED",
                enum_type=EntryCause,
                max_length=16,
            ),
        ),
    ]
