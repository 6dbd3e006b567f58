from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from spur.engine.appraisal import AppraisalStatus, DimensionKind, Grade
from spur.engine.metrics import Aggregation
from spur.engine.periods import PeriodKind
from spur.models.appraisal import CycleStatus
from spur.models.fields import ScaledDecimalField
from spur.models.plan import RuleKind
from tortoise.fields.base import OnDelete
from tortoise.fields.db_defaults import SqlDefault
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
    dependencies = [('models', '0003_incentive_plans')]

    initial = False

    operations = [
        ops.CreateModel(
            name='AppraisalTemplate',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('company', fields.ForeignKeyField('models.Company', source_field='company_id', db_constraint=True, to_field='id', related_name='appraisal_templates', on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(max_length=200)),
                ('titles', fields.JSONField(default=dict, db_default=SqlDefault("'{}'"), encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('bands', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('bonus_base', ScaledDecimalField(null=True, scale=4)),
                ('process_reward_min', ScaledDecimalField(null=True, scale=4)),
                ('process_reward_amount', ScaledDecimalField(null=True, scale=4)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'appraisal_template', 'app': 'models', 'unique_together': (('company', 'name'),), 'pk_attr': 'id', 'table_description': 'Weighted dimensions, grade bands and the pay an appraisal moves.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AppraisalCycle',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('company', fields.ForeignKeyField('models.Company', source_field='company_id', db_constraint=True, to_field='id', related_name='appraisal_cycles', on_delete=OnDelete.CASCADE)),
                ('template', fields.ForeignKeyField('models.AppraisalTemplate', source_field='template_id', db_constraint=True, to_field='id', related_name='cycles', on_delete=OnDelete.RESTRICT)),
                ('name', fields.CharField(max_length=200)),
                ('period_kind', fields.CharEnumField(description='DAY: DAY\nWEEK: WEEK\nMONTH: MONTH\nQUARTER: QUARTER\nYEAR: YEAR', enum_type=PeriodKind, max_length=8)),
                ('period_start', fields.DateField()),
                ('status', fields.CharEnumField(default=CycleStatus.OPEN, description='OPEN: OPEN\nCLOSED: CLOSED', enum_type=CycleStatus, max_length=8)),
                ('created_by', fields.ForeignKeyField('models.Member', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name='opened_cycles', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'appraisal_cycle', 'app': 'models', 'unique_together': (('company', 'name'),), 'pk_attr': 'id', 'table_description': 'An appraisal round over one period for a set of members.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Appraisal',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('company', fields.ForeignKeyField('models.Company', source_field='company_id', db_constraint=True, to_field='id', related_name='appraisals', on_delete=OnDelete.CASCADE)),
                ('cycle', fields.ForeignKeyField('models.AppraisalCycle', source_field='cycle_id', db_constraint=True, to_field='id', related_name='appraisals', on_delete=OnDelete.CASCADE)),
                ('member', fields.ForeignKeyField('models.Member', source_field='member_id', db_constraint=True, to_field='id', related_name='appraisals', on_delete=OnDelete.CASCADE)),
                ('version', fields.IntField(default=1)),
                ('is_current', fields.BooleanField(default=True)),
                ('status', fields.CharEnumField(default=AppraisalStatus.DRAFT, description='DRAFT: DRAFT\nSELF_REVIEW: SELF_REVIEW\nMANAGER_REVIEW: MANAGER_REVIEW\nFINALIZED: FINALIZED', enum_type=AppraisalStatus, max_length=16)),
                ('score', ScaledDecimalField(null=True, scale=4)),
                ('process_score', ScaledDecimalField(null=True, scale=4)),
                ('result_score', ScaledDecimalField(null=True, scale=4)),
                ('grade', fields.CharEnumField(null=True, description='EXCELLENT: EXCELLENT\nGOOD: GOOD\nQUALIFIED: QUALIFIED\nUNQUALIFIED: UNQUALIFIED', enum_type=Grade, max_length=16)),
                ('bonus_multiplier', ScaledDecimalField(null=True, scale=4)),
                ('self_comment', fields.TextField(null=True, unique=False)),
                ('manager_comment', fields.TextField(null=True, unique=False)),
                ('reviewer', fields.ForeignKeyField('models.Member', source_field='reviewer_id', null=True, db_constraint=True, to_field='id', related_name='reviewed_appraisals', on_delete=OnDelete.SET_NULL)),
                ('finalized_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('finalized_by', fields.ForeignKeyField('models.Member', source_field='finalized_by_id', null=True, db_constraint=True, to_field='id', related_name='finalized_appraisals', on_delete=OnDelete.SET_NULL)),
                ('supersedes', fields.ForeignKeyField('models.Appraisal', source_field='supersedes_id', null=True, db_constraint=True, to_field='id', related_name='corrections', on_delete=OnDelete.RESTRICT)),
                ('correction_reason', fields.TextField(null=True, unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'appraisal', 'app': 'models', 'unique_together': (('cycle', 'member', 'version'),), 'indexes': [Index(fields=['member_id', 'is_current'])], 'pk_attr': 'id', 'table_description': "One member's appraisal in a cycle, in one version."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AppraisalDimension',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('template', fields.ForeignKeyField('models.AppraisalTemplate', source_field='template_id', db_constraint=True, to_field='id', related_name='dimensions', on_delete=OnDelete.CASCADE)),
                ('code', fields.CharField(max_length=64)),
                ('name', fields.CharField(max_length=200)),
                ('titles', fields.JSONField(default=dict, db_default=SqlDefault("'{}'"), encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('kind', fields.CharEnumField(description='PROCESS: PROCESS\nRESULT: RESULT\nRATED: RATED', enum_type=DimensionKind, max_length=8)),
                ('weight', ScaledDecimalField(scale=4)),
                ('metric', fields.ForeignKeyField('models.MetricDefinition', source_field='metric_id', null=True, db_constraint=True, to_field='id', related_name='dimensions', on_delete=OnDelete.RESTRICT)),
                ('per_metric', fields.ForeignKeyField('models.MetricDefinition', source_field='per_metric_id', null=True, db_constraint=True, to_field='id', related_name='per_dimensions', on_delete=OnDelete.RESTRICT)),
                ('divisor', ScaledDecimalField(null=True, scale=4)),
                ('per_working_day', fields.BooleanField(default=False)),
                ('scale', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('position', fields.IntField(default=0)),
            ],
            options={'table': 'appraisal_dimension', 'app': 'models', 'unique_together': (('template', 'code'),), 'pk_attr': 'id', 'table_description': 'One weighted dimension: a metric measured over the cycle, or rated.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AppraisalScore',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('appraisal', fields.ForeignKeyField('models.Appraisal', source_field='appraisal_id', db_constraint=True, to_field='id', related_name='scores', on_delete=OnDelete.CASCADE)),
                ('dimension', fields.ForeignKeyField('models.AppraisalDimension', source_field='dimension_id', db_constraint=True, to_field='id', related_name='scores', on_delete=OnDelete.RESTRICT)),
                ('value', ScaledDecimalField(null=True, scale=4)),
                ('self_score', ScaledDecimalField(null=True, scale=4)),
                ('score', ScaledDecimalField(null=True, scale=4)),
                ('applies', fields.BooleanField(default=True)),
                ('comment', fields.TextField(null=True, unique=False)),
                ('rated_by', fields.ForeignKeyField('models.Member', source_field='rated_by_id', null=True, db_constraint=True, to_field='id', related_name='rated_scores', on_delete=OnDelete.SET_NULL)),
            ],
            options={'table': 'appraisal_score', 'app': 'models', 'unique_together': (('appraisal', 'dimension'),), 'pk_attr': 'id', 'table_description': 'A dimension of one appraisal version: measured or rated, and its score.'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='LedgerEntry',
            name='appraisal',
            field=fields.ForeignKeyField('models.Appraisal', source_field='appraisal_id', null=True, db_constraint=True, to_field='id', related_name='entries', on_delete=OnDelete.RESTRICT),
        ),
        ChoicesOnly(
            model_name='MetricDefinition',
            name='aggregation',
            field=fields.CharEnumField(description='COUNT: COUNT\nSUM_AMOUNT: SUM_AMOUNT\nSUM_QUANTITY: SUM_QUANTITY\nSUM_REPLY_MIN: SUM_REPLY_MIN\nSUM_RATING: SUM_RATING', enum_type=Aggregation, max_length=16),
        ),
        ChoicesOnly(
            model_name='PlanRule',
            name='kind',
            field=fields.CharEnumField(description='GOAL_COMPLETION: GOAL_COMPLETION\nSTEP: STEP\nCOMMISSION: COMMISSION\nTARGET_BONUS: TARGET_BONUS\nTEAM_THRESHOLD: TEAM_THRESHOLD\nAPPRAISAL_STREAK: APPRAISAL_STREAK', enum_type=RuleKind, max_length=24),
        ),
    ]
