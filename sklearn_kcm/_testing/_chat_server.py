"""An OpenAI-compatible ``/v1/chat/completions`` server on loopback, for tests and benchmarks.

A real HTTP server (``http.server.ThreadingHTTPServer``) on 127.0.0.1 with a
fixed latency per request, scripted faults (HTTP 429/500, garbage answers, or
replies of status 200 that are no chat completion: an HTML page, a body that
is not JSON, no choices, for the next requests) and a record of every prompt
and Authorization header it received. The answer is a rule of the text between ``<text>`` and
``</text>``: "positive" when it holds a positive word, else "negative".
"""

import json
import re
import threading
import time
from collections import Counter, deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

POSITIVE = {"good", "great", "excellent", "fun", "moving", "brilliant", "delight"}
# replies of status 200 that a proxy or a misconfigured server sends: (status, type, body)
MALFORMED = {
    "html": (200, "text/html", b"<html><body><h1>502 Bad Gateway</h1></body></html>"),
    "not_json": (200, "application/json", b"upstream timed out"),
    "no_choices": (200, "application/json", json.dumps(
        {"id": "x", "object": "chat.completion", "created": 0, "model": "m",
         "choices": []}).encode()),
}


def keyword_answer(prompt):
    match = re.search(r"<text>\n(.*?)\n</text>", prompt, flags=re.S)
    words = set(re.findall(r"[a-z]+", (match.group(1) if match else prompt).lower()))
    return "positive" if words & POSITIVE else "negative"


class ChatServer:
    """Start with ``with ChatServer(latency=0.05) as server: server.base_url``."""

    def __init__(self, latency=0.0, answer=keyword_answer, retry_after="0"):
        self.latency = latency
        self.retry_after = retry_after  # the Retry-After header of a 429
        self.answer = answer
        # next responses: an HTTP status (int), "garbage", or a malformed 200 of MALFORMED
        self.script = deque()
        self.prompts = []
        self.auth_headers = set()
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self._server = None

    @property
    def base_url(self):
        host, port = self._server.server_address
        return f"http://{host}:{port}/v1"

    def prompt_counts(self):
        with self._lock:
            return Counter(self.prompts)

    def __enter__(self):
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                if not self.path.endswith("/chat/completions"):
                    self.send_error(404)
                    return
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                prompt = body["messages"][-1]["content"]
                with owner._lock:
                    owner.prompts.append(prompt)
                    owner.auth_headers.add(self.headers.get("Authorization", ""))
                    owner.in_flight += 1
                    owner.max_in_flight = max(owner.max_in_flight, owner.in_flight)
                    scripted = owner.script.popleft() if owner.script else None
                try:
                    time.sleep(owner.latency)
                    if scripted in MALFORMED:
                        self._reply_raw(*MALFORMED[scripted])
                        return
                    if isinstance(scripted, int):
                        status, payload = scripted, {"error": {"message": "scripted fault"}}
                    else:
                        text = ("hmm, hard to say" if scripted == "garbage"
                                else owner.answer(prompt))
                        status, payload = 200, {
                            "id": "chatcmpl-test", "object": "chat.completion", "created": 0,
                            "model": body["model"],
                            "choices": [{"index": 0, "finish_reason": "stop",
                                         "message": {"role": "assistant", "content": text}}],
                            "usage": {"prompt_tokens": len(prompt.split()),
                                      "completion_tokens": 1,
                                      "total_tokens": len(prompt.split()) + 1},
                        }
                finally:
                    # out of flight before the answer leaves: a client that sends its next
                    # request as soon as it reads this one must not be counted twice
                    with owner._lock:
                        owner.in_flight -= 1
                self._reply(status, payload)

            def _reply(self, status, payload):
                self._reply_raw(status, "application/json", json.dumps(payload).encode())

            def _reply_raw(self, status, content_type, data):
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                if status == 429:
                    self.send_header("Retry-After", owner.retry_after)
                self.end_headers()
                self.wfile.write(data)

        self._server = serve_on_loopback(Handler)
        return self

    def __exit__(self, *exc):
        stop_serving(self._server)


def serve_on_loopback(handler):
    """A ThreadingHTTPServer on a free port of 127.0.0.1, serving ``handler`` from a thread."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def stop_serving(server):
    server.shutdown()
    server.server_close()
