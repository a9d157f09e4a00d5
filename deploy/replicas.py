"""N replicas of the app on 127.0.0.1 behind one nginx with sticky sessions, started and stopped
from one command (the local form of deploy/compose.yaml; the load test uses its Cluster).

    python -m deploy.replicas start N [--port 8500] [--index DIR] [--store DSN] [--env K=V ...]
    python -m deploy.replicas status
    python -m deploy.replicas stop
    python -m deploy.replicas render --server HOST:PORT ... [--listen 80]   (print nginx.conf)

Replica i listens on port+i (8501, 8502, ...), nginx on --port (8500); everything on 127.0.0.1.
The run folder (--dir, default $TMPDIR/beleidswijzer-replicas) holds each replica's log, nginx's
configuration and logs, and state.json with the process ids that `stop` ends (it checks each id
still names the process it started). The replicas inherit this environment; --index and --store
set BELEIDSWIJZER_INDEX and BELEIDSWIJZER_STORE for them (the store defaults to the caller's
BELEIDSWIJZER_STORE: a postgresql:// DSN makes every replica read the one PostgreSQL store).
They share one server.cookieSecret (STREAMLIT_SERVER_COOKIE_SECRET, generated when unset): a
login cookie signed by one replica must be valid on the others.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]
TEMPLATE = Path(__file__).with_name("nginx.conf.template")
DEFAULT_RUN_DIR = Path(tempfile.gettempdir()) / "beleidswijzer-replicas"
DEFAULT_PORT = 8500
HOST = "127.0.0.1"
STATE_FILE = "state.json"
# above the app's server.maxUploadSize (50 MB in .streamlit/config.toml) plus the multipart overhead,
# so that an upload too large gets the app's own message, not nginx's 413
MAX_BODY = "60m"
COOKIE_SECRET_ENV = "STREAMLIT_SERVER_COOKIE_SECRET"


class ReplicaError(RuntimeError):
    """The replicas or the proxy could not be started or stopped; the message says why and what to do."""


def find_nginx() -> str:
    """The nginx binary; ReplicaError naming the package when it is not installed."""
    found = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None)
    if not found:
        raise ReplicaError("nginx is not installed: install it (Debian: apt-get install nginx) and try again.")
    return found


def render_nginx_conf(servers: Iterable[str], *, listen: str, run_dir: str | Path, access_log: str | None = None,
                      error_log: str | None = None, workers: int = 1, expose_upstream: bool = False,
                      max_body: str = MAX_BODY) -> str:  # fmt: skip
    """deploy/nginx.conf.template filled in: `servers` are the replicas' HOST:PORT; `listen` is
    nginx's own listen argument (127.0.0.1:8500, or 80 in a container). With `expose_upstream`
    each response names its replica in an X-Upstream header (for tests; it shows internal
    addresses, so leave it off in production)."""
    servers = list(servers)
    if not servers:
        raise ReplicaError("no replica to proxy to: give at least one HOST:PORT.")
    run_dir = str(run_dir)
    values = {
        "WORKERS": str(workers),
        "RUN_DIR": run_dir,
        "ERROR_LOG": error_log or f"{run_dir}/nginx-error.log",
        "ACCESS_LOG": access_log or f"{run_dir}/nginx-access.log",
        "LISTEN": listen,
        "MAX_BODY": max_body,
        "SERVERS": "\n".join(f"        server {s} max_fails=1 fail_timeout=10s;" for s in servers),
        "UPSTREAM_HEADER": "            add_header X-Upstream $upstream_addr always;" if expose_upstream
        else "            # X-Upstream (which replica answered) is off; `render --expose-upstream` adds it",
    }  # fmt: skip
    text = TEMPLATE.read_text(encoding="utf-8")
    for name, value in values.items():
        text = text.replace("{{%s}}" % name, value)
    left = sorted(set(re.findall(r"\{\{[A-Z_]+\}\}", text)))
    if left:
        raise ReplicaError(f"{TEMPLATE} has placeholders render_nginx_conf does not fill: {', '.join(left)}.")
    return text


def replica_command(port: int, address: str = HOST) -> list[str]:
    """The arguments after `python` that start one replica (deploy/compose.yaml runs the same)."""
    return ["-m", "streamlit", "run", "app.py", "--server.port", str(port), "--server.address", address,
            "--server.headless", "true"]  # fmt: skip


def port_free(port: int) -> bool:
    """Whether a server could listen on the port now (as servers do, connections of a previous
    run in TIME_WAIT do not count; a listener does)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((HOST, port))
        except OSError:
            return False
    return True


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status == 200
    except (urllib.error.URLError, OSError):
        return False


def tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _same_process(entry: dict) -> psutil.Process | None:
    """The process of a state entry if it still runs and is the one started (same start time)."""
    try:
        p = psutil.Process(entry["pid"])
        if abs(p.create_time() - entry["create_time"]) < 0.01 and p.status() != psutil.STATUS_ZOMBIE:
            return p
    except psutil.Error:
        pass
    return None


def _end(entry: dict, timeout: float = 15.0) -> None:
    """End a process group started here (SIGTERM, then SIGKILL), if its leader is still ours."""
    p = _same_process(entry)
    if p is None:
        return
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(entry["pid"], sig)
        except ProcessLookupError:
            return
        try:
            p.wait(timeout)
            return
        except psutil.TimeoutExpired:
            continue


class Cluster:
    """`replicas` app processes and nginx in front, on this machine. start() returns when the
    proxy answers; stop() ends them all (also after a failed start). Usable as a context manager."""

    def __init__(self, replicas: int, *, port: int = DEFAULT_PORT, run_dir: str | Path = DEFAULT_RUN_DIR,
                 index: str | Path | None = None, store: str | None = None, env: dict[str, str] | None = None,
                 expose_upstream: bool = True, startup_timeout: float = 180.0,
                 log: Callable[[str], None] | None = None) -> None:  # fmt: skip
        if replicas < 1:
            raise ReplicaError(f"{replicas} replicas: start at least 1.")
        self.replicas = replicas
        self.port = port
        self.run_dir = Path(run_dir)
        self.index = str(index) if index else None
        self.store = store
        self.extra_env = dict(env or {})
        self.expose_upstream = expose_upstream
        self.startup_timeout = startup_timeout
        self.log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
        self.state: dict = {}
        self._popen: list[subprocess.Popen] = []

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def replica_ports(self) -> list[int]:
        return [self.port + 1 + i for i in range(self.replicas)]

    @property
    def access_log(self) -> Path:
        return self.run_dir / "nginx-access.log"

    def replica_env(self) -> dict[str, str]:
        """The replicas' environment: this one, the index and store, the shared cookie secret."""
        env = dict(os.environ)
        env.setdefault("HF_HUB_OFFLINE", "1")
        if self.index:
            env["BELEIDSWIJZER_INDEX"] = self.index
        if self.store is not None:
            env["BELEIDSWIJZER_STORE"] = self.store
        env.update(self.extra_env)
        env[COOKIE_SECRET_ENV] = env.get(COOKIE_SECRET_ENV) or self._secret()
        return env

    def _secret(self) -> str:
        if not hasattr(self, "_cookie_secret"):
            self._cookie_secret = secrets.token_hex(32)
        return self._cookie_secret

    # -- start

    def start(self) -> Cluster:
        nginx = find_nginx()
        running = load_state(self.run_dir)
        if running and any(_same_process(e) for e in running.get("processes", [])):
            raise ReplicaError(f"replicas from {self.run_dir} are still running: stop them first "
                               f"(python -m deploy.replicas stop --dir {self.run_dir}) or use another --dir.")  # fmt: skip
        busy = [p for p in [self.port, *self.replica_ports] if not port_free(p)]
        if busy:
            raise ReplicaError(f"port(s) {', '.join(map(str, busy))} on {HOST} are in use: stop what listens there "
                               f"or choose another --port (replicas use the ports after it).")  # fmt: skip
        self.run_dir.mkdir(parents=True, exist_ok=True)
        # nginx's workers run as an unprivileged user when started as root: they must reach the folder
        os.chmod(self.run_dir, 0o755)
        store = self.store if self.store is not None else os.environ.get("BELEIDSWIJZER_STORE", "")
        self.state = {"started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "url": self.url, "port": self.port,
                      "store": "postgresql" if store.startswith("postgres") else "embedded",
                      "index": self.index or os.environ.get("BELEIDSWIJZER_INDEX", ""), "processes": []}  # fmt: skip
        try:
            env = self.replica_env()
            for p in self.replica_ports:
                self._spawn(f"replica-{p}", [sys.executable, *replica_command(p)], env, port=p)
            self._wait_healthy([(f"replica-{p}", f"http://{HOST}:{p}/_stcore/health") for p in self.replica_ports])
            conf = self.run_dir / "nginx.conf"
            conf.write_text(render_nginx_conf([f"{HOST}:{p}" for p in self.replica_ports], listen=f"{HOST}:{self.port}",
                                              run_dir=self.run_dir, expose_upstream=self.expose_upstream),
                            encoding="utf-8")  # fmt: skip
            base = [nginx, "-p", str(self.run_dir), "-c", str(conf), "-e", str(self.run_dir / "nginx-error.log")]
            check = subprocess.run([*base, "-t"], capture_output=True, text=True, timeout=30)
            if check.returncode != 0:
                raise ReplicaError(f"nginx rejects {conf}:\n{check.stderr.strip()}")
            self._spawn("nginx", [*base, "-g", "daemon off;"], dict(os.environ), port=self.port)
            self._wait_healthy([("nginx", f"{self.url}/_stcore/health")])
        except BaseException:
            self.stop()
            raise
        self.log(f"{self.replicas} replica(s) on {', '.join(map(str, self.replica_ports))} behind nginx at {self.url} "
                 f"(store: {self.state['store']}; logs in {self.run_dir})")  # fmt: skip
        return self

    def _spawn(self, name: str, cmd: list[str], env: dict[str, str], port: int) -> None:
        logfile = self.run_dir / f"{name}.log"
        with open(logfile, "wb") as out:  # a fresh log per start
            proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                    stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
        self._popen.append(proc)
        self.state["processes"].append({"name": name, "pid": proc.pid, "port": port, "log": str(logfile),
                                        "create_time": psutil.Process(proc.pid).create_time()})  # fmt: skip
        save_state(self.run_dir, self.state)

    def _wait_healthy(self, targets: list[tuple[str, str]]) -> None:
        deadline = time.monotonic() + self.startup_timeout
        waiting = dict(targets)
        entries = {e["name"]: e for e in self.state["processes"]}
        while waiting:
            for name, url in list(waiting.items()):
                if _same_process(entries[name]) is None:
                    log = Path(entries[name]["log"])
                    raise ReplicaError(f"{name} exited during start-up; the end of {log}:\n{tail(log)}")
                if healthy(url):
                    del waiting[name]
            if waiting and time.monotonic() > deadline:
                names = ", ".join(waiting)
                raise ReplicaError(f"{names} did not answer {self.startup_timeout:.0f} s after the start; "
                                   f"see the logs in {self.run_dir}.")  # fmt: skip
            if waiting:
                time.sleep(0.3)

    # -- use

    def processes(self) -> dict[str, list[psutil.Process]]:
        """name -> the running processes of that replica or of nginx (its master and workers)."""
        out: dict[str, list[psutil.Process]] = {}
        for entry in self.state.get("processes", []):
            p = _same_process(entry)
            if p is not None:
                try:
                    out[entry["name"]] = [p, *p.children(recursive=True)]
                except psutil.Error:
                    out[entry["name"]] = [p]
        return out

    # -- stop

    def stop(self) -> None:
        stop_processes(self.state.get("processes", []))
        for proc in self._popen:  # reap our children
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        self._popen.clear()
        (self.run_dir / STATE_FILE).unlink(missing_ok=True)

    def __enter__(self) -> Cluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def stop_processes(entries: list[dict]) -> None:
    """End the processes of a state file, the proxy first, each only if it is still the one started."""
    for entry in sorted(entries, key=lambda e: e["name"] != "nginx"):
        _end(entry)


def save_state(run_dir: Path, state: dict) -> None:
    tmp = run_dir / f".{STATE_FILE}.tmp"
    tmp.write_text(json.dumps(state, indent=1), encoding="utf-8")
    tmp.replace(run_dir / STATE_FILE)


def load_state(run_dir: Path) -> dict | None:
    try:
        return json.loads((run_dir / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _env_pair(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"{text!r} is not NAME=VALUE")
    return name, value


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m deploy.replicas", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    start = sub.add_parser("start", help="start N replicas and nginx in front of them")
    start.add_argument("replicas", type=int)
    start.add_argument("--port", type=int, default=DEFAULT_PORT, help="nginx's port; replica i uses port+i (default 8500)")
    start.add_argument("--index", help="BELEIDSWIJZER_INDEX for the replicas (default: inherited)")
    start.add_argument("--store", help="BELEIDSWIJZER_STORE for the replicas, e.g. postgresql://... (default: inherited)")
    start.add_argument("--env", type=_env_pair, action="append", default=[], metavar="NAME=VALUE",
                       help="another environment variable for the replicas (repeatable)")
    start.add_argument("--no-upstream-header", action="store_true", help="do not name the replica in an X-Upstream header")
    for p in (start, sub.add_parser("stop", help="stop what `start` started"), sub.add_parser("status", help="what runs")):
        p.add_argument("--dir", type=Path, default=DEFAULT_RUN_DIR, help=f"run folder (default {DEFAULT_RUN_DIR})")
    render = sub.add_parser("render", help="print nginx.conf for the given replicas (for another host or a container)")
    render.add_argument("--server", action="append", required=True, metavar="HOST:PORT", help="a replica (repeatable)")
    render.add_argument("--listen", default=f"{HOST}:{DEFAULT_PORT}", help="nginx's listen address (default 127.0.0.1:8500)")
    render.add_argument("--run-dir", default="/tmp", help="folder for nginx's pid file and temporary files")
    render.add_argument("--access-log", default=None, help="default: nginx-access.log in --run-dir")
    render.add_argument("--error-log", default=None, help="default: nginx-error.log in --run-dir")
    render.add_argument("--workers", default="1", help="worker_processes (a number or auto)")
    render.add_argument("--expose-upstream", action="store_true", help="add the X-Upstream header")
    args = ap.parse_args(argv)
    try:
        if args.command == "render":
            sys.stdout.write(render_nginx_conf(args.server, listen=args.listen, run_dir=args.run_dir, access_log=args.access_log,
                                               error_log=args.error_log, workers=args.workers,
                                               expose_upstream=args.expose_upstream))  # fmt: skip
        elif args.command == "start":
            cluster = Cluster(args.replicas, port=args.port, run_dir=args.dir, index=args.index, store=args.store,
                              env=dict(args.env), expose_upstream=not args.no_upstream_header).start()  # fmt: skip
            print(cluster.url)
        elif args.command == "stop":
            state = load_state(args.dir)
            if not state:
                print(f"nothing to stop: no {STATE_FILE} in {args.dir}", file=sys.stderr)
                return 0
            stop_processes(state.get("processes", []))
            (args.dir / STATE_FILE).unlink(missing_ok=True)
            print(f"stopped {len(state.get('processes', []))} process(es) of {args.dir}", file=sys.stderr)
        else:
            state = load_state(args.dir)
            if not state:
                print(f"not running: no {STATE_FILE} in {args.dir}")
                return 1
            print(f"{state['url']}  store: {state['store']}  started {state['started_at']}")
            for e in state.get("processes", []):
                print(f"  {e['name']:14} pid {e['pid']:>7}  {'running' if _same_process(e) else 'GONE'}  log {e['log']}")
    except ReplicaError as exc:
        print(f"deploy.replicas: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
