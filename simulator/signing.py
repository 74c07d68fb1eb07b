"""Server-side signature checks for V1 (HMAC-SHA1) and V3 (ACS3-HMAC-SHA256) RPC requests."""
import base64
import hashlib
import hmac
from urllib.parse import quote


def encode(value: str) -> str:
    return quote(value, safe="-_.~", encoding="utf-8")


def canonical_query(params: dict[str, str]) -> str:
    return "&".join(f"{encode(k)}={encode(v)}" for k, v in sorted(params.items()))


def v1_signature(method: str, params: dict[str, str], secret: str) -> str:
    digest = hmac.new(f"{secret}&".encode(), v1_string_to_sign(method, params).encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def v1_string_to_sign(method: str, params: dict[str, str]) -> str:
    signed = {k: v for k, v in params.items() if k != "Signature"}
    return f"{method}&%2F&{encode(canonical_query(signed))}"


def v3_string_to_sign(method: str, path: str, query: dict[str, str], headers: dict[str, str], signed_headers: list[str],
                      payload_hash: str) -> str:
    canonical_headers = "".join(f"{name}:{headers.get(name, '').strip()}\n" for name in signed_headers)
    request = "\n".join([method, path or "/", canonical_query(query), canonical_headers, ";".join(signed_headers), payload_hash])
    return "ACS3-HMAC-SHA256\n" + hashlib.sha256(request.encode()).hexdigest()


def v3_signature(string_to_sign: str, secret: str) -> str:
    return hmac.new(secret.encode(), string_to_sign.encode(), hashlib.sha256).hexdigest()


def parse_authorization(value: str) -> dict[str, str] | None:
    """`ACS3-HMAC-SHA256 Credential=id,SignedHeaders=a;b,Signature=hex` -> its three parts, or None."""
    algorithm, _, rest = value.strip().partition(" ")
    if algorithm != "ACS3-HMAC-SHA256":
        return None
    parts = {}
    for item in rest.split(","):
        name, _, val = item.strip().partition("=")
        parts[name] = val
    if not {"Credential", "SignedHeaders", "Signature"} <= parts.keys():
        return None
    return parts
