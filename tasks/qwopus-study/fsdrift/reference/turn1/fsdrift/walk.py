"""The files of a tree, relative, with excludes and optional symlink following."""
import fnmatch
import os


def excluded(relative, patterns):
    """A path is excluded when it, or any of its parts, matches a glob."""
    parts = relative.split("/")
    return any(
        fnmatch.fnmatch(relative, p) or any(fnmatch.fnmatch(part, p) for part in parts)
        for p in patterns
    )


def files(root, patterns=(), follow=False):
    """Relative POSIX paths of the regular files under `root`, sorted."""
    found = []
    seen = set()
    for directory, dirs, names in os.walk(root, followlinks=follow):
        real = os.path.realpath(directory)
        if real in seen:  # a symlink loop
            dirs[:] = []
            continue
        seen.add(real)
        if not follow:
            dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(directory, d))]
        for name in names:
            path = os.path.join(directory, name)
            if os.path.islink(path) and not follow:
                continue
            if not os.path.isfile(path):
                continue
            relative = os.path.relpath(path, root).replace(os.sep, "/")
            if not excluded(relative, patterns):
                found.append(relative)
    return sorted(found)
