"""Helpers for running the pipeline through stepflow in tests: database URLs, a Runtime on this
folder's SAM template with a durable SQLite store, executions awaited, histories read."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from urllib.parse import quote

PIPELINE = Path(__file__).resolve().parents[3] / "pipelines" / "conflicts"
TEMPLATE = PIPELINE / "template.yaml"
PHASE2 = "cm-etl-pipeline-phase2"


def database_url(server_url: str, dbname: str, user: str | None = None, password: str | None = None) -> str:
    """A ``postgresql://`` URI for ``dbname`` on the server of ``server_url`` (socket or TCP)."""
    from psycopg.conninfo import conninfo_to_dict

    parts = conninfo_to_dict(server_url)
    user = user or parts.get("user") or "postgres"
    auth = quote(user, safe="") + (":" + quote(password, safe="") if password else "")
    host, port = str(parts.get("host") or ""), parts.get("port")
    query = {k: v for k, v in parts.items() if k not in ("user", "password", "dbname", "host", "port")}
    if host.startswith("/") or not host:
        netloc = ""
        if host:
            query["host"] = host
        if port:
            query["port"] = port
    else:
        netloc = host + (f":{port}" if port else "")
    text = "&".join(f"{k}={quote(str(v), safe='/')}" for k, v in query.items())
    return f"postgresql://{auth}@{netloc}/{quote(dbname, safe='')}" + (f"?{text}" if text else "")


class Pipeline:
    """A Runtime for the pipeline's template (SQLite store, Lambda logs and SNS messages under
    tmp_path) driven from synchronous tests on one event loop of its own (stepflow's runner
    belongs to the loop it first ran on)."""

    def __init__(self, tmp_path: Path, dsn: str | None, lambda_mode: str = "process", time_scale: float = 1.0,
                 **parameters):
        from stepflow.runtime import Runtime, Settings

        overrides = {k: str(v) for k, v in parameters.items()}
        if dsn is not None:
            overrides["PostgresDsn"] = dsn
        self.store_url = f"sqlite:///{tmp_path}/stepflow.db"
        self.logs_dir = tmp_path / "lambda-logs"
        self.rt = Runtime(Settings(store_url=self.store_url, template=str(TEMPLATE), parameter_overrides=overrides,
                                   lambda_mode=lambda_mode, lambda_logs_dir=str(self.logs_dir),
                                   messages_sink=str(tmp_path / "messages.jsonl"), time_scale=time_scale))
        self.loop = asyncio.new_event_loop()

    def __enter__(self) -> "Pipeline":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.rt.close()
        self.loop.close()

    def machine_arn(self, name: str = PHASE2) -> str:
        return next(arn for arn in self.rt.register_project_state_machines() if arn.endswith(":" + name))

    def execute(self, payload: dict, name: str = PHASE2) -> dict:
        """Start an execution of ``name`` and return DescribeExecution once it ended."""
        async def go():
            arn = self.rt.service.start_execution(stateMachineArn=self.machine_arn(name),
                                                  input=json.dumps(payload))["executionArn"]
            return await self._wait(arn)

        return self.loop.run_until_complete(go())

    def redrive(self, execution_arn: str) -> dict:
        async def go():
            self.rt.service.redrive_execution(executionArn=execution_arn)
            return await self._wait(execution_arn)

        return self.loop.run_until_complete(go())

    async def _wait(self, execution_arn: str) -> dict:
        exe = self.rt.runner.active.get(execution_arn)
        if exe is not None and not exe.finished:
            await self.rt.runner.wait(execution_arn)
        return self.rt.service.describe_execution(executionArn=execution_arn)

    def history(self, execution_arn: str) -> list[dict]:
        return history(self.rt, execution_arn)


def history(rt, execution_arn: str) -> list[dict]:
    """Every history event of the execution (all pages)."""
    events, token = [], None
    while True:
        page = rt.service.get_execution_history(executionArn=execution_arn, maxResults=1000,
                                                **({"nextToken": token} if token else {}))
        events += page["events"]
        token = page.get("nextToken")
        if not token:
            return events


def lambda_inputs(events: list[dict], action: str) -> list[dict]:
    """The payloads of the Lambda task invocations of ``action``, in history order."""
    out = []
    for event in events:
        details = event.get("taskScheduledEventDetails") or event.get("lambdaFunctionScheduledEventDetails")
        if details and '"action"' in details.get("parameters", details.get("input", "")):
            payload = json.loads(details.get("parameters") or details.get("input"))
            payload = payload.get("Payload", payload)
            if payload.get("action") == action:
                out.append(payload)
    return out
