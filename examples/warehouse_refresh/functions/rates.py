"""refresh-store-rates: write the snapshot's exchange rates (units per US dollar) to staging.

``source: "api"`` stores the rates the HTTP Task fetched; ``source: "previous"`` (the API is
down or not configured) keeps those of the last published snapshot, or built-in ones on the
very first run. Returns ``{source, as_of, currencies}``.
"""

import datetime as dt
import json

import warehouse

BUILT_IN = {"USD": 1.0, "EUR": 0.92, "GBP": 0.79}


def store(event, context):
    snapshot = event["snapshot_date"]
    if event.get("source") == "api":
        rates = {"source": "api", "as_of": event.get("as_of") or snapshot, "rates": event["rates"]}
    else:
        rates = _previous()
    rates["rates"] = {code: float(value) for code, value in rates["rates"].items()}
    target = warehouse.staging(snapshot) / "rates.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(rates, indent=2), encoding="utf-8")
    print(f"rates for {snapshot} from {rates['source']} (as of {rates['as_of']}): {rates['rates']}")
    return {"source": rates["source"], "as_of": rates["as_of"], "currencies": sorted(rates["rates"])}


def _previous() -> dict:
    published = warehouse.current() / "rates.json"
    if published.is_file():
        previous = json.loads(published.read_text(encoding="utf-8"))
        return {"source": "previous", "as_of": previous["as_of"], "rates": previous["rates"]}
    return {"source": "built-in", "as_of": dt.date.today().isoformat(), "rates": dict(BUILT_IN)}
