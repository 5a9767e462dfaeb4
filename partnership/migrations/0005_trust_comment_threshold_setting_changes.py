# Comment threshold (issue #11) and the log of analysis-setting changes.

import django.core.validators
import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models
from django.db.models.functions import Greatest


def comment_threshold_at_least_group_size(apps, schema_editor):
    # A trust whose minimum group size is above the default comment threshold starts with both equal.
    Trust = apps.get_model("partnership", "Trust")
    Trust.objects.update(min_comment_group_size=Greatest("min_comment_group_size", "min_group_size"))


class Migration(migrations.Migration):

    dependencies = [
        ('partnership', '0004_reminders_and_reports'),
    ]

    operations = [
        migrations.CreateModel(
            name='TrustSettingChange',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('changed_by_name', models.CharField(blank=True, max_length=200)),
                ('changed_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('field', models.CharField(max_length=40)),
                ('old_value', models.CharField(max_length=40)),
                ('new_value', models.CharField(max_length=40)),
            ],
            options={
                'ordering': ['-changed_at', '-pk'],
            },
        ),
        migrations.AddField(
            model_name='trust',
            name='min_comment_group_size',
            field=models.PositiveSmallIntegerField(default=10, help_text='Comments are shown only for groups of at least this many people (never below min_group_size).', validators=[django.core.validators.MinValueValidator(3)]),
        ),
        migrations.RunPython(comment_threshold_at_least_group_size, migrations.RunPython.noop),
        migrations.AddField(
            model_name='trustsettingchange',
            name='changed_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='setting_changes', to='partnership.membership'),
        ),
        migrations.AddField(
            model_name='trustsettingchange',
            name='trust',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='setting_changes', to='partnership.trust'),
        ),
        migrations.AddIndex(
            model_name='trustsettingchange',
            index=models.Index(fields=['trust', '-changed_at'], name='setting_change_trust_time'),
        ),
    ]
