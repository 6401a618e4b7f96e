def application(environ, start_response):
    body = b"pyproject-src"
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
