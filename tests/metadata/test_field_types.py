"""The field-type registry: value normalization, error codes, CEL samples and the registry itself.

Every test calls ``normalize`` directly on the registered instance; none needs a database.
"""

import datetime as dt
import math
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metadata.cel_check import CEL_TYPE_OF
from metadata.fieldtypes import FieldType, FieldValueError, field_types
from metadata.fieldtypes.base import FieldTypeRegistry

ALL_TYPES = [
    "text",
    "long_text",
    "rich_text",
    "integer",
    "decimal",
    "currency",
    "percent",
    "boolean",
    "date",
    "datetime",
    "email",
    "phone",
    "url",
    "choice",
    "multi_choice",
    "lookup",
    "multi_lookup",
    "user",
    "autonumber",
    "formula",
    "rollup",
    "address",
    "file",
]

# The smallest field definition each type needs for cel_result_type and cel_sample.
MINIMAL_FIELDS = {
    "choice": {"options": [{"value": "x"}]},
    "multi_choice": {"options": [{"value": "x"}]},
    "lookup": {"target": "account"},
    "multi_lookup": {"target": "account"},
    "autonumber": {"pattern": "Q-{YYYY}-{0000}"},
    "formula": {"expression": "1", "result_type": "integer"},
    "rollup": {"source": "a", "via": "b", "function": "count"},
}

STAGES = {
    "options": [
        {"value": "new"},
        {"value": "won"},
        {"value": "lost", "inactive": True},
        {"value": "open"},
    ]
}

UTC = dt.UTC
PROPERTY_SETTINGS = settings(database=None, deadline=None, max_examples=200)


def normalize(key, value, field=None):
    return field_types.get(key).normalize(value, {} if field is None else field)


def error_code(key, value, field=None) -> str:
    with pytest.raises(FieldValueError) as caught:
        normalize(key, value, field)
    return caught.value.code


def minimal_field(key: str) -> dict:
    return dict(MINIMAL_FIELDS.get(key, {}))


# --- the registry ---------------------------------------------------------------------------


def test_registry_holds_exactly_the_23_field_types():
    # given the registry filled by importing metadata.fieldtypes
    # when its keys are listed
    keys = field_types.keys()
    # then they are exactly the documented types, each once
    assert sorted(keys) == sorted(ALL_TYPES)
    assert len(keys) == 23


@pytest.mark.parametrize("key", ALL_TYPES)
def test_registered_type_is_stored_under_its_own_key(key):
    # given a registered type
    field_type = field_types.get(key)
    # then it is a FieldType instance whose key is the registry key
    assert isinstance(field_type, FieldType)
    assert field_type.key == key
    assert key in field_types


@pytest.mark.parametrize("key", ALL_TYPES)
def test_registered_type_has_a_description(key):
    # given a registered type
    description = field_types.get(key).description
    # then it describes itself in a non-blank sentence
    assert isinstance(description, str)
    assert description.strip() != ""


@pytest.mark.parametrize("variant", [0, 1])
@pytest.mark.parametrize("key", ALL_TYPES)
def test_cel_sample_is_accepted_by_the_types_cel_type(key, variant):
    # given a registered type and a minimal field of that type
    field_type, field = field_types.get(key), minimal_field(key)
    # when a CEL sample is taken for the variant
    sample = field_type.cel_sample(field, variant)
    # then the type's CEL type accepts it
    assert CEL_TYPE_OF[field_type.cel_result_type(field)](sample) is True


@pytest.mark.parametrize(
    ("key", "field"),
    [
        *[(key, minimal_field(key)) for key in ALL_TYPES if key not in ("choice", "multi_choice")],
        ("choice", {"options": [{"value": "a"}, {"value": "b"}]}),
        ("multi_choice", {"options": [{"value": "a"}, {"value": "b"}]}),
    ],
)
def test_cel_samples_of_the_two_variants_differ(key, field):
    # given a registered type and a field with at least two options where options matter
    field_type = field_types.get(key)
    # when both variants are sampled
    first, second = field_type.cel_sample(field, 0), field_type.cel_sample(field, 1)
    # then they differ, so both branches of a condition get evaluated
    assert first != second


@pytest.mark.parametrize(
    "result_type", ["text", "integer", "decimal", "boolean", "date", "datetime"]
)
@pytest.mark.parametrize("variant", [0, 1])
def test_formula_cel_sample_matches_its_result_type(result_type, variant):
    # given a formula field of the result type
    formula = field_types.get("formula")
    field = {"expression": "1", "result_type": result_type}
    # when a CEL sample is taken
    sample = formula.cel_sample(field, variant)
    # then the formula's CEL type accepts it
    assert CEL_TYPE_OF[formula.cel_result_type(field)](sample) is True


@pytest.mark.parametrize(
    ("function", "cel_type"),
    [("count", "int"), ("sum", "double"), ("min", "double"), ("max", "double"), ("avg", "double")],
)
def test_rollup_cel_type_follows_its_function(function, cel_type):
    # given a rollup field with the function
    field = {"source": "a", "via": "b", "function": function, "field": "amount"}
    # when its CEL result type is asked
    # then count gives an int and the other functions a double
    assert field_types.get("rollup").cel_result_type(field) == cel_type


@pytest.mark.parametrize("function", ["count", "sum", "min", "max", "avg"])
@pytest.mark.parametrize("variant", [0, 1])
def test_rollup_cel_sample_matches_its_function(function, variant):
    # given a rollup field with the function
    rollup = field_types.get("rollup")
    field = {"source": "a", "via": "b", "function": function, "field": "amount"}
    # when a CEL sample is taken
    sample = rollup.cel_sample(field, variant)
    # then the rollup's CEL type accepts it
    assert CEL_TYPE_OF[rollup.cel_result_type(field)](sample) is True


def test_registering_the_same_key_twice_in_a_registry_raises_value_error():
    # given a fresh registry holding one type
    registry = FieldTypeRegistry()

    class Dummy(FieldType):
        key = "dummy"
        description = "A type for this test."

    registry.register(Dummy)
    # when the same key is registered again
    # then ValueError names the duplicate
    with pytest.raises(ValueError, match="'dummy' is registered twice"):
        registry.register(Dummy)


def test_registering_an_existing_type_again_raises_and_keeps_the_original():
    # given the instance registered for "text"
    original = field_types.get("text")
    # when its class is registered a second time
    with pytest.raises(ValueError, match="'text' is registered twice"):
        field_types.register(type(original))
    # then the registry still holds the original instance and the same 23 types
    assert field_types.get("text") is original
    assert len(field_types.keys()) == 23


# --- text, long_text, rich_text ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value", "field", "expected"),
    [
        ("text", "  Acme Ltd  ", {}, "Acme Ltd"),
        ("text", "", {}, ""),
        ("text", "abc", {"max_length": 3}, "abc"),
        ("text", "  abc  ", {"max_length": 3}, "abc"),
        ("text", "ab", {"min_length": 2}, "ab"),
        ("text", "a" * 255, {}, "a" * 255),
        ("text", "名称", {"max_length": 2}, "名称"),
        ("long_text", " line one\nline two \n", {}, "line one\nline two"),
        ("long_text", "a" * 100000, {}, "a" * 100000),
        ("rich_text", "<b>bold</b> and <i>italic</i>", {}, "<b>bold</b> and <i>italic</i>"),
    ],
)
def test_textual_value_is_stripped_and_stored(key, value, field, expected):
    # when a valid text is normalized
    # then surrounding white space is gone and the rest is kept
    assert normalize(key, value, field) == expected


@pytest.mark.parametrize("key", ["text", "long_text", "rich_text", "email", "phone", "url"])
@pytest.mark.parametrize("value", [42, 4.2, True, None, b"bytes", ["a"], {"a": 1}])
def test_textual_type_refuses_non_strings(key, value):
    # when something that is not a str is normalized
    # then it is refused as the wrong type
    assert error_code(key, value) == "invalid_type"


@pytest.mark.parametrize(
    ("key", "value", "field"),
    [
        ("text", "abcd", {"max_length": 3}),
        ("text", "a" * 256, {}),
        ("long_text", "a" * 100001, {}),
        ("long_text", "abcdef", {"max_length": 5}),
        ("rich_text", "a" * 100001, {}),
        ("rich_text", "<b>hi</b>", {"max_length": 5}),
    ],
)
def test_textual_value_longer_than_max_length_is_too_long(key, value, field):
    # when a text longer than the limit (explicit or the type's default) is normalized
    # then it is refused as too long
    assert error_code(key, value, field) == "too_long"


@pytest.mark.parametrize(
    ("value", "field"),
    [("a", {"min_length": 2}), ("   a   ", {"min_length": 2}), ("", {"min_length": 1})],
)
def test_text_shorter_than_min_length_is_too_short(value, field):
    # when a text shorter than min_length after stripping is normalized
    # then it is refused as too short
    assert error_code("text", value, field) == "too_short"


def test_rich_text_removes_script_elements_with_their_content():
    # given HTML with a script element
    html = "<p>Hello</p><script>alert('x')</script>"
    # when it is normalized
    # then the script and its content disappear
    assert normalize("rich_text", html) == "<p>Hello</p>"


def test_rich_text_removes_event_handler_attributes():
    # given HTML with an onclick handler
    html = '<p onclick="steal()">Hello</p>'
    # when it is normalized
    # then the handler disappears and the element stays
    assert normalize("rich_text", html) == "<p>Hello</p>"


def test_rich_text_removes_style_attributes_and_elements():
    # given HTML with a style element and a style attribute
    html = '<style>p { color: red }</style><p style="color: red">Hello</p>'
    # when it is normalized
    # then both are gone
    assert normalize("rich_text", html) == "<p>Hello</p>"


def test_rich_text_drops_javascript_links():
    # given a link to a javascript: address
    html = '<a href="javascript:alert(1)">click</a>'
    # when it is normalized
    # then the href is dropped
    assert normalize("rich_text", html) == '<a rel="noopener noreferrer">click</a>'


def test_rich_text_escapes_bare_markup_characters():
    # given text with & and <
    # when it is normalized
    # then they are escaped as entities
    assert normalize("rich_text", "a & b < c") == "a &amp; b &lt; c"


def test_rich_text_length_is_counted_after_sanitizing():
    # given a script long enough to exceed max_length around a short text
    html = "<script>xxxxxxxxxxxx</script>hi"
    # when it is normalized with max_length 5
    # then the sanitized text fits and is stored
    assert normalize("rich_text", html, {"max_length": 5}) == "hi"


# --- email, phone, url ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("  Jane.Doe@Example.COM ", "Jane.Doe@example.com"),
        ("a@b.co", "a@b.co"),
        ("first+tag@Sub.Example.ORG", "first+tag@sub.example.org"),
        ("jane@localhost", "jane@localhost"),
    ],
)
def test_email_domain_is_lower_cased_and_local_part_kept(value, expected):
    # when an e-mail address is normalized
    # then only its domain is lower-cased
    assert normalize("email", value) == expected


@pytest.mark.parametrize(
    "value", ["not-an-email", "a@b", "a@@example.com", "@example.com", "jane@", "a b@example.com"]
)
def test_email_refuses_invalid_addresses(value):
    # when something that is not an e-mail address is normalized
    # then it is refused as an invalid e-mail
    assert error_code("email", value) == "invalid_email"


def test_email_longer_than_255_characters_is_too_long():
    # given a syntactically valid address of 262 characters
    value = "a" * 250 + "@example.com"
    # when it is normalized
    # then it is refused as too long
    assert error_code("email", value) == "too_long"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("+86 10 1234 5678", "+86 10 1234 5678"),
        ("  +86  10 1234   5678 ", "+86 10 1234 5678"),
        ("555 0100\t\text 12", "555 0100 ext 12"),
        ("(212) 555-0100 ext. 42", "(212) 555-0100 ext. 42"),
        ("+1 212 555 0100 x 7", "+1 212 555 0100 x 7"),
        ("555 0100 EXT 12", "555 0100 EXT 12"),
        ("12345", "12345"),
        ("030/1234.5678", "030/1234.5678"),
    ],
)
def test_phone_keeps_its_characters_and_collapses_white_space(value, expected):
    # when a telephone number is normalized
    # then runs of white space become one space
    assert normalize("phone", value) == expected


@pytest.mark.parametrize(
    "value",
    ["call me", "1234", "+-.-.()", "12-34", "555-0100#", "+1 555 0100 ext 1234567", "1" * 31],
)
def test_phone_refuses_invalid_numbers(value):
    # when something that is not a telephone number is normalized
    # then it is refused as an invalid phone
    assert error_code("phone", value) == "invalid_phone"


def test_phone_needs_digits_before_the_extension():
    # given a "number" that is only brackets followed by an extension
    # when it is normalized
    # then it is refused as an invalid phone
    assert error_code("phone", "(((( x 12345") == "invalid_phone"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://example.com", "https://example.com"),
        (" http://example.org/a?q=1#top ", "http://example.org/a?q=1#top"),
        ("https://sub.example.co.uk:8443/path", "https://sub.example.co.uk:8443/path"),
    ],
)
def test_url_is_stripped_and_stored(value, expected):
    # when an http(s) address is normalized
    # then it is stored without surrounding white space
    assert normalize("url", value) == expected


@pytest.mark.parametrize(
    "value",
    ["example.com", "ftp://example.com", "javascript:alert(1)", "https://", "http://exa mple.com"],
)
def test_url_refuses_non_http_addresses(value):
    # when something that is not an http(s) address is normalized
    # then it is refused as an invalid url
    assert error_code("url", value) == "invalid_url"


def test_url_longer_than_2000_characters_is_too_long():
    # given a valid address of 2010 characters
    value = "https://example.com/" + "a" * 1990
    # when it is normalized
    # then it is refused as too long
    assert error_code("url", value) == "too_long"


# --- integer --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "field", "expected"),
    [
        (42, {}, 42),
        (-7, {}, -7),
        ("42", {}, 42),
        (" -7 ", {}, -7),
        (3.0, {}, 3),
        (Decimal("10"), {}, 10),
        (Decimal("1.0"), {}, 1),
        ("1e3", {}, 1000),
        (2**53, {}, 2**53),
        (-(2**53), {}, -(2**53)),
        (0, {"min": 0, "max": 10}, 0),
        (10, {"min": 0, "max": 10}, 10),
    ],
)
def test_integer_is_stored_as_a_python_int(value, field, expected):
    # when a whole number is normalized
    result = normalize("integer", value, field)
    # then it is stored as that int
    assert result == expected
    assert type(result) is int


@pytest.mark.parametrize("value", [True, False, None, [1], {"v": 1}, object()])
def test_integer_refuses_non_numbers_and_booleans(value):
    # when a bool or a non-number is normalized
    # then it is refused as the wrong type
    assert error_code("integer", value) == "invalid_type"


@pytest.mark.parametrize("value", ["abc", "", "1,000", "NaN", "inf", float("nan"), float("inf")])
def test_integer_refuses_text_that_is_no_finite_number(value):
    # when text that is no finite number is normalized
    # then it is refused as an invalid number
    assert error_code("integer", value) == "invalid_number"


@pytest.mark.parametrize("value", [1.5, "2.5", Decimal("0.1"), "1e-3"])
def test_integer_refuses_fractions(value):
    # when a number with a fraction is normalized
    # then it is refused as not an integer
    assert error_code("integer", value) == "not_integer"


@pytest.mark.parametrize("value", [2**53 + 1, -(2**53) - 1, 1e16, "1e20"])
def test_integer_refuses_values_beyond_2_to_the_53(value):
    # when a whole number beyond ±2^53 is normalized
    # then it is refused as out of range
    assert error_code("integer", value) == "out_of_range"


def test_integer_refuses_a_huge_exponent_as_out_of_range():
    # when a number with an enormous exponent is normalized
    # then it is refused as out of range
    assert error_code("integer", "1e999999999999") == "out_of_range"


@pytest.mark.parametrize(("value", "field"), [(-1, {"min": 0}), (4, {"min": 4.5}), (0, {"min": 1})])
def test_integer_below_min_is_refused(value, field):
    # when a number below the field's min is normalized
    # then it is refused as below min
    assert error_code("integer", value, field) == "below_min"


@pytest.mark.parametrize(
    ("value", "field"), [(11, {"max": 10}), (5, {"max": 4.5}), (1, {"min": 0, "max": 0})]
)
def test_integer_above_max_is_refused(value, field):
    # when a number above the field's max is normalized
    # then it is refused as above max
    assert error_code("integer", value, field) == "above_max"


# --- decimal, percent -------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["decimal", "percent"])
@pytest.mark.parametrize(
    ("value", "field", "expected"),
    [
        ("1.005", {}, "1.00"),
        ("1.015", {}, "1.02"),
        ("1.025", {}, "1.02"),
        ("-1.005", {}, "-1.00"),
        (2.675, {}, "2.68"),
        (7, {}, "7.00"),
        (" 3.14159 ", {}, "3.14"),
        ("1e3", {}, "1000.00"),
        (Decimal("12.5"), {}, "12.50"),
        ("2.5", {"scale": 0}, "2"),
        ("3.5", {"scale": 0}, "4"),
        ("1.23456", {"scale": 4}, "1.2346"),
        ("1.23445", {"scale": 4}, "1.2344"),
        ("999.99", {"precision": 5, "scale": 2}, "999.99"),
        ("-999.99", {"precision": 5, "scale": 2}, "-999.99"),
        ("0.001", {"precision": 2, "scale": 1}, "0.0"),
        ("0", {"min": 0, "max": 100}, "0.00"),
        ("100", {"min": 0, "max": 100}, "100.00"),
    ],
)
def test_decimal_is_quantized_to_scale_with_bankers_rounding(key, value, field, expected):
    # when a number is normalized
    result = normalize(key, value, field)
    # then it is a Decimal with exactly `scale` places, ties rounded to even
    assert type(result) is Decimal
    assert str(result) == expected


@pytest.mark.parametrize("key", ["decimal", "percent"])
@pytest.mark.parametrize("value", [True, False, None, [1.5], {"amount": 1}])
def test_decimal_refuses_non_numbers_and_booleans(key, value):
    # when a bool or a non-number is normalized
    # then it is refused as the wrong type
    assert error_code(key, value) == "invalid_type"


@pytest.mark.parametrize("key", ["decimal", "percent"])
@pytest.mark.parametrize("value", ["abc", "", "1.2.3", "NaN", "-Infinity", float("nan")])
def test_decimal_refuses_text_that_is_no_finite_number(key, value):
    # when text that is no finite number is normalized
    # then it is refused as an invalid number
    assert error_code(key, value) == "invalid_number"


@pytest.mark.parametrize("key", ["decimal", "percent"])
@pytest.mark.parametrize("value", ["1000", "999.995", "-1000.00"])
def test_decimal_with_more_digits_than_precision_is_refused(key, value):
    # given a field of precision 5 and scale 2
    field = {"precision": 5, "scale": 2}
    # when a value needing six digits (after rounding) is normalized
    # then it is refused as having too many digits
    assert error_code(key, value, field) == "too_many_digits"


def test_decimal_with_more_than_18_digits_by_default_is_refused():
    # given a 17-digit whole number, which needs 19 digits at the default scale 2
    # when it is normalized with the default precision 18
    # then it is refused as having too many digits
    assert error_code("decimal", "1" * 17) == "too_many_digits"


def test_decimal_with_a_huge_value_is_refused_as_too_many_digits():
    # when a number far beyond the default precision is normalized
    # then it is refused as having too many digits
    assert error_code("decimal", "1e30") == "too_many_digits"


def test_decimal_with_precision_38_stores_a_30_digit_value():
    # given a field of precision 38 and a value of 27 integer digits (29 digits at scale 2)
    value = "1" * 27
    # when it is normalized
    result = normalize("decimal", value, {"precision": 38})
    # then it is stored with two places
    assert str(result) == "1" * 27 + ".00"


@pytest.mark.parametrize("key", ["decimal", "percent"])
@pytest.mark.parametrize(("value", "field"), [("-0.01", {"min": 0}), ("4.99", {"min": 5})])
def test_decimal_below_min_is_refused(key, value, field):
    # when a number below the field's min is normalized
    # then it is refused as below min
    assert error_code(key, value, field) == "below_min"


@pytest.mark.parametrize("key", ["decimal", "percent"])
@pytest.mark.parametrize(("value", "field"), [("100.01", {"max": 100}), ("1", {"max": 0.5})])
def test_decimal_above_max_is_refused(key, value, field):
    # when a number above the field's max is normalized
    # then it is refused as above max
    assert error_code(key, value, field) == "above_max"


def test_decimal_rounded_above_max_is_refused():
    # given a field whose max has more places than its scale
    field = {"max": 9.999, "scale": 2}
    # when a value that rounds above max is normalized
    # then it is refused as above max
    assert error_code("decimal", "9.997", field) == "above_max"


# --- currency -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "field", "expected"),
    [
        ({"amount": "10.005", "currency": "USD"}, {}, {"amount": "10.00", "currency": "USD"}),
        ({"amount": 10.015, "currency": "EUR"}, {}, {"amount": "10.02", "currency": "EUR"}),
        (12, {"default_currency": "CNY"}, {"amount": "12.00", "currency": "CNY"}),
        ("12.5", {"default_currency": "CNY"}, {"amount": "12.50", "currency": "CNY"}),
        ({"amount": 3}, {"default_currency": "CNY"}, {"amount": "3.00", "currency": "CNY"}),
        (
            {"amount": 3, "currency": ""},
            {"default_currency": "CNY"},
            {"amount": "3.00", "currency": "CNY"},
        ),
        (
            {"amount": 3, "currency": "USD"},
            {"default_currency": "CNY"},
            {"amount": "3.00", "currency": "USD"},
        ),
        (
            {"amount": 3, "currency": "USD"},
            {"currencies": ["CNY", "USD"]},
            {"amount": "3.00", "currency": "USD"},
        ),
        ({"amount": "1.5", "currency": "JPY"}, {"scale": 0}, {"amount": "2", "currency": "JPY"}),
    ],
)
def test_currency_is_stored_as_amount_and_code(value, field, expected):
    # when an amount of money is normalized
    result = normalize("currency", value, field)
    # then it is a quantized Decimal amount and a currency code (the default when none is given)
    assert {"amount": str(result["amount"]), "currency": result["currency"]} == expected
    assert type(result["amount"]) is Decimal
    assert set(result) == {"amount", "currency"}


@pytest.mark.parametrize(
    ("value", "field"),
    [
        (12, {}),
        ({"amount": 12}, {}),
        ({"amount": 1, "currency": "usd"}, {}),
        ({"amount": 1, "currency": "US"}, {}),
        ({"amount": 1, "currency": "USDX"}, {}),
        ({"amount": 1, "currency": "U5D"}, {}),
        ({"amount": 1, "currency": 840}, {}),
    ],
)
def test_currency_without_a_valid_code_is_refused(value, field):
    # when an amount without a three-letter upper-case code (and no default) is normalized
    # then it is refused as an invalid currency
    assert error_code("currency", value, field) == "invalid_currency"


def test_currency_code_with_non_ascii_letters_is_refused():
    # when an amount with a code of accented capitals is normalized
    # then it is refused as an invalid currency
    assert error_code("currency", {"amount": 1, "currency": "ÉÉÉ"}) == "invalid_currency"


@pytest.mark.parametrize(
    ("value", "field"),
    [
        ({"amount": 1, "currency": "EUR"}, {"currencies": ["USD", "CNY"]}),
        (5, {"currencies": ["USD"], "default_currency": "EUR"}),
    ],
)
def test_currency_not_among_the_fields_currencies_is_refused(value, field):
    # when an amount in a currency the field does not allow is normalized
    # then it is refused as currency not allowed
    assert error_code("currency", value, field) == "currency_not_allowed"


def test_currency_with_unknown_keys_is_refused():
    # when an amount object with an extra key is normalized
    value = {"amount": 1, "currency": "USD", "note": "x"}
    # then it is refused as the wrong shape
    assert error_code("currency", value) == "invalid_shape"


@pytest.mark.parametrize(
    "value",
    [
        {"currency": "USD"},
        {"amount": None, "currency": "USD"},
        {"amount": True, "currency": "USD"},
        {"amount": [1], "currency": "USD"},
    ],
)
def test_currency_amount_that_is_no_number_is_refused(value):
    # when an amount that is missing, a bool or not a number is normalized
    # then it is refused as the wrong type
    assert error_code("currency", value) == "invalid_type"


def test_currency_amount_text_that_is_no_number_is_refused():
    # when an amount given as non-numeric text is normalized
    # then it is refused as an invalid number
    assert error_code("currency", {"amount": "ten", "currency": "USD"}) == "invalid_number"


@pytest.mark.parametrize(
    ("value", "field", "code"),
    [
        ({"amount": -1, "currency": "USD"}, {"min": 0}, "below_min"),
        ({"amount": 101, "currency": "USD"}, {"max": 100}, "above_max"),
        ({"amount": 1000, "currency": "USD"}, {"precision": 5, "scale": 2}, "too_many_digits"),
    ],
)
def test_currency_amount_is_checked_like_a_decimal(value, field, code):
    # when an amount outside the field's bounds or precision is normalized
    # then it is refused with the decimal's code
    assert error_code("currency", value, field) == code


# --- boolean ----------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [True, False])
def test_boolean_is_stored_as_is(value):
    # when a bool is normalized
    # then it is stored unchanged
    assert normalize("boolean", value) is value


@pytest.mark.parametrize("value", [1, 0, "true", "false", "", None, [True]])
def test_boolean_refuses_everything_but_bools(value):
    # when a value that is not a bool is normalized
    # then it is refused as the wrong type
    assert error_code("boolean", value) == "invalid_type"


# --- date, datetime ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2025-01-31", "2025-01-31"),
        ("  2025-01-31 ", "2025-01-31"),
        (dt.date(2025, 1, 31), "2025-01-31"),
        ("2024-02-29", "2024-02-29"),
        ("0001-01-01", "0001-01-01"),
        ("9999-12-31", "9999-12-31"),
    ],
)
def test_date_is_stored_as_iso_text(value, expected):
    # when a date is normalized
    # then it is stored as YYYY-MM-DD
    assert normalize("date", value) == expected


@pytest.mark.parametrize(
    "value", [dt.datetime(2025, 1, 31, tzinfo=UTC), 20250131, None, ["2025-01-31"]]
)
def test_date_refuses_date_times_and_non_text(value):
    # when a date-time or a value that is neither a date nor text is normalized
    # then it is refused as the wrong type
    assert error_code("date", value) == "invalid_type"


@pytest.mark.parametrize(
    "value", ["2025-02-30", "2025-13-01", "31/01/2025", "2025-01-31T10:00", "", "tomorrow"]
)
def test_date_refuses_text_that_is_no_date(value):
    # when text that is not a YYYY-MM-DD date is normalized
    # then it is refused as an invalid date
    assert error_code("date", value) == "invalid_date"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2025-01-31T10:00:00+08:00", "2025-01-31T02:00:00.000000Z"),
        ("2025-01-31T10:00:00Z", "2025-01-31T10:00:00.000000Z"),
        ("2025-01-31T10:00:00+00:00", "2025-01-31T10:00:00.000000Z"),
        ("2025-01-31T23:30:00-05:00", "2025-02-01T04:30:00.000000Z"),
        (" 2025-01-31 10:00+01:00 ", "2025-01-31T09:00:00.000000Z"),
        ("2025-01-31T10:00:00.123456+00:00", "2025-01-31T10:00:00.123456Z"),
        (dt.datetime(2025, 1, 31, 10, 0, tzinfo=UTC), "2025-01-31T10:00:00.000000Z"),
        (
            dt.datetime(2025, 1, 31, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
            "2025-01-31T15:00:00.000000Z",
        ),
    ],
)
def test_datetime_is_converted_to_utc_with_a_trailing_z(value, expected):
    # when an aware date-time is normalized
    # then it is stored in UTC, ISO 8601, ending in Z
    assert normalize("datetime", value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "2025-01-31T10:00:00",
        "2025-01-31",
        dt.datetime(2025, 1, 31, 10, 0),  # noqa: DTZ001 - naive on purpose
    ],
)
def test_datetime_without_offset_is_refused_as_naive(value):
    # when a date-time without a time zone is normalized
    # then it is refused as naive
    assert error_code("datetime", value) == "naive_datetime"


@pytest.mark.parametrize("value", ["yesterday", "", "2025-01-31T25:00:00Z", "31/01/2025 10:00"])
def test_datetime_refuses_text_that_is_no_date_time(value):
    # when text that is not an ISO 8601 date-time is normalized
    # then it is refused as an invalid date-time
    assert error_code("datetime", value) == "invalid_datetime"


@pytest.mark.parametrize("value", [1700000000, dt.date(2025, 1, 31), None, True])
def test_datetime_refuses_non_text_non_datetime_values(value):
    # when a value that is neither text nor a datetime is normalized
    # then it is refused as the wrong type
    assert error_code("datetime", value) == "invalid_type"


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:00:00-05:00"])
def test_datetime_outside_the_utc_range_is_refused(value):
    # when an aware date-time whose UTC instant is outside years 1-9999 is normalized
    # then it is refused with a FieldValueError (the source defines no code for this yet)
    with pytest.raises(FieldValueError):
        normalize("datetime", value)


def test_stored_datetimes_sort_as_text_in_time_order():
    # given an instant and one half a second later
    earlier = normalize("datetime", "2025-01-31T10:00:00Z")
    later = normalize("datetime", "2025-01-31T10:00:00.5Z")
    # when their stored forms are sorted as text
    # then the earlier one comes first
    assert sorted([later, earlier]) == [earlier, later]


# --- choice, multi_choice ---------------------------------------------------------------------


@pytest.mark.parametrize("value", ["new", "won", "open"])
def test_choice_stores_an_active_option(value):
    # when an active option value is normalized
    # then it is stored unchanged
    assert normalize("choice", value, STAGES) == value


@pytest.mark.parametrize("value", ["maybe", "Won", "", " won"])
def test_choice_refuses_unknown_options(value):
    # when a value that is no option is normalized
    # then it is refused as unknown
    assert error_code("choice", value, STAGES) == "unknown_option"


def test_choice_refuses_an_inactive_option_for_new_values():
    # given the option "lost" marked inactive
    # when it is normalized
    # then it is refused as unknown
    assert error_code("choice", "lost", STAGES) == "unknown_option"


@pytest.mark.parametrize("value", [1, None, True, ["won"], {"value": "won"}])
def test_choice_refuses_non_strings(value):
    # when a value that is not a str is normalized
    # then it is refused as the wrong type
    assert error_code("choice", value, STAGES) == "invalid_type"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (["won", "new", "won"], ["new", "won"]),
        (["open", "new"], ["new", "open"]),
        (["open", "won", "new"], ["new", "won", "open"]),
        (["won"], ["won"]),
        ([], []),
    ],
)
def test_multi_choice_is_stored_in_option_order_without_duplicates(value, expected):
    # when a list of active option values is normalized
    # then it is stored in the order of the options, each once
    assert normalize("multi_choice", value, STAGES) == expected


@pytest.mark.parametrize("value", [["lost"], ["new", "lost"], ["maybe"], ["new", "NEW"]])
def test_multi_choice_refuses_unknown_and_inactive_options(value):
    # when a list holding an unknown or inactive option is normalized
    # then it is refused as unknown
    assert error_code("multi_choice", value, STAGES) == "unknown_option"


@pytest.mark.parametrize("value", ["new", ("new",), {"new"}, ["new", 1], [None], None])
def test_multi_choice_refuses_anything_but_a_list_of_strings(value):
    # when something other than a list of str is normalized
    # then it is refused as the wrong type
    assert error_code("multi_choice", value, STAGES) == "invalid_type"


# --- lookup, multi_lookup, user ---------------------------------------------------------------


@pytest.mark.parametrize("key", ["lookup", "user"])
@pytest.mark.parametrize("value", [1, 5, 2**40])
def test_reference_stores_a_positive_record_id(key, value):
    # when a positive int is normalized
    # then it is stored unchanged
    assert normalize(key, value, minimal_field(key)) == value


@pytest.mark.parametrize("key", ["lookup", "user"])
@pytest.mark.parametrize("value", [0, -1, True, False, "5", 5.0, None, [5], {"id": 5}])
def test_reference_refuses_anything_but_a_positive_int(key, value):
    # when a value that is not a positive int is normalized
    # then it is refused as an invalid reference
    assert error_code(key, value, minimal_field(key)) == "invalid_reference"


@pytest.mark.parametrize(
    ("value", "expected"), [([3, 1, 3, 2], [1, 2, 3]), ([7], [7]), ([], []), ([2, 2, 2], [2])]
)
def test_multi_lookup_is_stored_sorted_without_duplicates(value, expected):
    # when a list of record ids is normalized
    # then it is stored sorted, each id once
    assert normalize("multi_lookup", value, {"target": "account"}) == expected


@pytest.mark.parametrize("value", [3, (1, 2), {1, 2}, "1,2", None])
def test_multi_lookup_refuses_anything_but_a_list(value):
    # when something other than a list is normalized
    # then it is refused as the wrong type
    assert error_code("multi_lookup", value, {"target": "account"}) == "invalid_type"


@pytest.mark.parametrize("value", [[1, 0], [1, -2], [1, True], [1, "2"], [1.0], [None]])
def test_multi_lookup_refuses_items_that_are_not_record_ids(value):
    # when a list with an item that is not a positive int is normalized
    # then it is refused as an invalid reference
    assert error_code("multi_lookup", value, {"target": "account"}) == "invalid_reference"


# --- address ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (
            {
                "street": " 1 Main St ",
                "city": "Boston",
                "state": "",
                "postal_code": None,
                "country": "us",
            },
            {"street": "1 Main St", "city": "Boston", "country": "US"},
        ),
        ({"country": " cn "}, {"country": "CN"}),
        (
            {"city": "Beijing", "postal_code": "100000"},
            {"city": "Beijing", "postal_code": "100000"},
        ),
        ({}, {}),
        ({"street": "x" * 200}, {"street": "x" * 200}),
    ],
)
def test_address_is_stripped_with_country_upper_cased_and_empty_parts_dropped(value, expected):
    # when an address is normalized
    # then parts are stripped, empty ones dropped and the country code upper-cased
    assert normalize("address", value) == expected


def test_address_drops_parts_that_are_only_white_space():
    # when an address with a blank city is normalized
    value = {"street": "1 Main St", "city": "   "}
    # then the blank city is dropped
    assert normalize("address", value) == {"street": "1 Main St"}


@pytest.mark.parametrize("value", ["1 Main St, Boston", ["1 Main St"], None, 5])
def test_address_refuses_non_objects(value):
    # when something other than a dict is normalized
    # then it is refused as the wrong type
    assert error_code("address", value) == "invalid_type"


def test_address_refuses_unknown_parts():
    # when an address with a part outside street/city/state/postal_code/country is normalized
    # then it is refused as the wrong shape
    assert error_code("address", {"city": "Boston", "zip": "02101"}) == "invalid_shape"


@pytest.mark.parametrize("value", [{"city": 5}, {"street": ["1 Main St"]}, {"city": "x" * 201}])
def test_address_refuses_parts_that_are_not_short_text(value):
    # when a part that is not text of at most 200 characters is normalized
    # then it is refused as an invalid part
    assert error_code("address", value) == "invalid_part"


@pytest.mark.parametrize("country", ["USA", "U", "u1", "12", "é1", "éé"])
def test_address_refuses_countries_that_are_not_two_letters(country):
    # when an address whose country is not a two-letter code is normalized
    # then it is refused as an invalid country
    assert error_code("address", {"country": country}) == "invalid_country"


# --- computed types ---------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["autonumber", "formula", "rollup"])
@pytest.mark.parametrize("value", ["Q-2025-0001", 1, 1.5, None, {"amount": 1}])
def test_computed_types_refuse_writes(key, value):
    # when any value is written to a computed field
    # then it is refused as read-only
    assert error_code(key, value, minimal_field(key)) == "read_only"


@pytest.mark.parametrize("key", ALL_TYPES)
def test_only_autonumber_formula_and_rollup_are_computed(key):
    # given a registered type
    # then it is computed exactly when it is one of the three computed types
    assert field_types.get(key).computed is (key in ("autonumber", "formula", "rollup"))


# --- stored values as CEL sees them -----------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "field", "value"),
    [
        ("text", {}, "Acme"),
        ("long_text", {}, "a\nb"),
        ("rich_text", {}, "<b>x</b>"),
        ("integer", {}, 3),
        ("decimal", {}, "1.5"),
        ("percent", {}, "12.5"),
        ("currency", {}, {"amount": 1, "currency": "USD"}),
        ("boolean", {}, True),
        ("date", {}, "2025-01-31"),
        ("datetime", {}, "2025-01-31T10:00:00+08:00"),
        ("email", {}, "a@example.com"),
        ("phone", {}, "+1 212 555 0100"),
        ("url", {}, "https://example.com"),
        ("choice", STAGES, "won"),
        ("multi_choice", STAGES, ["won"]),
        ("lookup", {"target": "account"}, 4),
        ("multi_lookup", {"target": "account"}, [4, 2]),
        ("user", {}, 4),
        ("address", {}, {"city": "Boston", "country": "us"}),
    ],
)
def test_stored_value_is_seen_by_cel_with_the_types_cel_type(key, field, value):
    # given a value normalized to its stored form
    field_type = field_types.get(key)
    stored = field_type.normalize(value, field)
    # when CEL is given it
    seen = field_type.to_cel(stored, field)
    # then the type's CEL type accepts it
    assert CEL_TYPE_OF[field_type.cel_result_type(field)](seen) is True


# --- properties -------------------------------------------------------------------------------

bounds = st.one_of(
    st.integers(min_value=-(10**6), max_value=10**6),
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False),
)
integer_inputs = st.one_of(
    st.integers(),
    st.integers().map(str),
    st.floats(),
    st.decimals(min_value=-(10**20), max_value=10**20, allow_nan=False, allow_infinity=False),
    st.decimals(min_value=-(10**20), max_value=10**20, places=2).map(str),
)


@st.composite
def integer_fields(draw):
    field = {}
    low, high = sorted([draw(bounds), draw(bounds)])
    if draw(st.booleans()):
        field["min"] = low
    if draw(st.booleans()):
        field["max"] = high
    return field


@PROPERTY_SETTINGS
@given(value=integer_inputs, field=integer_fields())
def test_integer_normalization_is_idempotent(value, field):
    # given any value the integer type accepts
    try:
        stored = normalize("integer", value, field)
    except FieldValueError:
        return
    # when its stored form is normalized again
    # then it is unchanged
    assert normalize("integer", stored, field) == stored


@PROPERTY_SETTINGS
@given(value=integer_inputs, field=integer_fields())
def test_accepted_integer_lies_within_min_and_max(value, field):
    # given any value the integer type accepts
    try:
        stored = normalize("integer", value, field)
    except FieldValueError:
        return
    # then it is an int no lower than min and no higher than max
    assert type(stored) is int
    assert stored >= field.get("min", stored)
    assert stored <= field.get("max", stored)


@PROPERTY_SETTINGS
@given(data=st.data(), field=integer_fields())
def test_every_whole_number_within_min_and_max_is_accepted(data, field):
    # given a whole number between the field's bounds
    low = math.ceil(Decimal(str(field.get("min", -(2**53)))))
    high = math.floor(Decimal(str(field.get("max", 2**53))))
    if low > high:
        return
    value = data.draw(st.integers(min_value=low, max_value=high))
    # when it is normalized
    # then it is stored unchanged
    assert normalize("integer", value, field) == value


@st.composite
def decimal_fields(draw):
    scale = draw(st.integers(min_value=0, max_value=6))
    field = {"scale": scale}
    if draw(st.booleans()):
        field["precision"] = draw(st.integers(min_value=scale + 1, max_value=28))
    return field


decimal_inputs = st.one_of(
    st.decimals(min_value=-(10**12), max_value=10**12, allow_nan=False, allow_infinity=False),
    st.decimals(min_value=-(10**12), max_value=10**12, places=3).map(str),
    st.floats(min_value=-1e12, max_value=1e12, allow_nan=False, allow_infinity=False),
    st.integers(min_value=-(10**12), max_value=10**12),
)


@PROPERTY_SETTINGS
@given(key=st.sampled_from(["decimal", "percent"]), value=decimal_inputs, field=decimal_fields())
def test_decimal_normalization_is_idempotent(key, value, field):
    # given any value the decimal type accepts
    try:
        stored = normalize(key, value, field)
    except FieldValueError:
        return
    # when its stored form is normalized again
    again = normalize(key, stored, field)
    # then it is the same number with the same places
    assert str(again) == str(stored)


@st.composite
def text_fields(draw):
    field = {}
    if draw(st.booleans()):
        field["max_length"] = draw(st.integers(min_value=1, max_value=50))
    if draw(st.booleans()):
        field["min_length"] = draw(st.integers(min_value=0, max_value=10))
    return field


@PROPERTY_SETTINGS
@given(key=st.sampled_from(["text", "long_text"]), value=st.text(max_size=80), field=text_fields())
def test_text_normalization_is_idempotent(key, value, field):
    # given any text the type accepts
    try:
        stored = normalize(key, value, field)
    except FieldValueError:
        return
    # when its stored form is normalized again
    # then it is unchanged
    assert normalize(key, stored, field) == stored


@PROPERTY_SETTINGS
@given(day=st.dates())
def test_date_normalization_is_idempotent(day):
    # given any date, normalized once
    stored = normalize("date", day)
    # when its stored form is normalized again
    # then it is unchanged and is the date's ISO form
    assert normalize("date", stored) == stored == day.isoformat()


# --- readers of stored values --------------------------------------------------------------

# Stored values of the types whose CEL samples cannot be written back (computed, bounded or
# uploaded ones), by type; a rollup's depends on its function.
STORED_SAMPLES = {
    "autonumber": ["Q-2025-0001"],
    "integer": [0, 3],
    "percent": ["0.00", "40.00"],
    "file": [{"id": "a" * 32, "name": "offer.pdf", "size": 10, "type": "application/pdf"}],
}


def stored_samples(field_type: FieldType, field: dict) -> list:
    if field["type"] == "rollup":
        if field.get("result_type") == "date":
            return ["2025-01-31"]
        if field.get("result_type") == "datetime":
            return ["2025-01-31T10:00:00+00:00"]
        return [4] if field["function"] == "count" else ["12.50", "0"]
    if field["type"] in STORED_SAMPLES:
        return STORED_SAMPLES[field["type"]]
    return [field_type.from_cel(field_type.cel_sample(field, variant), field) for variant in (0, 1)]


def test_each_fields_reader_reads_stored_values_as_from_storage_does():
    """Pages read stored values through readers resolved once per field (records.service
    view_of): every field of the crm pack, of every type, reads the same either way."""
    from metadata.packs import load_pack

    seen_types, checked = set(), 0
    for entity in load_pack("crm")["entities"]:
        for field in entity["fields"]:
            field_type = field_types.get(field["type"])
            reader = field_type.reader(field)
            for stored in stored_samples(field_type, field):
                read = stored if reader is None else reader(stored)
                expected = field_type.from_storage(stored, field)
                assert read == expected, (entity["key"], field["key"], stored)
                assert type(read) is type(expected), (entity["key"], field["key"])
                checked += 1
            seen_types.add(field["type"])
    assert checked > 500
    assert seen_types >= set(ALL_TYPES) - {"multi_lookup"}, set(ALL_TYPES) - seen_types
