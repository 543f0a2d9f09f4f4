"""Glue job refresh-load-table: load one table of the nightly export into the staging area.

Reads ``EXPORTS/<TABLE>.csv``, checks and types every row against the table's schema, and
writes the good rows to ``WAREHOUSE/staging/<SNAPSHOT_DT>/<TABLE>.jsonl`` and the rejected ones,
with their reason, to ``<TABLE>.rejected.jsonl``. The run fails (and Step Functions retries it)
when more than MAX_REJECT_PCT percent of the rows are rejected: that is a broken export, not a
few bad rows.

Written as an AWS Glue Python shell job: ``getResolvedOptions`` reads the ``--NAME value``
arguments (the job's DefaultArguments overlaid by the task's Arguments).
"""

import csv
import datetime as dt
import json
import re
import sys
from pathlib import Path

from awsglue.utils import getResolvedOptions

EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}")


def text(value: str) -> str:
    if not value.strip():
        raise ValueError("empty")
    return value.strip()


def email(value: str) -> str:
    if not EMAIL.fullmatch(value.strip()):
        raise ValueError(f"not an email address: {value!r}")
    return value.strip().lower()


def country(value: str) -> str:
    if not re.fullmatch(r"[A-Z]{2}", value):
        raise ValueError(f"not an ISO country code: {value!r}")
    return value


def day(value: str) -> str:
    return dt.date.fromisoformat(value).isoformat()


def timestamp(value: str) -> str:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).isoformat()


def positive_int(value: str) -> int:
    number = int(value)
    if number <= 0:
        raise ValueError(f"not a positive quantity: {value}")
    return number


def money(value: str) -> float:
    amount = round(float(value), 2)
    if amount < 0:
        raise ValueError(f"negative amount: {value}")
    return amount


def currency(value: str) -> str:
    if not re.fullmatch(r"[A-Z]{3}", value):
        raise ValueError(f"not a currency code: {value!r}")
    return value


SCHEMAS = {
    "customers": {"customer_id": text, "name": text, "email": email, "country": country, "signup_date": day},
    "products": {"sku": text, "name": text, "category": text, "unit_price": money, "currency": currency},
    "orders": {"order_id": text, "customer_id": text, "sku": text, "quantity": positive_int,
               "unit_price": money, "currency": currency, "ordered_at": timestamp},
}


def typed(row: dict, schema: dict) -> dict:
    """The row with every column converted; ValueError names the first bad column."""
    out = {}
    for column, convert in schema.items():
        try:
            out[column] = convert(row.get(column) or "")
        except ValueError as err:
            raise ValueError(f"{column}: {err}") from None
    return out


def load(source: Path, schema: dict) -> tuple[list, list]:
    good, rejected = [], []
    with source.open(newline="", encoding="utf-8") as rows:
        for line, row in enumerate(csv.DictReader(rows), start=2):
            try:
                good.append(typed(row, schema))
            except ValueError as err:
                rejected.append({"line": line, "reason": str(err), "row": row})
    return good, rejected


def write_jsonl(path: Path, records: list) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for record in records:
            out.write(json.dumps(record) + "\n")


def main() -> None:
    args = getResolvedOptions(sys.argv, ["JOB_NAME", "JOB_RUN_ID", "TABLE", "EXPORTS", "WAREHOUSE", "SNAPSHOT_DT", "MAX_REJECT_PCT"])
    table = args["TABLE"]
    if table not in SCHEMAS:
        raise SystemExit(f"unknown table {table!r} (known: {', '.join(SCHEMAS)})")
    source = Path(args["EXPORTS"]) / f"{table}.csv"
    staging = Path(args["WAREHOUSE"]) / "staging" / args["SNAPSHOT_DT"]
    print(f"{args['JOB_NAME']} {args['JOB_RUN_ID']}: loading {source} into {staging}")
    good, rejected = load(source, SCHEMAS[table])
    write_jsonl(staging / f"{table}.jsonl", good)
    write_jsonl(staging / f"{table}.rejected.jsonl", rejected)
    for record in rejected:
        print(f"  rejected line {record['line']}: {record['reason']}")
    total = len(good) + len(rejected)
    percent = 100.0 * len(rejected) / total if total else 100.0
    print(f"{table}: {len(good)} rows loaded, {len(rejected)} rejected ({percent:.1f}%)")
    if percent > float(args["MAX_REJECT_PCT"]):
        raise RuntimeError(f"{table}: {percent:.1f}% of the rows rejected, over the {args['MAX_REJECT_PCT']}% limit")


if __name__ == "__main__":
    main()
