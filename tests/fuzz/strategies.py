"""Hostile input for every parser: any unicode (surrogates, NUL, line breaks of every kind), the tokens the parsers
split on, numbers too big for any field, and very long strings; plus the check that an error is a sentence."""

from __future__ import annotations

import re
from typing import Any

from hypothesis import strategies as st

# Every code point, lone surrogates included (a browser's JSON can carry '\ud800' to the server)
ANY_CHARACTER = st.characters(exclude_categories=())
# What the parsers split on or give meaning to, and characters that look like digits or letters but are not ASCII
FRAGMENTS = (
    *'0123456789:/.,=@#[]\\- \t\n\r',
    '\x00',
    '\x0b',
    '\x1c',
    '\x85',
    '\u2028',
    '\ufeff',
    '\ud800',
    '\udfff',
    '..',
    '../',
    '//',
    '://',
    '٣',  # an Arabic-Indic digit: str.isdigit() and \d say yes
    '²',  # a superscript two: str.isdigit() says yes, int() says no
    '½',
    'İ',  # changes length when lowercased
    'ﬀ',
    'K',  # the Kelvin sign: lowercases to ASCII 'k'
    'e',
    'E',
    'inf',
    'nan',
    '-1',
    '0',
    '65536',
    '9' * 40,
    '9' * 400,
    '9' * 5000,
    'tcp',
    'udp',
    'ro',
    'rw',
    'm',
    'g',
    'KiB',
    'sha256:',
    'a' * 64,
    'x' * 300,
    '127.0.0.1',
    '::1',
    '[::1]',
    '10.0.0.0/8',
    'fd00::/64',
    'localhost',
    'berth.',
    'host',
    'none',
    '/dev/',
)


def hostile_text(max_fragments: int = 12) -> st.SearchStrategy[str]:
    """Text a person (or a hostile browser) could send in one field."""
    return st.one_of(
        st.text(ANY_CHARACTER, max_size=40),
        st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(ANY_CHARACTER, max_size=3)), max_size=max_fragments).map(
            ''.join
        ),
        st.builds(
            lambda piece, count: piece * count,
            st.sampled_from(('a', '9', '/', '\n', ':', '=')),
            st.integers(1000, 200_000),
        ),
    )


# What a YAML or JSON document can put where a value is expected
SCALARS: st.SearchStrategy[Any] = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=10**300, max_value=10**400),
    st.floats(),
    hostile_text(),
)
VALUES: st.SearchStrategy[Any] = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.one_of(hostile_text(4), st.integers()), children, max_size=4)
    ),
    max_leaves=8,
)

# A sentence about the input repeats at most the start of it (core.errors.clip): never all of a huge value
MAX_SENTENCE = 1000
# What Python itself says when a parser lets an exception through: never what a person should read
_INTERNAL = re.compile(
    r'Traceback|invalid literal for|could not convert|Exceeds the limit|object has no attribute|unsupported operand|'
    r'not supported between|object is not (?:iterable|subscriptable|callable)|argument must be|takes \d+ positional|'
    r'unexpected keyword argument|cannot convert float|codec can.t (?:en|de)code|NoneType|expected string or'
)


def assert_sentence(message: str) -> None:
    """An error a person reads: not empty, and none of Python's own wording."""
    assert message.strip(), 'an empty error message'
    assert not _INTERNAL.search(message), f'Python internals in the message: {message[:500]!r}'
    assert len(message) <= MAX_SENTENCE, f'a sentence of {len(message)} characters: {message[:300]!r}…'
