from django.db.migrations.recorder import MigrationRecorder
from django.http import HttpResponse
from django.urls import path


def index(request):
    # run's `manage.py migrate` applied contenttypes' migrations at start.
    migrated = MigrationRecorder.Migration.objects.filter(app="contenttypes").exists()
    return HttpResponse("django-app" if migrated else "django-app: not migrated", content_type="text/plain")


urlpatterns = [path("", index)]
