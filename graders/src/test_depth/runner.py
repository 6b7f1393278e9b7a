"""swarm-gym's test runner for test_depth: runs a project's own tests and writes each test's
outcome to the JSON file named by the first argument ({"runner": ..., "tests": {id: outcome}}).

An outcome is "passed", "failed" or "skipped". With pytest importable, pytest collects and runs
the tests; without it, this file runs what pytest would find in the common cases: unittest
TestCase classes, plain `test_*` functions without parameters and `Test*` classes of such
methods (a function that needs fixtures is recorded as skipped). A test module that cannot be
imported is one failed entry named `collect:PATH`, so a mutant that breaks an import is seen.
"""

import importlib
import importlib.util
import inspect
import io
import json
import os
import sys
import unittest
import contextlib

ROOT = os.getcwd()
OUTCOMES = {}
SKIP_DIRS = {".git", "__pycache__", "node_modules", ".venv", "venv", "env", "build", "dist"}


def is_test_file(relative):
    name = os.path.basename(relative)
    if not name.endswith(".py") or name == "conftest.py":
        return False
    return name.startswith("test_") or name.endswith("_test.py")


def test_files():
    found = []
    for directory, subdirs, files in os.walk(ROOT):
        subdirs[:] = sorted(d for d in subdirs if d not in SKIP_DIRS and not d.startswith("."))
        for name in sorted(files):
            relative = os.path.relpath(os.path.join(directory, name), ROOT)
            if is_test_file(relative):
                found.append(relative)
    return found


def run_with_pytest():
    import pytest  # noqa: F401  (raises ImportError when absent)

    class Recorder:
        def pytest_runtest_logreport(self, report):
            if report.when == "call":
                OUTCOMES[report.nodeid] = report.outcome
            elif report.failed:
                OUTCOMES[report.nodeid] = "failed"
            elif report.skipped and report.nodeid not in OUTCOMES:
                OUTCOMES[report.nodeid] = "skipped"

        def pytest_collectreport(self, report):
            if report.failed:
                OUTCOMES["collect:" + report.nodeid] = "failed"

    with contextlib.redirect_stdout(io.StringIO()):
        pytest.main(["-q", "-p", "no:cacheprovider", "-o", "addopts=", ROOT], plugins=[Recorder()])
    return "pytest"


def import_test_module(relative):
    """Imports a test file the way pytest's default (prepend) import mode would."""
    parts = relative[:-3].split(os.sep)
    directory = os.path.dirname(os.path.join(ROOT, relative))
    package_root = directory
    # Walk up while the directory is a package, so `tests/test_x.py` in a package imports as
    # `tests.test_x` with the directory above the top package on sys.path.
    depth = 0
    while os.path.exists(os.path.join(package_root, "__init__.py")) and package_root != ROOT:
        package_root = os.path.dirname(package_root)
        depth += 1
    name = ".".join(parts[len(parts) - 1 - depth:])
    for path in (package_root, ROOT):
        if path not in sys.path:
            sys.path.insert(0, path)
    return importlib.import_module(name)


def record(test_id, call):
    cwd = os.getcwd()
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            call()
        OUTCOMES[test_id] = "passed"
    except KeyboardInterrupt:
        raise
    except unittest.SkipTest:
        OUTCOMES[test_id] = "skipped"
    except BaseException:  # a test that exits or raises anything has failed
        OUTCOMES[test_id] = "failed"
    finally:
        os.chdir(cwd)


def run_case(case):
    result = unittest.TestResult()
    case.run(result)
    if result.errors or result.failures or result.unexpectedSuccesses:
        raise AssertionError("failed")
    if result.skipped:
        raise unittest.SkipTest("skipped")


def takes_no_arguments(function, bound):
    try:
        parameters = list(inspect.signature(function).parameters.values())
    except (TypeError, ValueError):
        return False
    if bound and parameters:
        parameters = parameters[1:]
    return all(p.default is not p.empty or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
               for p in parameters)


def run_plain_class(cls, test_id_prefix):
    for name in sorted(dir(cls)):
        if not name.startswith("test"):
            continue
        method = getattr(cls, name, None)
        if not callable(method):
            continue
        test_id = test_id_prefix + "::" + name
        if not takes_no_arguments(method, bound=True):
            OUTCOMES[test_id] = "skipped"
            continue

        def call(name=name):
            instance = cls()
            if hasattr(instance, "setup_method"):
                instance.setup_method(getattr(instance, name))
            try:
                getattr(instance, name)()
            finally:
                if hasattr(instance, "teardown_method"):
                    instance.teardown_method(getattr(instance, name))

        record(test_id, call)


def run_without_pytest():
    loader = unittest.TestLoader()
    for relative in test_files():
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                module = import_test_module(relative)
        except KeyboardInterrupt:
            raise
        except BaseException:
            OUTCOMES["collect:" + relative] = "failed"
            continue
        for name, value in sorted(vars(module).items()):
            if getattr(value, "__module__", None) != module.__name__:
                continue
            test_id = relative + "::" + name
            if inspect.isclass(value) and issubclass(value, unittest.TestCase):
                for case in loader.loadTestsFromTestCase(value):
                    record(relative + "::" + name + "::" + case._testMethodName,
                           lambda case=case: run_case(case))
            elif inspect.isclass(value) and name.startswith("Test"):
                run_plain_class(value, test_id)
            elif inspect.isfunction(value) and name.startswith("test"):
                if takes_no_arguments(value, bound=False):
                    record(test_id, value)
                else:
                    OUTCOMES[test_id] = "skipped"
    return "built-in (pytest is not installed)"


def main():
    out = sys.argv[1]
    sys.dont_write_bytecode = True
    try:
        runner = run_with_pytest()
    except ImportError:
        runner = run_without_pytest()
    with open(out, "w", encoding="utf-8") as handle:
        json.dump({"runner": runner, "tests": OUTCOMES}, handle)


if __name__ == "__main__":
    main()
