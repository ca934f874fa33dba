"""N+1 detection: loops of lazy loads and of explicit queries, scoped and Database-wide."""

from __future__ import annotations

import logging
import warnings

import pytest
from helpers import Order, User

from activeq import Database
from activeq.nplusone import NPlusOneError, NPlusOneWarning

ORDERS_SQL = ('SELECT "orders"."id", "orders"."user_id", "orders"."total", "orders"."note" '
              'FROM "orders" WHERE "orders"."user_id" = ?')


@pytest.fixture
def shop(db):
    for i in range(5):
        user = User.create(name=f"u{i}", email=f"u{i}@x.org")
        Order.create(user_id=user.id, total=float(i))
    return db


def _line(marker: str) -> int:
    """The line of this file carrying ``marker`` in a comment."""
    with open(__file__) as f:
        for n, text in enumerate(f, 1):
            if text.rstrip().endswith(f"# {marker}"):
                return n
    raise AssertionError(marker)


def test_lazy_load_loop_warns_with_shape_count_location_and_advice(shop):
    with pytest.warns(NPlusOneWarning) as caught:
        with shop.detect_n_plus_one(mode="warn") as detector:
            totals = [u.orders[0].total for u in User.query().all()]  # lazy-loop
    assert totals == [0.0, 1.0, 2.0, 3.0, 4.0]
    (report,) = detector.reports
    assert report.sql == ORDERS_SQL
    assert report.count == 5
    assert (report.filename, report.lineno) == (__file__, _line("lazy-loop"))
    assert report.function == "<listcomp>" or report.function.startswith("test_lazy_load")
    assert "User.query().includes('orders')" in report.suggestion
    (warning,) = caught
    assert warning.filename == __file__ and warning.lineno == _line("lazy-loop")
    assert "the same query ran 5 times" in str(warning.message)
    assert ORDERS_SQL in str(warning.message)


def test_includes_stays_silent(shop):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with shop.track_queries() as t, shop.detect_n_plus_one(mode="raise") as detector:
            totals = [u.orders[0].total for u in User.query().includes("orders").all()]
    assert totals == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert len(t) == 2
    assert detector.reports == []


def test_explicit_query_loop_raises_at_the_query_past_the_threshold(shop):
    users = User.query().order_by(User.c.id).all()
    ran = []
    with shop.track_queries() as t:
        with pytest.raises(NPlusOneError) as info:
            with shop.detect_n_plus_one(mode="raise", threshold=2):
                for user in users:
                    ran.append(Order.query().where(Order.c.user_id == user.id).all())  # loop
    assert len(t) == 3 and len(ran) == 2
    report = info.value.report
    assert (report.count, report.lineno) == (3, _line("loop"))
    assert "Order.query().includes" not in report.suggestion
    assert "User.query().includes('orders')" in report.suggestion
    assert str(info.value).startswith("N+1 queries: the same query ran 3 times from ")


def test_log_mode_logs_final_counts_at_scope_exit(shop, caplog):
    caplog.set_level(logging.WARNING, logger="activeq.nplusone")
    with shop.detect_n_plus_one(mode="log"):
        for i in range(1, 6):
            shop.execute("SELECT total FROM orders WHERE user_id = ?", (i,))  # raw-loop
        assert caplog.records == []
    (record,) = caplog.records
    assert record.name == "activeq.nplusone"
    assert record.levelno == logging.WARNING
    message = record.getMessage()
    assert f"ran 5 times from {__file__}:{_line('raw-loop')}" in message
    assert "SELECT total FROM orders WHERE user_id = ?" in message


def test_threshold_is_respected(shop):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with shop.detect_n_plus_one(mode="raise", threshold=5) as detector:
            for user in User.query().all():
                user.orders  # noqa: B018 - exactly 5 loads from one line: allowed
        assert detector.reports == []
    with pytest.raises(NPlusOneError):
        with shop.detect_n_plus_one(mode="raise", threshold=4):
            for user in User.query().all():
                user.orders  # noqa: B018


def test_same_query_from_different_lines_is_not_a_loop(shop):
    with shop.detect_n_plus_one(mode="raise", threshold=1) as detector:
        User.find_by_id(1)
        User.find_by_id(2)
    assert detector.reports == []


def _orders_of(user_id: int) -> list[Order]:
    return Order.query().where(Order.c.user_id == user_id).all()


def test_helper_called_in_a_loop_is_reported_at_the_loop(shop):
    with pytest.raises(NPlusOneError) as info:
        with shop.detect_n_plus_one(mode="raise"):
            for user in User.query().all():
                _orders_of(user.id)  # helper-loop
    assert info.value.report.lineno == _line("helper-loop")
    assert info.value.report.function == "test_helper_called_in_a_loop_is_reported_at_the_loop"


def test_a_function_called_again_later_is_not_a_loop(shop):
    def handler(user_id: int) -> None:
        _orders_of(user_id)

    with shop.detect_n_plus_one(mode="raise", threshold=1) as detector:
        handler(1)
        handler(2)
    assert detector.reports == []


def test_database_wide_setting_warns_as_soon_as_the_threshold_passes(tmp_path):
    db = Database(str(tmp_path / "wide.db"), n_plus_one="warn")
    db.bind(User, Order)
    db.create_tables(User, Order)
    for i in range(4):
        User.create(name=f"u{i}", email=f"u{i}@x.org")
    with pytest.warns(NPlusOneWarning, match="ran 3 times") as caught:
        for user in User.query().all():
            user.orders  # noqa: B018  # wide-loop
    assert len(caught) == 1
    assert caught[0].lineno == _line("wide-loop")
    assert [r.count for r in db.n_plus_one.reports] == [4]
    db.n_plus_one.stop()
    db.close()


def test_bad_arguments_are_refused(db):
    with pytest.raises(ValueError, match="unknown N\\+1 mode 'loud'"):
        db.detect_n_plus_one(mode="loud")
    with pytest.raises(ValueError, match="positive integer"):
        db.detect_n_plus_one(threshold=0)
