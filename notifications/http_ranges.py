"""Files served with HTTP Range support (RFC 9110 §14): a player seeks by asking for a part, and Safari asks that way
before it plays anything. Django's FileResponse always sends the whole file.

One range per request: a request for several is answered with the whole file, which the RFC allows.
"""
import re

from django.http import FileResponse, HttpResponse, StreamingHttpResponse

_RANGE = re.compile(r"bytes=(\d*)-(\d*)")
CHUNK = 64 * 1024


def byte_range(header: str, size: int) -> tuple[int, int] | None | bool:
    """(first, last) byte asked for; None if the header is to be ignored (absent, malformed, several ranges); False if
    it is well formed but no byte of a file of `size` bytes satisfies it."""
    match = _RANGE.fullmatch(header.strip().replace(" ", ""))
    if match is None or not any(match.groups()):
        return None
    first, last = match.groups()
    if not first:  # bytes=-N: the last N bytes
        length = int(last)
        return (max(size - length, 0), size - 1) if length and size else False
    first = int(first)
    if last and int(last) < first:
        return None  # bytes=9-5 is invalid, so ignored
    if first >= size:
        return False
    return first, min(int(last), size - 1) if last else size - 1


def ranged_file_response(request, handle, *, content_type: str, etag: str = "") -> HttpResponse:
    """The open binary file `handle`, whole (200) or the range the request asks for (206, or 416 if none fits).

    With `etag`, an If-Range naming another version of the file gets the whole file, as the RFC says.
    """
    handle.seek(0, 2)
    size = handle.tell()
    handle.seek(0)
    wanted = None
    if request.method in ("GET", "HEAD") and "range" in request.headers:
        if_range = request.headers.get("if-range")
        if if_range is None or (etag and if_range == f'"{etag}"'):
            wanted = byte_range(request.headers["range"], size)
    if wanted is False:
        handle.close()
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
    elif wanted is None:
        response = FileResponse(handle, content_type=content_type)
    else:
        first, last = wanted
        response = StreamingHttpResponse(_part(handle, first, last - first + 1), status=206, content_type=content_type)
        response["Content-Range"] = f"bytes {first}-{last}/{size}"
        response["Content-Length"] = str(last - first + 1)
    response["Accept-Ranges"] = "bytes"
    if etag:
        response["ETag"] = f'"{etag}"'
    return response


def _part(handle, start: int, length: int):
    try:
        handle.seek(start)
        while length > 0:
            chunk = handle.read(min(CHUNK, length))
            if not chunk:
                break
            length -= len(chunk)
            yield chunk
    finally:
        handle.close()
