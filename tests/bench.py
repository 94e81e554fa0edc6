#!/usr/bin/env python3
"""`./dev bench` (issue 15): every performance row against its baseline, measured in the same
invocation, as one table on stdout and in target/bench.json. No thresholds: figures only.

Started by `dev` (which builds the binaries, starts a private PostgreSQL, a local gateway on the
sources and passes them in the environment). Rows, each a median of REPEATS (5; 3 with
EXOMAPS_BENCH_QUICK=1):
  P1 cold start per function kind against a Lambda Runtime API stub (here, in Python):
     exec -> ready (first GET /runtime/invocation/next), exec -> first response (POST .../response
     or .../error, a fresh database connection); baseline: curl doing the same handshake
     (exec -> its GET; exec -> its POST), and exec of /bin/true (exec -> exit).
  P2 read API vs nginx serving a file with the exact same response bytes; wrk 32 connections
     rps + p99, 64 connections errors (non-2xx + socket errors, summed over the repeats), the
     gateway and nginx interleaved. Twice per route: identity (no Accept-Encoding sent, nginx
     `gzip off`), then gzip (`Accept-Encoding: gzip` sent by curl and wrk): the gateway's own gzip
     body (its cached copy; `exomaps-local up` compresses unless EXOMAPS_COMPRESS=0), checked to be
     gzip and to decompress to the identity bytes, is written beside the file as `<file>.gz` and
     nginx serves it with `gzip_static on` -- the same compressed bytes, no compression per
     request on either side (checked: nginx answers both encodings with the gateway's bytes).
  P3 pipeline vs psql \\copy: the pipeline bench (shared/local/benches/pipeline.rs) run REPEATS
     times on the five source files, then on BENCH_ROWS synthetic SIMBAD rows (1,000,000; 100,000
     quick) ingested in 1, 2 and 4 shards (EXOMAPS_BENCH_SHARDS), each chain in a fresh database. A run over EXOMAPS_BENCH_P3_TIMEOUT seconds is
     stopped and reported as a timeout (not repeated).
  P4 simulation: shared/sim/benches/engine.rs (its own median of 5): ticks/s of the default
     scenario, 11,000 systems, against its floor (one settlement that never launches).
  P5 map asset bytes per system (the published asset of the gateway's build) and, when the map's
     node_modules, its build (spa/dist; `dev` runs `npm ci` and the build when missing or stale)
     and Chromium are present, first paint from spa/e2e/first-paint.spec.ts.
"""
import gzip
import http.server
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(os.environ["ROOT"])
WORK = Path(os.environ["BENCH_DIR"])
QUICK = os.environ.get("EXOMAPS_BENCH_QUICK") == "1"
REPEATS = int(os.environ.get("EXOMAPS_BENCH_REPEATS", "3" if QUICK else "5"))
PROFILE = os.environ.get("BENCH_PROFILE", "dev")
BIN_DIR = Path(os.environ["BENCH_BIN_DIR"])
GATEWAY = os.environ["BENCH_GATEWAY"]  # http://127.0.0.1:port
DATABASE_URL = os.environ["DATABASE_URL"]
SECRETS = os.environ["BENCH_SECRETS"]
ONLY = set(filter(None, os.environ.get("EXOMAPS_BENCH_ONLY", "").split(",")))
TIMED_OUT = []  # per timed-out pipeline run: the seconds of the phases that finished
rows = []  # every table row: dict(id, what, value, unit, baseline, baseline_value, ratio, n, note)


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def row(id_, what, value, unit, baseline, baseline_value, n, note="", ratio=None):
    if ratio is None and value is not None and baseline_value:
        ratio = value / baseline_value
    rows.append({"id": id_, "what": what, "value": value, "unit": unit, "baseline": baseline,
                 "baseline_value": baseline_value, "ratio": ratio, "n": n, "note": note})


# ---------------------------------------------------------------- P1: cold start
class Stub:
    """A Lambda Runtime API: one event per process; records the times of the first poll and of
    the first answer (response or error, or init/error)."""

    def __init__(self):
        stub = self
        self.lock = threading.Lock()
        self.reset(None)

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_GET(self):
                if not self.path.endswith("/runtime/invocation/next"):
                    self.send_error(404)
                    return
                with stub.lock:
                    if stub.ready is None:
                        stub.ready = time.perf_counter()
                    event, stub.event = stub.event, None
                if event is None:  # one invocation per process: park the next poll
                    stub.parked.wait(30)
                    self.send_error(503)
                    return
                body = json.dumps(event).encode()
                self.send_response(200)
                self.send_header("lambda-runtime-aws-request-id", "req-1")
                self.send_header("lambda-runtime-deadline-ms", str(int(time.time() * 1000) + 30_000))
                self.send_header("lambda-runtime-invoked-function-arn", "arn:aws:lambda:us-east-1:123456789012:function:f")
                self.send_header("lambda-runtime-trace-id", "Root=1-00000000-000000000000000000000000")
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                n = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(n)
                with stub.lock:
                    if stub.answered is None:
                        stub.answered = time.perf_counter()
                        stub.kind = self.path.rsplit("/", 1)[-1]
                        stub.body = body
                stub.done.set()
                self.send_response(202)
                self.send_header("content-length", "0")
                self.end_headers()

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.server.daemon_threads = True
        self.server.handle_error = lambda *a: None  # a parked poll cut off by the process's end
        self.addr = f"127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def reset(self, event):
        with self.lock:
            self.event, self.ready, self.answered, self.kind, self.body = event, None, None, None, None
        self.done = threading.Event()
        self.parked = threading.Event()

    def run(self, argv, event, env):
        """exec -> ready, exec -> first answer (ms), the answer's kind and its status code."""
        self.reset(event)
        t0 = time.perf_counter()
        p = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.perf_counter() + 60
        got = False
        while not got and time.perf_counter() < deadline:
            got = self.done.wait(0.05)
            if not got and p.poll() is not None:
                got = self.done.wait(0.5)
                break
        self.parked.set()
        p.kill() if p.poll() is None else None
        _, err = p.communicate()
        if not got:
            raise RuntimeError(f"{argv[0]}: no answer (exit {p.returncode}): {err.decode(errors='replace')[:600]}")
        status = None
        try:
            status = json.loads(self.body).get("statusCode")
        except Exception:
            pass
        ready = (self.ready - t0) * 1e3 if self.ready else None
        return ready, (self.answered - t0) * 1e3, self.kind, status


def api_event(path, query=None):
    return {
        "resource": path, "path": path, "httpMethod": "GET",
        "headers": {"Host": "abc123.execute-api.us-east-1.amazonaws.com", "Accept": "application/json"},
        "multiValueHeaders": {"Host": ["abc123.execute-api.us-east-1.amazonaws.com"], "Accept": ["application/json"]},
        "queryStringParameters": query, "multiValueQueryStringParameters": {k: [v] for k, v in (query or {}).items()} or None,
        "pathParameters": None, "stageVariables": None,
        "requestContext": {"accountId": "123456789012", "resourceId": "r1", "stage": "prod", "requestId": "req-1",
                           "identity": {"sourceIp": "127.0.0.1", "userAgent": "bench"}, "resourcePath": path,
                           "httpMethod": "GET", "apiId": "abc123", "path": "/prod" + path, "protocol": "HTTP/1.1",
                           "requestTimeEpoch": 1764115200000},
        "body": None, "isBase64Encoded": False,
    }


def ws_event(route_key):
    return {
        "headers": {}, "multiValueHeaders": {},
        "requestContext": {"routeKey": route_key, "eventType": "CONNECT", "extendedRequestId": "x",
                           "requestTime": "26/Nov/2026:18:00:00 +0000", "messageDirection": "IN", "stage": "prod",
                           "connectedAt": 1764180000000, "requestTimeEpoch": 1764180000000,
                           "identity": {"sourceIp": "127.0.0.1"}, "requestId": "r1", "domainName": "ws.example",
                           "connectionId": "bench=", "apiId": "ws123"},
        "body": None, "isBase64Encoded": False,
    }


def sqs_event(phase):
    # A well-formed message for a run that does not exist: the phase reads PostgreSQL and answers.
    body = json.dumps({"run_id": "00000000-0000-4000-8000-000000000000", "phase": phase})
    return {"Records": [{"messageId": "bench-1", "receiptHandle": "r", "body": body, "attributes": {},
                         "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
                         "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:q", "awsRegion": "us-east-1"}]}


def p1():
    stub = Stub()
    env = dict(os.environ)
    env.update({"AWS_LAMBDA_RUNTIME_API": stub.addr, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
                "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST", "DATABASE_URL": DATABASE_URL,
                "EXOMAPS_SECRETS_FILE": SECRETS, "RUST_LOG": "warn",
                # No AWS here: a client that is built but never reached.
                "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "bench",
                "AWS_SECRET_ACCESS_KEY": "bench", "AWS_ENDPOINT_URL": "http://127.0.0.1:9"})
    cases = [
        ("route", "health", api_event("/api/health")),
        ("route", "world-systems", api_event("/api/world/systems")),
        ("route", "world-systems-full", api_event("/api/world/systems/full")),
        ("phase", "phase-ingest", sqs_event("ingest")),
        ("WebSocket", "ws-connect", ws_event("$connect")),
    ]
    # Baselines, same stub, same clock: curl's handshake (GET next, then POST a response).
    nxt = f"http://{stub.addr}/2018-06-01/runtime/invocation/next"
    resp = f"http://{stub.addr}/2018-06-01/runtime/invocation/req-1/response"
    curl = ["curl", "-s", "-o", "/dev/null", nxt, "--next", "-s", "-o", "/dev/null", "-d", "{}", resp]
    base = [stub.run(curl, api_event("/"), env) for _ in range(REPEATS)]
    if [b for b in base if b[0] is None]:
        raise RuntimeError("the curl handshake did not poll")
    base_ready, base_first = med([b[0] for b in base]), med([b[1] for b in base])
    true_ms = []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        subprocess.run(["/bin/true"], check=True)
        true_ms.append((time.perf_counter() - t0) * 1e3)
    row("P1", "baseline: exec of /bin/true -> exit", med(true_ms), "ms", "-", None, REPEATS)
    row("P1", "baseline: curl handshake, exec -> ready", base_ready, "ms", "-", None, REPEATS)
    row("P1", "baseline: curl handshake, exec -> response", base_first, "ms", "-", None, REPEATS)
    for kind, name, event in cases:
        # A release bench measures the release binaries; the dev bench prefers cargo-lambda's
        # bootstraps (./dev lambda, debug) when they exist.
        exe, build = ROOT / "target/lambda" / name / "bootstrap", "cargo-lambda (./dev lambda)"
        if PROFILE == "release" or not exe.exists():
            exe, build = BIN_DIR / name, "release" if "/release" in str(BIN_DIR) else "debug"
        if not exe.exists():
            row("P1", f"{kind} {name}", None, "ms", "curl handshake", None, 0, f"no binary {exe}")
            continue
        runs = [stub.run([str(exe)], event, dict(env, AWS_LAMBDA_FUNCTION_NAME=name)) for _ in range(REPEATS)]
        answers = sorted({f"{r[2]}{'' if r[3] is None else ' ' + str(r[3])}" for r in runs})
        note = f"{build} bootstrap, {exe.stat().st_size / 1e6:.1f} MB; answer: {', '.join(answers)}"
        row("P1", f"{kind} {name}: exec -> ready", med([r[0] for r in runs]), "ms", "curl exec -> ready", base_ready, REPEATS, note)
        row("P1", f"{kind} {name}: exec -> first response", med([r[1] for r in runs]), "ms", "curl exec -> response", base_first, REPEATS, "fresh DB connection")
    stub.server.shutdown()


# ---------------------------------------------------------------- P2: read API vs nginx
def wrk(url, conns, secs, headers=()):
    hs = [a for h in headers for a in ("-H", h)]
    out = subprocess.run(["wrk", "-t2", f"-c{conns}", f"-d{secs}s", "--latency", *hs, url],
                         capture_output=True, text=True, check=True).stdout
    unit = {"us": 1e-3, "ms": 1.0, "s": 1000.0}
    lat = {p: float(v) * unit[u] for p, v, u in re.findall(r"^\s+(\d+)%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)}
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non2xx = int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", out)) else 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return rps, lat.get("99"), non2xx + (sum(map(int, m.groups())) if m else 0)


def fetch(url, gzip_ok=False):
    """One GET with curl, raw (never decompressed): (lower-cased response headers, body)."""
    argv = ["curl", "-fsS", "-i", url] + (["-H", "Accept-Encoding: gzip"] if gzip_ok else [])
    out = subprocess.run(argv, capture_output=True, check=True).stdout
    head, _, body = out.partition(b"\r\n\r\n")
    headers = {}
    for line in head.decode("latin-1").split("\r\n")[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return headers, body


def p2_rows(gw_url, nginx_url, secs, label, note, headers=()):
    """The interleaved wrk runs of one route and encoding: three rows."""
    g, n = [], []
    for _ in range(REPEATS):  # interleaved, so a burst of load hits both
        g.append(wrk(gw_url, 32, secs, headers))
        n.append(wrk(nginx_url, 32, secs, headers))
    e = [wrk(gw_url, 64, secs, headers)[2] for _ in range(REPEATS)]
    en = [wrk(nginx_url, 64, secs, headers)[2] for _ in range(REPEATS)]
    row("P2", f"{label} 32 conns", med([x[0] for x in g]), "req/s", "nginx, same bytes", med([x[0] for x in n]), REPEATS, note)
    row("P2", f"{label} 32 conns p99", med([x[1] for x in g]), "ms", "nginx p99", med([x[1] for x in n]), REPEATS)
    row("P2", f"{label} 64 conns errors (sum)", sum(e), "errors", "nginx errors", sum(en), REPEATS, ratio=None)


def p2():
    secs = int(os.environ.get("EXOMAPS_BENCH_WRK_SECS", "3" if QUICK else "10"))
    www = WORK / "nginx"
    (www / "root/api/world/systems").mkdir(parents=True, exist_ok=True)
    routes = ["/api/world/systems/full", "/api/world/systems/xyz"]
    sizes, gz_sizes = {}, {}
    for r in routes:
        body = subprocess.run(["curl", "-fsS", GATEWAY + r], capture_output=True, check=True).stdout
        f = www / "root" / r.lstrip("/")
        f.write_bytes(body)
        sizes[r] = len(body)
        # The gateway's gzip body, raw: nginx serves these very bytes (gzip_static), compressing nothing.
        h, gz = fetch(GATEWAY + r, gzip_ok=True)
        if h.get("content-encoding") is None:  # EXOMAPS_COMPRESS=0: the identity rows only
            log(f"P2: {r}: no gzip body from the gateway (EXOMAPS_COMPRESS=0?): gzip rows not measured")
            continue
        if h.get("content-encoding") != "gzip" or gz[:2] != b"\x1f\x8b":
            raise RuntimeError(f"{r}: the gateway answered Accept-Encoding: gzip with content-encoding "
                               f"{h.get('content-encoding')!r} and {gz[:2]!r}..., not a gzip body")
        if gzip.decompress(gz) != body:
            raise RuntimeError(f"{r}: the gateway's gzip body does not decompress to its identity body")
        f.with_name(f.name + ".gz").write_bytes(gz)
        gz_sizes[r] = len(gz)
    port, gz_port = free_port(), free_port()
    user = "user root;" if os.geteuid() == 0 else ""
    conf = www / "nginx.conf"
    # Two servers on one root: identity (gzip off, the .gz files ignored) and gzip_static (the
    # .gz file when the request accepts gzip; gzip itself stays off: no compression per request).
    conf.write_text(f"""{user}
daemon off; worker_processes 2; pid {www}/nginx.pid; error_log {www}/error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off; sendfile on; tcp_nopush on; keepalive_requests 1000000; gzip off;
  client_body_temp_path {www}/tmp-body; proxy_temp_path {www}/tmp-proxy; fastcgi_temp_path {www}/tmp-fcgi;
  uwsgi_temp_path {www}/tmp-uwsgi; scgi_temp_path {www}/tmp-scgi;
  types {{ }} default_type application/json;
  server {{ listen 127.0.0.1:{port}; root {www}/root; }}
  server {{ listen 127.0.0.1:{gz_port}; root {www}/root; gzip_static on; }}
}}
""")
    nginx = subprocess.Popen(["nginx", "-c", str(conf), "-p", str(www)], stderr=subprocess.PIPE)
    try:
        nurl, ngz = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{gz_port}"
        for _ in range(100):
            try:
                body = subprocess.run(["curl", "-fsS", nurl + routes[0]], capture_output=True, check=True).stdout
                break
            except subprocess.CalledProcessError:
                if nginx.poll() is not None:
                    raise RuntimeError("nginx exited: " + nginx.stderr.read().decode())
                time.sleep(0.1)
        build = "release" if PROFILE == "release" else "debug"
        for r in routes:
            f = www / "root" / r.lstrip("/")
            same = subprocess.run(["curl", "-fsS", nurl + r], capture_output=True, check=True).stdout
            assert same == f.read_bytes(), "nginx serves other bytes"
            p2_rows(GATEWAY + r, nurl + r, secs, r, f"{sizes[r]} bytes identity, wrk {secs} s, gateway {build} build")
            if r not in gz_sizes:
                row("P2", f"{r} gzip 32 conns", None, "req/s", "nginx, same bytes", None, 0,
                    "not measured: the gateway sent no gzip body (EXOMAPS_COMPRESS=0?)")
                continue
            h, same = fetch(ngz + r, gzip_ok=True)
            if h.get("content-encoding") != "gzip" or same != f.with_name(f.name + ".gz").read_bytes():
                raise RuntimeError(f"{r}: nginx gzip_static does not serve the gateway's gzip bytes ({h})")
            if fetch(ngz + r)[1] != f.read_bytes():
                raise RuntimeError(f"{r}: nginx gzip_static answers a request without Accept-Encoding with other bytes")
            note = (f"{gz_sizes[r]} bytes gzip ({gz_sizes[r] / sizes[r]:.1%} of identity; the gateway's, "
                    f"nginx gzip_static), wrk {secs} s, gateway {build} build")
            p2_rows(GATEWAY + r, ngz + r, secs, f"{r} gzip", note, ["Accept-Encoding: gzip"])
    finally:
        nginx.send_signal(signal.SIGQUIT)
        try:
            nginx.wait(10)
        except subprocess.TimeoutExpired:
            nginx.kill()
            nginx.wait()


# ---------------------------------------------------------------- P3: pipeline vs \copy
def cargo_bench_exe(pkg, bench):
    """Builds one bench target (BENCH_PROFILE) and returns its executable."""
    out = subprocess.run(["cargo", "bench", "-q", "--profile", PROFILE if PROFILE != "release" else "bench",
                          "-p", pkg, "--bench", bench, "--no-run", "--message-format=json"],
                         capture_output=True, text=True, cwd=ROOT)
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-3000:])
    for line in out.stdout.splitlines():
        m = json.loads(line)
        if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["name"] == bench:
            return m["executable"]
    raise RuntimeError(f"no executable for bench {bench}")


def pipeline_run(exe, sources, n_rows, timeout, shards="1"):
    """One run of the pipeline bench; its result lines, or None on a timeout (its cluster is
    stopped: the bench's work folder is under our TMPDIR)."""
    tmp = WORK / "p3-tmp"
    tmp.mkdir(exist_ok=True)
    env = dict(os.environ, EXOMAPS_SOURCES=str(sources), BENCH_ROWS=str(n_rows), BENCH_SHARDS=shards, TMPDIR=str(tmp))
    env.pop("RUST_LOG", None)
    p = subprocess.Popen([exe], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        partial = {}
        for pid_file in tmp.glob("exomaps-pipeline-bench-*/pg/data/postmaster.pid"):
            # The phases that did finish (ingest, usually), read from the bench's own cluster.
            port = pid_file.read_text().splitlines()[3].strip()
            q = ("SELECT phase, extract(epoch FROM finished_at - started_at) FROM stg_data.run_phases "
                 "WHERE finished_at IS NOT NULL")
            out = subprocess.run(["psql", f"postgres://postgres@127.0.0.1:{port}/postgres", "-Atc", q],
                                 capture_output=True, text=True).stdout
            partial = {k: float(v) for k, v in (line.split("|") for line in out.splitlines() if "|" in line)}
        TIMED_OUT.append(partial)
        for d in tmp.glob("exomaps-pipeline-bench-*"):
            subprocess.run([str(BIN_DIR / "exomaps-local"), "pg-stop", str(d / "pg")], capture_output=True)
            subprocess.run(["rm", "-rf", str(d)])
        return None
    if p.returncode != 0:
        raise RuntimeError(f"pipeline bench failed: {err[-3000:]}")
    res = {}
    for line in out.splitlines()[1:]:
        t = line.split()
        # input (words) rows copy ingest canon xyz infer chain ingest-row/s ×copy
        if len(t) >= 10:
            nums = list(map(float, t[-9:]))
            res[" ".join(t[:-9])] = dict(zip(["rows", "copy", "ingest", "canon", "xyz", "infer", "chain", "ingest_rps", "ratio"], nums))
    return res


def p3():
    exe = cargo_bench_exe("exomaps-local", "pipeline")
    timeout = int(os.environ.get("EXOMAPS_BENCH_P3_TIMEOUT", "600"))
    n_rows = int(os.environ.get("BENCH_ROWS", "100000" if QUICK else "1000000"))
    sources = Path(os.environ["BENCH_SOURCES"])
    empty = WORK / "no-sources"
    empty.mkdir(exist_ok=True)
    build = "release" if PROFILE == "release" else "debug"
    # The five files (the synthetic part of these runs is 1,000 rows, ignored).
    runs = []
    for _ in range(REPEATS):
        r = pipeline_run(exe, sources, 1000, timeout)
        if r is None:
            break
        runs.append(next(v for k, v in r.items() if not k.startswith("synthetic")))
    if runs:
        name = f"{len(list(sources.glob('*.csv')))} source files, {int(runs[0]['rows'])} rows"
        row("P3", f"{name}: whole chain", med([r["chain"] for r in runs]), "s", "psql \\copy", med([r["copy"] for r in runs]), len(runs), f"{build} build; shards 1")
        row("P3", f"{name}: ingest", med([r["ingest_rps"] for r in runs]), "rows/s", "-", None, len(runs))
    else:
        row("P3", "source files: whole chain", None, "s", "psql \\copy", None, 0, f"timeout > {timeout} s")
    # The synthetic file, once per shard count in each run (shards handled concurrently, as
    # parallel ingest Lambdas; each chain in a fresh database).
    shard_counts = [int(n) for n in os.environ.get("EXOMAPS_BENCH_SHARDS", "1,2,4").split(",") if n.strip()]
    runs = []
    for _ in range(REPEATS):
        log(f"P3: synthetic {n_rows} rows, shards {shard_counts}, run {len(runs) + 1}")
        r = pipeline_run(exe, empty, n_rows, timeout * len(shard_counts), ",".join(map(str, shard_counts)))
        if r is None:
            break
        runs.append(r)
    for n in shard_counts:
        key = f"synthetic {n_rows} rows" + ("" if n == 1 else f", {n} shards")
        got = [r[key] for r in runs if key in r]
        if got:
            row("P3", f"synthetic {n_rows} rows, {n} shard{'s' if n > 1 else ''}: whole chain", med([r["chain"] for r in got]), "s",
                "psql \\copy", med([r["copy"] for r in got]), len(got), f"{build} build")
            row("P3", f"synthetic {n_rows} rows, {n} shard{'s' if n > 1 else ''}: ingest", med([r["ingest_rps"] for r in got]), "rows/s",
                "psql \\copy rows/s", n_rows / med([r["copy"] for r in got]), len(got),
                "canonicalise %.1f s, transform %.1f s, infer %.1f s" % tuple(med([r[k] for r in got]) for k in ("canon", "xyz", "infer")))
    if not runs:
        row("P3", f"synthetic {n_rows} rows: whole chain", None, "s", "psql \\copy", None, 0, f"timeout: one run > {timeout} s per shard count (EXOMAPS_BENCH_P3_TIMEOUT), {build} build")
        done = TIMED_OUT[-1] if TIMED_OUT else {}
        if "ingest" in done:
            row("P3", f"synthetic {n_rows} rows: ingest (chain timed out)", n_rows / done["ingest"], "rows/s", "-", None, 1,
                "phases finished before the timeout: " + ", ".join(f"{k} {v:.1f} s" for k, v in done.items()))


# ---------------------------------------------------------------- P4: simulation
def p4():
    exe = cargo_bench_exe("exomaps-sim", "engine")
    env = dict(os.environ, EXOMAPS_SOURCES=os.environ["BENCH_SOURCES"])
    out = subprocess.run([exe], env=env, capture_output=True, text=True, check=True, cwd=ROOT / "shared/sim").stdout
    m = re.search(r"10,000 ticks from Sol \(median of 5\) \| ([\d.]+) s = (\d+) ticks/s", out)
    f = re.search(r"10,000 ticks, one settlement, 11,000 systems / 1,000 systems \| ([\d.]+) ms", out)
    floor = 10_000 / (float(f.group(1)) / 1e3) if f else None
    build = "release" if PROFILE == "release" else "dev profile (exomaps-sim at opt-level 3)"
    row("P4", "sim 11,000 systems, default scenario", float(m.group(2)) if m else None, "ticks/s",
        "floor: one settlement, no launches", floor, 5, f"{build} build; on-CPU time, the bench's median of 5")
    r = re.search(r"real catalogue \((\d+) systems\), default, 2,000 ticks from Sol \| [\d.]+ ms = (\d+) ticks/s", out)
    if r:
        row("P4", f"sim real catalogue ({r.group(1)} systems)", float(r.group(2)), "ticks/s", "floor (11,000 systems)", floor, 5)


# ---------------------------------------------------------------- P5: map asset, first paint
def p5():
    objects = Path(os.environ["BENCH_OBJECTS"])
    pointer = json.loads((objects / "data/world/latest.json").read_text())
    n = int(pointer.get("systems") or 0)
    files = {}
    for k in ("asset", "names"):
        v = pointer.get(k)
        if isinstance(v, str) and (objects / v.lstrip("/")).is_file():
            files[k] = (objects / v.lstrip("/")).read_bytes()
    for k, b in files.items():
        gz = len(gzip.compress(b, 9))
        if n:
            row("P5", f"map asset '{k}' bytes/system ({n} systems)", gz / n, "B gzip", "identity bytes/system", len(b) / n, 1, "one published asset: no repeats")
    fp = ROOT / "target/e2e/first-paint.json"
    missing = [w for w, ok in [("spa/node_modules", (ROOT / "spa/node_modules").is_dir()),
                               ("spa/dist (the built map)", (ROOT / "spa/dist/index.html").is_file()),
                               ("Chromium", Path(os.environ.get("EXOMAPS_CHROMIUM", "/usr/bin/chromium")).exists())] if not ok]
    if not missing:
        fp.unlink(missing_ok=True)  # a result left by an earlier run is never reported as this one's
        env = dict(os.environ, EXOMAPS_FIRST_PAINT_RUNS=str(max(REPEATS, 5)))
        subprocess.run(["npx", "playwright", "test", "e2e/first-paint.spec.ts"], cwd=ROOT / "spa", env=env, check=True, stdout=sys.stderr)
        r = json.loads(fp.read_text())
        row("P5", "first paint, 11,000 synthetic systems", r["median_first_paint_ms"], "ms", "issue 6 goal (not measured)", 2000, r["runs"], "headless Chromium, e2e/first-paint.spec.ts")
        row("P5", "synthetic asset map part bytes/system", r["map_gzip_bytes_per_system"], "B gzip", "identity", r["map_bytes_per_system"], 1)
    else:
        row("P5", "first paint", None, "ms", "-", None, 0, f"not measured: {', '.join(missing)} missing (./dev spa; apt-get install chromium or EXOMAPS_CHROMIUM)")


def main():
    steps = {"P1": p1, "P2": p2, "P3": p3, "P4": p4, "P5": p5}
    failed = []
    for k, f in steps.items():
        if ONLY and k not in ONLY:
            continue
        log(f"{k} ({REPEATS} repeats)")
        t = time.time()
        try:
            f()
        except Exception as e:  # one broken row does not hide the others
            failed.append(k)
            row(k, "FAILED", None, "", "", None, 0, str(e)[-300:])
        log(f"{k} done in {time.time() - t:.0f} s")

    def fmt(v):
        return "-" if v is None else (f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}")
    head = ["row", "measure", "value", "unit", "baseline (same run)", "baseline", "ratio", "n", "note"]
    table = [[r["id"], r["what"], fmt(r["value"]), r["unit"], r["baseline"], fmt(r["baseline_value"]),
              "-" if r["ratio"] is None else f"{r['ratio']:.3g}x", str(r["n"]), r["note"]] for r in rows]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for t in table:
        print("| " + " | ".join(t) + " |")
    with open("/proc/loadavg") as f:
        load = f.read().split()[:3]
    doc = {"quick": QUICK, "repeats": REPEATS, "profile": PROFILE, "load_average": load, "cpus": os.cpu_count(),
           "rows": rows}
    (ROOT / "target/bench.json").write_text(json.dumps(doc, indent=2) + "\n")
    print(f"load average {' '.join(load)} on {os.cpu_count()} CPUs; target/bench.json", file=sys.stderr)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
