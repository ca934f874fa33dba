"""The value at a JSON path reads back the same on SQLite, DuckDB and PostgreSQL: an object
or array as a dict or list, a string as a str (even "3"), a number, a bool, JSON null as None."""

from __future__ import annotations

from activeq import ActiveRecord, Database, Field

DOCS = [
    {"a": {"b": 3}, "s": "x", "digits": "3", "flag": True, "nothing": None, "list": [1, "2"]},
    {"a": {"b": 10}, "s": "y", "digits": "10", "flag": False, "list": []},
]


class Doc(ActiveRecord):
    __table_name__ = "json_docs"
    id: int = Field(primary_key=True)
    meta: dict


def test_selected_json_paths_keep_their_json_kinds(database: Database) -> None:
    database.bind(Doc)
    database.create_tables(Doc)
    Doc.insert_many([{"meta": meta} for meta in DOCS])
    m = Doc.c.meta
    rows = (Doc.query()
            .select(m["a"], m["a"]["b"], m["s"], m["digits"], m["flag"], m["nothing"], m["list"],
                    m["missing"])
            .order_by(Doc.c.id).tuples())
    assert rows == [({"b": 3}, 3, "x", "3", True, None, [1, "2"], None),
                    ({"b": 10}, 10, "y", "10", False, None, [], None)]
    assert [type(v) for v in rows[0][:5]] == [dict, int, str, str, bool]
    assert Doc.query().where(m["nothing"].is_null()).order_by(Doc.c.id).pluck(Doc.c.id) == [1, 2]
    assert Doc.query().where(m["digits"] == "3").pluck(Doc.c.id) == [1]
    assert Doc.query().where(m["digits"] == 3).pluck(Doc.c.id) == []
    assert Doc.query().order_by(m["a"]["b"].desc()).pluck(Doc.c.id) == [2, 1]
