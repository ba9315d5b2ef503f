"""Drives Delta's official Python client (delta-rest-client) against the local server.

Usage: official_client.py BASE_URL API_KEY API_SECRET
Prints one line per check and exits non-zero on the first failure.
"""
import sys

from delta_rest_client import DeltaRestClient, OrderType


def check(name, ok, detail=""):
    print(("ok   " if ok else "FAIL ") + name + (": " + str(detail) if detail else ""))
    if not ok:
        sys.exit(1)


def main():
    url, key, secret = sys.argv[1:4]
    c = DeltaRestClient(base_url=url, api_key=key, api_secret=secret)

    products = c.get_products(query={"contract_types": "call_options,put_options", "states": "live"})
    check("get_products", len(products) > 0, len(products))
    p = products[0]
    check("get_product", c.get_product(p["symbol"])["id"] == p["id"])

    t = c.get_ticker(p["symbol"])
    check("get_ticker", t["symbol"] == p["symbol"] and "greeks" in t, t.get("mark_price"))
    tickers = c.get_tickers(query={"contract_types": "call_options,put_options", "underlying_asset_symbols": "BTC"})
    check("get_tickers", len(tickers) > 0, len(tickers))
    d = p["settlement_time"][:10].split("-")
    chain = c.option_chain("BTC", f"{d[2]}-{d[1]}-{d[0]}")
    check("option_chain", len(chain) > 0 and all(x["symbol"].endswith(d[2] + d[1] + d[0][2:]) for x in chain), len(chain))
    book = c.get_l2_orderbook(p["symbol"])
    check("get_l2_orderbook", "buy" in book and "sell" in book)

    o = c.place_order(product_id=p["id"], size=1, side="sell", limit_price="999999",
                      order_type=OrderType.LIMIT, client_order_id="py-check-1")
    check("place_order", o["state"] == "open" and o["client_order_id"] == "py-check-1", o["id"])
    check("get_order_by_id", c.get_order_by_id(o["id"])["id"] == o["id"])
    check("get_order_by_client_id", c.get_order_by_client_id("py-check-1")["id"] == o["id"])
    live = c.get_live_orders(query={"product_ids": p["id"], "states": "open,pending"})
    check("get_live_orders", any(x["id"] == o["id"] for x in live), len(live))
    cancelled = c.cancel_order(p["id"], o["id"])
    check("cancel_order", cancelled["state"] == "cancelled")

    bal = c.get_balances(14)
    check("get_balances", bal is not None and float(bal["balance"]) > 0, bal and bal["balance"])
    pos = c.get_position(p["id"])
    check("get_position", int(pos["size"]) == 0, pos)
    print("all checks passed")


if __name__ == "__main__":
    main()
