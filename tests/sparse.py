# SPDX-License-Identifier: LGPL-2.1-or-later
"""Helpers for the tests that move sparse files through streams."""
import os


def data_and_holes(path):
    """[(kind, start, end)] of a file, from SEEK_DATA / SEEK_HOLE."""
    out, size = [], os.path.getsize(path)
    with open(path, "rb") as f:
        fd, pos = f.fileno(), 0
        while pos < size:
            try:
                data = os.lseek(fd, pos, os.SEEK_DATA)
            except OSError:
                data = size
            if data > pos:
                out.append(("hole", pos, data))
            if data >= size:
                break
            hole = os.lseek(fd, data, os.SEEK_HOLE)
            out.append(("data", data, hole))
            pos = hole
    return out
