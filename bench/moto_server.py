"""moto's own HTTP server with its Step Functions interpreter on, for run_bench.py's lean-client row.

    .venv/bin/python bench/moto_server.py PORT

It runs moto's ``ThreadedMotoServer`` (werkzeug, a thread per connection, HTTP/1.1 keep-alive)
on 127.0.0.1:PORT with ``stepfunctions.execute_state_machine`` set in moto's user config (what
``mock_aws(config=...)`` sets in-process), and exits when its parent process does, so a killed
benchmark leaves nothing running. moto routes an unsigned JSON 1.0 request by its credential
scope, so the lean client sends a SigV4-shaped ``Authorization`` header (moto does not check the
signature; ``stepflow serve`` without ``--auth`` ignores the header).
"""

from __future__ import annotations

import logging
import os
import sys
import time


def serve(port: int) -> None:
    for name in ("moto", "werkzeug"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    from moto.core.config import default_user_config
    from moto.server import ThreadedMotoServer

    default_user_config["stepfunctions"] = {"execute_state_machine": True}
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    parent = os.getppid()
    try:
        while os.getppid() == parent:
            time.sleep(0.5)
    finally:
        server.stop()


if __name__ == "__main__":
    serve(int(sys.argv[1]))
