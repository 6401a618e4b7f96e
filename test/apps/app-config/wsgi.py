import os


def application(environ, start_response):
    # Set by raw_env in the gunicorn config file that APP_CONFIG names.
    body = os.environ.get("APP_CONFIG_BODY", "APP_CONFIG not read").encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
