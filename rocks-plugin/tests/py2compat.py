"""Static Python 2 compatibility checker for the rocks-plugin sources.

Rocks runs our plugin and commands with its own /opt/rocks/bin/python: 2.7 on Rocks 7,
2.6 on Rocks 6. Python 2 cannot be installed in CI, so every shipped file is parsed
with Python 3's ``ast`` and rejected if it uses syntax, builtins, stdlib modules,
functions or keyword arguments that Python 2.6/2.7 lacks or that behave differently
there. The code is kept plain enough that this check is meaningful.
"""
from __future__ import absolute_import, division, print_function

import ast
import os

PY3_ONLY_MODULES = set("""
pathlib typing enum dataclasses asyncio concurrent ipaddress secrets statistics selectors
tomllib lzma faulthandler configparser queue http html xmlrpc builtins reprlib _thread
zoneinfo graphlib contextvars socketserver copyreg winreg tkinter
""".split())
PY3_ONLY_SUBMODULES = set(["urllib.request", "urllib.parse", "urllib.error",
                           "importlib.util", "importlib.machinery", "unittest.mock",
                           "collections.abc"])
PY3_ONLY_NAMES = set("""
FileNotFoundError PermissionError FileExistsError ConnectionError TimeoutError
ProcessLookupError ChildProcessError BlockingIOError InterruptedError IsADirectoryError
NotADirectoryError ModuleNotFoundError RecursionError StopAsyncIteration ResourceWarning
BrokenPipeError ConnectionResetError ConnectionRefusedError ConnectionAbortedError
breakpoint ascii
""".split())
# (module, attribute) pairs missing in 2.6/2.7
PY3_ONLY_ATTRS = set([
    ("subprocess", "run"), ("subprocess", "DEVNULL"), ("subprocess", "TimeoutExpired"),
    ("subprocess", "check_output"), ("subprocess", "getoutput"), ("os", "replace"),
    ("os", "scandir"), ("os", "get_terminal_size"), ("os", "cpu_count"),
    ("time", "monotonic"), ("time", "perf_counter"), ("time", "process_time"),
    ("shlex", "quote"), ("shutil", "which"), ("shutil", "disk_usage"),
    ("json", "JSONDecodeError"), ("math", "inf"), ("math", "nan"), ("math", "isclose"),
    ("functools", "lru_cache"), ("tempfile", "TemporaryDirectory"), ("itertools", "accumulate"),
    ("sys", "getfilesystemencodeerrors"), ("re", "fullmatch"), ("contextlib", "suppress"),
    ("contextlib", "ExitStack"), ("os", "fsencode"), ("os", "fsdecode"),
])
PY3_ONLY_METHODS = set(["casefold", "removeprefix", "removesuffix", "to_bytes", "from_bytes",
                        "isascii", "format_map", "isidentifier", "maketrans"])
# keyword arguments that Python 2 functions of the same name do not take
PY3_ONLY_KEYWORDS = {
    "open": set(["encoding", "newline", "errors", "closefd", "opener"]),
    "print": set(["flush"]),
    "makedirs": set(["exist_ok"]),
    "communicate": set(["timeout"]),
    "wait": set(["timeout"]),
    "Popen": set(["timeout", "encoding", "errors", "text", "start_new_session",
                  "pass_fds", "restore_signals"]),
    "call": set(["timeout"]),
    "check_call": set(["timeout"]),
    "min": set(["default"]),
    "max": set(["default"]),
    "splitlines": set(["keepends"]),
}


class Problem(object):
    def __init__(self, path, line, message):
        self.path = path
        self.line = line
        self.message = message

    def __str__(self):
        return "%s:%s: %s" % (self.path, self.line, self.message)


class _Visitor(ast.NodeVisitor):
    def __init__(self, path):
        self.path = path
        self.problems = []
        self.futures = set()
        self.prints = []
        self.divisions = []

    def flag(self, node, message):
        self.problems.append(Problem(self.path, getattr(node, "lineno", "?"), message))

    # --- syntax -------------------------------------------------------------------
    def visit_JoinedStr(self, node):
        self.flag(node, "f-string (Python 3.6+)")
        self.generic_visit(node)

    def visit_Nonlocal(self, node):
        self.flag(node, "nonlocal (Python 3)")

    def visit_AnnAssign(self, node):
        self.flag(node, "variable annotation (Python 3.6+)")
        self.generic_visit(node)

    def visit_AsyncFunctionDef(self, node):
        self.flag(node, "async def (Python 3.5+)")
        self.generic_visit(node)

    def visit_Await(self, node):
        self.flag(node, "await (Python 3.5+)")
        self.generic_visit(node)

    def visit_AsyncFor(self, node):
        self.flag(node, "async for (Python 3.5+)")
        self.generic_visit(node)

    def visit_AsyncWith(self, node):
        self.flag(node, "async with (Python 3.5+)")
        self.generic_visit(node)

    def visit_YieldFrom(self, node):
        self.flag(node, "yield from (Python 3.3+)")
        self.generic_visit(node)

    def visit_NamedExpr(self, node):
        self.flag(node, "assignment expression := (Python 3.8+)")
        self.generic_visit(node)

    def visit_MatMult(self, node):
        self.flag(node, "@ operator (Python 3.5+)")

    def visit_BinOp(self, node):
        if isinstance(node.op, ast.MatMult):
            self.flag(node, "@ operator (Python 3.5+)")
        if isinstance(node.op, ast.Div):
            self.divisions.append(node)
        self.generic_visit(node)

    def visit_AugAssign(self, node):
        if isinstance(node.op, ast.MatMult):
            self.flag(node, "@= operator (Python 3.5+)")
        if isinstance(node.op, ast.Div):
            self.divisions.append(node)
        self.generic_visit(node)

    def visit_Raise(self, node):
        if getattr(node, "cause", None) is not None:
            self.flag(node, "raise ... from ... (Python 3)")
        self.generic_visit(node)

    def visit_With(self, node):
        if len(node.items) > 1:
            self.flag(node, "several context managers in one with (Python 2.7+, not 2.6)")
        self.generic_visit(node)

    def visit_DictComp(self, node):
        self.flag(node, "dict comprehension (not in Python 2.6)")
        self.generic_visit(node)

    def visit_SetComp(self, node):
        self.flag(node, "set comprehension (not in Python 2.6)")
        self.generic_visit(node)

    def visit_Set(self, node):
        self.flag(node, "set literal (not in Python 2.6)")
        self.generic_visit(node)

    def visit_Dict(self, node):
        if any(key is None for key in node.keys):
            self.flag(node, "{**mapping} unpacking (Python 3.5+)")
        self.generic_visit(node)

    def visit_Starred(self, node):
        if isinstance(getattr(node, "ctx", None), ast.Store):
            self.flag(node, "starred assignment target (Python 3)")
        self.generic_visit(node)

    def visit_List(self, node):
        self._no_starred_elements(node)
        self.generic_visit(node)

    def visit_Tuple(self, node):
        self._no_starred_elements(node)
        self.generic_visit(node)

    def _no_starred_elements(self, node):
        if isinstance(node.ctx, ast.Load) and any(isinstance(e, ast.Starred) for e in node.elts):
            self.flag(node, "* unpacking in a display (Python 3.5+)")

    def _arguments(self, node):
        args = node.args
        if getattr(args, "kwonlyargs", None):
            self.flag(node, "keyword-only arguments (Python 3)")
        if getattr(args, "posonlyargs", None):
            self.flag(node, "positional-only arguments (Python 3.8+)")
        every = list(args.args) + list(getattr(args, "kwonlyargs", []))
        every += [a for a in (args.vararg, args.kwarg) if a is not None]
        if any(getattr(a, "annotation", None) is not None for a in every):
            self.flag(node, "argument annotation (Python 3)")

    def visit_FunctionDef(self, node):
        self._arguments(node)
        if node.returns is not None:
            self.flag(node, "return annotation (Python 3)")
        self.generic_visit(node)

    def visit_Lambda(self, node):
        self._arguments(node)
        self.generic_visit(node)

    def visit_ClassDef(self, node):
        if node.keywords:
            self.flag(node, "class keyword arguments / metaclass= (Python 3)")
        self.generic_visit(node)

    # --- calls, names, attributes, imports ---------------------------------------------
    def visit_Call(self, node):
        starred = [i for i, a in enumerate(node.args) if isinstance(a, ast.Starred)]
        if len(starred) > 1 or (starred and starred[-1] != len(node.args) - 1):
            self.flag(node, "* unpacking not last / more than once in a call (Python 3.5+)")
        double = [i for i, k in enumerate(node.keywords) if k.arg is None]
        if len(double) > 1 or (double and double[-1] != len(node.keywords) - 1):
            self.flag(node, "** unpacking not last / more than once in a call (Python 3.5+)")
        name = None
        if isinstance(node.func, ast.Name):
            name = node.func.id
        elif isinstance(node.func, ast.Attribute):
            name = node.func.attr
        if name == "print":
            self.prints.append(node)
        if name == "super" and not node.args:
            self.flag(node, "super() without arguments (Python 3)")
        if name == "bytes" and isinstance(node.func, ast.Name):
            self.flag(node, "bytes(...) means str(...) on Python 2")
        if name in PY3_ONLY_KEYWORDS:
            for keyword in node.keywords:
                if keyword.arg in PY3_ONLY_KEYWORDS[name]:
                    self.flag(node, "%s(%s=...) is Python 3 only" % (name, keyword.arg))
        if name == "format" and isinstance(node.func, ast.Attribute):
            target = node.func.value
            if isinstance(target, ast.Constant) and isinstance(target.value, str) \
                    and "{}" in target.value:
                self.flag(node, "'{}'.format auto-numbering (not in Python 2.6)")
        self.generic_visit(node)

    def visit_Name(self, node):
        if node.id in PY3_ONLY_NAMES and isinstance(node.ctx, ast.Load):
            self.flag(node, "%s does not exist in Python 2" % node.id)

    def visit_Attribute(self, node):
        if isinstance(node.value, ast.Name) and (node.value.id, node.attr) in PY3_ONLY_ATTRS:
            self.flag(node, "%s.%s does not exist in Python 2" % (node.value.id, node.attr))
        if node.attr in PY3_ONLY_METHODS:
            self.flag(node, ".%s() does not exist in Python 2" % node.attr)
        self.generic_visit(node)

    def _module(self, node, name):
        if name.split(".")[0] in PY3_ONLY_MODULES or name in PY3_ONLY_SUBMODULES:
            self.flag(node, "module %s does not exist in Python 2" % name)

    def visit_Import(self, node):
        for alias in node.names:
            self._module(node, alias.name)

    def visit_ImportFrom(self, node):
        module = node.module or ""
        if module == "__future__":
            for alias in node.names:
                self.futures.add(alias.name)
            return
        self._module(node, module)
        for alias in node.names:
            self._module(node, "%s.%s" % (module, alias.name))
            if (module, alias.name) in PY3_ONLY_ATTRS:
                self.flag(node, "%s.%s does not exist in Python 2" % (module, alias.name))


def check_source(source, path="<string>"):
    try:
        tree = ast.parse(source, path)
    except SyntaxError as err:
        return [Problem(path, err.lineno, "does not parse: %s" % err.msg)]
    visitor = _Visitor(path)
    visitor.visit(tree)
    if visitor.prints and "print_function" not in visitor.futures:
        visitor.flag(visitor.prints[0], "print() without from __future__ import print_function")
    if visitor.divisions and "division" not in visitor.futures:
        visitor.flag(visitor.divisions[0], "/ without from __future__ import division "
                                           "(integer division on Python 2)")
    return visitor.problems


def shipped_files(root):
    """Every .py file the RPM installs for Rocks' Python."""
    out = []
    for top in ("lib", "insertethers", "commands"):
        for base, _dirs, files in os.walk(os.path.join(root, top)):
            for name in sorted(files):
                if name.endswith(".py"):
                    out.append(os.path.join(base, name))
    return sorted(out)


def check_file(path):
    handle = open(path)
    try:
        return check_source(handle.read(), path)
    finally:
        handle.close()
