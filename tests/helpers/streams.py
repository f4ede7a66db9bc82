"""Streams for tests that look at how a program writes, not only what."""

import io


class Writes(io.StringIO):
    """A stream that keeps each write call: what reaches a pipe in one piece when stderr is unbuffered."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[str] = []

    def write(self, text: str) -> int:
        self.calls.append(text)
        return super().write(text)
