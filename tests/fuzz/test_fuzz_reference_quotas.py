"""Image references (core/docker/reference.py) and quota rules (core/environments/quotas.py) under hostile input."""

from __future__ import annotations

import math
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from core.commands.spec import SpecError
from core.docker.reference import InvalidReference, parse_reference
from core.environments.quotas import FORM_FIELDS, Held, Limits, Quota, rule_from_form

from .strategies import VALUES, assert_sentence, hostile_text

REFERENCES = st.one_of(
    hostile_text(),
    st.lists(
        st.sampled_from(('registry.example.com', 'localhost', '127.0.0.1:5000', 'team', 'app', '/', ':', '@', '1.0')),
        max_size=8,
    ).map(''.join),
    st.from_regex(r'[a-z0-9.:/@_-]{1,40}', fullmatch=True),
)


@given(REFERENCES, st.booleans())
@example('127.0.0.1:' + '9' * 5000 + '/app', True)  # a port of 5000 digits (int() refuses it)
@example('app@sha256:' + 'a' * 64, False)
def test_image_reference(text: str, allow_digest: bool) -> None:
    """A reference, whose text reads back as the same reference; or a sentence naming what is wrong."""
    try:
        reference = parse_reference(text, allow_digest=allow_digest)
    except InvalidReference as error:
        assert_sentence(str(error))
        return
    assert parse_reference(str(reference)) == reference or not reference.tag  # 'app' reads back as 'app:latest'
    assert reference.repository and reference.repository == reference.repository.lower()


@given(
    st.fixed_dictionaries(
        {'applies': st.one_of(st.sampled_from(('role', 'group', 'user')), hostile_text(4))},
        optional={'name': hostile_text(), **{key: hostile_text(6) for key in FORM_FIELDS}},
    )
)
@example({'applies': 'role', 'name': 'developer', 'environments': '9' * 5000})
@example({'applies': 'role', 'name': 'developer', 'environments': '9' * 400})  # was: saved, then no job could carry it
@example({'applies': 'role', 'name': 'developer', 'running': '²'})
def test_quota_form(values: dict[str, str]) -> None:
    try:
        rule = rule_from_form(values)
    except SpecError as error:
        for message in error.errors.values():
            assert_sentence(message)
        return
    limits = rule.limits
    quota = Quota(owner='local:dana', username='dana', limits=limits)
    assert Quota.from_dict(quota.to_dict()) == quota  # what a job carries, signed
    held = [Held(name='a', running=True, cpus=1.0, memory=2**30), Held(name='b', running=False, cpus=0.5, memory=0)]
    for sentence in (quota.create_refusal(held, held[0]), quota.start_refusal(held, held[1])):
        assert sentence is None or sentence.strip()


@given(st.one_of(VALUES, st.dictionaries(st.sampled_from(('owner', 'username', 'limits')), VALUES, max_size=3)))
@example({'owner': 'o', 'username': 'u', 'limits': {'cpus': 'lots'}})  # was: "could not convert string to float"
@example({'owner': 'o', 'username': 'u', 'limits': {'memory': 10**400}})  # was: OverflowError
@example({'owner': 'o', 'username': 'u', 'limits': {'running': [1]}})  # was: float()'s "argument must be" words
@example({'owner': 'o', 'username': 'u', 'limits': []})  # was: AttributeError: 'list' object has no attribute 'get'
def test_quota_from_a_message(data: Any) -> None:
    """The limits a job carries (and the rows the admin page stored): a quota, or a ValueError with a sentence."""
    try:
        quota = Quota.from_dict(data) if isinstance(data, dict) else Limits.from_dict(data)
    except ValueError as error:
        assert_sentence(str(error))
        return
    limits = quota.limits if isinstance(quota, Quota) else quota
    assert all(value is None or math.isfinite(value) for value in limits.to_dict().values())
