# No bind: gunicorn takes 0.0.0.0:$PORT, which run exports.
workers = 1
raw_env = ["APP_CONFIG_BODY=app-config"]
