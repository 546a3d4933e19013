"""Where the demo's reminders land: a real SMTP server keeping each e-mail as an .eml file, and an
HTTP endpoint standing in for the SMS gateway, keeping each message as a JSON line."""

import json
import re
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope, Session


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _MailFolder:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.count = 0
        self.lock = threading.Lock()
        self.by_recipient: dict[str, list[Path]] = {}

    async def handle_DATA(self, server: object, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content
        assert isinstance(raw, bytes)
        address = (envelope.rcpt_tos or ["unknown"])[0]
        # An address may hold '/' and other characters a file name cannot: kept as '_'.
        recipient = re.sub(r"[^\w.+=-]", "_", address.replace("@", "_at_"))[:120]
        with self.lock:
            self.count += 1
            path = self.folder / f"{self.count:05d}-{recipient}.eml"
            path.write_bytes(raw)
            self.by_recipient.setdefault(address.lower(), []).append(path)
        return "250 Message accepted for delivery"


class MailSink:
    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.handler = _MailFolder(folder)
        self.port = free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> "MailSink":
        self.controller.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.controller.stop()

    @property
    def received(self) -> int:
        return self.handler.count

    def mails_to(self, address: str) -> list[Path]:
        """The .eml files received for `address`, oldest first."""
        with self.handler.lock:
            return list(self.handler.by_recipient.get(address.lower(), []))


class SmsSink:
    """Accepts `POST /` with a JSON body, as an SMS gateway would, and appends it to a file."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.received = 0
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                with sink.path.open("a", encoding="utf-8") as out:
                    out.write(json.dumps(json.loads(body or b"{}"), ensure_ascii=False) + "\n")
                sink.received += 1
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"status":"queued"}')

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "SmsSink":
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()
        self.server.server_close()
