"""`make conformance`: run the AWS-recorded conformance corpus against a fresh `stepflow serve`.

The corpus and its harness live outside this repository (``../shared/conformance`` next to a
checkout, or the folder named by ``STEPFLOW_CONFORMANCE``). Runs the pure ASL cases and the
Lambda cases (functions from the corpus's own SAM template, run locally), prints the harness's
per-area tables and writes the reports next to this file's run folder (.stepflow/conformance).

boto3 calls StartSyncExecution at ``sync-<host>``, which cannot resolve for 127.0.0.1; the
documented botocore setting ``AWS_DISABLE_HOST_PREFIX_INJECTION=true`` turns that off, as any
client of a local Step Functions endpoint must.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def corpus_dir() -> Path:
    candidates = [os.environ.get("STEPFLOW_CONFORMANCE"), ROOT.parent / "shared" / "conformance"]
    for candidate in candidates:
        if candidate and (Path(candidate) / "run.py").exists():
            return Path(candidate)
    sys.exit("conformance corpus not found: set STEPFLOW_CONFORMANCE to the folder holding run.py and cases.json")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> None:
    corpus = corpus_dir()
    out = ROOT / ".stepflow" / "conformance"
    out.mkdir(parents=True, exist_ok=True)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "stepflow", "serve", "--port", str(port), "--store", "memory://",
         "--template", str(corpus / "lambdas" / "template.yaml")],
        stderr=open(out / "serve.log", "w"),
    )
    try:
        _wait_for(port)
        env = dict(os.environ, AWS_DISABLE_HOST_PREFIX_INJECTION="true")
        endpoint = f"http://127.0.0.1:{port}"
        runs = [
            ("pure", []),
            ("lambda", ["--allow", "lambda", "--lambda-mode", "template"]),
        ]
        for label, extra in runs:
            print(f"\n=== {label} cases ===", flush=True)
            subprocess.run([sys.executable, str(corpus / "run.py"), "--endpoint", endpoint, "-j", "8",
                            "--report", str(out / f"report-{label}.json"), *extra], env=env, check=False)
    finally:
        server.terminate()
        server.wait()


def _wait_for(port: int) -> None:
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    sys.exit("stepflow serve did not start")


if __name__ == "__main__":
    main()
