from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from spur.engine.periods import PeriodKind
from spur.models.company import IncentivePreference
from spur.models.fields import ScaledDecimalField
from spur.models.ledger import EntryCause, RewardStatus
from spur.models.plan import RuleKind
from tortoise.fields.base import OnDelete
from tortoise.fields.db_defaults import SqlDefault
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0002_localized_titles')]

    initial = False

    operations = [
        ops.CreateModel(
            name='IncentivePlan',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('company', fields.ForeignKeyField('models.Company', source_field='company_id', db_constraint=True, to_field='id', related_name='plans', on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(max_length=200)),
                ('titles', fields.JSONField(default=dict, db_default=SqlDefault("'{}'"), encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('description', fields.TextField(default='', unique=False)),
                ('approval_threshold', ScaledDecimalField(null=True, scale=4)),
                ('budget', ScaledDecimalField(null=True, scale=4)),
                ('budget_period', fields.CharEnumField(null=True, description='DAY: DAY\nWEEK: WEEK\nMONTH: MONTH\nQUARTER: QUARTER\nYEAR: YEAR', enum_type=PeriodKind, max_length=8)),
                ('is_active', fields.BooleanField(default=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'incentive_plan', 'app': 'models', 'unique_together': (('company', 'name'),), 'pk_attr': 'id', 'table_description': 'A named set of incentive rules, changed only by adding versions.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='PlanAssignment',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('plan', fields.ForeignKeyField('models.IncentivePlan', source_field='plan_id', db_constraint=True, to_field='id', related_name='assignments', on_delete=OnDelete.CASCADE)),
                ('team', fields.ForeignKeyField('models.Team', source_field='team_id', null=True, db_constraint=True, to_field='id', related_name='plan_assignments', on_delete=OnDelete.CASCADE)),
                ('member', fields.ForeignKeyField('models.Member', source_field='member_id', null=True, db_constraint=True, to_field='id', related_name='plan_assignments', on_delete=OnDelete.CASCADE)),
                ('min_age', fields.IntField(null=True)),
                ('max_age', fields.IntField(null=True)),
                ('min_tenure_days', fields.IntField(null=True)),
                ('max_tenure_days', fields.IntField(null=True)),
                ('preference', fields.CharEnumField(null=True, description='INSTANT_COMMISSION: INSTANT_COMMISSION\nGROWTH_TRAINING: GROWTH_TRAINING\nTEAM_HONOR: TEAM_HONOR\nLONG_TERM_BENEFITS: LONG_TERM_BENEFITS', enum_type=IncentivePreference, max_length=24)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'plan_assignment', 'app': 'models', 'pk_attr': 'id', 'table_description': 'Who a plan covers: every set condition must hold (none set: everyone).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='PlanVersion',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('plan', fields.ForeignKeyField('models.IncentivePlan', source_field='plan_id', db_constraint=True, to_field='id', related_name='versions', on_delete=OnDelete.CASCADE)),
                ('number', fields.IntField()),
                ('effective_from', fields.DateField()),
                ('effective_until', fields.DateField(null=True)),
                ('member_cap', ScaledDecimalField(null=True, scale=4)),
                ('cap_period', fields.CharEnumField(null=True, description='DAY: DAY\nWEEK: WEEK\nMONTH: MONTH\nQUARTER: QUARTER\nYEAR: YEAR', enum_type=PeriodKind, max_length=8)),
                ('note', fields.TextField(default='', unique=False)),
                ('created_by', fields.ForeignKeyField('models.Member', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name='plan_versions', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'plan_version', 'app': 'models', 'unique_together': (('plan', 'number'),), 'indexes': [Index(fields=['plan_id', 'effective_from'])], 'pk_attr': 'id', 'table_description': 'The rules of a plan from a date, until a later version or its end.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='PlanRule',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('version', fields.ForeignKeyField('models.PlanVersion', source_field='version_id', db_constraint=True, to_field='id', related_name='rules', on_delete=OnDelete.CASCADE)),
                ('code', fields.CharField(max_length=64)),
                ('kind', fields.CharEnumField(description='GOAL_COMPLETION: GOAL_COMPLETION\nSTEP: STEP\nCOMMISSION: COMMISSION\nTARGET_BONUS: TARGET_BONUS\nTEAM_THRESHOLD: TEAM_THRESHOLD', enum_type=RuleKind, max_length=24)),
                ('title', fields.CharField(max_length=200)),
                ('titles', fields.JSONField(default=dict, db_default=SqlDefault("'{}'"), encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('metric', fields.ForeignKeyField('models.MetricDefinition', source_field='metric_id', null=True, db_constraint=True, to_field='id', related_name='rules', on_delete=OnDelete.RESTRICT)),
                ('period_kind', fields.CharEnumField(null=True, description='DAY: DAY\nWEEK: WEEK\nMONTH: MONTH\nQUARTER: QUARTER\nYEAR: YEAR', enum_type=PeriodKind, max_length=8)),
                ('params', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('position', fields.IntField(default=0)),
            ],
            options={'table': 'plan_rule', 'app': 'models', 'unique_together': (('version', 'code'),), 'pk_attr': 'id', 'table_description': 'One rule of a plan version, its settings as data.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='RuleCounter',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('company', fields.ForeignKeyField('models.Company', source_field='company_id', db_constraint=True, to_field='id', related_name='rule_counters', on_delete=OnDelete.CASCADE)),
                ('key', fields.CharField(max_length=200)),
                ('value', ScaledDecimalField(default=0, scale=4)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'rule_counter', 'app': 'models', 'unique_together': (('company', 'key'),), 'pk_attr': 'id', 'table_description': 'A running count that a rule keeps beyond the metric totals.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='StatusChange',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('entry', fields.ForeignKeyField('models.LedgerEntry', source_field='entry_id', db_constraint=True, to_field='id', related_name='status_changes', on_delete=OnDelete.CASCADE)),
                ('from_status', fields.CharEnumField(description='PENDING: PENDING\nAPPROVED: APPROVED\nPAID: PAID\nREJECTED: REJECTED\nREVERSED: REVERSED', enum_type=RewardStatus, max_length=16)),
                ('to_status', fields.CharEnumField(description='PENDING: PENDING\nAPPROVED: APPROVED\nPAID: PAID\nREJECTED: REJECTED\nREVERSED: REVERSED', enum_type=RewardStatus, max_length=16)),
                ('actor', fields.ForeignKeyField('models.Member', source_field='actor_id', null=True, db_constraint=True, to_field='id', related_name='status_changes', on_delete=OnDelete.SET_NULL)),
                ('reason', fields.TextField(default='', unique=False)),
                ('reference', fields.CharField(null=True, max_length=128)),
                ('changed_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'ledger_status_change', 'app': 'models', 'indexes': [Index(fields=['entry_id', 'changed_at'])], 'pk_attr': 'id', 'table_description': 'Who moved a ledger entry from one status to another, when and why.'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Activity',
            name='void_reason',
            field=fields.TextField(null=True, unique=False),
        ),
        ops.AddField(
            model_name='Activity',
            name='voided_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Activity',
            name='voided_by',
            field=fields.ForeignKeyField('models.Member', source_field='voided_by_id', null=True, db_constraint=True, to_field='id', related_name='voided_activities', on_delete=OnDelete.SET_NULL),
        ),
        ops.AddField(
            model_name='LedgerEntry',
            name='cause',
            field=fields.CharEnumField(default=EntryCause.EARNED, description='EARNED: EARNED\nVOID: VOID\nRERATE: RERATE\nAPPRAISAL: APPRAISAL', db_default='EARNED', enum_type=EntryCause, max_length=16),
        ),
        ops.AddField(
            model_name='LedgerEntry',
            name='plan_version',
            field=fields.ForeignKeyField('models.PlanVersion', source_field='plan_version_id', null=True, db_constraint=True, to_field='id', related_name='entries', on_delete=OnDelete.RESTRICT),
        ),
        ops.AddField(
            model_name='LedgerEntry',
            name='rule',
            field=fields.ForeignKeyField('models.PlanRule', source_field='rule_id', null=True, db_constraint=True, to_field='id', related_name='entries', on_delete=OnDelete.RESTRICT),
        ),
    ]
