"""What the Slack tests share: the seed corpus indexed once per module, the stand-in for Slack, and a
real bot (slack-bolt app served over HTTP on 127.0.0.1) talking to it."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from assistant import Assistant, Settings
from assistant.service import build
from assistant.surfaces.slack.app import create_slack_app
from assistant.surfaces.slack.feedback import FeedbackStore
from assistant.surfaces.slack.http import create_slack_http_app
from tests.conftest import LABELS, seed_files
from tests.fakes.live_server import serve
from tests.fakes.slack_fake import FakeSlack, SlackSender

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, Assistant]:
    """The six seed labels indexed once with the fake encoder."""
    root = tmp_path_factory.mktemp("slack")
    for path in seed_files():
        target = root / "labels" / path.relative_to(LABELS)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    settings = Settings(labels_dir=root / "labels", index_dir=root / "index", encoder="fake")
    build(settings)
    return settings, Assistant.from_settings(settings)


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    slack = FakeSlack()
    yield slack
    slack.close()


@dataclass
class Bot:
    send: SlackSender
    slack: FakeSlack
    store: FeedbackStore
    executor: ThreadPoolExecutor
    settings: Settings
    assistant: Assistant

    def drain(self) -> None:
        """Wait for every listener still running; after this no more calls can come from the bot."""
        self.executor.shutdown(wait=True)


@contextmanager
def running_bot(
    corpus: tuple[Settings, Assistant], fake: FakeSlack, tmp_path: Path, **overrides: Any
) -> Iterator[Bot]:
    base, assistant = corpus
    settings = Settings(
        labels_dir=base.labels_dir,
        index_dir=base.index_dir,
        encoder="fake",
        data_dir=tmp_path / "data",
        slack_bot_token="xoxb-test-token",
        slack_signing_secret=SECRET,
        slack_api_url=fake.api_url,
        **overrides,
    )
    executor = ThreadPoolExecutor(max_workers=4)
    store = FeedbackStore.in_dir(settings.data_dir)
    app = create_slack_app(settings, assistant=assistant, store=store, listener_executor=executor)
    with serve(create_slack_http_app(app, settings=settings)) as live:
        yield Bot(SlackSender(live.url + "/slack/events", SECRET), fake, store, executor, settings, assistant)
    executor.shutdown(wait=True)


@pytest.fixture
def bot(corpus: tuple[Settings, Assistant], fake: FakeSlack, tmp_path: Path) -> Iterator[Bot]:
    with running_bot(corpus, fake, tmp_path, public_url="https://assistant.example.com") as b:
        yield b
