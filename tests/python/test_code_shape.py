"""Code shape guard: no source file outside tests/ and third_party/ is longer than 600 lines and no
function longer than 80 (the project's size limits), and the tuple-tensor machinery stays gone.
Python functions are measured with `ast`; C++ functions with the small scanner below (comments,
strings and character literals blanked, then the braces of function bodies at namespace/class level
matched; a lambda counts toward the function that holds it), so the test needs no lizard."""
import ast
import functools
import os
import re

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
SCANNED = ('cpp', 'include', 'python')  # tests/ and third_party/ are not scanned
CPP_EXT = ('.cpp', '.cc', '.h', '.hpp')
MAX_FILE_LINES = 600
MAX_FUNCTION_LINES = 80

# Functions over the limit that are being split (file:function). The list only shrinks: an
# offender not in it fails, and so does an entry that no longer exceeds the limit.
TOLERATED = set()


def source_files():
    """Hand-written sources under SCANNED (generated .pyi stubs are not)."""
    out = []
    for top in SCANNED:
        for d, dirs, files in os.walk(os.path.join(ROOT, top)):
            dirs[:] = sorted(x for x in dirs if x not in ('__pycache__', 'third_party') and not x.startswith('.'))
            out += [os.path.join(d, f) for f in sorted(files) if f.endswith(('.py',) + CPP_EXT)]
    return out


def rel(path):
    return os.path.relpath(path, ROOT).replace(os.sep, '/')


def read(path):
    with open(path, encoding='utf-8') as f:
        return f.read()


# ------------------------------------------------------------------------------------ Python
def python_functions(text):
    """[(qualified name, first line, length)] of every def (methods as Class.method)."""
    out = []

    def visit(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = prefix + child.name
                if not isinstance(child, ast.ClassDef):
                    out.append((name, child.lineno, child.end_lineno - child.lineno + 1))
                visit(child, name + '.')
            else:
                visit(child, prefix)
    visit(ast.parse(text), '')
    return out


# ------------------------------------------------------------------------------------ C++
_RAW_STRING = re.compile(r'R"([^ ()\\\t\n]{0,16})\(')


def blank_cpp(text):
    """The text with comments, string and character literals and preprocessor lines replaced by
    spaces (newlines kept, so line numbers stay)."""
    out, i, n = [], 0, len(text)
    at_line_start = True

    def blank(s):
        return re.sub(r'[^\n]', ' ', s)
    while i < n:
        c = text[i]
        if at_line_start and c == '#':  # a directive, with its continuation lines
            j = i
            while j < n and (text[j] != '\n' or text[j - 1] == '\\'):
                j += 1
            out.append(blank(text[i:j]))
            i = j
            continue
        if c == '/' and text.startswith('//', i):
            j = text.find('\n', i)
            j = n if j < 0 else j
        elif c == '/' and text.startswith('/*', i):
            j = text.find('*/', i + 2)
            j = n if j < 0 else j + 2
        elif c == 'R' and _RAW_STRING.match(text, i) and not (i and (text[i - 1].isalnum() or text[i - 1] == '_')):
            m = _RAW_STRING.match(text, i)
            j = text.find(')' + m.group(1) + '"', m.end())
            j = n if j < 0 else j + len(m.group(1)) + 2
        elif c in '"\'' and not (c == "'" and i and text[i - 1].isalnum()):  # 1'000 is a digit separator
            j = i + 1
            while j < n and text[j] != c and text[j] != '\n':
                j += 2 if text[j] == '\\' else 1
            j = min(j + 1, n)
        else:
            out.append(c)
            if c == '\n':
                at_line_start = True
            elif not c.isspace():
                at_line_start = False
            i += 1
            continue
        out.append(blank(text[i:j]))
        i = j
    return ''.join(out)


_SCOPE_HEAD = re.compile(r'\b(namespace|class|struct|union|enum|extern)\b')
_CTOR_INIT = re.compile(r'\)\s*(noexcept\s*)?:(?!:)')
# A function head ends with its parameter list, then qualifiers, a trailing return type or a
# constructor's initialiser list.
_FUNCTION_TAIL = re.compile(r'\)\s*((const|volatile|noexcept|override|final|mutable|&&?|noexcept\s*\([^()]*\))\s*)*'
                            r'(->[^;{}]*)?$|\)\s*(noexcept\s*)?:(?!:)')
_NAME = re.compile(r'((?:[A-Za-z_]\w*\s*(?:<[^;{}()]*>)?\s*::\s*)*~?(?:operator\s*(?:\(\)|[^\s(]+)|[A-Za-z_]\w*))\s*$')


_NOT_NAMES = ('decltype', 'alignas', '__attribute__', '__declspec', 'noexcept')


def _parameters_at(head):
    """Index of the '(' that opens a function head's parameter list: the first one at template
    depth 0 that does not belong to decltype(...) and the like; -1 if none."""
    depth, k = 0, 0
    while k < len(head):
        ch = head[k]
        if ch == '<' and not re.search(r'operator\s*<*$', head[:k]):
            depth += 1
        elif ch == '>' and depth:
            depth -= 1
        elif ch == '(' and depth == 0:
            if re.search(r'\boperator\s*$', head[:k]) and head.startswith('()', k):
                k += 2  # operator() : its parameters follow
                continue
            if not head[:k].rstrip().endswith(_NOT_NAMES):
                return k
            k = _matching(head, k, '(', ')')
            continue
        k += 1
    return -1


def _function_name(head):
    """(name, offset of its parameter list) of a function head; ('', -1) if the head is no function
    (e.g. a lambda or brace initialiser after '=')."""
    cut = _parameters_at(head) if _FUNCTION_TAIL.search(head.rstrip()) else -1
    if cut < 0:
        return '', -1
    depth, flat = 0, []
    for ch in head[:cut]:  # '=' at template depth 0 before the parameters: an initialiser
        depth += (ch == '<') - (ch == '>' and depth > 0)
        flat.append(ch if depth == 0 else ' ')
    m = _NAME.search(head[:cut])
    if '=' in re.sub(r'operator\s*\S+', '', ''.join(flat)) or not m:
        return '', -1
    return re.sub(r'\s+', '', m.group(1)), cut


def _scope_name(head):
    head = re.sub(r'^\s*template\s*<.*?>\s*(?=(class|struct|union)\b)', '', head, flags=re.S)
    m = re.search(r'\b(?:class|struct|union)\s+(?:alignas\s*\([^()]*\)\s*)?([A-Za-z_]\w*)', head)
    return m.group(1) if m else ''


def cpp_functions(text):
    """[(qualified name, first line, length)] of the function bodies at namespace/class level
    (class names qualify; namespaces do not). Other braces there (initialisers, lambdas assigned
    to variables) are skipped whole."""
    code = blank_cpp(text)
    out, scopes = [], []  # scopes: the enclosing class/struct names ('' for namespaces and others)
    head_start, paren, i, n = 0, 0, 0, len(code)
    while i < n:
        c = code[i]
        if c in '([':
            paren += 1
        elif c in ')]':
            paren = max(paren - 1, 0)
        elif c == ';' and paren == 0:
            head_start = i + 1
        elif c == '}':
            if scopes:
                scopes.pop()
            head_start = i + 1
        elif c == '{':
            head = code[head_start:i]
            before = head.rstrip()
            if paren or (_CTOR_INIT.search(head) and before and (before[-1].isalnum() or before[-1] in '_>')):
                i = _matching(code, i, '{', '}')  # a braced argument or member initialiser in a head
                continue
            name, cut = _function_name(head)
            if name or not _SCOPE_HEAD.search(head):
                end = _matching(code, i, '{', '}')
                if name:
                    first = code.count('\n', 0, head_start + cut) + 1
                    qual = '::'.join(s for s in scopes if s)
                    out.append(((qual + '::' if qual else '') + name, first, code.count('\n', 0, end) + 2 - first))
                i, head_start = end, end
                continue
            scopes.append(_scope_name(head))
            head_start = i + 1
        i += 1
    return out


def _matching(code, i, open_, close):
    """Index just past the bracket that closes the one at i."""
    depth = 0
    for j in range(i, len(code)):
        if code[j] == open_:
            depth += 1
        elif code[j] == close:
            depth -= 1
            if depth == 0:
                return j + 1
    return len(code)


# ------------------------------------------------------------------------------------ tests
@functools.lru_cache(maxsize=None)
def long_functions():
    """{'file:function': length} of the functions over MAX_FUNCTION_LINES (the tree is scanned once)."""
    out = {}
    for path in source_files():
        text = read(path)
        funcs = python_functions(text) if path.endswith('.py') else cpp_functions(text)
        for name, _, length in funcs:
            if length > MAX_FUNCTION_LINES:
                key = '%s:%s' % (rel(path), name)
                out[key] = max(length, out.get(key, 0))
    return out


def test_no_file_is_too_long():
    long_files = ['%s (%d lines)' % (rel(p), n) for p in source_files()
                  for n in [read(p).count('\n')] if n > MAX_FILE_LINES]
    assert not long_files, 'files over %d lines: %s' % (MAX_FILE_LINES, ', '.join(long_files))


def test_no_function_is_too_long():
    found = long_functions()
    new = sorted('%s (%d lines)' % (k, v) for k, v in found.items() if k not in TOLERATED)
    assert not new, 'functions over %d lines: %s' % (MAX_FUNCTION_LINES, ', '.join(new))


def test_tolerated_list_only_shrinks():
    found = long_functions()
    fixed = sorted(k for k in TOLERATED if k not in found)
    assert not fixed, ('no longer over %d lines (or gone); remove from TOLERATED: %s'
                       % (MAX_FUNCTION_LINES, ', '.join(fixed)))


def test_no_tuple_tensors():
    pattern = re.compile(r'TupleBox|_tuple_get|_make_tuple')
    hits = ['%s:%d' % (rel(p), k) for p in source_files()
            for k, line in enumerate(read(p).splitlines(), 1) if pattern.search(line)]
    assert not hits, 'tuple-tensor names are back: %s' % ', '.join(hits)


# The scanner itself: the cases it must get right, so that the guard above can fail.
CPP_SAMPLE = '''
#include "x.h"
#define BODY { return 1; }
namespace a { namespace {
struct S : B {
  int x{0};
  S(int v) : x(v), y_(T{v}) {}
  int get() const { return x; }  // a } in a comment
  bool operator()(int v) const { return v > x; }
};
}  // namespace
int S::long_one(int k) {
  const char* s = "}{";
  char c = '}';
  auto f = [&](int q) {
    return q + 1;
  };
  /* } */
  return f(k);
}
template <typename T> T twice(T v) { return v + v; }
}  // namespace a
'''


def test_cpp_scanner_finds_function_bodies():
    got = {name: (first, length) for name, first, length in cpp_functions(CPP_SAMPLE)}
    assert got == {'S::S': (7, 1), 'S::get': (8, 1), 'S::operator()': (9, 1),
                   'S::long_one': (12, 9), 'twice': (21, 1)}


def test_python_scanner_measures_defs():
    got = python_functions('class A:\n    def f(self):\n        def g():\n            pass\n        return g\n')
    assert got == [('A.f', 2, 4), ('A.f.g', 3, 2)]


def test_a_lambda_counts_toward_its_function():
    body = ''.join('    int v%d = %d;\n' % (k, k) for k in range(80))
    text = 'namespace n {\nvoid reg() {\n  auto f = [](int x) {\n%s    return x;\n  };\n}\n}\n' % body
    assert cpp_functions(text) == [('reg', 2, 85)]
    assert 85 > MAX_FUNCTION_LINES
