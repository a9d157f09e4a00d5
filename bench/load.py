"""Load test of the real app: simulated officers asking questions through nginx to 1 or more
replicas, each a browser session speaking Streamlit's websocket protocol (bench/stclient.py).

    python -m bench.load                      # the full matrix: 1 and 2 replicas x 1, 10, 50 officers,
                                              # 3 minutes each (~19 min); writes deploy/LOAD.md and
                                              # deploy/load-results.json
    python -m bench.load --quick              # 2 replicas, 3 officers, 40 s (what tests/test_load.py runs)
    python -m bench.load --replicas 2 --officers 50 --duration 300 --out DIR
    python -m bench.load --store postgresql://...   # the replicas read the PostgreSQL store
    python -m bench.load --url http://host:8500 --replicas 2   # an already running deployment
    python -m bench.load --render deploy/load-results.json     # only write LOAD.md again

Per (replicas, officers) cell the replicas and nginx are started afresh (deploy.replicas.Cluster,
a run folder per cell with every log), each replica is warmed up with one question on its own
port, then every officer opens the app at a random moment of the first --ramp seconds and asks
a question every --interval seconds (uniform, seeded; never before the previous answer has come)
until --duration is over; answers still under way are awaited.

Measured per question: Enter-to-rendered-answer, from sending the rerun BackMsg that carries the
chat input to the ForwardMsg `script_finished` of that run, and that the answer was rendered (the
question's echo, then the answer's caption; an exception element or the app's "search failed"
is an error). Errors: the page or socket failed, the socket closed, no answer, an answer later
than --timeout. Leaks: every question ends in a marker "(vraag <officer>-<n>)" that the app
echoes; a session that ever receives another officer's marker is a leak. Stickiness: every
response an officer gets names the same replica (X-Upstream), and nginx's access log shows one
replica per route cookie. Memory: the RSS of each replica and of nginx, sampled every second;
CPU: each replica's CPU time over the cell, and the load generator's own (it shares the machine).

Exit status 1 when a cell had errors, leaks or a stickiness violation; the latency targets of
issue #21 are reported, not enforced.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import psutil

from bench.stclient import BrowserSession, Run, RunTimeout, SessionClosed, SessionError
from deploy.replicas import DEFAULT_PORT, Cluster, ReplicaError
from ui.i18n import STRINGS

REPO = Path(__file__).resolve().parents[1]
QUESTION_FILES = ("eval/officer.yaml", "eval/officer-check.yaml")  # the officer-phrased sets of eval/sets.yaml
MARKER = "(vraag {officer}-{n})"
MARKER_RE = re.compile(rb"vraag (\d+)\\?-(\d+)")  # also as md_escape writes it: "vraag 3\-1"
WARM_UP_QUESTION = "Wat is het BVM?"
TARGET_P95_S = 3.0  # issue #21: 50 officers on one replica, Enter-to-rendered-answer p95 <= 3 s
# what the chat page renders (ui/passages.py), in either language
ANSWER_SHOWN = tuple({s[k].split("{")[0].encode() for s in STRINGS.values() for k in ("answer_all_dates", "answer_on")})
SEARCH_FAILED = tuple({s["search_failed"].encode() for s in STRINGS.values()})
CONFIDENCE_SHOWN = (
    ("high", tuple({f"**{s['answer_high']}**".encode() for s in STRINGS.values()})),
    ("low", tuple({f"**{s['answer_low']}**".encode() for s in STRINGS.values()})),
    ("none", tuple({s["no_answer"].encode() for s in STRINGS.values()})),
)


@dataclass(frozen=True)
class Plan:
    replicas: tuple[int, ...] = (1, 2)
    officers: tuple[int, ...] = (1, 10, 50)
    duration: float = 180.0  # seconds in which questions are started, per cell
    interval: tuple[float, float] = (20.0, 40.0)  # between one officer's questions
    ramp: float = 10.0  # officers open the app within the first `ramp` seconds
    timeout: float = 30.0  # an answer later than this is an error
    max_wait: float = 90.0  # a run not finished after this is given up (error; the officer reconnects)
    seed: int = 21


FULL = Plan()
QUICK = Plan(replicas=(2,), officers=(3,), duration=40.0, interval=(5.0, 10.0), ramp=3.0, max_wait=60.0)


# -- one officer


@dataclass
class Question:
    officer: int
    n: int
    at: float  # seconds after the cell's start when it was sent
    latency: float | None = None  # Enter to script_finished
    answer_s: float | None = None  # Enter to the frame with the answer's caption
    confidence: str = ""
    error: str = ""  # "" | timeout | no-answer | closed | exception | not-rendered | search-failed


@dataclass
class Officer:
    id: int
    questions: list[Question] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # every error, with its detail
    leaks: list[str] = field(default_factory=list)  # markers of other officers this session received
    upstreams: list[str] = field(default_factory=list)
    route: str = ""  # the bw_route cookie nginx gave this browser
    session_ids: list[str] = field(default_factory=list)
    open_s: float | None = None

    def leak_check(self, raw: bytes) -> None:
        for m in MARKER_RE.finditer(raw):
            if int(m.group(1)) != self.id:
                self.leaks.append(m.group(0).decode("ascii", "replace"))


def check_answer(run: Run, marker: str) -> tuple[str, str, float | None]:
    """(error, confidence, answer time) of a chat run: the question's echo must come, then the
    answer's caption; an exception element or "search failed" after the echo is an error."""
    if run.exceptions():
        return "exception", "", None
    echo = marker.encode()
    seen_echo, answer_at, confidence = False, None, ""
    for f in run.frames:
        if not seen_echo:
            seen_echo = echo in f.raw
            continue
        if any(s in f.raw for s in SEARCH_FAILED):
            return "search-failed", "", None
        if answer_at is None and any(s in f.raw for s in ANSWER_SHOWN):
            answer_at = f.at - run.sent_at
        if answer_at is not None and not confidence:
            confidence = next((name for name, marks in CONFIDENCE_SHOWN if any(m in f.raw for m in marks)), "")
    if answer_at is None:
        return "not-rendered", "", None
    return "", confidence or "?", answer_at


async def officer_session(officer: Officer, url: str, texts: list[str], plan: Plan, rng: random.Random,
                          t0: float, deadline: float, log) -> None:  # fmt: skip
    """One officer: open the app, then ask until the deadline; reconnect after a closed socket."""
    await asyncio.sleep(rng.uniform(0, plan.ramp))
    session = BrowserSession(url, on_frame=officer.leak_check)
    try:
        opened = await session.open(max_wait=plan.max_wait)
        officer.open_s = opened.seconds
        officer.session_ids.append(session.session_id)
    except SessionError as exc:
        officer.errors.append(f"open: {exc}")
        officer.upstreams += session.upstreams
        await session.close()
        return
    pool = rng.sample(texts, len(texts))
    next_at = time.perf_counter() + rng.uniform(*plan.interval)
    n = 0
    try:
        while next_at < deadline:
            await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
            n += 1
            marker = MARKER.format(officer=officer.id, n=n)
            q = Question(officer.id, n, at=round(time.perf_counter() - t0, 3))
            officer.questions.append(q)
            next_at += rng.uniform(*plan.interval)
            try:
                run = await session.submit_chat(f"{pool[(n - 1) % len(pool)]} {marker}", max_wait=plan.max_wait)
            except (SessionClosed, RunTimeout) as exc:
                q.error = "closed" if isinstance(exc, SessionClosed) else "no-answer"
                officer.errors.append(f"question {n}: {exc}")
                log(f"officer {officer.id}, question {n}: {exc}; reconnecting")
                await session.close()
                try:  # a browser reconnects and asks to resume its session (same cookies)
                    await session.open(max_wait=plan.max_wait)
                    officer.session_ids.append(session.session_id)
                except SessionError as exc2:
                    officer.errors.append(f"reconnect: {exc2}")
                    return
                continue
            q.latency = round(run.seconds, 4)
            q.error, q.confidence, answer_s = check_answer(run, marker)
            q.answer_s = round(answer_s, 4) if answer_s is not None else None
            if not q.error and q.latency > plan.timeout:
                q.error = "timeout"
            if q.error:
                officer.errors.append(f"question {n}: {q.error}" + (f" ({'; '.join(run.exceptions())})" if run.exceptions() else ""))
    finally:
        officer.upstreams += session.upstreams
        officer.route = session.cookies().get("bw_route", "")
        await session.close()


# -- one cell


class Sampler:
    """RSS of each process group of a cluster every second (peak and mean), and CPU time over the cell."""

    def __init__(self, cluster: Cluster | None) -> None:
        self.cluster = cluster
        self.peak: dict[str, int] = {}
        self.sum: dict[str, int] = {}
        self.count = 0
        self.cpu0 = self._cpu()
        self.me0 = psutil.Process().cpu_times()
        self.machine0 = psutil.cpu_times()

    def _groups(self) -> dict[str, list[psutil.Process]]:
        return self.cluster.processes() if self.cluster is not None else {}

    def _cpu(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for name, procs in self._groups().items():
            for p in procs:
                try:
                    t = p.cpu_times()
                    out[name] = out.get(name, 0.0) + t.user + t.system
                except psutil.Error:
                    pass
        return out

    def sample(self) -> None:
        self.count += 1
        for name, procs in self._groups().items():
            rss = 0
            for p in procs:
                try:
                    rss += p.memory_info().rss
                except psutil.Error:
                    pass
            self.peak[name] = max(self.peak.get(name, 0), rss)
            self.sum[name] = self.sum.get(name, 0) + rss

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self.sample()
            try:
                await asyncio.wait_for(stop.wait(), 1.0)
            except TimeoutError:
                pass

    def result(self, wall: float) -> dict:
        cpu1 = self._cpu()
        me = psutil.Process().cpu_times()
        machine1 = psutil.cpu_times()
        idle = (machine1.idle + machine1.iowait) - (self.machine0.idle + self.machine0.iowait)
        busy = (sum(machine1) - sum(self.machine0)) - idle
        cpu_busy = {k: round((cpu1.get(k, 0.0) - self.cpu0.get(k, 0.0)) / wall, 3) for k in sorted(cpu1)}
        generator = (me.user + me.system - self.me0.user - self.me0.system) / wall
        mib = 2**20
        return {
            "peak_rss_mib": {k: round(v / mib, 1) for k, v in sorted(self.peak.items())},
            "mean_rss_mib": {k: round(self.sum[k] / self.count / mib, 1) for k in sorted(self.sum)},
            "cpu_busy": cpu_busy,
            "generator_cpu_busy": round(generator, 3),
            # the whole machine, and what other processes than the replicas, nginx and this one
            # took of it (the machine is shared: a busy neighbour slows the answers down)
            "machine_cpu_busy": round(busy / wall, 3),
            "other_processes_cpu_busy": round(max(0.0, busy / wall - sum(cpu_busy.values()) - generator), 3),
        }


def stickiness(officers: list[Officer], access_log: Path | None) -> dict:
    """Officers whose responses named more than one replica; routes with more than one replica in nginx's log."""
    by_header = [o.id for o in officers if len(set(o.upstreams)) > 1]
    routes: dict[str, set[str]] = {}
    if access_log is not None and access_log.exists():
        for line in access_log.read_text(encoding="utf-8", errors="replace").splitlines():
            m = re.search(r"route=(\S+) upstream=(.+)$", line)
            if m:
                # several addresses ("a, b" or "a : b") when nginx tried more than one replica
                routes.setdefault(m.group(1), set()).update(u for u in re.split(r"\s*[,:]\s+", m.group(2).strip()) if u)
    ours = {o.route for o in officers if o.route}
    by_log = sorted(r for r in ours if len(routes.get(r, ())) > 1)
    return {"officers_on_several_replicas": by_header, "routes_on_several_replicas_in_log": by_log,
            "routes_in_log": len(ours & routes.keys()), "violations": len(by_header) + len(by_log)}  # fmt: skip


async def warm_up(ports: list[int], log) -> None:
    """One question per replica on its own port: the model is loaded before the cell is measured."""
    for port in ports:
        s = BrowserSession(f"http://127.0.0.1:{port}")
        try:
            await s.open()
            run = await s.submit_chat(WARM_UP_QUESTION)
            log(f"warm-up of replica {port}: {run.seconds:.2f} s")
        finally:
            await s.close()


async def run_cell(url: str, replicas: int, n_officers: int, plan: Plan, texts: list[str], cell: int,
                   cluster: Cluster | None, log) -> dict:  # fmt: skip
    if cluster is not None:
        await warm_up(cluster.replica_ports, log)
    officers = [Officer(id=cell * 1000 + i + 1) for i in range(n_officers)]
    sampler = Sampler(cluster)
    stop = asyncio.Event()
    sampling = asyncio.create_task(sampler.run(stop))
    t0 = time.perf_counter()
    deadline = t0 + plan.duration
    log(f"cell {cell}: {replicas} replica(s), {n_officers} officer(s), {plan.duration:.0f} s")
    tasks = [officer_session(o, url, texts, plan, random.Random(f"{plan.seed}-{cell}-{o.id}"), t0, deadline, log)
             for o in officers]  # fmt: skip
    results = await asyncio.gather(*tasks, return_exceptions=True)
    wall = time.perf_counter() - t0
    stop.set()
    await sampling
    for o, r in zip(officers, results):
        if isinstance(r, BaseException):  # a bug in the generator, not the app: say so in the errors
            o.errors.append(f"load generator: {r!r}")
    res = summarise(replicas, n_officers, officers, wall, plan)
    res.update(sampler.result(wall))
    return res


def pct(values: list[float], q: float) -> float | None:
    return round(float(np.percentile(values, q)), 3) if values else None


def summarise(replicas: int, n_officers: int, officers: list[Officer], wall: float, plan: Plan) -> dict:
    qs = [q for o in officers for q in o.questions]
    lat = [q.latency for q in qs if q.latency is not None]
    ans = [q.answer_s for q in qs if q.answer_s is not None]
    kinds: dict[str, int] = {}
    for q in qs:
        if q.error:
            kinds[q.error] = kinds.get(q.error, 0) + 1
    other = sum(1 for o in officers for e in o.errors if not e.startswith("question "))
    if other:
        kinds["open/reconnect/generator"] = other
    per_replica: dict[str, int] = {}
    for o in officers:
        for u in sorted(set(o.upstreams)):
            per_replica[u] = per_replica.get(u, 0) + 1
    conf: dict[str, int] = {}
    for q in qs:
        if q.confidence:
            conf[q.confidence] = conf.get(q.confidence, 0) + 1
    return {
        "replicas": replicas, "officers": n_officers, "seconds": round(wall, 1),
        "questions": len(qs), "answered": sum(1 for q in qs if q.latency is not None and not q.error),
        "officers_answered": sum(1 for o in officers if any(q.latency is not None and not q.error for q in o.questions)),
        "latency_s": {"p50": pct(lat, 50), "p95": pct(lat, 95), "max": round(max(lat), 3) if lat else None,
                      "mean": round(sum(lat) / len(lat), 3) if lat else None},
        "answer_shown_s": {"p50": pct(ans, 50), "p95": pct(ans, 95), "max": round(max(ans), 3) if ans else None},
        "open_s": {"p50": pct([o.open_s for o in officers if o.open_s is not None], 50),
                   "max": max((o.open_s for o in officers if o.open_s is not None), default=None)},
        "questions_per_s": round(len(qs) / wall, 3) if wall else None,
        "errors": sum(kinds.values()), "error_kinds": kinds,
        "leaks": sum(len(o.leaks) for o in officers), "leaked_markers": sorted({m for o in officers for m in o.leaks})[:20],
        "sessions_per_replica": per_replica, "confidence": conf,
        "officer_detail": [{"id": o.id, "route": o.route, "upstreams": sorted(set(o.upstreams)), "session_ids": o.session_ids,
                            "open_s": o.open_s, "errors": o.errors[:10], "leaks": o.leaks[:10],
                            "questions": [asdict(q) for q in o.questions]} for o in officers],
    }  # fmt: skip


# -- the run


def load_texts(files: list[str]) -> list[str]:
    from retrieval.evaluate import load_questions

    texts = [q.question for f in files for q in load_questions(REPO / f if not Path(f).is_absolute() else Path(f))]
    if not texts:
        raise SystemExit(f"no questions in {', '.join(files)}")
    return texts


def nginx_version() -> str:
    try:
        from deploy.replicas import find_nginx

        return subprocess.run([find_nginx(), "-v"], capture_output=True, text=True, timeout=10).stderr.strip().removeprefix("nginx version: ")
    except (ReplicaError, OSError, subprocess.SubprocessError):
        return "not installed"


def machine() -> dict:
    from bench.common import machine as base

    import streamlit

    m = base(load_model_libs=False)
    m["versions"] = {**{k: v for k, v in m["versions"].items() if v}, "streamlit": streamlit.__version__, "nginx": nginx_version()}
    return m


async def run_all(plan: Plan, args, log) -> dict:
    texts = load_texts(args.questions)
    res: dict = {"plan": asdict(plan), "command": " ".join(["python -m bench.load", *(args.argv or [])]),
                 "store": "postgresql" if (args.store or os.environ.get("BELEIDSWIJZER_STORE", "")).startswith("postgres") else "embedded",
                 "index": str(args.index or os.environ.get("BELEIDSWIJZER_INDEX", "")), "questions_from": list(args.questions),
                 "question_pool": len(texts), "machine": machine(), "cells": []}  # fmt: skip
    run_root = Path(args.run_dir or tempfile.mkdtemp(prefix="beleidswijzer-load-"))
    res["run_dir"] = str(run_root)
    cell = 0
    for replicas in plan.replicas:
        for n in plan.officers:
            cell += 1
            if args.url:
                r = await run_cell(args.url, replicas, n, plan, texts, cell, None, log)
                r["stickiness"] = stickiness_from(r, None)
            else:
                cluster = Cluster(replicas, port=args.port, run_dir=run_root / f"cell{cell}-r{replicas}-n{n}", index=args.index,
                                  store=args.store, log=log)  # fmt: skip
                with cluster:
                    r = await run_cell(cluster.url, replicas, n, plan, texts, cell, cluster, log)
                # nginx writes a websocket's log line when it closes: read the log after the stop
                r["stickiness"] = stickiness_from(r, cluster.access_log)
            res["cells"].append(r)
            log(f"cell {cell}: {r['questions']} questions, p50 {r['latency_s']['p50']} s, p95 {r['latency_s']['p95']} s, "
                f"max {r['latency_s']['max']} s, {r['errors']} errors, {r['leaks']} leaks, "
                f"{r['stickiness']['violations']} stickiness violations, peak RSS {r.get('peak_rss_mib')}")  # fmt: skip
    return res


def stickiness_from(cell: dict, access_log: Path | None) -> dict:
    officers = [Officer(id=o["id"], upstreams=o["upstreams"], route=o["route"]) for o in cell["officer_detail"]]
    return stickiness(officers, access_log)


# -- report


def _fmt(v, unit: str = "") -> str:
    return "–" if v is None else f"{v:.2f}{unit}" if isinstance(v, float) else f"{v}{unit}"


def verdict(cells: list[dict]) -> list[str]:
    """The issue's targets against the figures: 50 officers on one replica p95 <= 3 s, 0 errors,
    0 leaks; two replicas the same or better."""
    by = {(c["replicas"], c["officers"]): c for c in cells}
    lines = []
    one, two = by.get((1, 50)), by.get((2, 50))
    for label, c in (("one replica", one), ("two replicas", two)):
        if c is None:
            lines.append(f"- 50 officers on {label}: not measured in this run.")
            continue
        p95 = c["latency_s"]["p95"]
        ok = p95 is not None and p95 <= TARGET_P95_S and c["errors"] == 0 and c["leaks"] == 0
        lines.append(f"- 50 officers on {label}: p95 {_fmt(p95, ' s')} (target ≤ {TARGET_P95_S:.0f} s), {c['errors']} errors, "
                     f"{c['leaks']} leaks (targets 0): **{'met' if ok else 'NOT met'}**.")  # fmt: skip
    if one and two and one["latency_s"]["p95"] is not None and two["latency_s"]["p95"] is not None:
        better = two["latency_s"]["p95"] <= one["latency_s"]["p95"] and two["errors"] <= one["errors"]
        lines.append(f"- Two replicas against one at 50 officers: p95 {_fmt(two['latency_s']['p95'], ' s')} against "
                     f"{_fmt(one['latency_s']['p95'], ' s')}: **{'the same or better' if better else 'worse'}**.")  # fmt: skip
    return lines


def render(res: dict) -> str:
    m, plan = res["machine"], res["plan"]
    out = ["# Load test: simulated officers through nginx to the app's replicas", "",
           f"Measured {m['date']} with `{res['command']}` (store: {res['store']}; index {res['index'] or 'default'}).", "",
           "## Against the targets of issue #21", "", *verdict(res["cells"]), "",
           "## Figures", "",
           "Latency is Enter-to-rendered-answer: from sending the rerun that carries the question to the "
           "`script_finished` of that run, in seconds, over the questions that got an answer. "
           "Peak RSS per replica and of nginx in MiB; CPU busy is CPU seconds per wall second "
           "(1.0 = one core, the machine has two) of each replica, of the load generator itself and of every other "
           "process on the machine meanwhile (the machine is shared: a busy neighbour slows the answers down).", "",
           "| replicas | officers | questions | answered | p50 | p95 | max | errors | leaks | sticky | sessions per replica | peak RSS per replica | nginx RSS | CPU busy per replica | generator CPU | other processes' CPU |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for c in res["cells"]:
        lat = c["latency_s"]
        rss = c.get("peak_rss_mib", {})
        reps = ", ".join(f"{v:.0f}" for k, v in rss.items() if k.startswith("replica")) or "–"
        cpu = ", ".join(f"{v:.2f}" for k, v in c.get("cpu_busy", {}).items() if k.startswith("replica")) or "–"
        sticky = "yes" if c["stickiness"]["violations"] == 0 else f"NO ({c['stickiness']['violations']})"
        errs = str(c["errors"]) + (f" ({', '.join(f'{k} {v}' for k, v in c['error_kinds'].items())})" if c["errors"] else "")
        spread = " / ".join(str(v) for _, v in sorted(c["sessions_per_replica"].items())) or "–"
        out.append(f"| {c['replicas']} | {c['officers']} | {c['questions']} | {c['answered']} | {_fmt(lat['p50'])} | "
                   f"{_fmt(lat['p95'])} | {_fmt(lat['max'])} | {errs} | {c['leaks']} | {sticky} | {spread} | {reps} | "
                   f"{_fmt(round(rss['nginx']) if 'nginx' in rss else None)} | {cpu} | {_fmt(c.get('generator_cpu_busy'))} | "
                   f"{_fmt(c.get('other_processes_cpu_busy'))} |")  # fmt: skip
    out += ["", "Also measured per cell (in the JSON): the time until the answer's caption arrived (before the "
            "export and feedback widgets of the same run), the time to open the app, the confidence of the "
            "answers (the marker in each question shifts retrieval a little, so this mix is not the evaluation's), "
            "and every question with its officer, send time, latency and error.", "",
            "| replicas | officers | answer shown p50 | answer shown p95 | open p50 | questions/s | confidence high / low / none |",
            "|---|---|---|---|---|---|---|"]  # fmt: skip
    for c in res["cells"]:
        conf = c.get("confidence", {})
        out.append(f"| {c['replicas']} | {c['officers']} | {_fmt(c['answer_shown_s']['p50'])} | {_fmt(c['answer_shown_s']['p95'])} | "
                   f"{_fmt(c['open_s']['p50'])} | {_fmt(c['questions_per_s'])} | "
                   f"{conf.get('high', 0)} / {conf.get('low', 0)} / {conf.get('none', 0)} |")  # fmt: skip
    out += ["", "## How it was measured", "",
            f"- Each cell: the replicas and nginx started afresh (`deploy.replicas`), each replica warmed up with one "
            f"question on its own port, then the officers open the app within {plan['ramp']:.0f} s and ask a question "
            f"every {plan['interval'][0]:.0f}-{plan['interval'][1]:.0f} s (uniform, seed {plan['seed']}; never before "
            f"the previous answer) for {plan['duration']:.0f} s; answers under way are awaited (at most "
            f"{plan['max_wait']:.0f} s). An answer later than {plan['timeout']:.0f} s counts as an error.",
            f"- Questions: the {res['question_pool']} officer-phrased questions of {', '.join(res['questions_from'])}, "
            "in a random order per officer, each with its marker `(vraag <officer>-<n>)` appended.",
            "- Each officer is a browser session without a browser (`bench/stclient.py`): the page, the XSRF cookie, "
            "the websocket `/_stcore/stream` and Streamlit's own protobuf messages; the chat input's value is sent "
            "as the browser sends it. Static files are not fetched (a browser caches them).",
            "- The load generator runs on the same machine and takes its share of the two cores (column generator CPU).",
            "", "## Machine", "",
            f"{m['cpu']}, {m['cores_logical']} logical cores, {m['memory_gib']} GiB; {m['platform']}; Python {m['python']}; "
            + ", ".join(f"{k} {v}" for k, v in m["versions"].items()) + f"; load average at start {m['load_average_at_start']}.",
            ""]  # fmt: skip
    return "\n".join(out)


NOTES_MARK = "<!-- notes: kept when the report is written again -->"


def write_report(res: dict, md_path: Path, json_path: Path | None) -> None:
    if json_path is not None:
        json_path.write_text(json.dumps(res, indent=1, ensure_ascii=False), encoding="utf-8")
    text = render(res)
    if md_path.exists():  # a reading written under the mark stays
        old = md_path.read_text(encoding="utf-8")
        if NOTES_MARK in old:
            text += "\n" + NOTES_MARK + old.split(NOTES_MARK, 1)[1]
    md_path.write_text(text, encoding="utf-8")


def _csv(kind):
    def parse(text: str):
        try:
            values = tuple(kind(v) for v in text.split(",") if v.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of numbers") from None
        if not values:
            raise argparse.ArgumentTypeError("give at least one value")
        return values

    return parse


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="2 replicas, 3 officers, 40 s, a question every 5-10 s (~1.5 min)")
    ap.add_argument("--replicas", type=_csv(int), help="replica counts (default 1,2)")
    ap.add_argument("--officers", type=_csv(int), help="officer counts (default 1,10,50)")
    ap.add_argument("--duration", type=float, help="seconds per cell in which questions start (default 180)")
    ap.add_argument("--interval", type=_csv(float), help="MIN,MAX seconds between one officer's questions (default 20,40)")
    ap.add_argument("--ramp", type=float, help="officers open the app within this many seconds (default 10)")
    ap.add_argument("--timeout", type=float, help="an answer later than this is an error (default 30)")
    ap.add_argument("--seed", type=int, help="random seed (default 21)")
    ap.add_argument("--questions", nargs="+", default=list(QUESTION_FILES), help="question files (default the officer sets)")
    ap.add_argument("--index", help="BELEIDSWIJZER_INDEX for the replicas (default: inherited)")
    ap.add_argument("--store", help="BELEIDSWIJZER_STORE for the replicas, e.g. postgresql://... (default: inherited)")
    ap.add_argument("--port", type=int, default=DEFAULT_PORT, help="nginx's port; the replicas use the ports after it")
    ap.add_argument("--url", help="test a deployment that already runs at this URL (no start, no memory figures)")
    ap.add_argument("--run-dir", help="folder for the cells' logs (default: a new temporary folder, removed unless --keep)")
    ap.add_argument("--keep", action="store_true", help="keep the logs of the replicas and nginx")
    ap.add_argument("--render", type=Path, metavar="JSON", help="only write LOAD.md again from a results file (next to it)")
    ap.add_argument("--out", type=Path, help="folder for LOAD.md and load-results.json (default: deploy/ for the full "
                                              "matrix, a temporary folder otherwise)")  # fmt: skip
    args = ap.parse_args(argv)
    args.argv = sys.argv[1:] if argv is None else list(argv)
    if args.render:
        res = json.loads(args.render.read_text(encoding="utf-8"))
        write_report(res, (args.out or args.render.parent) / "LOAD.md", None)
        print(f"wrote {(args.out or args.render.parent) / 'LOAD.md'}")
        return 0
    base = QUICK if args.quick else FULL
    changes = {k: getattr(args, k) for k in ("replicas", "officers", "duration", "ramp", "timeout", "seed") if getattr(args, k) is not None}
    if args.interval is not None:
        if len(args.interval) != 2 or not 0 < args.interval[0] <= args.interval[1]:
            ap.error("--interval takes MIN,MAX with 0 < MIN <= MAX")
        changes["interval"] = args.interval
    if args.url and len(changes.get("replicas", (1,))) != 1:
        ap.error("with --url, --replicas names the one replica count of the running deployment")
    plan = replace(base, **changes)
    full = plan == FULL and not args.url
    out = args.out or (REPO / "deploy" if full else Path(tempfile.gettempdir()) / "beleidswijzer-load")
    out.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    t_start = time.perf_counter()

    def log(msg: str) -> None:
        print(f"[{time.perf_counter() - t_start:6.1f} s] {msg}", file=sys.stderr, flush=True)

    keep = args.keep or args.run_dir is not None
    try:
        res = asyncio.run(run_all(plan, args, log))
    except ReplicaError as exc:
        print(f"bench.load: {exc}", file=sys.stderr)
        return 2
    res["seconds"] = round(time.perf_counter() - t_start, 1)
    if not keep:
        shutil.rmtree(res["run_dir"], ignore_errors=True)
        res["run_dir"] = None
    write_report(res, out / "LOAD.md", out / "load-results.json")
    print(f"wrote {out / 'LOAD.md'} and {out / 'load-results.json'} ({res['seconds']:.0f} s)")
    bad = [c for c in res["cells"] if c["errors"] or c["leaks"] or c["stickiness"]["violations"]]
    for c in bad:
        print(f"cell {c['replicas']} replica(s) x {c['officers']} officers: {c['errors']} errors {c['error_kinds']}, "
              f"{c['leaks']} leaks, {c['stickiness']['violations']} stickiness violations", file=sys.stderr)  # fmt: skip
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
