"""Analytics: a monthly customer report over the quickstart's shop, in one query.

The question: for every month, who were the three best active customers, how much of that
month's revenue did each bring, and which tier are they in over their whole history?

One statement answers it, built from parts that each have a name:

* ``monthly``  a CTE: each customer's orders and spending per month (GROUP BY an alias);
* ``ranked``   a CTE over ``monthly``: a window ranks customers within each month;
* ``revenue``  a CTE over ``monthly``: each month's revenue;
* ``lifetime`` a derived table: each customer's spending over all time;
* a CASE turns the lifetime spending into a tier;
* users are joined to ``ranked``, ``ranked`` to ``revenue`` and users to ``lifetime``.

The program prints the SQL activeq renders for SQLite, PostgreSQL, MySQL and DuckDB (the
same query, each in its dialect's own words: see how ``date_trunc`` is spelled), then runs it
on SQLite and prints the report.

Run with ``python examples/analytics.py [DB_PATH]``; the data is the quickstart's.
"""

from __future__ import annotations

import os
import sys
import tempfile
from typing import Any

from quickstart import Order, User, seed

from activeq import case, func

DIALECTS = ("sqlite", "postgres", "mysql", "duckdb")


def monthly_report(top: int = 3) -> Any:
    """The report query: the ``top`` active customers of each month, with tier and share."""
    O, U = Order.c, User.c  # noqa: E741, N806 - short names read like table aliases

    monthly = (
        Order.query()
        .select(
            O.user_id,
            func.date_trunc("month", O.created_at).as_("month"),
            func.count().as_("orders"),
            func.sum(O.total).as_("spent"),
        )
        .group_by("user_id", "month")
        .cte("monthly")
    )
    ranked = (
        monthly.query()
        .select(
            monthly.c.month,
            monthly.c.user_id,
            monthly.c.orders,
            monthly.c.spent,
            func.rank()
            .over(partition_by=monthly.c.month, order_by=monthly.c.spent.desc())
            .as_("rank"),
        )
        .cte("ranked")
    )
    revenue = (
        monthly.query()
        .select(monthly.c.month, func.sum(monthly.c.spent).as_("revenue"))
        .group_by("month")
        .cte("revenue")
    )
    lifetime = (
        Order.query()
        .select(O.user_id, func.sum(O.total).as_("total"))
        .group_by("user_id")
        .subquery("lifetime")
    )
    tier = case(
        (lifetime.c.total >= 1500, "gold"),
        (lifetime.c.total >= 800, "silver"),
        else_="bronze",
    )
    return (
        User.query()
        .join(ranked, ranked.c.user_id == U.id)
        .join(revenue, revenue.c.month == ranked.c.month)
        .join(lifetime, lifetime.c.user_id == U.id)
        .select(
            ranked.c.month,
            ranked.c.rank,
            U.name,
            ranked.c.orders,
            ranked.c.spent,
            func.round(ranked.c.spent * 100 / revenue.c.revenue, 2).as_("share"),
            tier.as_("tier"),
        )
        .where(ranked.c.rank <= top, U.status == "active")
        .order_by("month", "rank", U.name)
    )


def main(path: str) -> None:
    db = seed(path)
    report = monthly_report()

    for dialect in DIALECTS:
        sql, params = report.to_sql(dialect)
        print(f"== {dialect}\n{sql}\nparams={params}\n")

    rows = report.all()
    print(f"== the report ({len(rows)} rows, run on SQLite)")
    print(f"{'month':8s} {'#':>2s}  {'customer':10s} {'orders':>6s} {'spent':>9s} "
          f"{'share %':>7s}  tier")
    for row in rows:
        # Rows carry the select list's names: row.month, row.rank, row.spent, row.tier, ...
        print(f"{row.month:%Y-%m}  {row.rank:2d}  {row.name:10s} {row.orders:6d} "
              f"{row.spent:9.2f} {row.share:7.2f}  {row['tier']}")
    db.close()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(tempfile.gettempdir(), "activeq_analytics.db"))
