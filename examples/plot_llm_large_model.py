"""
=================================================
An LLM as the large model, on a local server
=================================================

:class:`~sklearn_kcm.LLMClassifier` turns an LLM into a scikit-learn
classifier, and so into the large model of a
:class:`~sklearn_kcm.KCMEnsemble`. Here the LLM is a tiny OpenAI-compatible
HTTP server started on the loopback interface by this script (no network, no
key), reached through :class:`~sklearn_kcm.llm.OpenAIChat` and the real
``openai`` client. The server's "model" reads the review and, like a real
LLM asked for help, leans on the hint the prompt carries when it is unsure.
"""

# %%
# A local OpenAI-compatible server
# --------------------------------
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

POSITIVE = {"great", "moving", "funny", "superb", "wonderful", "best", "charming", "fresh"}
NEGATIVE = {"dull", "boring", "worst", "mess", "tedious", "bland", "awful", "flat"}


def answer(prompt):
    text = prompt.split("<text>")[-1].split("</text>")[0].lower()
    words = set(re.findall(r"[a-z]+", text))
    score = len(words & POSITIVE) - len(words & NEGATIVE)
    if score == 0:  # unsure: follow the small model's hint when there is one
        hint = re.search(r"suggests the label '(\w+)'", prompt)
        return hint.group(1) if hint else "negative"
    return "positive" if score > 0 else "negative"


received = []


class ChatHandler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        prompt = body["messages"][-1]["content"]
        received.append(prompt)
        reply = {"id": "1", "object": "chat.completion", "created": 0, "model": body["model"],
                 "choices": [{"index": 0, "finish_reason": "stop",
                              "message": {"role": "assistant", "content": answer(prompt)}}],
                 "usage": {"prompt_tokens": len(prompt.split()), "completion_tokens": 1,
                           "total_tokens": len(prompt.split()) + 1}}
        data = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), ChatHandler)
threading.Thread(target=server.serve_forever, daemon=True).start()
base_url = f"http://127.0.0.1:{server.server_port}/v1"

# %%
# Reviews and a small model
# -------------------------
import numpy as np
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

rng = np.random.default_rng(0)
neutral = ["the plot", "the cast", "this film", "the director", "its second half", "the score"]


def review(label):
    words = sorted(POSITIVE if label == "positive" else NEGATIVE)
    parts = [rng.choice(neutral), "is", rng.choice(words)]
    if rng.random() < 0.4:  # some reviews say nothing the small model knows
        parts = [rng.choice(neutral), "is", "something else"]
    return " ".join(parts)


y = rng.choice(["negative", "positive"], size=300)
X = np.array([review(label) for label in y], dtype=object)
X_train, X_test, y_train, y_test = X[:200], X[200:], y[:200], y[200:]
small = make_pipeline(CountVectorizer(), LogisticRegression()).fit(X_train[:40], y_train[:40])

# %%
# The LLM as the large model
# --------------------------
# ``OpenAIChat`` reads its key from the environment at call time (this local
# server needs none); ``cache`` keeps the answers on disk, so a second run of
# the same prompts sends nothing.
import tempfile

from sklearn_kcm import KCMEnsemble, LLMClassifier
from sklearn_kcm.llm import OpenAIChat

llm = LLMClassifier(OpenAIChat("local-model", base_url=base_url), max_concurrency=4,
                    cache=tempfile.mkdtemp())
kcm = KCMEnsemble(small, llm, judge="small", epsilon=0.75, distill=False)
kcm.fit(X_train[:40], y_train[:40])
print(f"small alone: {small.score(X_test, y_test):.3f}")
print(f"KCM:         {kcm.score(X_test, y_test):.3f}, "
      f"{kcm.route(X_test).mean():.0%} of the reviews sent to the LLM")
print("LLM usage:", kcm.large_.usage_)
print(kcm.ledger_.summary()["predict_large_calls"], "batch call(s) to the large model")

# %%
# What the LLM was asked
# ----------------------
# The last prompt the server received: the review, fenced, and the small
# model's answer with its confidence.
print(received[-1])

# %%
# A second run is free
# --------------------
# The same prompts are answered from the cache: the server sees no request.
before = len(received)
kcm.predict(X_test)
print(f"requests in the second run: {len(received) - before}")
server.shutdown()
