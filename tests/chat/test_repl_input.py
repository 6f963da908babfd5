import pytest

from qwen_cli.chat import slash
from qwen_cli.chat.repl import read_message
from qwen_cli.errors import UsageError


def _reader(*lines):
    queue = list(lines)
    prompts = []

    def read(prompt):
        prompts.append(prompt)
        if not queue:
            raise EOFError
        item = queue.pop(0)
        if isinstance(item, BaseException):
            raise item
        return item

    read.prompts = prompts
    return read


def test_single_line():
    assert read_message(_reader("hello")) == "hello"


def test_triple_quote_block_keeps_lines_and_blank_lines():
    read = _reader('"""', "def f():", "", "    return 1", '"""')
    assert read_message(read) == "def f():\n\n    return 1"
    assert read.prompts == ["> ", ". ", ". ", ". ", ". "]


def test_triple_quote_block_with_text_on_the_fence_lines():
    assert read_message(_reader('"""first', 'second"""')) == "first\nsecond"
    assert read_message(_reader('"""one line"""')) == "one line"


def test_trailing_backslash_continues():
    assert read_message(_reader("a \\", "b\\", "c")) == "a \nb\nc"


def test_interrupt_and_eof_inside_a_block_propagate():
    with pytest.raises(KeyboardInterrupt):
        read_message(_reader('"""', "half", KeyboardInterrupt()))
    with pytest.raises(EOFError):
        read_message(_reader("a\\"))


def test_parse_commands_and_messages():
    assert slash.parse("/model qwen-max") == ("model", "qwen-max")
    assert slash.parse("  /HELP ") == ("help", "")
    assert slash.parse("/system be\nbrief") == ("system", "be\nbrief")
    assert slash.parse("/usr/bin is a directory") is None
    assert slash.parse("//model is a word") is None
    assert slash.unescape("//model is a word") == "/model is a word"
    assert slash.parse("hello /model") is None


def test_unknown_command_suggests_the_closest():
    with pytest.raises(UsageError, match=r"unknown command /modle; did you mean /model\?"):
        slash.dispatch(None, "modle", "")
    with pytest.raises(UsageError, match="did you mean /telemetry"):
        slash.dispatch(None, "telemtry", "")


def test_help_lists_every_command():
    text = slash.help_text()
    for name in ("auth", "model", "system", "clear", "stats", "save", "terms", "telemetry", "exit", "quit", "help"):
        assert f"/{name}" in text
