"""People: the signed-in user, the stored accounts, their passwords and single-sign-on identities.

One word, one meaning:

- a **user** (:class:`User`) is who is signed in, as a request sees them;
- an **account** (:class:`Accounts`, :class:`Account`) is what the database keeps about a user:
  password hash, whether it is active, its roles;
- an **SSO identity** (:class:`SsoIdentities`) is an (issuer, subject) pair from a single-sign-on
  provider, linked to one account.
"""

from __future__ import annotations

from gradio_portal.users.accounts import Account, Accounts, normalize_username
from gradio_portal.users.sso import SsoIdentities
from gradio_portal.users.user import User

__all__ = ["Account", "Accounts", "SsoIdentities", "User", "normalize_username"]
