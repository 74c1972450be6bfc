"""``safecomm alerts``: dispatch from the command line with a settings file, and units'
credentials."""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner
from safecomm_cli.main import main
from safecomm_notify.credentials import unit_key

from safecomm_core import AlertChannel, GridAlert, open_store
from tests.notifying import SECRET, DutyApps, Receiver, network_with_alert

DISPATCH = "from safecomm_cli.main import main; main()"


def test_dispatch_reaches_the_duty_app_and_the_chat_group_then_escalates(
    tmp_path: Path,
) -> None:
    """u01 is reached on its duty app and acknowledges; u02 only has a DingTalk group
    (through apprise, here its generic JSON notice to a local receiver), which gives no
    reply: it is escalated, the alert having been raised before T."""
    topic = f"t{uuid.uuid4().hex[:10]}"
    url = f"sqlite:///{tmp_path / 'safecomm.db'}"
    (tmp_path / "units.key").write_text(SECRET.hex())
    (tmp_path / "alerts.toml").write_text(
        f'[dispatch]\nsecret_file = "units.key"\nfirst_pause = 0.05\n'
        f'[channels.mqtt]\nprefix = "{topic}"\n'
        f'[channels.apprise]\nserves = ["dingtalk"]\n'
    )
    with Receiver() as receiver:
        with open_store(url) as service:
            contacts = {
                "u01": {AlertChannel.MQTT: "dev-u01"},
                "u02": {AlertChannel.DINGTALK: f"json://127.0.0.1:{receiver.port}/group/u02"},
            }
            network_with_alert(
                service, contacts, raised_at=datetime.now(UTC) - timedelta(minutes=40)
            )

        async def dispatch() -> tuple[int, str, str]:
            async with DutyApps(topic, answering={"u01"}):
                proc = await asyncio.create_subprocess_exec(
                    sys.executable, "-c", DISPATCH, "alerts", "dispatch", "--store", url,
                    "--config", str(tmp_path / "alerts.toml"),
                    cwd=tmp_path, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
                )  # fmt: skip
                out, err = await asyncio.wait_for(proc.communicate(), 120)
                return proc.returncode or 0, out.decode(), err.decode()

        code, out, err = asyncio.run(dispatch())
        assert code == 0, err
        assert out.startswith("sent 2 attempts, ")
        ((group, body),) = receiver.group_notices
        assert group == "u02"
        assert "电动车被盗" in json.loads(body)["message"]

    with open_store(url) as service:
        recipients = service.get(GridAlert, "a-1").recipients
    # u01 may have been escalated too, if T had passed before its reply was in.
    assert recipients["u01"].delivery.value == "delivered"
    assert recipients["u02"].delivery.value == "delivered"
    assert recipients["u02"].escalated_at is not None
    assert recipients["u01"].acknowledged or recipients["u01"].escalated_at is not None


def test_a_units_credential_is_printed_from_the_dispatcher_s_secret(tmp_path: Path) -> None:
    (tmp_path / "units.key").write_text(SECRET.hex())
    (tmp_path / "alerts.toml").write_text('[dispatch]\nsecret_file = "units.key"\n')
    result = CliRunner().invoke(
        main, ["alerts", "credential", "u07", "--config", str(tmp_path / "alerts.toml")]
    )
    assert result.exit_code == 0, result.output
    assert result.output.strip() == unit_key(SECRET, "u07").hex()


def test_a_bad_settings_file_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "alerts.toml").write_text("[channels.carrier-pigeon]\n")
    result = CliRunner().invoke(
        main,
        ["alerts", "dispatch", "--store", "memory://", "--config", str(tmp_path / "alerts.toml")],
    )
    assert result.exit_code == 2
    assert "no delivery channel 'carrier-pigeon': one of apprise, mqtt, sms, webhook" in (
        result.output
    )
