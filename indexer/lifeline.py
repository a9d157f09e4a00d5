"""Child processes that end with their parent, so a killed build leaves no parser or OCR behind.

The build stops its parsing child by killing its process group, but when the build itself is
killed (the app's stop button, an operator's kill), nobody is left to do that. On Linux the
kernel can do it: prctl(PR_SET_PDEATHSIG, SIGKILL) asks for SIGKILL when the parent ends. Elsewhere
these functions do nothing and the parsing child checks its parent between scanned pages.
Linux sends the signal when the *thread* that started the child ends: start and use a child
within one call (as `with ParseWorker(...)` does), not across threads.
"""
from __future__ import annotations

import ctypes
import os
import signal
import sys
from collections.abc import Callable

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def _prctl():
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


_PRCTL = _prctl()  # looked up once, before any fork: a forked child only calls it


def die_with_parent(parent: int) -> bool:
    """Have this process killed when its parent ends; exit at once when the parent `parent`
    (its pid, taken before the fork) has already ended. False where the platform cannot."""
    if _PRCTL is None or _PRCTL(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        return False
    if os.getppid() != parent:  # the parent ended before the request: nobody would send the signal
        os._exit(1)
    return True


def child_setup() -> Callable[[], None] | None:
    """A `preexec_fn` for subprocess that makes the new program end with this process (None
    where the platform cannot)."""
    if _PRCTL is None:
        return None
    parent = os.getpid()
    return lambda: die_with_parent(parent) and None
