"""Handlers of the orders example: plain Lambda handlers, run locally by stepflow."""

import os

TAX_RATE = float(os.environ.get("TAX_RATE", "0.2"))
_attempts: dict[str, int] = {}  # module state survives between invocations of a warm function


class PaymentGatewayBusy(Exception):
    """A transient failure: the state machine retries it."""


class OutOfStock(Exception):
    """A business failure: the state machine catches it."""


def price(event, context):
    lines = event["lines"]
    subtotal = sum(line["qty"] * line["unit_price"] for line in lines)
    return {"order_id": event["order_id"], "subtotal": subtotal, "total": round(subtotal * (1 + TAX_RATE), 2)}


def charge(event, context):
    order_id = event["order_id"]
    _attempts[order_id] = _attempts.get(order_id, 0) + 1
    if _attempts[order_id] == 1:
        raise PaymentGatewayBusy(f"gateway busy for {order_id}, try again")
    return {"charged": event["total"], "attempts": _attempts[order_id]}


def reserve(event, context):
    if any(line["sku"].startswith("RARE") for line in event["lines"]):
        raise OutOfStock(f"order {event['order_id']}: a rare item is out of stock")
    return {"reserved": len(event["lines"])}
