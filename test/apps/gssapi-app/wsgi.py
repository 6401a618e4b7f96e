from importlib.metadata import version

import gssapi.raw

body = f"gssapi-app {version('gssapi')}".encode()


def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
