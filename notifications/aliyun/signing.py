"""Request signing for the Alibaba Cloud RPC gateway: V1 (HMAC-SHA1) and V3 (ACS3-HMAC-SHA256)."""
import base64
import hashlib
import hmac
from urllib.parse import quote

EMPTY_BODY_SHA256 = hashlib.sha256(b"").hexdigest()


def percent_encode(value: str) -> str:
    """RFC 3986 over UTF-8: only A-Z a-z 0-9 - _ . ~ stay as they are (space is %20, * is %2A)."""
    return quote(value, safe="-_.~", encoding="utf-8")


def canonical_query(params: dict[str, str]) -> str:
    """Parameters sorted byte-wise by name, each name and value percent-encoded, joined by `&`."""
    return "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in sorted(params.items()))


def v1_string_to_sign(method: str, params: dict[str, str]) -> str:
    signed = {k: v for k, v in params.items() if k != "Signature"}
    return f"{method}&{percent_encode('/')}&{percent_encode(canonical_query(signed))}"


def v1_sign(method: str, params: dict[str, str], secret: str) -> str:
    return v1_sign_canonical(method, canonical_query({k: v for k, v in params.items() if k != "Signature"}), secret)


def v1_sign_canonical(method: str, canonical: str, secret: str) -> str:
    """The signature of an already canonicalised query (lets the caller reuse it as the URL's query string)."""
    string_to_sign = f"{method}&%2F&{percent_encode(canonical)}"
    digest = hmac.new(f"{secret}&".encode(), string_to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def v3_canonical_request(method: str, query: dict[str, str], headers: dict[str, str], payload_hash: str, path: str = "/") -> str:
    names = sorted(name.lower() for name in headers)
    lowered = {name.lower(): str(value).strip() for name, value in headers.items()}
    canonical_headers = "".join(f"{name}:{lowered[name]}\n" for name in names)
    return "\n".join([method, path, canonical_query(query), canonical_headers, ";".join(names), payload_hash])


def v3_authorization(method: str, query: dict[str, str], headers: dict[str, str], access_key_id: str, secret: str,
                     payload_hash: str = EMPTY_BODY_SHA256) -> str:
    """The `Authorization` header value; every header in `headers` is signed."""
    canonical = v3_canonical_request(method, query, headers, payload_hash)
    string_to_sign = "ACS3-HMAC-SHA256\n" + hashlib.sha256(canonical.encode()).hexdigest()
    signature = hmac.new(secret.encode(), string_to_sign.encode(), hashlib.sha256).hexdigest()
    signed_headers = ";".join(sorted(name.lower() for name in headers))
    return f"ACS3-HMAC-SHA256 Credential={access_key_id},SignedHeaders={signed_headers},Signature={signature}"
