#!/usr/bin/env python3
"""Fault runs against a running local gateway (./dev faults starts everything and calls this).

(a) PostgreSQL stopped and restarted under read load: during the outage every answer is 2xx (the
    world routes may serve from their cache) or a 503 — fast, never the 3 s acquire wait — and
    after the restart the same gateway process recovers within RECOVERY_LIMIT_S and answers no
    5xx afterwards.
(b) The AWS emulator (SQS) restarted during a pipeline run: the run ends (`pass`, or `fail` with a
    reason) — never stuck `running` — and exactly one world build is active: the new one if the
    run passed, the old one otherwise (never half-applied).

Outcomes are asserted (exit 1 on any failure); timings are figures in the JSON written to OUT.
Standard library only. Environment: URL, TOKEN (an admin access token), DATABASE_URL (psql),
PG_STOP / PG_START / EMU_STOP / EMU_START (shell commands), OUT.
"""

import http.client
import json
import os
import subprocess
import sys
import threading
import time
import urllib.parse

URL = os.environ["URL"]
TOKEN = os.environ["TOKEN"]
OUT = os.environ["OUT"]
RECOVERY_LIMIT_S = float(os.environ.get("EXOMAPS_FAULTS_RECOVERY_S", "30"))
OUTAGE_S = float(os.environ.get("EXOMAPS_FAULTS_OUTAGE_S", "10"))
RUN_LIMIT_S = float(os.environ.get("EXOMAPS_FAULTS_RUN_S", "600"))
HOST = urllib.parse.urlparse(URL)

# A route answered from the world cache, one that always needs the database.
ROUTES = ["/api/world/systems?limit=5", "/api/search?q=sol", "/api/world/systems/full?limit=3"]
DB_ROUTE = "/api/search?q=sol"

failures = []


def check(ok, what):
    print(("ok    " if ok else "FAIL  ") + what, flush=True)
    if not ok:
        failures.append(what)


def request(method, path, body=None, token=None, timeout=15):
    conn = http.client.HTTPConnection(HOST.hostname, HOST.port, timeout=timeout)
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = "Bearer " + token
    t0 = time.monotonic()
    try:
        conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, data, (time.monotonic() - t0) * 1000
    except Exception as e:  # a dropped or refused connection counts as status 0
        return 0, str(e).encode(), (time.monotonic() - t0) * 1000
    finally:
        conn.close()


def sh(cmd):
    t0 = time.monotonic()
    subprocess.run(cmd, shell=True, check=True, stdout=subprocess.DEVNULL)
    return time.monotonic() - t0


def psql(sql):
    out = subprocess.run(["psql", os.environ["DATABASE_URL"], "-At", "-c", sql], check=True, capture_output=True, text=True)
    return out.stdout.strip()


def pct(values, p):
    if not values:
        return None
    s = sorted(values)
    return round(s[min(len(s) - 1, int(len(s) * p / 100))], 1)


# --- (a) PostgreSQL outage under read load --------------------------------------------------
def postgres_outage():
    samples = []  # (start monotonic, route, status, ms)
    stop = threading.Event()

    def worker(i):
        n = i
        while not stop.is_set():
            route = ROUTES[n % len(ROUTES)]
            n += 1
            t = time.monotonic()
            status, _, ms = request("GET", route)
            samples.append((t, route, status, ms))

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(8)]
    for t in threads:
        t.start()
    time.sleep(5)
    t_stop = time.monotonic()
    stop_s = sh(os.environ["PG_STOP"])
    t_down = time.monotonic()
    time.sleep(OUTAGE_S)
    t_restart = time.monotonic()
    start_s = sh(os.environ["PG_START"])
    t_up = time.monotonic()
    time.sleep(RECOVERY_LIMIT_S + 10)
    stop.set()
    for t in threads:
        t.join()
    t_end = time.monotonic()

    before = [s for s in samples if s[0] < t_stop]
    outage = [s for s in samples if t_down <= s[0] < t_restart]
    after = [s for s in samples if s[0] >= t_up]
    check(before and all(200 <= s[2] < 300 for s in before), f"(a) before the outage: {len(before)} requests, all 2xx")
    bad = sorted({s[2] for s in outage if not (200 <= s[2] < 300 or s[2] == 503)})
    check(not bad, f"(a) during the outage every answer is 2xx or 503 (other statuses: {bad})")
    db503 = [s[3] for s in outage if s[2] == 503]
    check(any(s[1] == DB_ROUTE and s[2] == 503 for s in outage), "(a) the database route answered 503 during the outage")
    # Fail fast: not the 3 s pool acquire timeout per request (generous bound for a loaded box).
    check(bool(db503) and pct(db503, 50) < 1000, f"(a) 503s are fast: p50 {pct(db503, 50)} ms (< 1000)")
    bad_after = [s for s in after if not 200 <= s[2] < 300]
    last_bad = max((s[0] + s[3] / 1000 for s in bad_after), default=t_up)
    recovery = last_bad - t_up
    check(recovery <= RECOVERY_LIMIT_S, f"(a) recovered {recovery:.2f} s after PostgreSQL was back (<= {RECOVERY_LIMIT_S} s), same gateway process")
    clean = [s for s in after if s[0] > last_bad]
    check(len(clean) > 0 and all(200 <= s[2] < 300 for s in clean), f"(a) after recovery: {len(clean)} requests, no 5xx")
    by_status = {}
    for s in outage:
        by_status[str(s[2])] = by_status.get(str(s[2]), 0) + 1
    return {
        "requests": len(samples),
        "seconds": round(t_end - samples[0][0], 1) if samples else 0,
        "postgres_stop_s": round(stop_s, 2),
        "postgres_start_s": round(start_s, 2),
        "outage_s": round(t_restart - t_down, 1),
        "outage_statuses": by_status,
        "outage_503_latency_ms": {"p50": pct(db503, 50), "p99": pct(db503, 99), "max": pct(db503, 100), "count": len(db503)},
        "outage_2xx_from_cache": sum(1 for s in outage if 200 <= s[2] < 300),
        "recovery_s": round(recovery, 2),
        "requests_after_recovery": len(clean),
        "non_2xx_after_recovery": sum(1 for s in clean if not 200 <= s[2] < 300),
        "latency_ms_before": {"p50": pct([s[3] for s in before], 50), "p99": pct([s[3] for s in before], 99)},
    }


# --- (b) the AWS emulator restarted during a pipeline run ------------------------------------
def emulator_restart():
    old = psql("SELECT world_build_id || ' ' || run_id FROM dm_galaxy.world_builds WHERE status = 'active'")
    old_build, _old_run = old.split()
    status, body, _ = request("POST", "/api/runs", {"run_name": "fault run: emulator restart"}, TOKEN)
    check(status == 202, f"(b) POST /api/runs: {status} {body[:200]!r}")
    if status != 202:
        return {}
    run_id = json.loads(body)["run_id"]
    t0 = time.monotonic()
    # Restart once the chain is under way (a phase done, the next message on SQS).
    phases_done, detail = [], {}
    while time.monotonic() - t0 < 120:
        s, b, _ = request("GET", f"/api/runs/{run_id}", token=TOKEN)
        detail = json.loads(b) if s == 200 else {}
        phases_done = [p.get("phase") for p in detail.get("phases", []) if p.get("status") == "done"]
        if phases_done or detail.get("run", {}).get("status") in ("pass", "fail"):
            break
        time.sleep(0.2)
    status_at_stop = detail.get("run", {}).get("status")
    check(status_at_stop in ("queued", "running"), f"(b) the run was under way when the emulator stopped ({status_at_stop}, done: {phases_done})")
    t_stop = time.monotonic()
    sh(os.environ["EMU_STOP"])
    time.sleep(5)
    sh(os.environ["EMU_START"])
    t_back = time.monotonic()
    final = {}
    while time.monotonic() - t0 < RUN_LIMIT_S:
        s, b, _ = request("GET", f"/api/runs/{run_id}", token=TOKEN)
        if s == 200:
            final = json.loads(b)["run"]
            if final.get("status") in ("pass", "fail"):
                break
        time.sleep(1)
    outcome = final.get("status")
    check(outcome in ("pass", "fail"), f"(b) the run ended ({outcome}) within {RUN_LIMIT_S:.0f} s, not stuck running")
    if outcome == "fail":
        check(bool(final.get("failure_reason")), f"(b) the failed run names a reason: {final.get('failure_reason')!r}")
    active = psql("SELECT count(*) FROM dm_galaxy.world_builds WHERE status = 'active'")
    check(active == "1", f"(b) exactly one active world build ({active})")
    new = psql("SELECT world_build_id || ' ' || run_id FROM dm_galaxy.world_builds WHERE status = 'active'").split()
    if outcome == "pass":
        check(new[1] == run_id and new[0] != old_build, f"(b) the passed run's build is the active one ({new})")
    else:
        check(new[0] == old_build, f"(b) the old build {old_build} is still the active one ({new})")
    return {
        "run_id": run_id,
        "restarted_after_phases": phases_done,
        "emulator_restart_s": round(t_back - t_stop, 1),
        "outcome": outcome,
        "failure_reason": final.get("failure_reason"),
        "run_seconds": round(time.monotonic() - t0, 1),
        "seconds_after_restart": round(time.monotonic() - t_back, 1),
        "old_build": int(old_build),
        "active_build": int(new[0]),
    }


def main():
    which = sys.argv[1:] or ["postgres", "emulator"]
    res = {}
    if "postgres" in which:
        print("faults (a): PostgreSQL stopped and restarted under read load", flush=True)
        res["postgres_outage"] = postgres_outage()
    if "emulator" in which:
        print("faults (b): the AWS emulator restarted during a pipeline run", flush=True)
        res["emulator_restart"] = emulator_restart()
    res["failures"] = failures
    json.dump(res, open(OUT, "w"), indent=2)
    print(json.dumps(res, indent=2))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
