"""Users' authentication: user writes (:mod:`.services`), password log-in with lock-out
(:mod:`.login_security`), the second factor (:mod:`.totp`), API tokens and agency network allow-lists
(:mod:`.tokens`), the log-in and TOTP pages (:mod:`.views`), the ``users`` / ``token`` commands
(:mod:`.cli`) and the users' admin. Its models: ``ApiToken``, ``AgencyApiNetworks``, ``TotpDevice``,
``LoginFailure``. ``User`` and ``Role`` stay in :mod:`fieldcollect.core.models`: ``core.User`` has
been the ``AUTH_USER_MODEL`` since the first migration (see docs/architecture.md)."""
