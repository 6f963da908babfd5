"""A hostile OpenAI-compatible server, and a hostile OAuth device endpoint, built on the loopback stubs.

Everything they send that qwen may show (answer, reasoning, error bodies, model ids, the device login's
user code and verification URI) carries terminal control sequences: OSC 52 writes the clipboard, OSC 8
hides a link target, OSC 0 sets the window title, CSI clears the screen and hides the cursor, C1 CSI
(U+009B) does the same in one character, a bare CR rewrites the line, DEL erases.
"""

from __future__ import annotations

from tests.servers.oauth_stub import OAuthStub
from tests.servers.openai_stub import error, stream_reply

OSC52 = "\x1b]52;c;cm0gLXJmIH4K\x07"  # the clipboard would hold "rm -rf ~"
OSC8 = "\x1b]8;;https://evil.example/x\x1b\\innocent\x1b]8;;\x1b\\"
OSC0 = "\x1b]0;owned title\x07"
CLEAR = "\x1b[2J\x1b[H"
HIDE = "\x1b[?25l"
COLOUR = "\x1b[38;5;201m"  # a colour qwen never uses
C1 = "\x9b2J"
CR = "AAAA\rBBBB"
DEL = "xy\x7fz"

# One of each, separated by spaces so markdown keeps them as plain words.
ATTACK = " ".join([OSC52, OSC8, OSC0, CLEAR, HIDE, COLOUR, C1, CR, DEL])
# Split at the worst places: inside the OSC 52 introducer, the CSI and between CR and LF.
ANSWER_TOKENS = [
    "Answer: \x1b",
    "]52;c;cm0gLXJmIH4K\x07 ",
    OSC8 + " ",
    OSC0 + " \x1b[",
    "2J ",
    HIDE + " ",
    COLOUR + " ",
    C1 + " ",
    CR + " ",
    DEL + " end\r",
    "\n",
]
ANSWER = "".join(ANSWER_TOKENS)
REASONING = ["thinking " + OSC52, " " + OSC0 + " " + CR]
ERROR_MESSAGE = "bad request " + ATTACK
MODELS = ["good-model", "evil" + OSC52 + "model", "title" + OSC0, "clear" + CLEAR + C1]

# What must never reach a terminal, whoever drew the screen: each is unique to the attack.
FORBIDDEN = {
    "OSC 52": "\x1b]52",
    "OSC 8 to evil.example": "\x1b]8;;https://evil",
    "OSC 0": "\x1b]0;",
    "CSI clear screen": "\x1b[2J",
    "CSI home": "\x1b[H",
    "CSI 256-colour": "\x1b[38;5;201m",
    "C1 CSI": "\x9b",
    "bare CR": "AAAA\rBBBB",
    "DEL": "\x7f",
    "BEL": "\x07",
}


def hostile_stream(delay: float = 0.0, **kwargs):
    return stream_reply(ANSWER_TOKENS, delay=delay, reasoning=REASONING, **kwargs)


def hostile_error(status: int = 400):
    return error(status, {"error": {"message": ERROR_MESSAGE, "type": "invalid_request_error"}})


def make_hostile(openai_server) -> None:
    """Every chat request gets the hostile answer, and /models lists the hostile ids."""
    openai_server.models = list(MODELS)
    openai_server.script(hostile_stream(times=50))


class HostileOAuth(OAuthStub):
    """The device flow, with a user code and verification URIs that carry OSC 52, OSC 0 and CSI."""

    USER_CODE_TAIL = OSC0 + CLEAR
    URI_TAIL = OSC52 + C1

    def _device_code(self, h, form):
        send_json = h.send_json

        def hostile(status, body, headers=None):
            if status == 200:
                body = dict(
                    body,
                    user_code=body["user_code"] + self.USER_CODE_TAIL,
                    verification_uri=body["verification_uri"] + self.URI_TAIL,
                    verification_uri_complete=body["verification_uri_complete"] + self.URI_TAIL,
                )
            send_json(status, body, headers)

        h.send_json = hostile  # for this one answer: the connection is kept alive for the polls
        try:
            super()._device_code(h, form)
        finally:
            del h.send_json
