from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.db_defaults import SqlDefault
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0001_initial')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Goal',
            name='titles',
            field=fields.JSONField(default=dict, db_default=SqlDefault("'{}'"), encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads),
        ),
        ops.AddField(
            model_name='GoalReward',
            name='titles',
            field=fields.JSONField(default=dict, db_default=SqlDefault("'{}'"), encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads),
        ),
        ops.AddField(
            model_name='LedgerEntry',
            name='titles',
            field=fields.JSONField(default=dict, db_default=SqlDefault("'{}'"), encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads),
        ),
    ]
