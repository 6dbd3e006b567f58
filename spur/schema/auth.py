"""Signing in and staying signed in."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from spur.api.context import Context
from spur.schema.member import MemberNode


@strawberry.input(description="E-mail and password.")
class LoginInput:
    email: str
    password: str


@strawberry.type(description="Tokens for a signed-in member.")
class LoginPayload:
    access_token: str = strawberry.field(description="Short-lived bearer token.")
    refresh_token: str = strawberry.field(description="Single-use; rotate it.")
    expires_at: datetime = strawberry.field(description="When the access token dies.")
    viewer: MemberNode = strawberry.field(description="Who signed in.")


@strawberry.input(description="The refresh token last issued.")
class RefreshTokenInput:
    refresh_token: str


@strawberry.type(description="A new access token and the next refresh token.")
class RefreshTokenPayload:
    access_token: str
    refresh_token: str
    expires_at: datetime


@strawberry.type
class AuthMutation:
    @strawberry.mutation(description="Sign in with e-mail and password.")
    async def login(
        self, info: strawberry.Info[Context, Any], input: LoginInput
    ) -> LoginPayload:
        tokens = info.context.services.tokens
        member, access, expires_at, refresh = await tokens.login(
            input.email, input.password
        )
        return LoginPayload(
            access_token=access,
            refresh_token=refresh,
            expires_at=expires_at,
            viewer=MemberNode.of(member),
        )

    @strawberry.mutation(
        description="Trade a refresh token for new tokens; a reused one ends the "
        "whole session family."
    )
    async def refresh_token(
        self, info: strawberry.Info[Context, Any], input: RefreshTokenInput
    ) -> RefreshTokenPayload:
        tokens = info.context.services.tokens
        _, access, expires_at, refresh = await tokens.refresh(input.refresh_token)
        return RefreshTokenPayload(
            access_token=access, refresh_token=refresh, expires_at=expires_at
        )
