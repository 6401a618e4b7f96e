def application(environ, start_response):
    body = b"hatchling-app"
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
