def application(environ, start_response):
    body = b"mod-wsgi-49"
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
