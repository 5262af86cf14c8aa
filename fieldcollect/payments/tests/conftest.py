"""The plans app's world (agencies, people, approvers, a case whose figures follow its schedule), for the
tests of accepted plans: same-day instalments paid, write-back instructions."""

from fieldcollect.plans.tests.conftest import plan_world  # noqa: F401 (the fixture)
