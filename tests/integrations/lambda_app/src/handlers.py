"""Handlers for the worker-process tests. Waiting handlers poll files (no timing assumptions)."""

import logging
import os
import signal
import subprocess
import sys
import tempfile
import time

INVOCATIONS = 0  # module-level state: survives while the environment stays warm
print("module imported")


def counter(event, context):
    global INVOCATIONS
    INVOCATIONS += 1
    return {"count": INVOCATIONS, "pid": os.getpid()}


def inspect(event, context):
    names = ["STAGE", "GREETING", "PUNCTUATION", "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_VERSION",
             "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
             "AWS_REGION", "AWS_DEFAULT_REGION", "LAMBDA_TASK_ROOT", "_HANDLER", "TZ", "TMPDIR"]
    first = context.get_remaining_time_in_millis()
    time.sleep(0.05)
    return {
        "env": {name: os.environ.get(name) for name in names},
        "cwd": os.getcwd(),
        "sys_path_0": sys.path[0],
        "context": {
            "function_name": context.function_name, "function_version": context.function_version,
            "invoked_function_arn": context.invoked_function_arn, "memory_limit_in_mb": context.memory_limit_in_mb,
            "aws_request_id": context.aws_request_id, "log_group_name": context.log_group_name,
            "log_stream_name": context.log_stream_name, "identity": repr(type(context.identity)),
            "client_context": context.client_context,
        },
        "remaining": [first, context.get_remaining_time_in_millis()],
        "local_hour_is_utc": time.localtime().tm_hour == time.gmtime().tm_hour,
    }


def _wait_for(predicate, limit=30.0):
    give_up = time.monotonic() + limit
    while not predicate() and time.monotonic() < give_up:
        time.sleep(0.01)


def rendezvous(event, context):
    """Meet ``event['parties']`` invocations (so they must run in separate environments)."""
    folder = event["folder"]
    open(os.path.join(folder, context.aws_request_id), "w").close()
    _wait_for(lambda: len(os.listdir(folder)) >= event["parties"])
    private = tempfile.mkstemp(prefix="mine-")[1]
    return {"pid": os.getpid(), "tmpdir": tempfile.gettempdir(), "private_file": private,
            "sees": sorted(os.listdir(tempfile.gettempdir()))}


def hold(event, context):
    """Mark itself running until ``release`` appears; report how many were running at most."""
    running = os.path.join(event["folder"], "running")
    marker = os.path.join(running, context.aws_request_id)
    open(marker, "w").close()
    peak = 0

    def released():
        nonlocal peak
        peak = max(peak, len(os.listdir(running)))
        return os.path.exists(os.path.join(event["folder"], "release"))

    _wait_for(released)
    os.remove(marker)
    return {"pid": os.getpid(), "peak": peak}


def spawn_and_sleep(event, context):
    """Start a child in our process group and one in its own session, then outlive the Timeout."""
    child = subprocess.Popen(["sleep", "300"])
    escaped = subprocess.Popen(["sleep", "300"], start_new_session=True)
    with open(event["pids_file"], "w") as out:
        out.write(f"{os.getpid()} {child.pid} {escaped.pid}")
    time.sleep(60)
    return "never"


def boom(event, context):
    raise ValueError(f"bad order {event['order']}")


class CustomError(Exception):
    def __init__(self):
        self.message = "CustomError message"


def custom(event, context):
    raise CustomError()


def crash(event, context):
    os._exit(3)


def segfault(event, context):
    os.kill(os.getpid(), signal.SIGSEGV)


def unmarshalable(event, context):
    return {"when": {1, 2}}


def raw_bytes(event, context):
    return b'"already JSON"'


def chatty(event, context):
    print(f"print {event['tag']}")
    print(f"stderr {event['tag']}", file=sys.stderr)
    logging.getLogger().warning("logged %s", event["tag"])
    return event["tag"]
