#!/bin/sh
# uwsgi, built from its sdist by assemble, serving HTTP itself; TERM ends it
# (uwsgi 2.0 reloads on TERM without --die-on-term).
exec uwsgi --http ":${PORT:-8080}" --master --die-on-term --need-app --wsgi-file wsgi.py
