from importlib.metadata import version

body = f"scm-git {version('scmapp')}".encode()


def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
