"""A signed double-submit token against cross-site form posts.

The page sets a random nonce in a cookie that only this site's requests carry (SameSite=Strict,
HttpOnly) and puts the nonce's HMAC under the service's secret in the form. A post passes when
the form's token is the HMAC of the cookie it came with: another site can neither read the cookie
nor sign a nonce of its own. Nothing is stored on the server.
"""

import hashlib
import hmac
import secrets

COOKIE = "smonth_csrf"
FIELD = "csrf_token"
PURPOSE = b"smonth-intake pages: csrf"


class Csrf:
    def __init__(self, secret: str) -> None:
        # A key of its own, derived from the service's secret, so a token is no JWT signature.
        self._key = hmac.new(secret.encode(), PURPOSE, hashlib.sha256).digest()

    @staticmethod
    def nonce(cookie: str | None) -> str:
        """The visitor's nonce: the cookie's, or a new one."""
        return cookie if cookie and len(cookie) == 43 else secrets.token_urlsafe(32)

    def token(self, nonce: str) -> str:
        return hmac.new(self._key, nonce.encode(), hashlib.sha256).hexdigest()

    def valid(self, cookie: str | None, token: str | None) -> bool:
        if not cookie or not token:
            return False
        return hmac.compare_digest(self.token(cookie), token)
