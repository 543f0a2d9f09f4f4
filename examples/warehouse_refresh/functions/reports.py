"""refresh-build-report: one report of the snapshot, from the staged warehouse database.

Event ``{report, snapshot_date}``; writes ``staging/<snapshot>/reports/<report>.json`` and
returns ``{report, rows, file, total_usd}``. The SQL is read once per execution environment:
a warm environment reuses it (``loaded_in_this_environment`` counts the reports it built).
"""

import json
import sqlite3

import warehouse

REPORTS = {
    "daily_revenue": "SELECT order_day AS day, count(*) AS orders, round(sum(amount_usd), 2) AS revenue_usd "
                     "FROM fact_orders GROUP BY order_day ORDER BY order_day",
    "top_products": "SELECT product, category, sum(quantity) AS units, round(sum(amount_usd), 2) AS revenue_usd "
                    "FROM fact_orders GROUP BY product, category ORDER BY revenue_usd DESC LIMIT 5",
    "revenue_by_country": "SELECT country, count(DISTINCT customer_id) AS customers, round(sum(amount_usd), 2) AS revenue_usd "
                          "FROM fact_orders GROUP BY country ORDER BY revenue_usd DESC",
}
built_in_this_environment = 0  # module state survives between invocations of a warm environment


def build(event, context):
    global built_in_this_environment
    name, snapshot = event["report"], event["snapshot_date"]
    if name not in REPORTS:
        raise ValueError(f"unknown report {name!r}; known: {', '.join(REPORTS)}")
    staging = warehouse.staging(snapshot)
    db = sqlite3.connect(f"file:{staging / 'warehouse.db'}?mode=ro", uri=True)
    try:
        db.row_factory = sqlite3.Row
        rows = [dict(row) for row in db.execute(REPORTS[name])]
    finally:
        db.close()
    target = staging / "reports" / f"{name}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps({"report": name, "snapshot_date": snapshot, "rows": rows}, indent=2), encoding="utf-8")
    built_in_this_environment += 1
    total = round(sum(row.get("revenue_usd") or 0 for row in rows), 2)
    print(f"{name}: {len(rows)} rows, {total} USD ({built_in_this_environment} reports built by this environment, "
          f"{context.get_remaining_time_in_millis()} ms left)")
    return {"report": name, "rows": len(rows), "file": str(target), "total_usd": total}
