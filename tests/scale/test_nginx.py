"""deploy/nginx/default.conf, run by Debian's nginx in front of the two replicas: the same
topology as docker-compose.yml, with the service names replaced by loopback ports."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Iterator, List

import aiohttp
import pytest
import requests

from devtools.servers import PROJECT, free_port, wait_until_up
from tests.conftest import Servers, conversation_id

pytestmark = pytest.mark.scale

CONF = PROJECT / "deploy" / "nginx" / "default.conf"
SHOWER = "You may shower if your doctor okays it."


def local_conf(text: str, listen: int, replicas: List[int], web: int) -> str:
    """The compose configuration with service names mapped to this machine's ports."""
    text = re.sub(r"listen 80;", f"listen 127.0.0.1:{listen};", text)
    for index, port in enumerate(replicas, start=1):
        text = text.replace(f"server rasa-{index}:5005", f"server 127.0.0.1:{port}")
    assert "rasa-" not in text.split("upstream web")[0].split("upstream rasa")[1], "a replica is not mapped"
    return text.replace("server web:8080;", f"server 127.0.0.1:{web};")


@pytest.fixture(scope="module")
def nginx(cluster: Servers, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(binary).exists():
        pytest.fail("nginx is missing: install it with scripts/install-services.sh")
    root = tmp_path_factory.mktemp("nginx")
    web_port, port = free_port(), free_port()
    web = subprocess.Popen(
        ["node", str(PROJECT / "web" / "serve.mjs")],
        env={**os.environ, "PORT": str(web_port), "RASA_URL": f"http://127.0.0.1:{port}"},
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
    )
    replicas = [cluster.replica_ports["a"], cluster.replica_ports["b"]]
    (root / "default.conf").write_text(local_conf(CONF.read_text(), port, replicas, web_port))
    for folder in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (root / folder).mkdir()
    (root / "nginx.conf").write_text(
        f"daemon off; worker_processes 1; pid {root}/nginx.pid; error_log {root}/error.log;\n"
        "user root;\nevents { worker_connections 256; }\n"
        f"http {{ access_log {root}/access.log; client_body_temp_path {root}/body; "
        f"proxy_temp_path {root}/proxy; fastcgi_temp_path {root}/fastcgi; uwsgi_temp_path {root}/uwsgi; "
        f"scgi_temp_path {root}/scgi; include {root}/default.conf; }}\n"
    )
    check = subprocess.run([binary, "-t", "-p", str(root), "-c", str(root / "nginx.conf")],
                           capture_output=True, text=True, timeout=30)
    assert check.returncode == 0, check.stderr
    log = root / "nginx.out"
    with log.open("wb") as out:
        server = subprocess.Popen([binary, "-p", str(root), "-c", str(root / "nginx.conf")],
                                  stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_until_up(f"http://127.0.0.1:{port}/health", server, log, timeout=30)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.send_signal(signal.SIGQUIT)
        server.wait(timeout=20)
        web.terminate()
        web.wait(timeout=20)


def test_rest_and_the_demo_page_go_through_nginx_and_the_rasa_api_does_not(nginx: str) -> None:
    sender = conversation_id("nginx-rest")
    body = {"sender": sender, "message": "can i shower tonight"}
    replies = requests.post(f"{nginx}/webhooks/rest/webhook", json=body, timeout=60).json()
    assert SHOWER in "\n".join(r["text"] for r in replies)
    page = requests.get(f"{nginx}/", timeout=10)
    assert page.status_code == 200 and "widget.js" in page.text
    assert requests.get(f"{nginx}/widget.js", timeout=10).status_code == 200
    # Rasa's HTTP API (model, trackers) is not published
    version = requests.get(f"{nginx}/version", timeout=10)
    assert version.status_code == 404 and "rasa" not in version.text.lower()
    assert requests.get(f"{nginx}/conversations/{sender}/tracker", timeout=10).status_code == 404


async def websocket_chat(base: str, message: str, wanted: str) -> List[list]:
    """The widget's wire protocol, spoken directly: engine.io v4 over a websocket, then the
    socket.io events session_request / user_uttered, until a reply containing `wanted`."""
    session = conversation_id("nginx-ws")
    url = base.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
    events: List[list] = []
    async with aiohttp.ClientSession() as http, http.ws_connect(url, timeout=30) as ws:

        async def receive() -> str:
            while True:
                packet = await asyncio.wait_for(ws.receive_str(), 60)
                if packet == "2":  # engine.io ping: answer, or the server drops us
                    await ws.send_str("3")
                    continue
                return packet

        assert (await receive()).startswith("0{"), "engine.io open packet"
        await ws.send_str("40")
        assert (await receive()).startswith("40"), "socket.io connect"
        await ws.send_str("42" + json.dumps(["session_request", {"session_id": session}]))
        await ws.send_str("42" + json.dumps(["user_uttered", {"session_id": session, "message": message}]))

        def answered() -> bool:
            texts = [json.dumps(e[1], ensure_ascii=False) for e in events if e[0] == "bot_uttered"]
            return any(wanted in t for t in texts)

        while not answered():
            packet = await receive()
            if packet.startswith("42"):
                events.append(json.loads(packet[2:]))
    return events


def test_the_widgets_websocket_goes_through_nginx(nginx: str) -> None:
    events = asyncio.run(websocket_chat(nginx, "is a shower ok tonight", SHOWER))
    assert events[0][0] == "session_confirm"
    assert any(name == "bot_uttered" and SHOWER in data.get("text", "") for name, data, *_ in events)


def test_nginx_fails_over_when_a_replica_stops(nginx: str, cluster: Servers) -> None:
    sender = conversation_id("nginx-failover")
    body = {"sender": sender, "message": "i had the ablation this morning"}
    assert requests.post(f"{nginx}/webhooks/rest/webhook", json=body, timeout=60).status_code == 200
    stopped = []
    try:
        for name in ("a", "b"):  # stop whichever replica ip_hash chose, then the answer must come
            cluster.stop(name)
            stopped.append(name)
            body = {"sender": sender, "message": "what can i eat"}
            response = requests.post(f"{nginx}/webhooks/rest/webhook", json=body, timeout=60)
            assert response.status_code == 200
            assert "You can eat your normal diet." in "\n".join(r["text"] for r in response.json())
            break
    finally:
        for name in stopped:
            cluster.start_rasa(name)
        time.sleep(0.5)
