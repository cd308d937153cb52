"""Hypothesis profiles: ``ci`` (the default: derandomized, modest, no example database, so every run tries the same
inputs and the whole fuzz suite stays well under a minute on two cores) and ``deep`` (random, many examples, the
failures kept in .hypothesis/ to replay): ``HYPOTHESIS_PROFILE=deep pytest tests/fuzz``."""

from __future__ import annotations

import os
from datetime import timedelta

from hypothesis import HealthCheck, settings

# The deadline is the hang guard: an input that takes seconds is a bug (a parser looping, a regular expression
# backtracking); it is generous because other tests share the two cores.
HANG_GUARD = timedelta(seconds=3)
SLOW_INPUT = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example]

settings.register_profile(
    'ci', max_examples=60, derandomize=True, database=None, deadline=HANG_GUARD, suppress_health_check=SLOW_INPUT
)
settings.register_profile('deep', max_examples=3000, deadline=HANG_GUARD, suppress_health_check=SLOW_INPUT)
settings.load_profile(os.environ.get('HYPOTHESIS_PROFILE', 'ci'))
