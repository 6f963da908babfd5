from qwen_cli.chat.conversation import Conversation, to_markdown


def _conversation(turns, system=None):
    c = Conversation(system=system)
    for i in range(turns):
        c.add_user(f"question {i} " + "x" * 80)
        c.add_assistant(f"answer {i} " + "y" * 80)
    return c


def test_request_carries_system_then_every_message():
    c = _conversation(2, system="be brief")
    c.add_user("now")
    messages = c.request_messages()
    assert messages[0] == {"role": "system", "content": "be brief"}
    assert [m["role"] for m in messages[1:]] == ["user", "assistant", "user", "assistant", "user"]
    assert set(messages[1]) == {"role", "content"}


def test_guard_drops_oldest_turns_keeps_system_and_newest_question():
    c = _conversation(5, system="S" * 50)
    c.add_user("latest")
    dropped = c.guard(450)
    messages = c.request_messages()
    assert dropped == 3
    assert messages[0]["role"] == "system"
    assert messages[1]["content"].startswith("question 3")
    assert messages[-1]["content"] == "latest"
    assert sum(len(m["content"]) for m in messages) <= 450
    assert len(c.transcript) == 11  # the transcript (for /save) keeps everything


def test_guard_never_drops_the_newest_question_even_when_too_big():
    c = _conversation(1)
    c.add_user("z" * 1000)
    assert c.guard(100) == 1
    assert [m["content"] for m in c.request_messages()] == ["z" * 1000]
    assert c.guard(100) == 0


def test_guard_is_off_at_zero():
    c = _conversation(3)
    before = c.request_messages()
    assert c.guard(0) == 0
    assert c.request_messages() == before  # nothing dropped, however big the conversation
    assert c.guard(1) > 0  # while any positive cap does drop turns


def test_retract_and_empty_cut_answers():
    c = Conversation()
    c.add_user("one")
    c.add_assistant("", cut=True)
    c.add_user("two")
    c.retract_user()
    assert [m["content"] for m in c.request_messages()] == ["one"]


def test_markdown_transcript_marks_cut_answers():
    c = Conversation(system="be kind")
    c.add_user("hi")
    c.add_assistant("hel", cut=True)
    text = to_markdown(c, "qwen chat 1")
    assert text.startswith("# qwen chat 1\n")
    assert "## System\n\nbe kind" in text
    assert "## You\n\nhi" in text
    assert "## Assistant\n\nhel\n\n*(answer cut short)*" in text
