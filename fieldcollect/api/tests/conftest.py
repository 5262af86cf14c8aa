from fieldcollect.cases.tests.conftest import world  # noqa: F401
