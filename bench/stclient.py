"""A browser session of a Streamlit app without a browser: what the load test's simulated
officers use (bench/load.py). It speaks the app's own protocol with Streamlit's own protobuf
classes (streamlit.proto), as the browser's frontend does:

1. GET the page, /_stcore/health and /_stcore/host-config (the health answer sets the XSRF
   cookie `_streamlit_xsrf`; a proxy in front may set its own cookie, kept in the jar);
2. open the websocket /_stcore/stream with the subprotocols ["streamlit", <XSRF cookie value>]
   (Streamlit reads the second entry as the XSRF token and a third, on a reconnect, as the session
   to resume), the page's Origin and the cookies;
3. send a BackMsg `rerun_script` (a ClientState: query string, page, widget states, the browser's
   locale and time zone) and read ForwardMsgs until `script_finished`: one script run;
4. an officer's Enter in st.chat_input is another rerun whose widget states hold the chat
   input's value (WidgetState.chat_input_value), under the widget id its element carried.

A reader task takes every frame off the socket as it arrives (and answers the server's pings),
stamps it and hands it to `on_frame` before a run sees it, so a frame that belongs to no run
is checked too. Plain HTTP is urllib in a thread; the websocket is the `websockets` package
(a dependency of Streamlit). Static files (JavaScript, CSS) are not fetched: a browser keeps
them in its cache and they do not touch the session.
"""
from __future__ import annotations

import asyncio
import http.cookiejar
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ClientState_pb2 import ClientState, ContextInfo
from streamlit.proto.Common_pb2 import ChatInputValue
from streamlit.proto.Element_pb2 import Element
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState, WidgetStates
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

UPSTREAM_HEADER = "X-Upstream"  # set by deploy/nginx.conf.template when the replica is to be named
HTTP_TIMEOUT = 30.0


class SessionError(Exception):
    """The session failed: the page or the websocket could not be opened, or the socket closed."""


class SessionClosed(SessionError):
    """The websocket closed while a run was awaited (the frames that came are in `run`)."""

    def __init__(self, message: str, run: Run | None = None) -> None:
        super().__init__(message)
        self.run = run


class RunTimeout(SessionError):
    """No `script_finished` within the wait; `run` holds what arrived."""

    def __init__(self, message: str, run: Run) -> None:
        super().__init__(message)
        self.run = run


@dataclass
class Frame:
    at: float  # time.perf_counter() when the frame came off the socket
    raw: bytes
    msg: ForwardMsg


@dataclass
class Run:
    """One script run as the browser receives it: from the BackMsg sent to `script_finished`."""

    sent_at: float
    frames: list[Frame] = field(default_factory=list)
    status: int | None = None  # ForwardMsg.ScriptFinishedStatus of the last script_finished

    @property
    def seconds(self) -> float:
        """From sending the BackMsg to the last frame (script_finished for a finished run)."""
        return (self.frames[-1].at if self.frames else time.perf_counter()) - self.sent_at

    @property
    def finished_ok(self) -> bool:
        return self.status in (ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY)

    def raw(self) -> bytes:
        """The frames as received, joined: text of any element is in it verbatim (UTF-8)."""
        return b"".join(f.raw for f in self.frames)

    def elements(self) -> Iterator[tuple[str, Element, Frame]]:
        """(type, element, frame) of every new element in the run, in order."""
        for f in self.frames:
            if f.msg.WhichOneof("type") == "delta" and f.msg.delta.WhichOneof("type") == "new_element":
                el = f.msg.delta.new_element
                yield el.WhichOneof("type") or "", el, f

    def exceptions(self) -> list[str]:
        """The messages of exception elements (a traceback the app did not catch)."""
        return [f"{el.exception.type}: {el.exception.message}" for kind, el, _ in self.elements() if kind == "exception"]


class BrowserSession:
    """One browser tab of the app at `base_url` (http://host:port, the proxy or a replica)."""

    def __init__(self, base_url: str, *, on_frame: Callable[[bytes], None] | None = None,
                 locale: str = "nl-NL", timezone: str = "Europe/Amsterdam", timezone_offset: int = -60) -> None:  # fmt: skip
        self.base_url = base_url.rstrip("/")
        self.on_frame = on_frame
        self.jar = http.cookiejar.CookieJar()
        self._opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.context = ContextInfo(timezone=timezone, timezone_offset=timezone_offset, locale=locale,
                                   url=self.base_url + "/", is_embedded=False, color_scheme="light")  # fmt: skip
        self.upstreams: list[str] = []  # the replica named by each response (X-Upstream), in order
        self.session_id = ""
        self.page_script_hash = ""
        self.chat_input_id = ""
        self.close_reason = ""
        self._ws: ClientConnection | None = None
        self._queue: asyncio.Queue[Frame | None] = asyncio.Queue()
        self._reader: asyncio.Task | None = None

    # -- opening

    def _get(self, path: str) -> bytes:
        with self._opener.open(self.base_url + path, timeout=HTTP_TIMEOUT) as r:
            body = r.read()
            if r.headers.get(UPSTREAM_HEADER):
                self.upstreams.append(r.headers[UPSTREAM_HEADER])
            return body

    def cookies(self) -> dict[str, str]:
        return {c.name: c.value for c in self.jar}

    async def open(self, max_wait: float = 120.0) -> Run:
        """Load the page and connect like a browser, then the first script run. Called again
        after the socket closed, it reconnects and asks to resume the session."""
        self._queue = asyncio.Queue()
        try:
            for path in ("/", "/_stcore/health", "/_stcore/host-config"):
                await asyncio.to_thread(self._get, path)
        except OSError as exc:
            raise SessionError(f"GET {self.base_url}{path} failed: {exc}") from exc
        cookies = self.cookies()
        ws_url = "ws" + self.base_url.removeprefix("http") + "/_stcore/stream"
        protocols = ["streamlit", cookies.get("_streamlit_xsrf", "")]
        if self.session_id:  # a reconnect names the session to resume
            protocols.append(self.session_id)
        try:
            self._ws = await connect(ws_url, subprotocols=protocols, origin=self.base_url,
                                     additional_headers={"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())},
                                     max_size=None, ping_interval=None, open_timeout=HTTP_TIMEOUT)  # fmt: skip
        except (OSError, InvalidHandshake, TimeoutError) as exc:
            raise SessionError(f"websocket {ws_url} could not be opened: {exc}") from exc
        if self._ws.response.headers.get(UPSTREAM_HEADER):
            self.upstreams.append(self._ws.response.headers[UPSTREAM_HEADER])
        self._reader = asyncio.create_task(self._read(), name=f"reader {ws_url}")
        return await self.rerun(max_wait=max_wait)

    async def _read(self) -> None:
        assert self._ws is not None
        try:
            async for raw in self._ws:
                at = time.perf_counter()
                if isinstance(raw, str):
                    raw = raw.encode()
                msg = ForwardMsg()
                msg.ParseFromString(raw)
                if self.on_frame is not None:
                    self.on_frame(raw)
                self._queue.put_nowait(Frame(at, raw, msg))
            self.close_reason = f"closed by the server ({self._ws.close_code} {self._ws.close_reason})".strip()
        except ConnectionClosed as exc:
            self.close_reason = f"connection lost: {exc}"
        except Exception as exc:  # a frame that does not parse: the protocol is broken, say so
            self.close_reason = f"unreadable frame: {exc!r}"
        finally:
            self._queue.put_nowait(None)

    # -- runs

    async def rerun(self, widgets: Sequence[WidgetState] = (), max_wait: float = 120.0) -> Run:
        """Send a rerun with these widget states and wait for its `script_finished` (a run that
        ends early for a rerun the app asked for goes on into the next)."""
        if self._ws is None or self._reader is None or self._reader.done():
            raise SessionClosed(f"the session is closed ({self.close_reason or 'never opened'})")
        while not self._queue.empty():  # frames between runs (they were checked on arrival)
            if self._queue.get_nowait() is None:
                raise SessionClosed(f"the websocket closed between runs ({self.close_reason})")
        state = ClientState(query_string="", page_script_hash=self.page_script_hash, page_name="",
                            widget_states=WidgetStates(widgets=list(widgets)), context_info=self.context)  # fmt: skip
        data = BackMsg(rerun_script=state).SerializeToString()
        run = Run(sent_at=time.perf_counter())
        try:
            await self._ws.send(data)
        except ConnectionClosed as exc:
            raise SessionClosed(f"the websocket closed before the rerun was sent: {exc}", run) from exc
        deadline = run.sent_at + max_wait
        while True:
            try:
                frame = await asyncio.wait_for(self._queue.get(), max(0.0, deadline - time.perf_counter()))
            except TimeoutError:
                raise RunTimeout(f"no script_finished {max_wait:.0f} s after the rerun", run) from None
            if frame is None:
                raise SessionClosed(f"the websocket closed during the run ({self.close_reason})", run)
            run.frames.append(frame)
            self._learn(frame.msg)
            if frame.msg.WhichOneof("type") == "script_finished":
                run.status = frame.msg.script_finished
                if run.status != ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                    return run

    def _learn(self, msg: ForwardMsg) -> None:
        kind = msg.WhichOneof("type")
        if kind == "new_session":
            self.page_script_hash = msg.new_session.page_script_hash
            if msg.new_session.initialize.session_id:
                self.session_id = msg.new_session.initialize.session_id
        elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
            if msg.delta.new_element.WhichOneof("type") == "chat_input":
                self.chat_input_id = msg.delta.new_element.chat_input.id

    async def submit_chat(self, text: str, max_wait: float = 120.0) -> Run:
        """Type `text` into the page's chat input and press Enter."""
        if not self.chat_input_id:
            raise SessionError("the page has no chat input (none was rendered in the last run)")
        state = WidgetState(id=self.chat_input_id, chat_input_value=ChatInputValue(data=text))
        return await self.rerun([state], max_wait=max_wait)

    async def close(self) -> None:
        if self._ws is not None:
            try:
                await asyncio.wait_for(self._ws.close(), 10)
            except (TimeoutError, ConnectionClosed, OSError):
                pass
        if self._reader is not None:
            self._reader.cancel()
            try:
                await self._reader
            except (asyncio.CancelledError, Exception):
                pass
