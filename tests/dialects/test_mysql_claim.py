"""The MySQL claim (MySQL 8 only, not MariaDB) matches what is rendered, and DDL MySQL 8 accepts."""

from __future__ import annotations

from pathlib import Path

import pytest
from activeq.dialects import get as get_dialect

from activeq import ActiveRecord, Field, UnsupportedError
from activeq.constraints import TableIndex
from activeq.ddl import create_index_statement, create_table_statements

DOCS = Path(__file__).resolve().parents[2] / "docs"


class Parcel(ActiveRecord):
    __table_name__ = "parcels"
    __indexes__ = (("carrier", "weight"),)
    id: int = Field(primary_key=True)
    carrier: str = Field(index=True)
    weight: int


def test_is_in_renders_member_of_with_one_json_array():
    sql, params = Parcel.query().select("id").where(Parcel.c.weight.is_in([3, 5])).to_sql("mysql")
    assert sql == "SELECT `parcels`.`id` FROM `parcels` WHERE `parcels`.`weight` MEMBER OF(%s)"
    assert params == ["[3, 5]"]


def test_docs_claim_mysql_8_only_and_name_member_of():
    text = (DOCS / "mysql.md").read_text()
    assert "targets MySQL 8.0.17 or later. MariaDB is not supported." in text
    assert "MEMBER OF(%s)" in text
    assert "[mysql.md](mysql.md)" in (DOCS / "engine-differences.md").read_text()
    assert get_dialect("mysql").__doc__.startswith("MySQL 8.0.17 or later")


def test_create_tables_on_mysql_declares_indexes_inside_create_table():
    assert create_table_statements(Parcel, "mysql") == [
        "CREATE TABLE IF NOT EXISTS `parcels` (`id` BIGINT AUTO_INCREMENT PRIMARY KEY, "
        "`carrier` TEXT NOT NULL, `weight` BIGINT NOT NULL, "
        "INDEX `idx_parcels_carrier` (`carrier`), "
        "INDEX `idx_parcels_carrier_weight` (`carrier`, `weight`))"
    ]


def test_create_tables_on_mysql_without_if_not_exists_keeps_create_index():
    assert create_table_statements(Parcel, "mysql", if_not_exists=False)[1:] == [
        "CREATE INDEX `idx_parcels_carrier` ON `parcels`(`carrier`)",
        "CREATE INDEX `idx_parcels_carrier_weight` ON `parcels`(`carrier`, `weight`)",
    ]


def test_create_index_if_not_exists_is_refused_on_mysql_and_kept_elsewhere():
    index = TableIndex("idx_parcels_weight", ("weight",), False)
    with pytest.raises(UnsupportedError, match="CREATE INDEX IF NOT EXISTS") as caught:
        create_index_statement("parcels", index, "mysql")
    assert "mysql" in str(caught.value)
    assert create_index_statement("parcels", index, "postgres") == (
        'CREATE INDEX IF NOT EXISTS "idx_parcels_weight" ON "parcels"("weight")')
