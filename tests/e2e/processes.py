"""Running `lunchbot run` as real processes against the sandbox: start, kill, wait, read logs."""

from __future__ import annotations

import asyncio
import signal
import socket
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from bot.sandbox import BotApiSandbox
from tests.conftest import RACHEL

ROOT = Path(__file__).resolve().parents[2]
WAIT_SECONDS = 90.0  # an upper bound for a slow machine, never a measurement


class BotProcess:
    """`lunchbot run` in a process of its own, its log in a file."""

    def __init__(self, folder: Path, *, webhook: bool, env: dict[str, str]) -> None:
        self.folder = folder
        self.webhook = webhook
        self.env = env
        self.process: asyncio.subprocess.Process | None = None
        self.runs = 0

    async def start(self) -> None:
        self.runs += 1
        log = (self.folder / f"bot-{self.runs}.log").open("wb")
        args = [sys.executable, "-m", "bot.cli", "--config", str(self.folder / "config.toml")]
        args += ["run", "--webhook"] if self.webhook else ["run"]
        self.process = await asyncio.create_subprocess_exec(
            *args, cwd=ROOT, env=self.env, stdout=log, stderr=log
        )
        log.close()

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)

    async def wait(self) -> int:
        assert self.process is not None
        return await self.process.wait()

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), 30)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()

    def log(self) -> str:
        return "\n".join(
            (self.folder / f"bot-{n}.log").read_text(errors="replace")
            for n in range(1, self.runs + 1)
        )


async def until(condition: Callable[[], bool], what: str, bot: BotProcess) -> None:
    """Wait for something the bot will do (polled; the bound only stops a hung test)."""
    deadline = asyncio.get_running_loop().time() + WAIT_SECONDS
    while not condition():
        if bot.process is not None and bot.process.returncode not in (None, -signal.SIGKILL):
            pytest.fail(f"the bot exited while waiting for {what}:\n{bot.log()}")
        if asyncio.get_running_loop().time() > deadline:
            pytest.fail(f"gave up waiting for {what}:\n{bot.log()[-4000:]}")
        await asyncio.sleep(0.01)


async def eventually(check: Callable[[], Awaitable[bool]], what: str, bot: BotProcess) -> None:
    deadline = asyncio.get_running_loop().time() + WAIT_SECONDS
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            pytest.fail(f"gave up waiting for {what}:\n{bot.log()[-4000:]}")
        await asyncio.sleep(0.05)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def write_config(
    folder: Path,
    *,
    sandbox: BotApiSandbox,
    database_url: str,
    port: int,
    webhook_port: int | None = None,
    more: str = "",
) -> None:
    """The config of a bot that talks to the sandbox and listens on `port` (its webhook's
    public address names `webhook_port`: a proxy's, in front of several instances)."""
    (folder / "config.toml").write_text(
        f"""
[telegram]
api_base_url = "{sandbox.base_url}"
api_file_url = "{sandbox.base_file_url}"

[database]
url = "{database_url}"

[coordinators]
telegram_ids = [{RACHEL}]

[server]
webhook_url = "http://127.0.0.1:{webhook_port or port}/telegram"
port = {port}

[delivery]
sweep_seconds = 1
{more}""",
        encoding="utf-8",
    )
