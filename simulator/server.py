"""A small threaded HTTP/1.1 server with keep-alive for the simulator's WSGI app (wsgiref closes every connection)."""
import io
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # small answers must not wait for the peer's delayed ACK
    server_version = "VmsSimulator/1.0"

    def _handle(self) -> None:
        path, _, query = self.path.partition("?")
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        environ = {
            "REQUEST_METHOD": self.command, "PATH_INFO": path, "QUERY_STRING": query, "SERVER_PROTOCOL": self.request_version,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""), "CONTENT_LENGTH": str(length),
            "SERVER_NAME": self.server.server_address[0], "SERVER_PORT": str(self.server.server_address[1]),
            "REMOTE_ADDR": self.client_address[0], "wsgi.input": io.BytesIO(body), "wsgi.errors": sys.stderr,
            "wsgi.url_scheme": "http", "wsgi.version": (1, 0), "wsgi.multithread": True, "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        for name, value in self.headers.items():
            key = name.upper().replace("-", "_")
            if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                key = "HTTP_" + key
                environ[key] = f"{environ[key]},{value}" if key in environ else value
        response = {}

        def start_response(status, headers, exc_info=None):
            response["status"], response["headers"] = status, headers

        chunks = self.server.app(environ, start_response)
        payload = b"".join(chunks)
        code, _, reason = response["status"].partition(" ")
        try:
            self.send_response(int(code), reason)
            for name, value in response["headers"]:
                if name.lower() != "content-length":
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            # Headers and body in one write: one segment per answer.
            self._headers_buffer.append(b"\r\n" + payload)
            self.flush_headers()
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up (e.g. its read timeout passed); the call it asked for still exists.
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle

    def log_message(self, format, *args) -> None:
        # Request lines carry signed query strings with phone numbers: keep them out of the logs.
        pass


class SimulatorServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address, app):
        super().__init__(address, _Handler)
        self.app = app

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}/"


def start_server(app, *, host: str = "127.0.0.1", port: int = 0, background: bool = True) -> SimulatorServer:
    """Bind (port 0 picks a free one) and serve; in the background unless told otherwise."""
    server = SimulatorServer((host, port), app)
    if background:
        threading.Thread(target=server.serve_forever, name="simulator-http", daemon=True).start()
    else:
        server.serve_forever()
    return server
