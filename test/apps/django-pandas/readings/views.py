import numpy as np
import pandas as pd
from django.http import HttpResponse

from .models import Reading


def index(request):
    # The query needs the table that run's `manage.py migrate` creates:
    # without it the page is a 500 (no such table: readings_reading).
    rows = pd.DataFrame.from_records(Reading.objects.values("id", "value"), columns=["id", "value"])
    total = pd.Series(np.arange(1, 4), dtype="float64").sum()
    return HttpResponse(f"django-pandas {total} rows={len(rows)}", content_type="text/plain")
