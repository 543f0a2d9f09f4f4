"""refresh-quality-gate: the data-quality check between building and publishing.

Invoked by a ``.waitForTaskToken`` task: it checks the staged snapshot and answers Step Functions
itself with SendTaskSuccess (the metrics) or SendTaskFailure (``QualityCheckFailed``), through
boto3 exactly as in AWS (stepflow points the client at itself with AWS_ENDPOINT_URL_SFN). Rules: every table
has rows, at most MAX_REJECTED_PERCENT percent of a table's rows were rejected at load, every
report has rows, and revenue is not negative.
"""

import json
import os
import sqlite3

import boto3

import warehouse

sfn = boto3.client("stepfunctions")  # reused while warm


def gate(event, context):
    metrics, problems = _check(event)
    token = event["task_token"]
    if problems:
        print(f"quality gate FAILED for {event['snapshot_date']}: {problems}")
        sfn.send_task_failure(taskToken=token, error="QualityCheckFailed", cause="; ".join(problems))
    else:
        print(f"quality gate passed for {event['snapshot_date']}: {metrics}")
        sfn.send_task_success(taskToken=token, output=json.dumps({"passed": True, "metrics": metrics}))
    return {"answered": True}


def _check(event) -> tuple[dict, list]:
    limit = float(os.environ.get("MAX_REJECTED_PERCENT", "10"))
    db = sqlite3.connect(f"file:{warehouse.staging(event['snapshot_date']) / 'warehouse.db'}?mode=ro", uri=True)
    try:
        audit = {row[0]: row[1:] for row in db.execute("SELECT tbl, loaded, rejected, orphans FROM load_audit")}
        revenue = db.execute("SELECT coalesce(sum(amount_usd), 0) FROM fact_orders").fetchone()[0]
    finally:
        db.close()
    problems, metrics = [], {"revenue_usd": round(revenue, 2)}
    for table in event["tables"]:
        loaded, rejected, orphans = audit.get(table, (0, 0, 0))
        metrics[f"{table}_rows"] = loaded
        metrics[f"{table}_rejected"] = rejected + orphans
        if loaded == 0:
            problems.append(f"{table} is empty")
        elif 100.0 * (rejected + orphans) / (loaded + rejected) > limit:
            problems.append(f"{table}: {rejected + orphans} of {loaded + rejected} rows rejected (limit {limit}%)")
    problems += [f"report {r['report']} is empty" for r in event["reports"] if not r["rows"]]
    if revenue < 0:
        problems.append(f"negative revenue {revenue}")
    return metrics, problems
