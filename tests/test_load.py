"""The replicas behind nginx and the load test (deploy/, bench/load.py): the proxy configuration
renders and nginx accepts it; the answer and leak checks read what the app sends; and, with
nginx installed (integration), two replicas over a fake-encoder index keep each browser on one
replica, share the cookie secret, and the quick load test has every officer answered with no
error, no leak and no stickiness violation. Without nginx these are skipped; under CI=true that
fails (CI installs nginx)."""
from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from bench.load import MARKER_RE, Officer, check_answer, stickiness
from bench.stclient import BrowserSession, Frame, Run
from deploy.replicas import COOKIE_SECRET_ENV, Cluster, ReplicaError, find_nginx, port_free, render_nginx_conf, replica_command
from deploy.replicas import main as replicas_main
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

REPO = Path(__file__).resolve().parents[1]


def require_nginx() -> str:
    """The nginx binary; skip when it is not installed, fail under CI=true."""
    try:
        return find_nginx()
    except ReplicaError as exc:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{exc} Under CI=true it must be present (.ci/run installs it).")
        pytest.skip(str(exc))


def free_base_port() -> int:
    """A port with the two after it free too (nginx and two replicas)."""
    for base in range(18500, 19500, 10):
        if all(port_free(base + i) for i in range(3)):
            return base
    pytest.skip("no three free ports between 18500 and 19500")


@pytest.fixture(scope="module")
def fake_index(tmp_path_factory) -> Path:
    """The shipped corpus indexed with the fake encoder (the app takes the model from the manifest)."""
    index = tmp_path_factory.mktemp("load") / "index"
    proc = subprocess.run([sys.executable, "-m", "indexer", "build", "--corpus", str(REPO / "corpus"), "--index", str(index),
                           "--model", "fake", "--quiet"], cwd=REPO, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(REPO)})  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    return index


# -- without nginx running


def test_the_nginx_config_renders_with_stickiness_and_websockets(tmp_path):
    conf = render_nginx_conf(["127.0.0.1:8501", "127.0.0.1:8502"], listen="127.0.0.1:8500", run_dir=tmp_path)
    assert "{{" not in conf
    assert "hash $bw_route consistent;" in conf and "ip_hash" not in conf.replace("`ip_hash`", "")
    assert "server 127.0.0.1:8501" in conf and "server 127.0.0.1:8502" in conf
    assert "proxy_set_header Upgrade $http_upgrade;" in conf and "proxy_read_timeout 1h;" in conf
    assert "X-Forwarded-For" in conf and "proxy_set_header Host $http_host;" in conf
    assert "add_header X-Upstream" not in conf  # only on request
    assert "add_header X-Upstream" in render_nginx_conf(["a:1"], listen="80", run_dir=tmp_path, expose_upstream=True)
    with pytest.raises(ReplicaError, match="at least one"):
        render_nginx_conf([], listen="80", run_dir=tmp_path)


def test_the_compose_example_runs_what_the_script_runs(capsys):
    import shlex

    import yaml

    services = yaml.safe_load((REPO / "deploy" / "compose.yaml").read_text(encoding="utf-8"))["services"]
    for name in ("app1", "app2"):
        assert services[name]["command"] == ["python", *replica_command(8501, "0.0.0.0")], name
        assert services[name]["environment"]["BELEIDSWIJZER_STORE"].startswith("postgresql://")
        assert "STREAMLIT_SERVER_COOKIE_SECRET" in services[name]["environment"]
    render = shlex.split(services["nginx-config"]["command"][-1].split(">")[0])
    assert render[:3] == ["python", "-m", "deploy.replicas"]
    assert replicas_main(render[3:]) == 0
    conf = capsys.readouterr().out
    assert "server app1:8501" in conf and "server app2:8501" in conf and "listen 80;" in conf


def test_the_replicas_get_the_store_and_index_and_one_cookie_secret(monkeypatch):
    monkeypatch.setenv("BELEIDSWIJZER_STORE", "postgresql://inherited@127.0.0.1/db")
    monkeypatch.delenv(COOKIE_SECRET_ENV, raising=False)
    cluster = Cluster(2, index="/some/index", store="postgresql://given@127.0.0.1/db", env={"BELEIDSWIJZER_AUTH": "oidc"})
    env = cluster.replica_env()
    assert env["BELEIDSWIJZER_STORE"] == "postgresql://given@127.0.0.1/db" and env["BELEIDSWIJZER_INDEX"] == "/some/index"
    assert env["BELEIDSWIJZER_AUTH"] == "oidc" and len(env[COOKIE_SECRET_ENV]) == 64
    assert cluster.replica_env()[COOKIE_SECRET_ENV] == env[COOKIE_SECRET_ENV]  # one secret for all replicas
    assert Cluster(1).replica_env()["BELEIDSWIJZER_STORE"] == "postgresql://inherited@127.0.0.1/db"
    monkeypatch.setenv(COOKIE_SECRET_ENV, "set-by-operator")
    assert Cluster(1).replica_env()[COOKIE_SECRET_ENV] == "set-by-operator"


def test_stop_ends_only_the_process_it_started():
    import psutil

    from deploy.replicas import stop_processes

    me = psutil.Process()
    # a state file whose id now names another process (here: this test) must not end it
    stop_processes([{"name": "replica-1", "pid": me.pid, "create_time": me.create_time() - 100}])
    assert me.is_running()


def test_nginx_accepts_the_rendered_config(tmp_path):
    nginx = require_nginx()
    conf = tmp_path / "nginx.conf"
    conf.write_text(render_nginx_conf(["127.0.0.1:8501"], listen="127.0.0.1:8500", run_dir=tmp_path), encoding="utf-8")
    os.chmod(tmp_path, 0o755)
    proc = subprocess.run([nginx, "-t", "-p", str(tmp_path), "-c", str(conf), "-e", str(tmp_path / "error.log")],
                          capture_output=True, text=True, timeout=30)  # fmt: skip
    assert proc.returncode == 0, proc.stderr


def _run(*raw: bytes, sent: float = 0.0) -> Run:
    run = Run(sent_at=sent)
    for i, r in enumerate(raw):
        run.frames.append(Frame(at=sent + 0.1 * (i + 1), raw=r, msg=ForwardMsg()))
    return run


def test_an_answer_counts_only_after_the_questions_echo():
    marker = "(vraag 3-2)"
    ok = _run(b"old answer Alle documenten, ongeacht geldigheid", b"<div>vraag? (vraag 3-2)</div>",
              b"Alle documenten, ongeacht geldigheid", b"**Mogelijk antwoord**")  # fmt: skip
    assert check_answer(ok, marker)[:2] == ("", "low")
    assert check_answer(ok, marker)[2] == pytest.approx(0.3)
    assert check_answer(_run(b"Alle documenten, ongeacht geldigheid", b"(vraag 3-2)"), marker)[0] == "not-rendered"
    failed = _run(b"(vraag 3-2)", b"Het zoeken is mislukt. Probeer het opnieuw; blijft dit gebeuren, meld het dan aan de beheerder.")
    assert check_answer(failed, marker)[0] == "search-failed"


def test_a_marker_of_another_officer_is_a_leak_also_when_escaped():
    o = Officer(id=7)
    o.leak_check(b"<div>Wat is het BVM? (vraag 7-1)</div> \\(vraag 7\\-2\\)")
    assert o.leaks == []
    o.leak_check(b"caption: \\(vraag 12\\-3\\)")
    assert o.leaks == ["vraag 12\\-3"]
    assert [m.group(1) for m in MARKER_RE.finditer(b"(vraag 5-1) (vraag 6-2)")] == [b"5", b"6"]


def test_stickiness_reads_the_access_log(tmp_path):
    log = tmp_path / "access.log"
    log.write_text('1 [t] "GET / HTTP/1.1" 200 1 rt=0.1 route=aaa upstream=127.0.0.1:8501\n'
                   '1 [t] "GET /_stcore/stream HTTP/1.1" 101 1 rt=9 route=aaa upstream=127.0.0.1:8501\n'
                   '1 [t] "GET / HTTP/1.1" 200 1 rt=0.1 route=bbb upstream=127.0.0.1:8501, 127.0.0.1:8502\n',
                   encoding="utf-8")  # fmt: skip
    ok, moved = Officer(id=1, route="aaa", upstreams=["127.0.0.1:8501"] * 4), Officer(id=2, route="bbb")
    assert stickiness([ok], log)["violations"] == 0
    result = stickiness([ok, moved], log)
    assert result["routes_on_several_replicas_in_log"] == ["bbb"] and result["violations"] == 1


# -- with nginx and two replicas


@pytest.mark.integration
def test_two_replicas_keep_each_browser_on_one_replica(fake_index, tmp_path):
    require_nginx()
    port = free_base_port()
    with Cluster(2, port=port, run_dir=tmp_path / "run", index=fake_index, log=lambda m: None) as cluster:
        secrets = {p.environ().get(COOKIE_SECRET_ENV) for name, procs in cluster.processes().items()
                   if name.startswith("replica") for p in procs[:1]}  # fmt: skip
        assert len(secrets) == 1 and None not in secrets, "the replicas must share one server.cookieSecret"

        def upstream(cookie: str | None = None) -> str:
            req = urllib.request.Request(cluster.url + "/_stcore/health", headers={"Cookie": cookie} if cookie else {})
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.headers["X-Upstream"]

        fresh = {upstream() for _ in range(40)}  # a browser without the cookie lands on either replica
        assert fresh == {f"127.0.0.1:{p}" for p in cluster.replica_ports}
        assert len({upstream("bw_route=officer-1") for _ in range(10)}) == 1  # with it, always on one

        async def one_officer() -> list[str]:
            s = BrowserSession(cluster.url)
            try:
                await s.open()
                await s.submit_chat("Wat is het BVM? (vraag 1-1)")
                session_id = s.session_id
                await s.close()
                await s.open()  # a reconnect resumes the session on the same replica
                assert s.session_id == session_id
                run = await s.submit_chat("Tot wanneer? (vraag 1-2)")
                assert b"(vraag 1-1)" in run.raw() and b"(vraag 1-2)" in run.raw()
            finally:
                await s.close()
            return s.upstreams

        seen = asyncio.run(one_officer())
        assert len(seen) == 8 and len(set(seen)) == 1  # 2 x (3 GETs and the websocket)
    assert not (tmp_path / "run" / "state.json").exists()
    assert all(port_free(port + i) for i in range(3)), "everything started must be stopped"


@pytest.mark.integration
def test_quick_load_test_through_nginx_with_two_replicas(fake_index, tmp_path):
    require_nginx()
    out = tmp_path / "out"
    port = free_base_port()
    proc = subprocess.run([sys.executable, "-m", "bench.load", "--quick", "--index", str(fake_index), "--out", str(out),
                           "--port", str(port), "--run-dir", str(tmp_path / "run")],
                          cwd=REPO, capture_output=True, text=True, timeout=240,
                          env={**os.environ, "PYTHONPATH": str(REPO)})  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    res = json.loads((out / "load-results.json").read_text(encoding="utf-8"))
    (cell,) = res["cells"]
    assert (cell["replicas"], cell["officers"]) == (2, 3)
    assert cell["errors"] == 0, cell["error_kinds"]
    assert cell["leaks"] == 0, cell["leaked_markers"]
    for o in cell["officer_detail"]:
        assert any(q["latency"] is not None and not q["error"] for q in o["questions"]), f"officer {o['id']} got no answer"
        assert len(o["upstreams"]) == 1, f"officer {o['id']} was served by {o['upstreams']}"
    sticky = cell["stickiness"]
    assert sticky["violations"] == 0 and sticky["routes_in_log"] == 3, sticky
    assert set(cell["peak_rss_mib"]) == {"nginx", f"replica-{port + 1}", f"replica-{port + 2}"}
    assert all(v > 0 for v in cell["peak_rss_mib"].values())
    assert all(port_free(port + i) for i in range(3)), "everything started must be stopped"
    md = (out / "LOAD.md").read_text(encoding="utf-8")
    assert "| 2 | 3 |" in md and "## Machine" in md
    shutil.rmtree(tmp_path / "run", ignore_errors=True)
