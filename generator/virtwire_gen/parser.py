# SPDX-License-Identifier: LGPL-2.1-or-later
"""Recursive-descent parser for XDR (.x) files.

The grammar is RFC 4506 section 6.3 plus rpcgen's extensions: constants and
array sizes naming other constants, 'unsigned' alone, char/short/long,
'struct NAME' as a type specifier, program/version/procedure definitions,
'%' pass-through lines, and the comments libvirt uses for annotations.
Inline struct/union/enum bodies inside declarations are lifted into named
definitions called OUTER_anonN (N counts them through the file).
"""

from __future__ import annotations

import re
from typing import Dict, List, Optional, Tuple

from .ir import (Comment, Const, Decl, Enum, EnumMember, Loc, Procedure, Program,
                 Spec, Struct, TypeRef, Typedef, Union, UnionArm, Value, Version,
                 XdrError)
from .lexer import Token, tokenize
from .preprocess import PASSES, CppOptions, Sources, check_same, run_cpp

KEYWORDS = {
    "bool", "case", "char", "const", "default", "double", "enum", "float",
    "hyper", "int", "long", "opaque", "program", "quadruple", "short", "string",
    "struct", "switch", "typedef", "union", "unsigned", "version", "void",
}

_ANNOTATION = re.compile(r"^@([A-Za-z_][A-Za-z0-9_]*)\s*:\s*(.*)$")


def parse_annotations(comment: Optional[Comment]) -> Dict[str, List[str]]:
    """'@key: value' lines of a doc comment, in order, values kept as text."""
    out: Dict[str, List[str]] = {}
    if comment is None:
        return out
    for ln in comment.body_lines():
        m = _ANNOTATION.match(ln)
        if m:
            out.setdefault(m.group(1), []).append(m.group(2).strip())
    return out


class Parser:
    def __init__(self, text: str, filename: str, origin_line=None):
        self.filename = filename
        self.tokens, self.passthrough = tokenize(text, filename, origin_line)
        self.pos = 0
        self.defs: list = []
        self._consumed: set = set()  # ids of comments used as trailing tags

    # -- token helpers ------------------------------------------------------
    @property
    def tok(self) -> Token:
        return self.tokens[self.pos]

    def next(self) -> Token:
        t = self.tokens[self.pos]
        if t.kind != "eof":
            self.pos += 1
        return t

    def at(self, text: str) -> bool:
        t = self.tok
        return t.kind in ("punct", "ident") and t.text == text

    def accept(self, text: str) -> Optional[Token]:
        if self.at(text):
            return self.next()
        return None

    def expect(self, text: str, what: Optional[str] = None) -> Token:
        if not self.at(text):
            self.error(f"expected {what or repr(text)}")
        return self.next()

    def error(self, message: str, tok: Optional[Token] = None):
        t = tok or self.tok
        found = "end of file" if t.kind == "eof" else repr(t.text)
        raise XdrError(t.loc, f"{message}, found {found}")

    def ident(self, what: str = "identifier") -> Token:
        t = self.tok
        if t.kind != "ident" or t.text in KEYWORDS:
            self.error(f"expected {what}")
        return self.next()

    def trailing(self, prev: Token) -> List[Comment]:
        """The comments that follow prev on the same line (they belong to
        what prev ends, not to what comes next)."""
        out: List[Comment] = []
        for c in self.tok.comments:
            if c.loc.line == prev.end_line and id(c) not in self._consumed:
                self._consumed.add(id(c))
                out.append(c)
        return out

    @staticmethod
    def words(comments: List[Comment]) -> List[str]:
        """The words of comments (libvirt's trailing tags)."""
        return [w for c in comments for ln in c.body_lines() for w in ln.split()]

    def before(self) -> List[Comment]:
        """The comments between the previous token and this one that no
        previous construct took as trailing: inside a body, those of the
        member, arm or procedure that starts here."""
        return [c for c in self.tok.comments if id(c) not in self._consumed]

    def doc_comments(self) -> List[Comment]:
        """The doc comment of the definition that starts here: the comments
        right before it, with no blank line between them or after the last
        (a file's licence and section banners stand apart)."""
        prev_end = self.tokens[self.pos - 1].end_line if self.pos > 0 else 0
        run: List[Comment] = []
        line = self.tok.loc.line
        for c in reversed(self.before()):
            if c.loc.line <= prev_end or c.end_line < line - 1:
                break
            run.insert(0, c)
            line = c.loc.line
        return run

    def doc(self, tok: Token) -> Optional[Comment]:
        """The last doc comment before tok that was not a trailing comment."""
        docs = [c for c in tok.comments if id(c) not in self._consumed and c.is_doc]
        return docs[-1] if docs else None

    # -- values -------------------------------------------------------------
    def value(self, allow_names: bool = True, allow_string: bool = False) -> Value:
        t = self.tok
        if t.kind == "punct" and t.text == "-":
            self.next()
            n = self.tok
            if n.kind != "number":
                self.error("expected a number after '-'")
            self.next()
            return Value(t.loc, literal=-n.value, text="-" + n.text)
        if t.kind == "number":
            self.next()
            return Value(t.loc, literal=t.value, text=t.text)
        if t.kind == "string":
            if not allow_string:
                self.error("a string is only allowed as the value of a const; expected a number")
            self.next()
            return Value(t.loc, string=t.text)
        if allow_names and t.kind == "ident" and t.text not in KEYWORDS:
            self.next()
            return Value(t.loc, name=t.text)
        self.error("expected a constant")

    # -- top level ----------------------------------------------------------
    def parse(self) -> Spec:
        while self.tok.kind != "eof":
            self.definition()
        return Spec(self.filename, self.defs, self.passthrough)

    def definition(self):
        t = self.tok
        doc = self.doc_comments()
        if self.accept("const"):
            name = self.ident("constant name")
            self.expect("=")
            val = self.value(allow_string=True)
            end = self.expect(";")
            self.defs.append(Const(name.text, val, name.loc, doc, self.trailing(end)))
        elif self.accept("typedef"):
            decl = self.declaration(outer=None)
            if decl.is_void:
                raise XdrError(decl.loc, "typedef of void")
            end = self.expect(";")
            decl.trailing = self.trailing(end)
            decl.tags = self.words(decl.trailing)
            if self._self_alias(decl):
                return  # rpcgen's 'typedef struct X X;': X already names the type
            self.defs.append(Typedef(decl.name, decl, decl.loc, decl.tags, doc))
        elif self.at("enum") or self.at("struct") or self.at("union"):
            kw = self.next().text
            name = self.ident(f"{kw} name")
            self.type_body(kw, name.text, name.loc)
            self.defs[-1].comments = doc
            self.expect(";")
        elif self.accept("program"):
            self.program(t, doc)
        elif t.kind == "punct" and t.text == "-":
            self.error("expected a definition")
        else:
            self.error("expected a definition (const, typedef, enum, struct, union or program)")

    def _self_alias(self, decl: Decl) -> bool:
        """'typedef struct X X;' after struct X (libvirt 9.0.0's
        log_protocol.x has two): rpcgen emits nothing for it."""
        return (decl.shape == "scalar" and decl.type.kind == "named"
                and decl.type.name == decl.name
                and any(isinstance(d, (Enum, Struct, Union)) and d.name == decl.name
                        for d in self.defs))

    def type_body(self, kw: str, name: str, loc: Loc):
        """Parses the body of an enum/struct/union named name; appends it."""
        if kw == "enum":
            self.defs.append(self.enum_body(name, loc))
        elif kw == "struct":
            self.defs.append(self.struct_body(name, loc))
        else:
            self.defs.append(self.union_body(name, loc))

    def enum_body(self, name: str, loc: Loc) -> Enum:
        brace = self.expect("{")
        brace_comments = self.trailing(brace)
        members: List[EnumMember] = []
        while True:
            before = self.before()
            mt = self.ident("enum member name")
            doc = self.doc(mt)
            val = None
            if self.accept("="):
                val = self.value()
            m = EnumMember(mt.text, val, mt.loc, annotations=parse_annotations(doc),
                           comments=before)
            members.append(m)
            last = self.tokens[self.pos - 1]
            if self.at(","):
                last = self.next()
            m.trailing = self.trailing(last)
            m.tags = self.words(m.trailing)
            if last.text != ",":
                break
        self.expect("}", "',' or '}'")
        return Enum(name, members, loc, self.words(brace_comments), trailing=brace_comments)

    def end_member(self, d: Decl, before: List[Comment]) -> Decl:
        """The ';' ending member d of a struct or union: d with the comments
        before it and after it, and the tags these hold."""
        end = self.expect(";")
        d.comments = before
        d.trailing = self.trailing(end)
        d.tags = self.words(d.trailing)
        return d

    def struct_body(self, name: str, loc: Loc) -> Struct:
        brace = self.expect("{")
        brace_comments = self.trailing(brace)
        fields: List[Decl] = []
        while not self.at("}"):
            before = self.before()
            d = self.declaration(outer=name)
            if d.is_void:
                raise XdrError(d.loc, "void is not allowed as a struct member")
            fields.append(self.end_member(d, before))
        if not fields:
            self.error(f"struct {name} has no members")
        self.expect("}")
        names = [f.name for f in fields]
        for i, f in enumerate(fields):
            if f.name in names[:i]:
                raise XdrError(f.loc, f"duplicate member '{f.name}' in struct {name}")
        return Struct(name, fields, loc, self.words(brace_comments), trailing=brace_comments)

    def union_body(self, name: str, loc: Loc) -> Union:
        self.expect("switch")
        self.expect("(")
        disc = self.declaration(outer=name)
        if disc.shape != "scalar":
            raise XdrError(disc.loc, "union discriminant must be a plain int, unsigned int, bool or enum")
        self.expect(")")
        brace = self.expect("{")
        brace_comments = self.trailing(brace)
        arms: List[UnionArm] = []
        default = None
        while not self.at("}"):
            dt = self.tok
            before = self.before()
            if self.accept("default"):
                if default is not None:
                    raise XdrError(dt.loc, f"second default arm in union {name}")
                self.expect(":")
                d = self.declaration(outer=name)
                default = UnionArm([], self.end_member(d, before))
                continue
            if not self.at("case"):
                self.error("expected 'case', 'default' or '}'")
            cases = []
            while self.accept("case"):
                cases.append(self.value())
                self.expect(":")
            arms.append(UnionArm(cases, self.end_member(self.declaration(outer=name), before)))
        if not arms and default is None:
            self.error(f"union {name} has no arms")
        self.expect("}")
        return Union(name, disc, arms, default, loc, self.words(brace_comments),
                     trailing=brace_comments)

    # -- declarations -------------------------------------------------------
    def type_specifier(self, outer: Optional[str], declname_hint: str = "") -> TypeRef:
        t = self.tok
        if self.accept("unsigned"):
            if self.accept("int"):
                return TypeRef("uint", t.loc)
            if self.accept("long"):
                return TypeRef("ulong", t.loc)
            if self.accept("hyper"):
                return TypeRef("uhyper", t.loc)
            if self.accept("char"):
                return TypeRef("uchar", t.loc)
            if self.accept("short"):
                return TypeRef("ushort", t.loc)
            return TypeRef("uint", t.loc)  # bare 'unsigned'
        simple = {"int": "int", "long": "long", "hyper": "hyper", "float": "float",
                  "double": "double", "quadruple": "quadruple", "bool": "bool",
                  "char": "char", "short": "short"}
        if t.kind == "ident" and t.text in simple:
            self.next()
            return TypeRef(simple[t.text], t.loc)
        if t.text in ("struct", "union", "enum") and t.kind == "ident":
            kw = self.next().text
            if self.tok.kind == "ident" and self.tok.text not in KEYWORDS:
                name = self.next()
                if self.at("{") or (kw == "union" and self.at("switch")):
                    self.type_body(kw, name.text, name.loc)
                return TypeRef("named", name.loc, name.text)
            # anonymous inline body: lift it under a derived name
            if outer is None:
                self.error(f"anonymous {kw} needs a name here")
            lifted = self._lift_name(outer)
            self.type_body(kw, lifted, t.loc)
            return TypeRef("named", t.loc, lifted)
        if t.kind == "ident" and t.text not in KEYWORDS:
            self.next()
            return TypeRef("named", t.loc, t.text)
        self.error("expected a type")

    def _lift_name(self, outer: str) -> str:
        # The declarator name is not known yet; peek past the body is not
        # possible, so number the lifted types within their parent.
        self._lift_count = getattr(self, "_lift_count", 0) + 1
        return f"{outer}_anon{self._lift_count}"

    def declaration(self, outer: Optional[str]) -> Decl:
        t = self.tok
        if self.accept("void"):
            return Decl(TypeRef("void", t.loc), None, "void", t.loc)
        if self.accept("opaque"):
            name = self.ident("name")
            if self.accept("["):
                size = self.value()
                self.expect("]")
                return Decl(TypeRef("opaque", t.loc), name.text, "fixed", name.loc, size)
            if self.accept("<"):
                size = None if self.at(">") else self.value()
                self.expect(">")
                return Decl(TypeRef("opaque", t.loc), name.text, "var", name.loc, size)
            self.error("expected '[' or '<' after opaque name")
        if self.accept("string"):
            name = self.ident("name")
            if not self.accept("<"):
                self.error("expected '<' after string name")
            size = None if self.at(">") else self.value()
            self.expect(">")
            return Decl(TypeRef("string", t.loc), name.text, "var", name.loc, size)
        ty = self.type_specifier(outer)
        if self.accept("*"):
            name = self.ident("name")
            return Decl(ty, name.text, "optional", name.loc)
        name = self.ident("name")
        if self.accept("["):
            size = self.value()
            self.expect("]")
            return Decl(ty, name.text, "fixed", name.loc, size)
        if self.accept("<"):
            size = None if self.at(">") else self.value()
            self.expect(">")
            return Decl(ty, name.text, "var", name.loc, size)
        return Decl(ty, name.text, "scalar", name.loc)

    # -- programs -----------------------------------------------------------
    def program(self, kw: Token, doc: List[Comment]):
        name = self.ident("program name")
        self.expect("{")
        versions = []
        while self.at("version"):
            vt = self.next()
            vname = self.ident("version name")
            self.expect("{")
            procs = []
            while not self.at("}"):
                procs.append(self.procedure())
            if not procs:
                self.error("version has no procedures")
            self.expect("}")
            self.expect("=")
            vnum = self.value()
            self.expect(";")
            versions.append(Version(vname.text, vnum, procs, vt.loc))
        if not versions:
            self.error("expected 'version'")
        self.expect("}")
        self.expect("=")
        num = self.value()
        end = self.expect(";")
        self.trailing(end)
        self.defs.append(Program(name.text, num, versions, kw.loc, doc))

    def procedure(self) -> Procedure:
        t = self.tok
        before = self.before()
        ret = self.proc_type()
        name = self.ident("procedure name")
        self.expect("(")
        args = [self.proc_type()]
        while self.accept(","):
            args.append(self.proc_type())
        self.expect(")")
        self.expect("=")
        num = self.value()
        self.expect(";")
        if len(args) == 1 and args[0].kind == "void":
            args = []
        elif any(a.kind == "void" for a in args):
            raise XdrError(t.loc, "void must be the only argument")
        return Procedure(name.text, num, ret, args, name.loc, before)

    def proc_type(self) -> TypeRef:
        """A procedure's argument or result: void, a type name, a base type
        or string (a string of any length, rpcgen's wrapstring)."""
        t = self.tok
        if self.accept("void"):
            return TypeRef("void", t.loc)
        if self.accept("string"):
            return TypeRef("string", t.loc)
        if self.at("opaque"):
            self.error("opaque is not allowed as a procedure argument or result (as in "
                       "rpcgen): name a typedef of it")
        return self.type_specifier(outer=None)


def parse(text: str, filename: str, origin_line=None) -> Spec:
    return Parser(text, filename, origin_line).parse()


def read_text(path: str, display_name: Optional[str] = None) -> str:
    with open(path, "rb") as f:
        data = f.read()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        start = data.rfind(b"\n", 0, e.start) + 1
        line = data.count(b"\n", 0, e.start) + 1
        col = len(data[start:e.start].decode("utf-8")) + 1
        raise XdrError(Loc(display_name or path, line, col),
                       f"not UTF-8 text: {e.reason}") from None
    # universal newlines, as open(..., encoding=...) did
    return text.replace("\r\n", "\n").replace("\r", "\n")


def parse_file(path: str, display_name: Optional[str] = None,
               cpp: Optional[CppOptions] = None, all_passes: bool = False) -> Spec:
    """Parses a .x file; through the C preprocessor when cpp says so
    (preprocess.py), as its RPC_HDR pass.  all_passes: check that the
    other passes (RPC_XDR, RPC_CLNT, RPC_SVC) define the same."""
    text = read_text(path, display_name)
    if cpp is None or not cpp.wanted(text):
        return parse(text, display_name or path)
    sources = Sources()
    passes = [p for p, _ in PASSES] if all_passes else [PASSES[0][0]]
    spec = None
    for define in passes:
        out = run_cpp(path, define, cpp)
        s = parse(out, display_name or path, sources.line)
        if spec is None:
            spec = s
        else:
            check_same(spec, passes[0], s, define)
    return spec
