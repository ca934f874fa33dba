"""One error root: bad input raises an ActiveqError (also the builtin type code may catch), and
nothing is written."""

from __future__ import annotations

import pytest
from helpers import Order, User

from activeq import (
    ActiveqError,
    ArgumentTypeError,
    BindParam,
    CompileError,
    ConfigurationError,
    Database,
    InvalidNameError,
    MissingParameterError,
    RetryPolicy,
    RowKeyError,
    UnknownColumnError,
    ValidationError,
    ValueOutOfRangeError,
    func,
)

U = User.c
BIG = 2**64
SURROGATE = "bad \ud800 text"


def _rows(db) -> list[tuple]:
    return db.execute("SELECT id, name, email, age FROM users ORDER BY id").fetchall()


@pytest.fixture
def ann(db):
    return User.create(name="Ann", email="ann@x", age=30)


def test_unknown_column_is_an_activeq_and_attribute_error_with_a_suggestion():
    with pytest.raises(UnknownColumnError) as info:
        U.emial  # noqa: B018
    assert str(info.value) == "User has no column 'emial'; did you mean 'email'?"
    assert isinstance(info.value, ActiveqError)
    assert isinstance(info.value, AttributeError)
    assert getattr(U, "typo", None) is None
    assert not hasattr(U, "typo")
    with pytest.raises(UnknownColumnError, match="did you mean 'email'"):
        User.query().select("emial")


def test_save_after_assigning_a_bad_value_raises_the_create_message(db, ann):
    with pytest.raises(ValidationError) as created:
        User.create(name="Bob", email="bob@x", age="old")
    ann.age = "old"
    with pytest.raises(ValidationError) as saved:
        ann.save()
    assert str(saved.value) == str(created.value) == (
        "invalid User: age: Input should be a valid integer, unable to parse string as an integer"
    )
    assert saved.value.field == "age"
    assert saved.value.errors()[0]["type"] == "int_parsing"
    assert _rows(db) == [(ann.id, "Ann", "ann@x", 30)]


def test_update_messages_carry_no_pydantic_links(db, ann):
    with pytest.raises(ValidationError) as info:
        User.query().where(U.id == ann.id).update({"age": "old"})
    assert "errors.pydantic.dev" not in str(info.value)
    assert str(info.value) == (
        "invalid User: age: Input should be a valid integer, unable to parse string as an integer"
    )
    assert _rows(db) == [(ann.id, "Ann", "ann@x", 30)]


def test_integers_beyond_64_bits_are_refused_on_every_write_path(db, ann):
    before = _rows(db)
    message = "invalid User: age: Input should be less than or equal to 9223372036854775807"
    with pytest.raises(ValueOutOfRangeError) as info:
        User.create(name="Bob", email="bob@x", age=BIG)
    assert str(info.value) == message
    assert isinstance(info.value, OverflowError)
    assert isinstance(info.value, ValidationError)
    assert info.value.field == "age"
    ann.age = BIG
    with pytest.raises(ValueOutOfRangeError) as info:
        ann.save()
    assert str(info.value) == message
    with pytest.raises(ValueOutOfRangeError) as info:
        User.query().where(U.id == ann.id).update({"age": -BIG})
    assert str(info.value) == (
        "invalid User: age: Input should be greater than or equal to -9223372036854775808")
    with pytest.raises(ValueOutOfRangeError) as info:
        User.insert_many([{"name": "Bob", "email": "bob@x"},
                          {"name": "Cid", "email": "cid@x", "age": BIG}])
    assert (str(info.value), info.value.index) == (f"row 1: {message}", 1)
    with pytest.raises(ValueOutOfRangeError) as info:
        User.update_many([{"id": ann.id, "age": 31}, {"id": ann.id, "age": BIG}])
    assert (str(info.value), info.value.index) == (f"row 1: {message}", 1)
    with pytest.raises(ValueOutOfRangeError) as info:
        db.execute("INSERT INTO users (name, email, age) VALUES (?, ?, ?)", ("Dee", "d@x", BIG))
    assert str(info.value) == (
        "cannot bind parameter 3: integer 18446744073709551616 is outside SQLite's 64-bit range")
    with pytest.raises(ValueOutOfRangeError):
        User.query().where(U.age == BIG).all()
    assert _rows(db) == before


def test_lone_surrogates_are_refused_before_writing(db, ann):
    before = _rows(db)
    message = ("invalid User: name: text holds a lone surrogate '\\ud800' at position 4, "
               "which UTF-8 cannot store")
    with pytest.raises(ValidationError) as info:
        User.create(name=SURROGATE, email="bob@x")
    assert str(info.value) == message
    ann.name = SURROGATE
    with pytest.raises(ValidationError, match="lone surrogate"):
        ann.save()
    with pytest.raises(ValidationError, match="lone surrogate"):
        User.query().where(U.id == ann.id).update({"name": SURROGATE})
    with pytest.raises(ValidationError) as info:
        User.insert_many([{"name": "Bob", "email": "bob@x"}, {"name": SURROGATE, "email": "c"}])
    assert str(info.value) == f"row 1: {message}"
    with pytest.raises(ValidationError, match="lone surrogate"):
        db.execute("INSERT INTO users (name, email) VALUES (?, 'e@x')", (SURROGATE,))
    with pytest.raises(ValidationError, match="cannot be encoded as UTF-8"):
        db.execute(f"INSERT INTO users (name, email) VALUES ('{SURROGATE}', 'e@x')")
    with pytest.raises(ValidationError):
        User.query().where(U.name == SURROGATE).first()
    assert _rows(db) == before


def test_is_in_with_a_string_is_a_typed_error(db, ann):
    with pytest.raises(ArgumentTypeError) as info:
        User.query().where(U.name.is_in("Ann")).update({"age": 1})
    assert str(info.value) == (
        "is_in()/not_in() take a list or a query, not str 'Ann': wrap a single value in a list")
    assert isinstance(info.value, TypeError)
    assert isinstance(info.value, CompileError)
    with pytest.raises(ArgumentTypeError):
        U.id.not_in(5)
    assert _rows(db) == [(ann.id, "Ann", "ann@x", 30)]


def test_bad_names_are_invalid_name_errors():
    with pytest.raises(InvalidNameError, match="BindParam name must be an identifier") as info:
        BindParam("bad name")
    assert isinstance(info.value, ValueError)
    with pytest.raises(InvalidNameError, match="an alias must be a non-empty string"):
        U.name.as_("")


def test_a_named_placeholder_without_a_value_is_a_missing_parameter_error(db):
    with pytest.raises(MissingParameterError) as info:
        db.execute("INSERT INTO users (name, email) VALUES (:name, :email)", {"name": "x"})
    assert str(info.value).startswith("no value for :email (given: name)")
    assert isinstance(info.value, KeyError)
    assert _rows(db) == []


def test_a_missing_row_key_names_the_key_and_the_row_names(db, ann):
    row = User.query().select(U.name, func.count(U.id).as_("n")).group_by(U.name).first()
    assert (row["name"], row["n"]) == ("Ann", 1)
    with pytest.raises(RowKeyError) as info:
        row["total"]
    assert str(info.value) == "this row has no column 'total'; it has User, name, n"
    assert isinstance(info.value, KeyError)
    assert isinstance(info.value, ActiveqError)
    assert (info.value.key, info.value.names) == ("total", ("User", "name", "n"))


def test_params_none_means_no_parameters(db):
    assert db.execute("INSERT INTO users (name, email) VALUES ('a', 'b')", None).rowcount == 1
    assert db.execute("SELECT name FROM users", None).fetchall() == [("a",)]


def test_values_without_a_stored_form_and_expressions_as_bools_are_typed_errors(db):
    with pytest.raises(ArgumentTypeError, match="cannot bind a value of type object") as info:
        db.execute("INSERT INTO users (name, email) VALUES (?, 'e')", (object(),))
    assert isinstance(info.value, TypeError)
    with pytest.raises(ValidationError, match="cannot compare it with <object"):
        User.query().where(U.name.is_in([object()])).all()
    with pytest.raises(ArgumentTypeError, match="no truth value"):
        bool(U.age > 3)
    assert _rows(db) == []
    assert Order.query().count() == 0


def test_bad_options_are_configuration_errors(db, tmp_path):
    with pytest.raises(ConfigurationError, match="unknown N\\+1 mode 'loud'") as info:
        db.detect_n_plus_one("loud")
    assert isinstance(info.value, ValueError)
    with pytest.raises(ConfigurationError, match="RetryPolicy.attempts must be at least 1"):
        RetryPolicy(attempts=0)
    with pytest.raises(ConfigurationError, match="slow_query_ms must be a non-negative number"):
        Database(str(tmp_path / "slow.db"), slow_query_ms=-1)
