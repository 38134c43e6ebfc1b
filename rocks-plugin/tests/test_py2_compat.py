"""Every file shipped for Rocks' Python 2 passes the py2compat checker; the checker
itself catches each construct it claims to; and when a Python 2 interpreter is around
(SEGBRIDGE_PYTHON2 or python2.7 on PATH) the files also compile with it."""
from __future__ import absolute_import, division, print_function

import os
import subprocess
import sys
import unittest

import py2compat

PLUGIN_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

BAD = {
    "f-string": "x = f'{y}'\n",
    "nonlocal": "def f():\n    a = 1\n    def g():\n        nonlocal a\n",
    "keyword-only": "def f(a, *, b):\n    pass\n",
    "annotation": "def f(a: int):\n    pass\n",
    "return annotation": "def f() -> int:\n    pass\n",
    "variable annotation": "a: int = 1\n",
    "async def": "async def f():\n    pass\n",
    "yield from": "def f():\n    yield from g()\n",
    "print()": "print('x')\n",
    "division": "x = 1 / 2\n",
    "walrus": "if (a := 1):\n    pass\n",
    "starred target": "a, *b = c\n",
    "unpacking in a call": "f(*a, *b)\n",
    "dict unpacking": "x = {**a}\n",
    "super()": "class A(B):\n    def f(self):\n        super().f()\n",
    "raise from": "raise E() from err\n",
    "FileNotFoundError": "try:\n    pass\nexcept FileNotFoundError:\n    pass\n",
    "subprocess.run": "import subprocess\nsubprocess.run(['x'])\n",
    "shlex.quote": "from shlex import quote\n",
    "pathlib": "import pathlib\n",
    "urllib.request": "import urllib.request\n",
    "open(encoding=)": "open('x', encoding='utf-8')\n",
    "makedirs(exist_ok=)": "import os\nos.makedirs('x', exist_ok=True)\n",
    "communicate(timeout=)": "p.communicate(timeout=3)\n",
    "metaclass=": "class A(metaclass=M):\n    pass\n",
    "dict comprehension (2.6)": "x = {a: b for a, b in c}\n",
    "set literal (2.6)": "x = {1, 2}\n",
    "with a, b (2.6)": "with a, b:\n    pass\n",
    "'{}'.format (2.6)": "x = '{}'.format(1)\n",
    "bytes()": "x = bytes(3)\n",
    ".casefold()": "x = s.casefold()\n",
    "syntax": "print 'python 2 only'\n",
}

GOOD = """from __future__ import absolute_import, division, print_function
import os
import subprocess

def f(a, b=None, *args, **kwargs):
    print("%s" % (a / 2), file=None)
    x = dict((k, v) for k, v in kwargs.items())
    with open(os.devnull) as handle:
        pass
    try:
        subprocess.Popen(["true"]).wait()
    except OSError as err:
        raise ValueError(str(err))
    return super(Exception, err).__str__()
"""


# the checker reads Python 3 ASTs; under Python 2 the RealPython2Test compile is the check
needs_py3 = unittest.skipIf(sys.version_info[0] < 3, "the checker runs on Python 3")


@needs_py3
class CheckerTest(unittest.TestCase):
    def test_checker_catches_each_construct(self):
        for what, source in sorted(BAD.items()):
            problems = py2compat.check_source(source, what)
            self.assertTrue(problems, "%s was not flagged" % what)

    def test_checker_accepts_portable_code(self):
        self.assertEqual([str(p) for p in py2compat.check_source(GOOD)], [])


@needs_py3
class ShippedFilesTest(unittest.TestCase):
    def test_files_are_found(self):
        files = py2compat.shipped_files(PLUGIN_ROOT)
        names = [os.path.relpath(f, PLUGIN_ROOT) for f in files]
        self.assertIn(os.path.join("insertethers", "90-segbridge.py"), names)
        self.assertIn(os.path.join("commands", "sync", "segbridge", "__init__.py"), names)
        self.assertIn(os.path.join("lib", "segbridge_rocks", "process.py"), names)
        self.assertGreater(len(files), 15)

    def test_every_shipped_file_is_python2_compatible(self):
        problems = []
        for path in py2compat.shipped_files(PLUGIN_ROOT):
            problems.extend(str(p) for p in py2compat.check_file(path))
        self.assertEqual(problems, [])

    def test_every_module_using_print_or_division_has_future_imports(self):
        # stricter house rule: every shipped module imports the three futures, so that
        # later edits cannot silently change meaning on Python 2
        for path in py2compat.shipped_files(PLUGIN_ROOT):
            with open(path) as handle:
                text = handle.read()
            if "def " in text or "import " in text:
                self.assertIn("from __future__ import absolute_import, division, print_function",
                              text, path)


def _python2():
    candidates = [os.environ.get("SEGBRIDGE_PYTHON2"), "python2.7", "python2"]
    for candidate in candidates:
        if not candidate:
            continue
        try:
            out = subprocess.Popen([candidate, "-c", "import sys; print(sys.version_info[0])"],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE).communicate()[0]
        except OSError:
            continue
        if out.strip() == b"2":
            return candidate
    return None


class RealPython2Test(unittest.TestCase):
    def test_files_compile_with_python2(self):
        python2 = sys.executable if sys.version_info[0] == 2 else _python2()
        if python2 is None:
            self.skipTest("no Python 2 interpreter (set SEGBRIDGE_PYTHON2 to use one)")
        code = ("import sys\nfor path in sys.argv[1:]:\n"
                "    compile(open(path).read(), path, 'exec')\nprint('ok')\n")
        child = subprocess.Popen([python2, "-c", code] + py2compat.shipped_files(PLUGIN_ROOT),
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        out = child.communicate()[0].decode("utf-8", "replace")
        self.assertEqual(child.returncode, 0, out)


if __name__ == "__main__":
    unittest.main()
