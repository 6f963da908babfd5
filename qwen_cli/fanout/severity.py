"""Which failure decides the exit code of a run with several: the one place that orders them."""

from __future__ import annotations

from qwen_cli.errors import ExitCode

# Most severe first: what stops every line (auth, config, quota) before what one line met (a rejected
# request, a server or network failure). Codes not listed rank after all of these.
ORDER: tuple[ExitCode, ...] = (
    ExitCode.INTERRUPTED,
    ExitCode.AUTH,
    ExitCode.CONFIG,
    ExitCode.RATE_LIMIT,
    ExitCode.USAGE,
    ExitCode.REQUEST,
    ExitCode.SERVER,
    ExitCode.NETWORK,
    ExitCode.INTERNAL,
)


def rank(code: int) -> int:
    try:
        return ORDER.index(ExitCode(code))
    except ValueError:
        return len(ORDER)


def most_severe(codes: list[int]) -> int:
    """The exit code for a run whose failed lines had these codes: 0 when there are none."""
    return min(codes, key=rank) if codes else int(ExitCode.OK)
