"""Who is asking: bearer tokens (HS256 key file, or RS256/EdDSA against a JWKS file),
``safecomm token`` and ``safecomm serve``, and the service over a real socket."""

from __future__ import annotations

import json
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from jwt.algorithms import OKPAlgorithm, RSAAlgorithm
from safecomm_cli.main import main
from safecomm_http import Backend, TokenVerifier, create_app
from safecomm_tokens import InvalidToken, claims_of

from safecomm_core import Safecomm
from safecomm_core.access import Principal
from safecomm_core.values import Role
from tests.commanding import sample_commands
from tests.serving import KEY, MEDIATOR_C1, served, serving, token

DISPUTE = "/v1/records/dispute/d-2014-0001"


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


def refused(client: Any, headers: dict[str, str]) -> dict[str, Any]:
    response = client.get(DISPUTE, headers=headers)
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == "Bearer"
    found: dict[str, Any] = response.json()
    return found


def test_tokens_that_cannot_be_trusted_are_401(memory_service: Safecomm) -> None:
    claims = claims_of(MEDIATOR_C1, timedelta(hours=1))
    with serving(memory_service) as client:
        assert client.get(DISPUTE, headers=bearer(token(MEDIATOR_C1))).status_code == 404
        assert refused(client, {})["field"] == "authorization"
        refused(client, {"Authorization": "Basic dXNlcjpwYXNz"})
        expired = token(MEDIATOR_C1, ttl=timedelta(seconds=-5))
        assert refused(client, bearer(expired))["field"] == "exp"
        refused(client, bearer(jwt.encode(claims, b"another-key-" * 4, algorithm="HS256")))
        refused(client, bearer(jwt.encode(claims, None, algorithm="none")))
        refused(client, bearer(jwt.encode(claims, KEY * 2, algorithm="HS512")))
        refused(client, bearer("not.a.token"))
        for missing in ("sub", "role", "communities", "exp"):
            partial = {k: v for k, v in claims.items() if k != missing}
            assert (
                refused(client, bearer(jwt.encode(partial, KEY, algorithm="HS256")))["field"]
                == missing
            )
        for wrong in ({"role": "emperor"}, {"communities": []}, {"communities": "C1"}, {"sub": 7}):
            bad = jwt.encode({**claims, **wrong}, KEY, algorithm="HS256")
            refused(client, bearer(bad))


def _jwks(tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ed_key = ed25519.Ed25519PrivateKey.generate()
    keys = [
        {**RSAAlgorithm.to_jwk(rsa_key.public_key(), as_dict=True), "kid": "r1", "alg": "RS256"},
        {**OKPAlgorithm.to_jwk(ed_key.public_key(), as_dict=True), "kid": "e1", "alg": "EdDSA"},
    ]
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": keys}))
    return path, {"r1": (rsa_key, "RS256"), "e1": (ed_key, "EdDSA")}


def test_tokens_signed_by_a_key_of_the_jwks_are_accepted(tmp_path: Path) -> None:
    path, private = _jwks(tmp_path)
    verifier = TokenVerifier.from_jwks_file(path)
    claims = claims_of(MEDIATOR_C1, timedelta(minutes=5))
    for kid, (key, alg) in private.items():
        signed = jwt.encode(claims, key, algorithm=alg, headers={"kid": kid})
        assert verifier.principal(signed) == MEDIATOR_C1
    rsa_key, _ = private["r1"]
    for headers in ({"kid": "nope"}, {}):
        with pytest.raises(InvalidToken):
            verifier.principal(jwt.encode(claims, rsa_key, algorithm="RS256", headers=headers))
    # A symmetric token must not pass as one of the JWKS's keys.
    with pytest.raises(InvalidToken):
        verifier.principal(jwt.encode(claims, KEY, algorithm="HS256", headers={"kid": "r1"}))
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(InvalidToken):
        TokenVerifier.from_jwks_file(tmp_path / "bad.json")


def test_token_keygen_and_issue(tmp_path: Path) -> None:
    runner = CliRunner()
    key = tmp_path / "safecomm.key"
    made = runner.invoke(main, ["token", "keygen", "--out", str(key)])
    assert made.exit_code == 0, made.output
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert runner.invoke(main, ["token", "keygen", "--out", str(key)]).exit_code == 2
    issued = runner.invoke(
        main,
        [
            "token",
            "issue",
            "--sub",
            "duty-u3",
            "--role",
            "unit",
            "--community",
            "C1",
            "--unit",
            "U3",
            "--ttl",
            "8h",
            "--key",
            str(key),
        ],
    )
    assert issued.exit_code == 0, issued.output
    verifier = TokenVerifier.from_key_file(key)
    assert verifier.principal(issued.output.strip()) == Principal(
        "duty-u3", Role.UNIT, ["C1"], grid_unit="U3"
    )
    claims = jwt.decode(issued.output.strip(), key.read_bytes().strip(), algorithms=["HS256"])
    assert claims["exp"] - claims["iat"] == 8 * 3600
    everyone = runner.invoke(
        main,
        ["token", "issue", "--sub", "s", "--role", "staff", "--community", "*", "--key", str(key)],
    )
    assert verifier.principal(everyone.output.strip()).communities == ("*",)
    for wrong in (["--ttl", "8x"], ["--role", "emperor"]):
        args = [
            "token",
            "issue",
            "--sub",
            "s",
            "--role",
            "staff",
            "--community",
            "C1",
            "--key",
            str(key),
        ]
        assert runner.invoke(main, [*args, *wrong]).exit_code == 2


def test_a_key_file_that_does_not_exist_is_named_not_an_internal_error(tmp_path: Path) -> None:
    runner = CliRunner()
    missing = str(tmp_path / "no-such.key")
    issue = ["token", "issue", "--sub", "s", "--role", "staff", "--community", "*"]
    for args in (
        [*issue, "--key", missing],
        ["serve", "--store", "memory://", "--auth-key", missing],
        ["serve", "--store", "memory://", "--jwks", missing],
    ):
        result = runner.invoke(main, args)
        assert result.exit_code == 2, (args, result.output)
        assert "no-such.key" in result.output
        assert "does not exist" in result.output
        assert "internal error" not in result.output


def test_serve_needs_exactly_one_way_to_check_tokens(tmp_path: Path) -> None:
    runner = CliRunner()
    key = tmp_path / "k"
    runner.invoke(main, ["token", "keygen", "--out", str(key)])
    assert runner.invoke(main, ["serve", "--store", "memory://"]).exit_code == 2
    both = ["serve", "--store", "memory://", "--auth-key", str(key), "--jwks", str(key)]
    assert runner.invoke(main, both).exit_code == 2


@pytest.fixture
def live(tmp_path: Path) -> Iterator[str]:
    """The service on a SQLite store, served by uvicorn in a thread on a free port."""
    app = create_app(Backend.open(f"sqlite:///{tmp_path / 'live.db'}"), TokenVerifier(secret=KEY))
    with served(app) as url:
        yield url


def test_the_service_over_a_real_socket(live: str) -> None:
    headers = bearer(token(MEDIATOR_C1))
    with httpx.Client(base_url=live, timeout=30) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        first = client.post("/v1/commands", json=sample_commands()[0], headers=headers)
        assert first.status_code == 201
        assert first.headers["x-request-id"]
        assert client.post("/v1/commands", json=sample_commands()[0], headers=headers).json()[
            "duplicate"
        ]
        assert client.get(DISPUTE, headers=headers).json()["version"] == 1
        report = client.get("/v1/reports/monthly", headers=headers)
        assert report.status_code == 200
        cached = client.get(
            "/v1/reports/monthly", headers={**headers, "If-None-Match": report.headers["etag"]}
        )
        assert cached.status_code == 304
        with client.stream(
            "GET", "/v1/events", headers=bearer(token(Principal("cm", Role.COMMITTEE, ["C1"])))
        ) as events:
            lines = [line for line in events.iter_lines() if line.startswith("data:")]
        assert len(lines) == 2  # the receipt and the dispute's first event
        assert client.get(DISPUTE).status_code == 401


def test_safecomm_serve_answers_and_logs_one_line_per_request(tmp_path: Path) -> None:
    runner = CliRunner()
    key = tmp_path / "safecomm.key"
    runner.invoke(main, ["token", "keygen", "--out", str(key)])
    issued = runner.invoke(
        main,
        [
            "token",
            "issue",
            "--sub",
            "staff-017",
            "--role",
            "mediator",
            "--community",
            "C1",
            "--key",
            str(key),
        ],
    )
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [
        sys.executable,
        "-c",
        "from safecomm_cli.main import main; main()",
        "serve",
        "--store",
        f"sqlite:///{tmp_path / 'served.db'}",
        "--port",
        str(port),
        "--auth-key",
        str(key),
    ]
    served = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                assert served.poll() is None, "safecomm serve ended"
                assert time.monotonic() < deadline, "safecomm serve did not start"
                time.sleep(0.1)
        headers = bearer(issued.output.strip())
        created = httpx.post(f"{base}/v1/commands", json=sample_commands()[0], headers=headers)
        assert created.status_code == 201
        assert httpx.get(f"{base}{DISPUTE}?why=王建国", headers=headers).status_code == 200
    finally:
        served.terminate()
        _, err = served.communicate(timeout=60)
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert [(line["route"], line["status"]) for line in lines] == [
        ("/healthz", 200),
        ("/v1/commands", 201),
        ("/v1/records/{kind:str}/{ref:str}", 200),
    ]
    assert "王建国" not in err
    assert "13800001001" not in err
