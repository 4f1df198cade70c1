"""OpenID Connect (统一身份认证): the authorization-code flow with PKCE (S256), `state` and `nonce`, by Authlib.

Authlib's Django client keeps state, nonce and the PKCE verifier in the session, exchanges the code, and checks the
ID token's signature against the provider's JWKS (joserfc). juece adds what Authlib leaves to the caller:
- the discovered `issuer` must equal JUECE_OIDC_ISSUER (OpenID Connect Discovery §4.3);
- `iss`, `aud` (must contain JUECE_OIDC_CLIENT_ID), `exp` and `sub` are required claims, checked with a leeway of
  JUECE_EXTERNAL_LOGIN_LEEWAY_SECONDS (Authlib alone checks `aud` only through `azp`);
- a token response without an ID token is refused (Authlib would return it unchecked);
- when the provider has a userinfo endpoint its answer is read, and refused unless its `sub` is the ID token's.

Discovery and the JWKS are fetched at each sign-in (a few requests on the intranet), so a rotated key is picked
up at once. Every request waits at most JUECE_EXTERNAL_LOGIN_TIMEOUT_SECONDS.
"""

import requests
from authlib.integrations.base_client.errors import MismatchingStateError, OAuthError
from authlib.integrations.django_client import OAuth
from django.conf import settings
from joserfc.errors import (
    BadSignatureError,
    ClaimError,
    ExpiredTokenError,
    InvalidKeyIdError,
    JoseError,
    MissingKeyError,
    UnsupportedAlgorithmError,
)

from decisions.accounts import external

DISCOVERY_PATH = "/.well-known/openid-configuration"
REQUIRED_METADATA = ("authorization_endpoint", "token_endpoint", "jwks_uri")


def from_settings():
    """The OpenID Connect provider of JUECE_OIDC_ISSUER / _CLIENT_ID / _CLIENT_SECRET, or None when not configured."""
    if not (settings.JUECE_OIDC_ISSUER and settings.JUECE_OIDC_CLIENT_ID and settings.JUECE_OIDC_CLIENT_SECRET):
        return None
    return OpenIDConnectProvider(
        issuer=settings.JUECE_OIDC_ISSUER,
        client_id=settings.JUECE_OIDC_CLIENT_ID,
        client_secret=settings.JUECE_OIDC_CLIENT_SECRET,
        scopes=settings.JUECE_OIDC_SCOPES,
        token_auth_method=settings.JUECE_OIDC_TOKEN_AUTH_METHOD,
        leeway=settings.JUECE_EXTERNAL_LOGIN_LEEWAY_SECONDS,
        label=settings.JUECE_OIDC_LABEL,
        trusted_for_mfa=external.mfa_trusted("JUECE_OIDC_MFA"),
        match_claim=settings.JUECE_OIDC_MATCH_CLAIM,
        timeout=settings.JUECE_EXTERNAL_LOGIN_TIMEOUT_SECONDS,
    )


class OpenIDConnectProvider(external.Provider):
    name = "oidc"

    def __init__(self, *, issuer, client_id, client_secret, scopes, token_auth_method, leeway, **common):
        super().__init__(**common)
        self.issuer = issuer
        self.client_id = client_id
        self.client_secret = client_secret
        self.scopes = scopes
        self.token_auth_method = token_auth_method
        self.leeway = leeway

    def _client(self):
        """A fresh Authlib client: its cached discovery document and JWKS live for this request only."""
        registry = OAuth()
        return registry.register(
            name=f"juece_{self.name}",
            client_id=self.client_id,
            client_secret=self.client_secret,
            server_metadata_url=self.issuer.rstrip("/") + DISCOVERY_PATH,
            client_kwargs={
                "scope": self.scopes,
                "code_challenge_method": "S256",
                "token_endpoint_auth_method": self.token_auth_method,
                "default_timeout": self.timeout,
            },
        )

    def _metadata(self, client):
        try:
            metadata = client.load_server_metadata()
        except (requests.RequestException, ValueError) as error:
            raise self.refused_unavailable(type(error).__name__) from error
        if metadata.get("issuer") != self.issuer:
            raise self.refused_answer(external.BAD_ISSUER, "discovery issuer")
        missing = [key for key in REQUIRED_METADATA if not metadata.get(key)]
        if missing:
            raise self.refused_answer(external.BAD_RESPONSE, "discovery lacks " + ",".join(missing))
        return metadata

    def authorization_url(self, request, redirect_uri):
        client = self._client()
        self._metadata(client)
        return client.authorize_redirect(request, redirect_uri).url

    def complete(self, request, redirect_uri):
        client = self._client()
        metadata = self._metadata(client)
        claims_options = {
            "iss": {"essential": True, "value": self.issuer},
            "aud": {"essential": True, "value": self.client_id},
            "exp": {"essential": True},
            "sub": {"essential": True},
        }
        try:
            token = client.authorize_access_token(request, claims_options=claims_options, leeway=self.leeway)
            if "userinfo" not in token:
                raise self.refused_answer(external.INVALID_TOKEN, "no id_token")
            claims = dict(token["userinfo"])
            if metadata.get("userinfo_endpoint"):
                claims = {**self._userinfo(client, token, claims["sub"]), **claims}
        except MismatchingStateError as error:
            raise self.refused_state() from error
        except OAuthError as error:
            raise self.refused_by_provider(error.error) from error
        except ExpiredTokenError as error:
            raise self.refused_answer(external.TOKEN_EXPIRED, "exp") from error
        except ClaimError as error:
            reason = {"aud": external.BAD_AUDIENCE, "iss": external.BAD_ISSUER, "nonce": external.BAD_NONCE}
            raise self.refused_answer(reason.get(error.claim, external.INVALID_TOKEN), error.claim) from error
        except (BadSignatureError, InvalidKeyIdError, MissingKeyError, UnsupportedAlgorithmError) as error:
            raise self.refused_answer(external.BAD_SIGNATURE, type(error).__name__) from error
        except JoseError as error:
            raise self.refused_answer(external.INVALID_TOKEN, type(error).__name__) from error
        except requests.RequestException as error:
            raise self.refused_unavailable(type(error).__name__) from error
        except ValueError as error:  # a body that is not JSON
            raise self.refused_answer(external.BAD_RESPONSE, type(error).__name__) from error
        return external.ExternalAccount(subject=str(claims["sub"]), claims=claims)

    def _userinfo(self, client, token, subject):
        userinfo = dict(client.userinfo(token=token))
        if userinfo.get("sub") != subject:  # OpenID Connect Core §5.3.2: otherwise the answer must not be used
            raise self.refused_answer(external.INVALID_TOKEN, "userinfo sub")
        return userinfo
