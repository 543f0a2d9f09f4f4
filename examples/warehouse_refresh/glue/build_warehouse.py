"""Glue job refresh-build-warehouse: combine the staged tables and exchange rates of one
snapshot into ``WAREHOUSE/staging/<SNAPSHOT_DT>/warehouse.db`` (SQLite).

Tables: customers, products, orders, rates, and ``fact_orders`` (one row per order with the
customer's country, the product's category and the amount in USD). Orders whose customer or
product was not loaded are left out of ``fact_orders`` and counted in ``load_audit``. The job is
idempotent: it rebuilds the database from scratch.
"""

import json
import sqlite3
import sys
from pathlib import Path

from awsglue.utils import getResolvedOptions

DDL = """
CREATE TABLE customers (customer_id TEXT PRIMARY KEY, name TEXT, email TEXT, country TEXT, signup_date TEXT);
CREATE TABLE products (sku TEXT PRIMARY KEY, name TEXT, category TEXT, unit_price REAL, currency TEXT);
CREATE TABLE orders (order_id TEXT PRIMARY KEY, customer_id TEXT, sku TEXT, quantity INTEGER,
                     unit_price REAL, currency TEXT, ordered_at TEXT);
CREATE TABLE rates (currency TEXT PRIMARY KEY, per_usd REAL);
CREATE TABLE load_audit (tbl TEXT PRIMARY KEY, loaded INTEGER, rejected INTEGER, orphans INTEGER);
"""

FACT = """
CREATE TABLE fact_orders AS
SELECT o.order_id, date(o.ordered_at) AS order_day, o.customer_id, c.country, o.sku, p.name AS product,
       p.category, o.quantity, round(o.quantity * o.unit_price / r.per_usd, 2) AS amount_usd
FROM orders o
JOIN customers c ON c.customer_id = o.customer_id
JOIN products p ON p.sku = o.sku
JOIN rates r ON r.currency = o.currency
"""


def read_jsonl(path: Path) -> list:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def insert(db: sqlite3.Connection, table: str, rows: list) -> None:
    if not rows:
        return
    columns = list(rows[0])
    marks = ", ".join("?" for _ in columns)
    db.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
                   [tuple(row[c] for c in columns) for row in rows])


def build(staging: Path) -> dict:
    target = staging / "warehouse.db"
    target.unlink(missing_ok=True)
    rates = json.loads((staging / "rates.json").read_text(encoding="utf-8"))
    with sqlite3.connect(target) as db:
        db.executescript(DDL)
        for table in ("customers", "products", "orders"):
            insert(db, table, read_jsonl(staging / f"{table}.jsonl"))
        insert(db, "rates", [{"currency": k, "per_usd": v} for k, v in rates["rates"].items()])
        db.execute(FACT)
        orphans = db.execute("SELECT count(*) FROM orders").fetchone()[0] - db.execute("SELECT count(*) FROM fact_orders").fetchone()[0]
        counts = {}
        for table in ("customers", "products", "orders"):
            loaded = db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            rejected = len(read_jsonl(staging / f"{table}.rejected.jsonl"))
            db.execute("INSERT INTO load_audit VALUES (?, ?, ?, ?)", (table, loaded, rejected, orphans if table == "orders" else 0))
            counts[table] = loaded
    return {"tables": counts, "orphan_orders": orphans, "rates_source": rates.get("source")}


def main() -> None:
    args = getResolvedOptions(sys.argv, ["JOB_NAME", "WAREHOUSE", "SNAPSHOT_DT"])
    staging = Path(args["WAREHOUSE"]) / "staging" / args["SNAPSHOT_DT"]
    print(f"{args['JOB_NAME']}: building {staging / 'warehouse.db'}")
    summary = build(staging)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
