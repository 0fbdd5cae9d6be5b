from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('organisations', '0007_key_accounts_released_by_multi_touch'),
    ]

    operations = [
        migrations.AddField(
            model_name='note',
            name='started_by',
            field=models.CharField(choices=[('us', 'We contacted them'), ('them', 'They contacted us')], default='us', max_length=4, verbose_name='who started the contact'),
        ),
    ]
