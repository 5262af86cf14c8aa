"""Users and authentication: user writes (:mod:`.services`), password log-in with lock-out
(:mod:`.login_security`), the second factor (:mod:`.totp`), API tokens and agency network allow-lists
(:mod:`.tokens`), the log-in and TOTP pages (:mod:`.views`) and the ``users`` / ``token`` commands
(:mod:`.cli`). The models (``User``, ``LoginFailure``, ``TotpDevice``, ``ApiToken``,
``AgencyApiNetworks``) stay in :mod:`fieldcollect.core.models`."""
