"""Sign-in: the OAuth2 password flow, and who the caller is."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, Field

from api.deps import AppSettings, CurrentUser, DbConn
from api.ratelimit import enforce
from api.security import issue_token, verify_password
from store.users import find_user

router = APIRouter(prefix="/auth", tags=["auth"])
LOGIN_ATTEMPTS_PER_MINUTE = 10


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_at: datetime


class Me(BaseModel):
    id: int = Field(examples=[7])
    name: str = Field(examples=["lan.nguyen"])
    role: str = Field(examples=["investigator"])
    agency_id: int | None = Field(examples=[2])


@router.post(
    "/token",
    responses={
        401: {"description": "Wrong username or password."},
        429: {"description": "Too many sign-ins for this username; see Retry-After."},
    },
)
def token(
    request: Request,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    conn: DbConn,
    settings: AppSettings,
) -> TokenOut:
    """Exchange a username and password for a short-lived bearer token."""
    # Per username, so guessing one account's password is slow whoever asks.
    enforce(request, f"login:{form.username}", limit=LOGIN_ATTEMPTS_PER_MINUTE, what="sign-ins")
    user = find_user(conn, form.username)
    # verify_password runs even for unknown users, so timing does not reveal who exists.
    valid = verify_password(user.password_hash if user else None, form.password)
    if user is None or not valid or not user.active:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="wrong username or password",
            headers={"WWW-Authenticate": "Bearer"},
        )
    issued = issue_token(user.id, settings)
    return TokenOut(access_token=issued.token, expires_at=issued.expires_at)


@router.get("/me")
def me(principal: CurrentUser) -> Me:
    """The caller as the service sees it: role and agency."""
    return Me(
        id=principal.id,
        name=principal.name,
        role=principal.role.value,
        agency_id=principal.agency_id,
    )
