import datetime

import pytest
from django.utils import timezone


@pytest.fixture
def today():
    return timezone.localdate()


@pytest.fixture
def days_ago(today):
    def get(n: int) -> datetime.date:
        return today - datetime.timedelta(days=n)

    return get
