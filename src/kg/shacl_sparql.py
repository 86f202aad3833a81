"""The SHACL-AF shapes whose focus nodes come from a SPARQL query, evaluated on pyoxigraph.

Twelve shapes (eleven of them on provenance, one on datatype ranges) find their focus nodes with an
`sh:SPARQLTarget` that selects only the offending nodes, and report them with `sh:sparql` constraints.
pyshacl runs such queries on rdflib's SPARQL engine, which spent about 60% of a validation of the bundled
graph on them (one target alone 2.1 s); pyoxigraph, the engine every question already runs on, answers them
in milliseconds. So `split` takes those shapes out of the
shapes graph handed to pyshacl, and `evaluate` runs them here with SHACL's semantics as pyshacl implements
them:

- the focus nodes are the target query's `?this`; each constraint's SELECT runs once per focus node with
  `$this` pre-bound (pyoxigraph's substitutions, SEP-0007 — the pre-binding SHACL describes);
- a solution is a result when it binds `?this`, `?path` or `?value` (or `?failure`); `?this` defaults to the
  focus node and `?value`, for a node shape, to the focus node; equal solutions are one result;
- `{?name}` and `{$name}` in `sh:message` are replaced by the solution's values; the severity is the shape's
  `sh:severity`, else sh:Violation.

Only shapes made of nothing else (a label, a comment, one SPARQL target, SPARQL constraints with one message
each) are taken; any other shape stays with pyshacl. tests/test_shacl_sparql.py checks on every shape fixture,
and on all of them at once, that the findings are pyshacl's own. One difference is by design: pyoxigraph holds
literals in canonical form, so a value in a message reads `1.5` where the file says `1.50`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pyoxigraph as ox

from kg.errors import KgError
from kg.graph import XSD_STRING, to_rdflib_term

if TYPE_CHECKING:
    import rdflib
    from rdflib.term import Node

SH = "http://www.w3.org/ns/shacl#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
SHAPE_KEYS = {RDF_TYPE, RDFS + "label", RDFS + "comment", SH + "target", SH + "sparql", SH + "severity"}
TARGET_KEYS = {RDF_TYPE, SH + "select", SH + "prefixes"}
CONSTRAINT_KEYS = {RDF_TYPE, SH + "select", SH + "prefixes", SH + "message"}


@dataclass(frozen=True)
class Constraint:
    """One `sh:sparql` constraint: its SELECT (with the PREFIX lines it declares) and its message."""

    node: Node
    select: str
    message: str


@dataclass(frozen=True)
class SparqlShape:
    """A node shape whose focus nodes come from a SPARQL SELECT, checked by SPARQL constraints."""

    node: Node
    target: str
    constraints: tuple[Constraint, ...]
    severity: str


@dataclass(frozen=True)
class Result:
    """One validation result, in rdflib terms (as kg.validate reads pyshacl's report)."""

    shape: Node
    focus: Node
    path: Node | None
    value: Node | None
    message: str
    severity: str


def split(shapes: rdflib.Graph) -> tuple[list[SparqlShape], rdflib.Graph]:
    """The SPARQL-target shapes of `shapes`, and a copy of `shapes` without them (for pyshacl)."""
    import rdflib

    taken: list[SparqlShape] = []
    dropped: set[Node] = set()
    for node in sorted(set(shapes.subjects(rdflib.URIRef(SH + "target"), None)), key=str):
        shape = _sparql_shape(shapes, node)
        if shape is not None:
            taken.append(shape)
            dropped.add(node)
            dropped.update(shapes.objects(node, rdflib.URIRef(SH + "target")))
            dropped.update(shapes.objects(node, rdflib.URIRef(SH + "sparql")))
    rest = rdflib.Graph()
    for prefix, namespace in shapes.namespaces():
        rest.bind(prefix, namespace, override=True)
    for triple in shapes:
        if triple[0] not in dropped:
            rest.add(triple)
    return taken, rest


def _keys(graph: rdflib.Graph, node: Node) -> set[str]:
    return {str(p) for p in graph.predicates(node, None)}


def _one(graph: rdflib.Graph, node: Node, key: str) -> Node | None:
    import rdflib

    values = list(graph.objects(node, rdflib.URIRef(key)))
    return values[0] if len(values) == 1 else None


def _sparql_shape(graph: rdflib.Graph, node: Node) -> SparqlShape | None:
    """`node` as a SparqlShape, or None when it holds anything this module does not evaluate."""
    import rdflib

    types = {str(t) for t in graph.objects(node, rdflib.URIRef(RDF_TYPE))}
    if not _keys(graph, node) <= SHAPE_KEYS or types != {SH + "NodeShape"} or not isinstance(node, rdflib.URIRef):
        return None
    target = _one(graph, node, SH + "target")
    if target is None or not isinstance(target, rdflib.BNode) or not _keys(graph, target) <= TARGET_KEYS:
        return None
    if {str(t) for t in graph.objects(target, rdflib.URIRef(RDF_TYPE))} != {SH + "SPARQLTarget"}:
        return None
    target_select = _one(graph, target, SH + "select")
    constraints = []
    for item in sorted(graph.objects(node, rdflib.URIRef(SH + "sparql")), key=str):
        select, message = _one(graph, item, SH + "select"), _one(graph, item, SH + "message")
        kinds = {str(t) for t in graph.objects(item, rdflib.URIRef(RDF_TYPE))}
        if (not isinstance(item, rdflib.BNode) or not _keys(graph, item) <= CONSTRAINT_KEYS
                or kinds - {SH + "SPARQLConstraint"} or select is None or message is None):
            return None
        constraints.append(Constraint(item, _prefixes(graph, item) + str(select), str(message)))
    if target_select is None or not constraints:
        return None
    severity = _one(graph, node, SH + "severity")
    return SparqlShape(node, _prefixes(graph, target) + str(target_select), tuple(constraints),
                       str(severity) if severity is not None else SH + "Violation")


def _prefixes(graph: rdflib.Graph, node: Node) -> str:
    """The PREFIX lines of the `sh:prefixes` of `node` (each names a node whose `sh:declare`s list them)."""
    import rdflib

    lines = []
    for owner in graph.objects(node, rdflib.URIRef(SH + "prefixes")):
        for declaration in graph.objects(owner, rdflib.URIRef(SH + "declare")):
            prefix = _one(graph, declaration, SH + "prefix")
            namespace = _one(graph, declaration, SH + "namespace")
            if prefix is not None and namespace is not None:
                lines.append(f"PREFIX {prefix}: <{namespace}>\n")
    return "".join(sorted(set(lines)))


def store_of(data: rdflib.Graph) -> ox.Store:
    """The triples of the rdflib graph `data` in a pyoxigraph store (blank nodes keep their identifiers, so a
    focus node found here is the same node in `data`)."""
    store = ox.Store()
    quads = []
    for s, p, o in data:
        subject, predicate = _to_oxigraph(s), _to_oxigraph(p)
        if isinstance(subject, ox.Literal) or not isinstance(predicate, ox.NamedNode):
            raise KgError(f"not an RDF triple: {s!r} {p!r}")
        quads.append(ox.Quad(subject, predicate, _to_oxigraph(o)))
    store.bulk_extend(quads)
    return store


def _to_oxigraph(term: Node) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    import rdflib

    if isinstance(term, rdflib.URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, rdflib.BNode):
        return ox.BlankNode(str(term))
    if isinstance(term, rdflib.Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        datatype = str(term.datatype) if term.datatype is not None else XSD_STRING
        return ox.Literal(str(term), datatype=ox.NamedNode(datatype))
    raise KgError(f"a term of a kind SHACL does not validate: {term!r}")


def evaluate(store: ox.Store, shapes: Iterable[SparqlShape], data: rdflib.Graph) -> list[Result]:
    """The results of `shapes` on the graph in `store`, which holds the triples of `data`; literals in the
    results and their messages are shown as `data` writes them (see `Originals`)."""
    results = []
    originals = Originals(data)
    for shape in shapes:
        for focus in _focus_nodes(store, shape):
            for constraint in shape.constraints:
                results.extend(_violations(store, shape, constraint, focus, originals))
    return results


class Originals:
    """The literals of the data as written, for the canonical forms pyoxigraph answers with.

    pyoxigraph stores `"95.0"^^xsd:decimal` as `"95"`, `"01"^^xsd:integer` as `"1"`, `"x"@EN` as `"x"@en`:
    the same values, but a finding must show the words of the file. A literal of a result is looked up among
    the data's values of its focus node and path, else among all literals of the data (an index built only
    when a result holds a literal); a form that does not lead back to exactly one literal is shown as is."""

    def __init__(self, data: rdflib.Graph) -> None:
        self.data = data
        self._index: dict[Node, set[Node]] | None = None

    def of(self, term: Node | None, focus: Node | None = None, path: Node | None = None) -> Node | None:
        import rdflib

        if not isinstance(term, rdflib.Literal):
            return term
        if focus is not None and isinstance(path, rdflib.URIRef):
            values = [o for o in self.data.objects(focus, path) if isinstance(o, rdflib.Literal)]
            here = [o for o, form in zip(values, _canonical(values), strict=True) if form == term]
            if len(set(here)) == 1:
                return here[0]
        found = self.index().get(term, set())
        return next(iter(found)) if len(found) == 1 else term

    def index(self) -> dict[Node, set[Node]]:
        import rdflib

        if self._index is None:
            literals = sorted({o for o in self.data.objects() if isinstance(o, rdflib.Literal)}, key=repr)
            self._index = {}
            for original, form in zip(literals, _canonical(literals), strict=True):
                self._index.setdefault(form, set()).add(original)
        return self._index


def _canonical(literals: Sequence[Node]) -> list[Node]:
    """Each literal as pyoxigraph's store gives it back."""
    store = ox.Store()
    subjects = [ox.BlankNode(f"n{number}") for number in range(len(literals))]
    value = ox.NamedNode("urn:x-kg:value")
    store.bulk_extend(ox.Quad(s, value, _to_oxigraph(o)) for s, o in zip(subjects, literals, strict=True))
    held = {str(q.subject): q.object for q in store.quads_for_pattern(None, value, None)}
    return [to_rdflib_term(held[str(s)]) for s in subjects]


def _select(store: ox.Store, text: str,
            substitutions: dict[ox.Variable, ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple] | None = None,
            ) -> ox.QuerySolutions:
    try:
        answer = store.query(text, substitutions=substitutions)
    except (SyntaxError, OSError, ValueError, RuntimeError) as err:
        raise KgError(f"a SPARQL shape could not be run: {' '.join(str(err).split())[:300]}") from None
    if not isinstance(answer, ox.QuerySolutions):
        raise KgError("a SPARQL shape's query is not a SELECT")
    return answer


Focus = ox.NamedNode | ox.BlankNode | ox.Literal


def _focus_nodes(store: ox.Store, shape: SparqlShape) -> list[Focus]:
    """The target's `?this` values, any term (SHACL allows a literal focus node), in a fixed order."""
    found: dict[str, Focus] = {}
    for solution in _select(store, shape.target):
        node = solution["this"]
        if isinstance(node, (ox.NamedNode, ox.BlankNode, ox.Literal)):
            found.setdefault(str(node), node)
    return [found[key] for key in sorted(found)]


def _violations(store: ox.Store, shape: SparqlShape, constraint: Constraint,
                focus: Focus, originals: Originals) -> list[Result]:
    answer = _select(store, constraint.select, {ox.Variable("this"): focus})
    names = [v.value for v in answer.variables]
    seen: set[tuple[object, ...]] = set()
    results = []
    focus_term = to_rdflib_term(focus)
    for solution in answer:
        bound: dict[str, Node | None] = {name: to_rdflib_term(solution[name]) for name in names
                                         if solution[name] is not None}
        failure = bound.pop("failure", None)
        path, value, this = bound.pop("path", None), bound.pop("value", None), bound.pop("this", None)
        value = originals.of(value, this if this is not None else focus_term, path)
        bound = {name: originals.of(term) for name, term in bound.items()}
        if failure is None and path is None and value is None and this is None:
            continue  # pyshacl reports nothing for a solution that binds none of these
        key = ("failure",) if failure is not None else (this, path, value, tuple(sorted(bound.items())))
        if key in seen:
            continue
        seen.add(key)
        if failure is not None:  # the focus node fails as a whole; the message sees the other variables only
            results.append(Result(shape.node, focus_term, None, focus_term, _message(constraint.message, bound),
                                  shape.severity))
            continue
        value = value if value is not None else focus_term  # a node shape's value is its focus node
        shown = {**bound, "this": this, "path": path, "value": value}
        results.append(Result(shape.node, this if this is not None else focus_term, path, value,
                              _message(constraint.message, shown), shape.severity))
    return results


def _message(template: str, values: Mapping[str, Node | None]) -> str:
    """`{?name}` / `{$name}` replaced by the value's text (an IRI in full, a literal's lexical form)."""
    for name, value in values.items():
        if value is not None:
            template = template.replace("{?" + name + "}", str(value)).replace("{$" + name + "}", str(value))
    return template
