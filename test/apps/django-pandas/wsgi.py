# run finds wsgi.py in APP_HOME and serves APP_MODULE=wsgi with gunicorn
# (after `manage.py migrate`).
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj.settings")
application = get_wsgi_application()
