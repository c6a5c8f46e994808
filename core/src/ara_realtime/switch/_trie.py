"""A radix trie over pattern matcher programs, searched best-first by dialplan rank.

Every pattern's program (``patterns._tokens``) is a run of character masks, possibly with
``[]`` steps, possibly ended by ``.``, ``!`` or a broken set. The trie shares common prefixes;
a chain of single-child steps is one edge (``Node.seq``), so a node exists only where patterns
branch or end. Each node knows the lowest rank below it (``min_rank``), which is what lets a
search skip a subtree that cannot beat the best answer found so far.

:func:`search` reproduces ``patterns._match_core`` on every pattern at once:

* a dialled character that does not fit the next mask ends that branch (no);
* ``[]`` is skipped while characters remain;
* ``.`` reached with characters left: yes; ``!`` reached: early match;
* the dialled string ends before the program does: the next step decides for the whole
  subtree below it: ``!`` early, anything else no in match mode and yes otherwise;
* the dialled string ends where a program ends: yes, except in matchmore mode;
* characters left when a program ends, or a broken set reached with characters left: no.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from ..patterns import _T_BANG, _T_BROKEN, _T_DOT, _T_EMPTY, Mode

__all__ = ["NOT_FOUND", "Node", "build", "search"]

NO, YES, EARLY = 0, 1, 2
NOT_FOUND = 1 << 62  # a rank no entry has
#: a node with more children than this indexes them by first character
_FANOUT = 6


class Leaf(Protocol):
    """What the trie needs of an entry: its rank (position in dialplan order)."""

    @property
    def rank(self) -> int: ...


class Node:
    __slots__ = (
        "bang",
        "broken",
        "dot",
        "empty",
        "ends",
        "first",
        "kids",
        "min_leaf",
        "min_rank",
        "seq",
    )

    def __init__(self, seq: tuple[int, ...]) -> None:
        self.seq = seq  # masks consumed on the way in
        self.kids: tuple[Node, ...] = ()  # children (by a mask), lowest rank first
        self.first: dict[int, tuple[Node, ...]] | None = None  # byte -> kids it can enter
        self.empty: Node | None = None  # the child after a "[]"
        self.ends: tuple[Leaf, ...] = ()  # programs ending here, by rank
        self.dot: tuple[Leaf, ...] = ()  # ... ending with "." here
        self.bang: tuple[Leaf, ...] = ()  # ... ending with "!" here
        self.broken: tuple[Leaf, ...] = ()  # ... ending with a broken set here
        self.min_rank = NOT_FOUND
        self.min_leaf: Leaf | None = None


_END = 0  # a program ending without a terminal step


class _Draft:
    """A node while the trie is built (one per program step)."""

    __slots__ = ("children", "empty", "leaves")

    def __init__(self) -> None:
        self.children: dict[int, _Draft] = {}
        self.empty: _Draft | None = None
        #: how a program ends here (_END, _T_DOT, _T_BANG, _T_BROKEN) -> its leaves
        self.leaves: dict[int, list[Leaf]] | None = None

    def chain_link(self) -> tuple[int, _Draft] | None:
        """The only way on, when nothing ends here and there is one child by a mask."""
        if self.leaves is not None or self.empty is not None or len(self.children) != 1:
            return None
        return next(iter(self.children.items()))


def build(programs: Sequence[tuple[tuple[int, ...], Leaf]]) -> Node:
    """The trie of ``(program, leaf)`` pairs (leaves already ranked)."""
    root = _Draft()
    for program, leaf in programs:
        draft = root
        end = _END
        for tok in program:
            if tok >= 0:
                child = draft.children.get(tok)
                if child is None:
                    child = draft.children[tok] = _Draft()
                draft = child
            elif tok == _T_EMPTY:
                if draft.empty is None:
                    draft.empty = _Draft()
                draft = draft.empty
            else:  # ".", "!" or a broken set: the matcher stops there
                end = tok
                break
        if draft.leaves is None:
            draft.leaves = {}
        draft.leaves.setdefault(end, []).append(leaf)
    return _freeze(root)


def _chain(seq: tuple[int, ...], draft: _Draft) -> tuple[tuple[int, ...], _Draft]:
    steps = list(seq)
    link = draft.chain_link()
    while link is not None:
        steps.append(link[0])
        draft = link[1]
        link = draft.chain_link()
    return tuple(steps), draft


def _freeze(root: _Draft) -> Node:
    """Drafts -> nodes, chains folded into edges; post-order without recursion (programs can
    be longer than Python's recursion limit)."""
    Edge = tuple[tuple[int, ...], _Draft]  # the masks of an edge, the draft it leads to
    frozen: dict[int, Node] = {}
    edges: dict[int, tuple[list[Edge], Edge | None]] = {}
    top = _chain((), root)
    stack: list[tuple[tuple[int, ...], _Draft, bool]] = [(*top, False)]
    while stack:
        seq, draft, ready = stack.pop()
        if not ready:
            stack.append((seq, draft, True))
            kids = [_chain((mask,), child) for mask, child in draft.children.items()]
            empty = _chain((), draft.empty) if draft.empty is not None else None
            edges[id(draft)] = (kids, empty)
            stack.extend((s, d, False) for s, d in kids)
            if empty is not None:
                stack.append((*empty, False))
            continue
        node = Node(seq)
        kid_edges, empty_edge = edges.pop(id(draft))
        node.kids = tuple(sorted((frozen.pop(id(d)) for _, d in kid_edges), key=_min_rank))
        if empty_edge is not None:
            node.empty = frozen.pop(id(empty_edge[1]))
        if draft.leaves is not None:
            for end, leaves in draft.leaves.items():
                leaves.sort(key=_rank)
                setattr(node, _LEAF_GROUP[end], tuple(leaves))
        _finish(node)
        frozen[id(draft)] = node
    return frozen[id(top[1])]


_LEAF_GROUP = {_END: "ends", _T_DOT: "dot", _T_BANG: "bang", _T_BROKEN: "broken"}


def _rank(leaf: Leaf) -> int:
    return leaf.rank


def _min_rank(node: Node) -> int:
    return node.min_rank


def _finish(node: Node) -> None:
    best: Leaf | None = None
    for group in (node.ends, node.dot, node.bang, node.broken):
        if group and (best is None or group[0].rank < best.rank):
            best = group[0]
    for kid in (*node.kids[:1], *((node.empty,) if node.empty is not None else ())):
        if kid.min_leaf is not None and (best is None or kid.min_rank < best.rank):
            best = kid.min_leaf
    node.min_leaf = best
    node.min_rank = best.rank if best is not None else NOT_FOUND
    if len(node.kids) > _FANOUT:
        first: dict[int, list[Node]] = {}
        for kid in node.kids:  # already in rank order
            bits = kid.seq[0]
            while bits:
                low = bits & -bits
                first.setdefault(low.bit_length() - 1, []).append(kid)
                bits ^= low
        node.first = {b: tuple(kids) for b, kids in first.items()}


class Best:
    """The best answer so far: lowest rank, its leaf and how it matched."""

    __slots__ = ("kind", "leaf", "rank")

    def __init__(self) -> None:
        self.rank = NOT_FOUND
        self.leaf: Leaf | None = None
        self.kind = NO


#: ``accept(leaf)``: does the leaf pass its caller-ID test? (None: every leaf does)
Accept = Callable[[Leaf], bool] | None


def offer(leaves: tuple[Leaf, ...], kind: int, accept: Accept, best: Best) -> None:
    """The first leaf (lowest rank) that beats ``best`` and is accepted."""
    for leaf in leaves:
        if leaf.rank >= best.rank:
            return
        if accept is None or accept(leaf):
            best.rank, best.leaf, best.kind = leaf.rank, leaf, kind
            return


def search(root: Node, digits: bytes, mode: Mode, accept: Accept, best: Best) -> None:
    """Lower ``best`` to the first pattern (in rank order) that answers ``digits`` in
    ``mode`` and is accepted. Branch and bound: a subtree whose lowest rank cannot beat
    ``best`` is never entered."""
    n = len(digits)
    matching = mode == "match"
    more = mode == "matchmore"
    # (node, j): j characters consumed before the node's edge; j == -1: every leaf below
    # answers yes (the dialled string ran out on an edge above it)
    stack: list[tuple[Node, int]] = [(root, 0)]
    pop, push = stack.pop, stack.append
    while stack:
        node, j = pop()
        if node.min_rank >= best.rank:
            continue
        if j >= 0:
            for mask in node.seq:
                if j == n:  # ran out on the edge: no for match, yes for the rest
                    j = -2 if matching else -1
                    break
                if not (mask >> digits[j]) & 1:
                    j = -2
                    break
                j += 1
            if j == -2:
                continue
        if j < 0:
            first = node.min_leaf
            if accept is None and first is not None:
                best.rank, best.leaf, best.kind = first.rank, first, YES
                continue
            for group in (node.ends, node.dot, node.bang, node.broken):
                if group:
                    offer(group, YES, accept, best)
            if node.empty is not None:
                push((node.empty, -1))
            for kid in reversed(node.kids):
                push((kid, -1))
            continue
        if j == n:  # ran out here: the next step decides
            if node.bang:
                offer(node.bang, EARLY, accept, best)
            if node.ends and not more:
                offer(node.ends, YES, accept, best)
            if not matching:
                if node.dot:
                    offer(node.dot, YES, accept, best)
                if node.broken:
                    offer(node.broken, YES, accept, best)
                if node.empty is not None:
                    push((node.empty, -1))
                for kid in reversed(node.kids):
                    push((kid, -1))
            continue
        if node.dot:  # "." with characters left
            offer(node.dot, YES, accept, best)
        if node.bang:
            offer(node.bang, EARLY, accept, best)
        if node.empty is not None:  # "[]" is skipped while characters remain
            push((node.empty, j))
        c = digits[j]
        if node.first is not None:
            kids = node.first.get(c)
            if kids:
                for kid in reversed(kids):
                    push((kid, j))
        else:
            for kid in reversed(node.kids):
                if (kid.seq[0] >> c) & 1:
                    push((kid, j))
