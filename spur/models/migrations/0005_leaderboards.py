from tortoise import migrations
from tortoise.migrations import operations as ops
from spur.engine.periods import PeriodKind
from spur.models.event import EventKind
from spur.models.fields import ScaledDecimalField
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

BOARD_INDEX = (
    "CREATE INDEX leaderboard_score_board ON leaderboard_score "
    "(company_id, metric_id, period_kind, period_start, scope_key, "
    "value DESC, reached_at)"
)


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
    dependencies = [('models', '0004_appraisals')]

    initial = False

    operations = [
        ops.CreateModel(
            name='LeaderboardNode',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('company', fields.ForeignKeyField('models.Company', source_field='company_id', db_constraint=True, to_field='id', related_name='leaderboard_nodes', on_delete=OnDelete.CASCADE)),
                ('metric', fields.ForeignKeyField('models.MetricDefinition', source_field='metric_id', db_constraint=True, to_field='id', related_name='leaderboard_nodes', on_delete=OnDelete.CASCADE)),
                ('period_kind', fields.CharEnumField(description='DAY: DAY\nWEEK: WEEK\nMONTH: MONTH\nQUARTER: QUARTER\nYEAR: YEAR', enum_type=PeriodKind, max_length=8)),
                ('period_start', fields.DateField()),
                ('scope_key', fields.CharField(max_length=48)),
                ('level', fields.SmallIntField()),
                ('prefix', fields.BigIntField()),
                ('count', fields.IntField(default=0)),
            ],
            options={'table': 'leaderboard_node', 'app': 'models', 'unique_together': (('metric', 'period_kind', 'period_start', 'scope_key', 'level', 'prefix'),), 'pk_attr': 'id', 'table_description': 'How many scores on a board share a prefix of their (offset) value.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='LeaderboardScore',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('company', fields.ForeignKeyField('models.Company', source_field='company_id', db_constraint=True, to_field='id', related_name='leaderboard_scores', on_delete=OnDelete.CASCADE)),
                ('metric', fields.ForeignKeyField('models.MetricDefinition', source_field='metric_id', db_constraint=True, to_field='id', related_name='leaderboard_scores', on_delete=OnDelete.CASCADE)),
                ('period_kind', fields.CharEnumField(description='DAY: DAY\nWEEK: WEEK\nMONTH: MONTH\nQUARTER: QUARTER\nYEAR: YEAR', enum_type=PeriodKind, max_length=8)),
                ('period_start', fields.DateField()),
                ('scope_key', fields.CharField(max_length=48)),
                ('member', fields.ForeignKeyField('models.Member', source_field='member_id', db_constraint=True, to_field='id', related_name='leaderboard_scores', on_delete=OnDelete.CASCADE)),
                ('value', ScaledDecimalField(default=0, scale=4)),
                ('reached_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'leaderboard_score', 'app': 'models', 'unique_together': (('metric', 'period_kind', 'period_start', 'scope_key', 'member'),), 'indexes': [Index(fields=['member_id', 'metric_id', 'period_kind', 'scope_key'])], 'pk_attr': 'id', 'table_description': "One member's value on one board, and when it reached that value."},
            bases=['Model'],
        ),
        # A board's top is read in this order; Tortoise cannot declare DESC.
        ops.RunSQL(BOARD_INDEX, reverse_sql='DROP INDEX leaderboard_score_board'),
        ChoicesOnly(
            model_name='AchievementEvent',
            name='kind',
            field=fields.CharEnumField(description='GOAL_COMPLETED: GOAL_COMPLETED\nMILESTONE_REACHED: MILESTONE_REACHED\nREWARD_EARNED: REWARD_EARNED\nRANK_CHANGED: RANK_CHANGED\nORDER_CLOSED: ORDER_CLOSED\nAPPRAISAL_FINALIZED: APPRAISAL_FINALIZED\nTEAM_BEST_OF_WEEK: TEAM_BEST_OF_WEEK', enum_type=EventKind, max_length=24),
        ),
    ]
