"""Checking a username and password, for the sign-in page and the token endpoint alike."""

from __future__ import annotations

from hotline.auth import service as auth
from hotline.web.state import AppState


async def check_credentials(state: AppState, *, client: str, username: str, password: str) -> int:
    """The user id if the password is right, under the sign-in throttle.

    The account is read in a short transaction of its own and the password is checked with
    no transaction open (`auth.sign_in_candidate`); the caller opens the token or page
    session in a transaction of its own afterwards (`auth.signed_in_user`).
    """
    async with state.logins.attempt(client, username):
        async with state.sessionmaker() as session:
            candidate = await auth.sign_in_candidate(session, username=username)
        return await auth.check_sign_in(candidate, password)
