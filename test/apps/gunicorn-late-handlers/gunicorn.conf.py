# Hooks that hold gunicorn where a TERM used to be lost (TestImagesGunicornStop).
import os
import sys
import time


def on_starting(server):
    # HOLD_ARBITER=N: N seconds before the arbiter sets its signal handlers
    # (a slow start); as PID 1 a TERM then is dropped by the kernel.
    time.sleep(float(os.environ.get("HOLD_ARBITER", "0")))


def post_fork(server, worker):
    # HOLD_WORKER=1: a new worker waits, before it sets its own handlers,
    # until a TERM has reached it there. The arbiter's handler, inherited
    # over fork, queues it in the worker's copy of the arbiter, where nothing
    # reads it: lost (gunicorn issue 1910). A worker scheduled late after
    # its fork on a loaded machine is in the same place.
    if not os.environ.get("HOLD_WORKER"):
        return
    deadline = time.monotonic() + 30
    while not server.SIG_QUEUE and time.monotonic() < deadline:
        time.sleep(0.05)
    if server.SIG_QUEUE:
        print("post_fork: lost %s" % [int(s) for s in server.SIG_QUEUE], file=sys.stderr, flush=True)
