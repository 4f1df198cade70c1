"""A terminal progress bar for long commands (rendering, exports)."""


class Progress:
    """A text progress bar on a terminal; one line per step otherwise (`every_line`) or nothing.

    `stream` is a management command's OutputWrapper (self.stdout / self.stderr).
    """

    WIDTH = 30

    def __init__(self, stream, every_line=True):
        self.stream, self.every_line = stream, every_line
        self.tty = stream.isatty()
        self.drawn = False

    def __call__(self, done, total, label):
        if self.tty:
            filled = self.WIDTH * done // max(total, 1)
            bar = "#" * filled + "." * (self.WIDTH - filled)
            self.stream.write(f"\r[{bar}] {done}/{total} {label[:60]}\033[K", ending="")
            self.stream.flush()
            self.drawn = True
        elif self.every_line:
            self.stream.write(f"[{done}/{total}] {label}")

    def close(self):
        if self.drawn:
            self.stream.write("")
            self.drawn = False
