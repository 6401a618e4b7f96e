import gc

from fastapi import FastAPI
from fastapi.responses import PlainTextResponse
from gunicorn.workers.base import Worker

app = FastAPI()


def worker_class():
    # The gunicorn worker serving this process: its class is the one
    # GUNICORN_CMD_ARGS's -k named (its package and name).
    for o in gc.get_objects():
        if isinstance(o, Worker):
            return f"{type(o).__module__.split('.')[0]}.{type(o).__qualname__}"
    return "no gunicorn worker"


@app.get("/", response_class=PlainTextResponse)
def index():
    return f"fastapi-uvicorn {worker_class()}"
