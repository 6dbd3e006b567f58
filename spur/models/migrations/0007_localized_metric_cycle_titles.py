from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.db_defaults import SqlDefault
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0006_insights')]

    initial = False

    operations = [
        ops.AddField(
            model_name='AppraisalCycle',
            name='titles',
            field=fields.JSONField(default=dict, db_default=SqlDefault("'{}'"), encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads),
        ),
        ops.AddField(
            model_name='MetricDefinition',
            name='titles',
            field=fields.JSONField(default=dict, db_default=SqlDefault("'{}'"), encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads),
        ),
    ]
