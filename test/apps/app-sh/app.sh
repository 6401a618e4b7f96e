#!/bin/sh
# Serve this app's name from a directory, with the venv's python.
mkdir -p /tmp/www && printf 'app-sh' > /tmp/www/index.html
exec python -m http.server --directory /tmp/www "${PORT:-8080}"
