import importlib.util

from flask import Flask

application = Flask(__name__)


@application.route("/")
def index():
    colorama = "with colorama" if importlib.util.find_spec("colorama") else "without colorama"
    return f"pipfile-markers {colorama}"
