from fieldcollect.cases.tests.conftest import _fast_password_hashing  # noqa: F401
