"""Shared test helpers."""

import _thread
import contextlib
import signal
import threading

import pytest


@pytest.fixture
def ctrl_c():
    """``with ctrl_c(seconds):`` presses Ctrl-C that many seconds into the block.

    Python turns SIGINT into ``KeyboardInterrupt`` only while it handles the signal, and a
    process that a non-interactive shell starts in the background inherits SIGINT ignored
    (then ``_thread.interrupt_main`` does nothing and the test would wait forever). So the
    fixture installs Python's default handler for the test and puts the old one back after.
    """
    old = signal.signal(signal.SIGINT, signal.default_int_handler)

    @contextlib.contextmanager
    def press(after: float):
        timer = threading.Timer(after, _thread.interrupt_main)
        timer.start()
        try:
            yield
        finally:
            timer.cancel()

    try:
        yield press
    finally:
        signal.signal(signal.SIGINT, old)
