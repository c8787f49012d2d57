# SPDX-License-Identifier: LGPL-2.1-or-later
"""Which change between two versions of a protocol is wire-incompatible, and
why: the rules of `virtwire-gen diff`, all in this table.

diff.py finds the changes; each one it reports takes its verdict (level and
reason) from a rule here, by key, and `virtwire-gen diff --help` lists the
rules from this table, so the two cannot disagree.
"""

from __future__ import annotations

import textwrap
from typing import Dict, NamedTuple, Optional, Tuple

SAME, COMPAT, INCOMPAT = 0, 1, 2


class Rule(NamedTuple):
    level: int  # COMPAT or INCOMPAT
    summary: str  # the line --help shows
    reason: Optional[str] = None  # printed with the change; str.format() fields


# In the order --help lists them, compatible ones first.
RULES: Dict[str, Rule] = {
    # compatible
    "program-added": Rule(COMPAT, "program added"),
    "procedure-added": Rule(COMPAT, "procedure added"),
    "type-added": Rule(COMPAT, "type added"),
    "procedure-renamed": Rule(COMPAT, "procedure renamed (same number)"),
    "same-encoding": Rule(COMPAT, "args/ret/msg type renamed, a type renamed where used, or a "
                                  "typedef replaced by what it names, with the same encoding",
                          "same encoding"),
    "priority": Rule(COMPAT, "@priority changed"),
    "annotation": Rule(COMPAT, "@generate, @acl, @aclfilter and other annotations changed"),
    "tags": Rule(COMPAT, "libvirt's trailing tags (autogen, skipgen, ...) changed"),
    "sparseflag-added": Rule(COMPAT, "sparse-stream flag (@sparseflag) added"),
    "sparseflag-changed": Rule(COMPAT, "sparse-stream flag (@sparseflag) changed"),
    "member-renamed": Rule(COMPAT, "struct member renamed"),
    "arm-renamed": Rule(COMPAT, "union arm renamed"),
    "discriminant-renamed": Rule(COMPAT, "union discriminant renamed"),
    "enum-value-added": Rule(COMPAT, "enum value added"),
    "enum-value-renamed": Rule(COMPAT, "enum value renamed"),
    "enum-alias-removed": Rule(COMPAT, "enum name removed whose value another name keeps"),
    "case-added": Rule(COMPAT, "union case added where OLD had no default arm"),
    "default-added": Rule(COMPAT, "union default arm added"),
    "bound-raised": Rule(COMPAT, "variable-length array, string or opaque bound raised; T *x "
                                 "-> T x<N> too (optional data is an array of at most one)",
                         "bound raised from {old} to {new}"),
    "bound-removed": Rule(COMPAT, "variable-length array, string or opaque bound removed",
                          "bound {old} removed"),
    "holds-every-value": Rule(COMPAT, "a type that holds every old value: bool or enum -> int, "
                                      "enum -> a larger enum, char -> int",
                              "{new} holds every {old} value"),
    "string-to-opaque": Rule(COMPAT, "string -> opaque", "opaque holds every string"),
    # wire-INCOMPATIBLE
    "program-removed": Rule(INCOMPAT, "program removed", "OLD peers still call it"),
    "program-number": Rule(INCOMPAT, "program number changed",
                           "calls name their program by number"),
    "program-version": Rule(INCOMPAT, "program version changed",
                            "a peer refuses calls of another version"),
    "procedure-removed": Rule(INCOMPAT, "procedure removed", "OLD peers still call it"),
    "procedure-renumbered": Rule(INCOMPAT, "procedure renumbered (same name, other number)",
                                 "procedures are called by number"),
    "stream": Rule(INCOMPAT, "stream added or removed (@readstream, @writestream, stream= "
                             "overrides)",
                   "stream messages follow the reply, which one side does not expect"),
    "fds": Rule(INCOMPAT, "file descriptors added or removed (fds= overrides)",
                "the message type ({what}) and the fds passed change"),
    "sparseflag-removed": Rule(INCOMPAT, "sparse-stream flag (@sparseflag) removed",
                               "OLD callers that pass it are refused"),
    "type-removed": Rule(INCOMPAT, "type removed", "OLD peers may still send it"),
    "member-added": Rule(INCOMPAT, "struct member added",
                         "a struct's members are its encoding, in order"),
    "member-removed": Rule(INCOMPAT, "struct member removed",
                           "a struct's members are its encoding, in order"),
    "member-moved": Rule(INCOMPAT, "struct member moved",
                         "a struct's members are its encoding, in order"),
    "enum-value-removed": Rule(INCOMPAT, "enum value removed",
                               "OLD peers send it; NEW rejects it"),
    "enum-value-renumbered": Rule(INCOMPAT, "enum value renumbered",
                                  "the number is what travels"),
    "case-removed": Rule(INCOMPAT, "union case removed where NEW has no default arm",
                         "OLD peers send it; NEW has no arm for it"),
    "default-removed": Rule(INCOMPAT, "union default arm removed",
                            "values OLD peers send through it are rejected"),
    "bound-lowered": Rule(INCOMPAT, "bound lowered", "bound lowered from {old} to {new}"),
    "bound-set": Rule(INCOMPAT, "bound set where there was none",
                      "bound {new} set where there was none"),
    "fixed-length": Rule(INCOMPAT, "fixed length changed", "fixed length {old} -> {new}"),
    "lacks-values": Rule(INCOMPAT, "a type that lacks old values: int -> unsigned int, int -> "
                                   "enum, an enum value gone from the type used",
                         "{new} cannot hold every {old} value"),
    "enum-lacks-values": Rule(INCOMPAT, "an enum -> an enum without some of its values",
                              "{new} lacks {values}"),
    "other-size": Rule(INCOMPAT, "an integer of another size (int -> hyper)",
                       "encoded in {old} bytes, then {new}"),
    "opaque-to-string": Rule(INCOMPAT, "opaque -> string",
                             "a string cannot hold every opaque value"),
    "construct-changed": Rule(INCOMPAT, "one kind of construct changed for another (struct <-> "
                                        "union <-> enum), even where the bytes might coincide",
                              "a {new} is not encoded like a {old}"),
    "other-encoding": Rule(INCOMPAT, "args/ret/msg, a member, an arm or the discriminant "
                                     "changed to an encoding of another shape (including void "
                                     "<-> a type, scalar <-> array)",
                           "another encoding"),
}

INTRO = """\
A change is wire-compatible when peers built from OLD and from NEW still
understand each other: every value an OLD peer can send is encoded the same
way by NEW and means the same there, and whatever NEW adds is something OLD
peers never send. Names never travel on the wire; numbers, encodings and
the set of values a decoder accepts do."""

OUTRO = """\
A member's, an arm's or a message's change of type is as compatible as the
change of encoding it makes, by the rules above; a union case moved to or
from the default arm likewise. A type's change is reported once, at its
definition, with the procedures whose messages contain it ("used by");
other types that use it by name are not reported again. Constants are
listed but not classified: where a constant's value reaches the wire (a
bound, an enum value, a case label, a program or procedure number) the
change is classified there."""


def verdict(key: str, **fields) -> Tuple[int, Optional[str]]:
    """The level of the change the rule key names, and its reason with
    fields filled in."""
    rule = RULES[key]
    return rule.level, rule.reason.format(**fields) if rule.reason else None


def rules_text() -> str:
    """The rules as `virtwire-gen diff --help` prints them."""
    out = [INTRO, ""]
    for level, head in ((COMPAT, "compatible:"), (INCOMPAT, "wire-INCOMPATIBLE:")):
        out.append(head)
        for rule in RULES.values():
            if rule.level == level:
                out += textwrap.wrap(rule.summary, 76, initial_indent="  ",
                                     subsequent_indent="    ")
        out.append("")
    out.append(OUTRO)
    return "\n".join(out) + "\n"
