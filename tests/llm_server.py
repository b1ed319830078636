"""A scripted OpenAI-compatible chat-completions server on 127.0.0.1 for tests.

Each request takes the next scripted step (a reply, an HTTP error, or a stall); what the server
received is kept in `requests` for assertions.
"""

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Step:
    status: int = 200
    body: dict | str = ""
    headers: dict = field(default_factory=dict)
    stall: float = 0.0


@dataclass
class Received:
    path: str
    headers: dict
    body: dict
    at: float


class FakeLlm:
    def __init__(self) -> None:
        self.script: deque[Step] = deque()
        self.requests: list[Received] = []
        self.release = threading.Event()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def start(self) -> "FakeLlm":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    # ---- scripting

    def reply(self, content: str, *, total_tokens: int = 100) -> None:
        self.script.append(Step(body=completion(content, total_tokens)))

    def reply_json(self, data: dict, **kwargs) -> None:
        self.reply(json.dumps(data, ensure_ascii=False), **kwargs)

    def error(self, status: int, message: str = "error", headers: dict | None = None) -> None:
        body = {"error": {"message": message, "type": "invalid_request_error", "code": None}}
        self.script.append(Step(status=status, body=body, headers=headers or {}))

    def stall(self, seconds: float) -> None:
        """Answer only after `seconds` (or when the server stops)."""
        self.script.append(Step(body=completion("{}", 1), stall=seconds))

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = {"unparsed": raw.decode("utf-8", "replace")}
                fake.requests.append(
                    Received(
                        self.path,
                        {k.lower(): v for k, v in self.headers.items()},
                        body,
                        time.monotonic(),
                    )
                )
                step = fake.script.popleft() if fake.script else None
                if step is None:
                    step = Step(status=500, body={"error": {"message": "nothing scripted"}})
                if step.stall:
                    fake.release.wait(step.stall)
                payload = step.body if isinstance(step.body, str) else json.dumps(step.body)
                data = payload.encode("utf-8")
                try:
                    self.send_response(step.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for name, value in step.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the client gave up waiting

        return Handler


def completion(content: str, total_tokens: int = 100) -> dict:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 1700000000,
        "model": "test-model",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": total_tokens - 10,
            "completion_tokens": 10,
            "total_tokens": total_tokens,
        },
    }
