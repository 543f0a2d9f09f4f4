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
import subprocess
import sys
from pathlib import Path

from stepflow.testing import serve

ROOT = Path(__file__).resolve().parents[1]


def corpus_dir() -> Path:
    candidates = [os.environ.get("STEPFLOW_CONFORMANCE"), ROOT.parent / "shared" / "conformance"]
    for candidate in candidates:
        if candidate and (Path(candidate) / "run.py").exists():
            return Path(candidate)
    sys.exit("conformance corpus not found: set STEPFLOW_CONFORMANCE to the folder holding run.py and cases.json")


def main() -> None:
    corpus = corpus_dir()
    out = ROOT / ".stepflow" / "conformance"
    out.mkdir(parents=True, exist_ok=True)
    log = out / "serve.log"
    log.write_text("")
    with serve("--template", str(corpus / "lambdas" / "template.yaml"), log=log) as server:
        env = dict(os.environ, AWS_DISABLE_HOST_PREFIX_INJECTION="true")
        runs = [
            ("pure", []),
            ("lambda", ["--allow", "lambda", "--lambda-mode", "template"]),
        ]
        for label, extra in runs:
            print(f"\n=== {label} cases ===", flush=True)
            subprocess.run([sys.executable, str(corpus / "run.py"), "--endpoint", server.endpoint, "-j", "8",
                            "--report", str(out / f"report-{label}.json"), *extra], env=env, check=False)


if __name__ == "__main__":
    main()
