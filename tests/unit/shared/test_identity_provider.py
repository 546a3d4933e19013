"""A deployment's own identity provider: tokens signed with its keys, published as a JWKS
document at a URL, are taken by every service without code changes; others are refused."""

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from smonth_shared.auth import IdentityProvider, Revocations, TokenVerifier, issue_token
from smonth_shared.problems import Problem

ISSUER = "https://id.example.gov.cn/realms/campaign"
AUDIENCE = "safety-month-api"
SECRET = "the-services-own-secret-0123456789abcdef"


def _public_jwk(key: Any, kid: str, alg: str) -> dict[str, Any]:
    algorithm = jwt.algorithms.RSAAlgorithm if alg == "RS256" else jwt.algorithms.ECAlgorithm
    return {**json.loads(algorithm.to_jwk(key.public_key())), "kid": kid, "alg": alg, "use": "sig"}


RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())
UNKNOWN_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
JWKS = {"keys": [_public_jwk(RSA_KEY, "rsa-1", "RS256"), _public_jwk(EC_KEY, "ec-1", "ES256")]}


@pytest.fixture(scope="module")
def jwks_url() -> Iterator[str]:
    """The provider's JWKS document, served over HTTP as an OIDC issuer serves it."""

    class Keys(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps(JWKS).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Keys)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/protocol/openid-connect/certs"
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


@pytest.fixture
def verifier(jwks_url: str) -> TokenVerifier:
    return TokenVerifier(SECRET, provider=IdentityProvider(jwks_url, ISSUER, AUDIENCE))


def _provider_token(key: Any, kid: str, alg: str, **changes: Any) -> str:
    now = datetime.now(UTC)
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "f3b2c1", "role": "unit", "unit": "44",
              "iat": int(now.timestamp()), "exp": int((now + timedelta(minutes=5)).timestamp()),
              **changes}  # fmt: skip
    return jwt.encode(claims, key, algorithm=alg, headers={"kid": kid})


@pytest.mark.parametrize(("key", "kid", "alg"), [(RSA_KEY, "rsa-1", "RS256"),
                                                 (EC_KEY, "ec-1", "ES256")])  # fmt: skip
def test_a_token_of_the_providers_published_key_is_taken(
    verifier: TokenVerifier, key: Any, kid: str, alg: str
) -> None:
    principal = verifier.verify(_provider_token(key, kid, alg))

    assert (principal.sub, principal.role, principal.unit) == ("f3b2c1", "unit", "44")


@pytest.mark.parametrize(
    "token",
    [
        _provider_token(UNKNOWN_KEY, "rsa-1", "RS256"),  # the provider's key id, another key
        _provider_token(UNKNOWN_KEY, "rsa-9", "RS256"),  # a key the document does not list
        _provider_token(RSA_KEY, "rsa-1", "RS256", iss="https://elsewhere.example"),
        _provider_token(RSA_KEY, "rsa-1", "RS256", aud="another-api"),
    ],
    ids=["signed by an unknown key", "an unlisted key id", "another issuer", "another audience"],
)
def test_a_token_the_provider_did_not_issue_for_us_is_refused(
    verifier: TokenVerifier, token: str
) -> None:
    with pytest.raises(Problem) as refused:
        verifier.verify(token)

    assert refused.value.status == 401


def test_without_a_provider_an_asymmetric_token_is_refused() -> None:
    with pytest.raises(Problem) as refused:
        TokenVerifier(SECRET).verify(_provider_token(RSA_KEY, "rsa-1", "RS256"))

    assert refused.value.status == 401


def test_the_services_own_tokens_are_still_taken_beside_the_providers(
    verifier: TokenVerifier,
) -> None:
    assert verifier.verify(issue_token(SECRET, role="staff", sub="staff:1")).sub == "staff:1"


def test_a_withdrawn_subject_or_session_is_refused_from_the_moment_of_withdrawal() -> None:
    revocations = Revocations()
    verifier = TokenVerifier(SECRET, revocations=revocations)
    earlier = datetime.now(UTC) - timedelta(minutes=2)
    before = issue_token(SECRET, role="unit", unit="44", sub="account:a1", now=earlier)
    other_session = issue_token(SECRET, role="unit", unit="44", sub="account:a2", session="s2",
                                now=earlier)  # fmt: skip

    revocations.revoke("sub:account:a1", int((earlier + timedelta(minutes=1)).timestamp()))
    revocations.revoke("session:s2", int((earlier + timedelta(minutes=1)).timestamp()))
    after = issue_token(SECRET, role="unit", unit="44", sub="account:a1")

    for token in (before, other_session):
        with pytest.raises(Problem) as refused:
            verifier.verify(token)
        assert refused.value.status == 401
        assert "withdrawn" in refused.value.detail
    assert verifier.verify(after).sub == "account:a1"
