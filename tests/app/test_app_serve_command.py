"""``lowlight serve``: starts and stops cleanly; without the extra, or on a busy port, one line
that says what to do."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time

import pytest

from lowlight import cli


def test_without_the_extra_it_names_the_install_command(monkeypatch, capsys) -> None:
    for name in ("lowlight.app.server", "lowlight.app.page"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    monkeypatch.setitem(sys.modules, "gradio", None)  # import gradio now fails
    assert cli.main(["serve"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert 'pip install "lowlight[app]"' in error and "Traceback" not in error


@pytest.mark.parametrize(
    "options",
    [["--port", "0"], ["--tile", "5"], ["--device", "gpu7"], ["--working-size", "4000"]],
)
def test_bad_options_fail_before_anything_loads(options, capsys) -> None:
    assert cli.main(["serve", *options]) == 2
    assert capsys.readouterr().err.startswith("lowlight serve: error: ")


def test_a_busy_port_is_one_line(weights_file, capsys, free_port) -> None:
    pytest.importorskip("gradio")
    port = free_port()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", port))
        busy.listen()
        assert cli.main(["serve", "--port", str(port), "--weights", str(weights_file)]) == 2
    error = capsys.readouterr().err
    assert re.search(rf"cannot serve on 127\.0\.0\.1:{port} .*choose another --port", error)


def test_it_starts_serves_the_page_and_stops_on_ctrl_c(weights_file, tmp_path, free_port) -> None:
    pytest.importorskip("gradio")
    httpx = pytest.importorskip("httpx")
    port = free_port()
    command = [sys.executable, "-m", "lowlight", "serve", "--port", str(port)]
    environment = {**os.environ, "TMPDIR": str(tmp_path)}
    server = subprocess.Popen(
        [*command, "--weights", str(weights_file)],
        cwd=tmp_path,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        page = _wait_for_page(httpx, f"http://127.0.0.1:{port}/", server)
        assert '"title":"lowlight"' in page
        assert [p.name for p in tmp_path.iterdir()][0].startswith("lowlight-serve-")
    finally:
        server.send_signal(signal.SIGINT)
        out, err = server.communicate(timeout=300)
    assert server.returncode == 0, err
    assert f"open http://127.0.0.1:{port} in a browser" in out
    assert list(tmp_path.iterdir()) == []  # the uploads and results folder is gone


def _wait_for_page(httpx, url: str, server: subprocess.Popen, seconds: float = 300) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"lowlight serve exited: {server.communicate()[1]}")
        try:
            return httpx.get(url).text
        except httpx.TransportError:
            time.sleep(0.5)
    raise AssertionError(f"no page at {url} after {seconds} s")


def test_the_docs_name_the_command(capsys) -> None:
    with pytest.raises(SystemExit):
        cli.main(["serve", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    for option in ("--host", "--port", "--weights", "/enhance", 'pip install "lowlight[app]"'):
        assert option in help_text
