"""Drives ccxt's Delta exchange class (an independent client, from PyPI) against the local
server: it loads the markets from the full product schema (assets, underlying and quoting
assets), reads a ticker and the balance, places, edits and cancels an order, sells at the bid
and reads the wallet's ledger.

Usage: ccxt_client.py BASE_URL API_KEY API_SECRET
Prints one line per check and exits non-zero on the first failure.
"""
import sys

import ccxt


def check(name, ok, detail=""):
    print(("ok   " if ok else "FAIL ") + name + (": " + str(detail) if detail else ""))
    if not ok:
        sys.exit(1)


def main():
    url, key, secret = sys.argv[1:4]
    ex = ccxt.delta({"apiKey": key, "secret": secret, "enableRateLimit": False})
    ex.urls["api"] = {"public": url, "private": url}

    markets = ex.load_markets()
    options = sorted(s for s, m in markets.items() if m.get("option"))
    check("load_markets", len(options) > 0, f"{len(options)} options")
    m = markets[options[0]]
    check("market fields", m["strike"] is not None and m["expiry"] is not None and m["settle"] == "USD", m["id"])

    t = ex.fetch_ticker(options[0])
    check("fetch_ticker", t["symbol"] == options[0] and t["ask"] is not None, (t["bid"], t["ask"]))

    b = ex.fetch_balance()
    check("fetch_balance", b["USD"]["total"] > 0, b["USD"])

    # A sell far above the market rests; then it is cancelled.
    o = ex.create_order(options[0], "limit", "sell", 1, 1_000_000, {"client_order_id": "ccxt-1"})
    check("create_order", o["status"] == "open", (o["id"], o["status"]))
    e = ex.edit_order(o["id"], options[0], "limit", "sell", 1, 900_000)
    check("edit_order", e["id"] == o["id"] and e["price"] == 900_000, (e["id"], e["price"]))
    c = ex.cancel_order(o["id"], options[0])
    check("cancel_order", c["status"] == "canceled", c["status"])

    # A sale at the bid fills; the wallet's ledger then shows its cash and its fee.
    bid_symbol = next(s for s in options if (ex.fetch_ticker(s)["bid"] or 0) > 0)
    bid = ex.fetch_ticker(bid_symbol)["bid"]
    f = ex.create_order(bid_symbol, "limit", "sell", 1, bid, {"client_order_id": "ccxt-2"})
    check("create_order at the bid", f["status"] == "closed", f["status"])
    ledger = ex.fetch_ledger("USD")
    kinds = sorted({row["type"] for row in ledger})
    check("fetch_ledger", len(ledger) >= 2 and "cashflow" in kinds, kinds)
    print("all checks passed")


if __name__ == "__main__":
    main()
