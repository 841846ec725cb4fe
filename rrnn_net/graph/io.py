"""Save and load compiled graphs as GraphML or node-link JSON, exactly and safely.

Both formats are written by this module rather than by networkx so that the
output is byte-reproducible (no dependence on whether lxml is installed),
floats are written with ``repr`` (the shortest string that parses back to the
same float64, so round trips are bit-for-bit) and every attribute keeps one
type (ints stay ints, numpy scalars become Python scalars). Reading is strict:
anything outside the schema — malformed XML or JSON, a DOCTYPE or entity
declaration (in any encoding), key defaults, parallel edges, duplicated ids,
unknown keys, wrong types — raises
:class:`~rrnn_net.graph.schema.GraphSchemaError`, never a raw parser error.

The GraphML is plain GraphML (typed ``<key>`` declarations, ``<data>``
values), readable by Gephi, Cytoscape, yEd and ``networkx.read_graphml``; each
node also carries a readable ``label`` (``μ₀``, ``P₀₁``) and its kind's colour
(``r``, ``g``, ``b`` for Gephi, ``color`` for Cytoscape and yEd), see
:mod:`rrnn_net.graph.presentation`. The JSON is the
``networkx.node_link_data(G, edges="edges")`` layout of the computational
graph alone.

Files re-saved by graph tools load too: by default :func:`load_graph` drops
the presentation attributes the tools add (positions, sizes, colours, labels,
selection flags, tool ids; yEd's graphics keys, whose content is never read)
and names nodes a tool renumbered by their kind and indices, so the loaded
graph is exactly the computational graph and validates; anything else a tool
leaves in the file is refused as above. ``presentation="refuse"`` accepts
only the labels and colours :func:`save_graph` writes. There is no
``"keep"``: a validated graph holds the schema's attributes only (that is
what keeps free text out of the backends), so presentation kept in the graph
would make it invalid; read the file with ``networkx.read_graphml`` to get at
a tool's layout.

Examples
--------
>>> import io
>>> from rrnn_net import GenerativeRNN
>>> from rrnn_net.graph import compile_rrnn
>>> G = compile_rrnn(GenerativeRNN.oscillator(3, 2, seed=0))
>>> buffer = io.BytesIO()
>>> save_graph(G, buffer, format="graphml")
>>> _ = buffer.seek(0)
>>> H = load_graph(buffer, format="graphml")
>>> H.edges["state:1", "state:0"] == G.edges["state:1", "state:0"]
True
"""

from __future__ import annotations

import codecs
import io
import json
import re
from collections.abc import Mapping
from numbers import Integral, Real
from pathlib import Path
from typing import IO, NoReturn, TypeAlias, cast
from xml.etree import ElementTree
from xml.sax.saxutils import escape, quoteattr

import networkx as nx

from .._files import write_atomically
from .kinds import NODE_KINDS
from .presentation import POLICIES, PRESENTATION_ATTRIBUTES, node_presentation, strip_presentation
from .schema import GRAPH_ATTRIBUTES, GraphSchemaError, validate_graph

__all__ = ["FORMATS", "canonical_graph", "graph_from_bytes", "graph_to_bytes", "load_graph", "save_graph"]

FORMATS = {".graphml": "graphml", ".json": "json"}

_GRAPHML_NS = "http://graphml.graphdrawing.org/xmlns"
_GRAPHML_HEADER = (
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    f"<graphml xmlns=\"{_GRAPHML_NS}\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
    f"xsi:schemaLocation=\"{_GRAPHML_NS} {_GRAPHML_NS}/1.0/graphml.xsd\">\n"
)
_XML_TYPES = {int: "long", float: "double", str: "string"}
_XML_PARSERS = {"long": int, "int": int, "double": float, "float": float, "string": str, "boolean": bool}
_BOOLEANS = {"true": True, "1": True, "false": False, "0": False}
# Doubles without fraction or exponent below 2**53 are exact integers (igraph writes every number as a double).
_EXACT_INTEGER_LIMIT = 2.0**53
# yEd's keys for drawing instructions (<y:ShapeNode>, ...) and resources: no attr.name, content never read.
_FOREIGN_KEY = "yfiles.type"
_FOREIGN_SCOPES = frozenset({"graph", "node", "edge", "graphml", "port"})
_XML_SPACE = frozenset({"{http://www.w3.org/XML/1998/namespace}space"})  # yEd's whitespace hint on <data>
# A byte order mark fixes the encoding; without one, the XML declaration may name an ASCII-compatible one.
_BYTE_ORDER_MARKS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
_DECLARED_ENCODING = re.compile(rb"<\?xml\s[^>]*?encoding\s*=\s*[\"']([A-Za-z][A-Za-z0-9._-]*)[\"']")
_ASCII_COMPATIBLE = frozenset({"utf-8", "ascii", "iso8859-1"})
_SCOPE_PREFIX = {"graph": "g", "node": "n", "edge": "e"}
_PRESENTATION_KEYS = {("node", name) for name in PRESENTATION_ATTRIBUTES}
_INTEGER_TEXT = re.compile(r"[+-]?[0-9]+")
_JSON_TOP_LEVEL = ("directed", "multigraph", "graph", "nodes", "edges")

Source = str | Path | IO[bytes] | IO[str]
# GraphML key id -> (scope, attribute name, GraphML type); name and type None for a foreign (yEd) key.
_KeyTable: TypeAlias = dict[str | None, tuple[str | None, str | None, str | None]]


# ------------------------------------------------------------ public API
def save_graph(G: nx.DiGraph, path_or_file: Source, *, format: str | None = None) -> None:
    """Write a compiled graph as GraphML or node-link JSON.

    Parameters
    ----------
    G : networkx.DiGraph
        A graph valid under :func:`~rrnn_net.graph.schema.validate_graph`
        (numpy scalars are cast to Python scalars on the way out).
    path_or_file : str, Path or file object
        Destination; a path's suffix (``.graphml`` or ``.json``) picks the
        format. An existing file is replaced, through a temporary file
        renamed into place (an interrupted save leaves the old file whole).
        A file object may be opened in binary or text mode; a text file
        gets ASCII (GraphML's labels with XML character references), so
        that whatever encoding it was opened with holds it.
    format : {"graphml", "json"}, optional
        Required for file objects; overrides the suffix of a path.

    Raises
    ------
    GraphSchemaError
        If ``G`` is not a valid graph (nothing is written then).
    """
    data = graph_to_bytes(G, _format_of(path_or_file, format))
    if isinstance(path_or_file, (str, Path)):
        write_atomically(path_or_file, data)
    elif isinstance(path_or_file, io.TextIOBase):
        path_or_file.write(_ascii_text(data, _format_of(path_or_file, format)))
    else:
        cast(IO[bytes], path_or_file).write(data)  # not a text file: binary


def _ascii_text(data: bytes, format: str) -> str:
    """UTF-8 ``data`` as ASCII text that parses to the same graph.

    GraphML labels hold subscripts and Greek, which a text file opened with
    another encoding than UTF-8 (cp1252 is Windows' default) cannot hold:
    they become XML character references. JSON is written ASCII already.
    """
    text = data.decode("utf-8")
    return text.encode("ascii", "xmlcharrefreplace").decode("ascii") if format == "graphml" else text


def load_graph(path_or_file: Source, *, format: str | None = None, presentation: str = "ignore",
               like: nx.DiGraph | Mapping | None = None) -> nx.DiGraph:
    """Read and validate a graph written by :func:`save_graph`, or re-saved by a graph tool.

    Parameters
    ----------
    path_or_file : str, Path or file object
        Source; a path's suffix picks the format.
    format : {"graphml", "json"}, optional
        Required for file objects; overrides the suffix of a path.
    presentation : {"ignore", "refuse"}
        ``"ignore"`` (default): drop presentation attributes
        (:data:`~rrnn_net.graph.presentation.PRESENTATION_ATTRIBUTES` — positions,
        sizes, colours, labels, ... — wherever the schema does not use the
        name) and yEd's graphics, and name nodes a tool renumbered (igraph's
        and yEd's ``n0``, Cytoscape's SUIDs) by their kind and indices.
        ``"refuse"``: accept only the labels and colours :func:`save_graph`
        writes, and nothing a tool adds.
    like : networkx.DiGraph or mapping, optional
        The graph the file was made from (or its ``graph`` attributes): its
        graph-level attributes complete a file that a tool saved without
        them (Gephi and Cytoscape export none). An attribute the file does
        hold must equal ``like``'s; the result is validated as usual.

    Returns
    -------
    networkx.DiGraph
        A valid graph holding the computational attributes only; for a file
        written by :func:`save_graph`, equal (bit-for-bit) to the graph saved.

    Raises
    ------
    GraphSchemaError
        On any parse failure or schema violation, naming the offending
        element, node or edge.
    OSError
        If the file cannot be read.

    Notes
    -----
    Graph tools are not lossless: Gephi and Cytoscape drop graph-level
    attributes when they export GraphML (such a file fails validation for its
    missing ``schema_version`` unless ``like`` supplies them), Gephi reads
    edge weights as 32-bit floats and igraph writes numbers with 15
    significant digits. A file that loads is valid, but check that its
    numbers are the ones you meant.

    Examples
    --------
    A file re-saved by a tool that kept the units and connections but dropped the graph attributes:

    >>> import io
    >>> from rrnn_net import GenerativeRNN, compile_rrnn
    >>> G = compile_rrnn(GenerativeRNN.oscillator(2, 1, seed=0), gain_mode="fixed")
    >>> exported = G.copy()
    >>> exported.graph.clear()
    >>> text = io.BytesIO()
    >>> nx.write_graphml(exported, text)
    >>> load_graph(io.BytesIO(text.getvalue()), format="graphml", like=G).graph == G.graph
    True
    """
    file_format = _format_of(path_or_file, format)
    data: bytes | str
    if isinstance(path_or_file, (str, Path)):
        data = Path(path_or_file).read_bytes()
    else:
        data = path_or_file.read()
    return graph_from_bytes(data.encode("utf-8") if isinstance(data, str) else data, file_format,
                            presentation=presentation, like=like)


def graph_to_bytes(G: nx.DiGraph, format: str) -> bytes:
    """Serialise a valid graph to UTF-8 bytes in ``format`` ("graphml" or "json")."""
    canonical = canonical_graph(G)
    validate_graph(canonical)
    writer = {"graphml": _graphml_text, "json": _json_text}[_checked_format(format)]
    return writer(canonical).encode("utf-8")


def graph_from_bytes(data: bytes, format: str, *, presentation: str = "ignore",
                     like: nx.DiGraph | Mapping | None = None) -> nx.DiGraph:
    """Parse and validate bytes in ``format`` ("graphml" or "json"); the options as in :func:`load_graph`.

    JSON is UTF-8; GraphML is decoded as its byte order mark or XML declaration says (UTF-8 by default).
    """
    file_format = _checked_format(format)
    if presentation not in POLICIES:
        raise GraphSchemaError(f"unknown presentation policy {presentation!r}; expected one of {list(POLICIES)}")
    parsed = _parse_graphml(data, presentation == "ignore") if file_format == "graphml" else _parse_json(data)
    stripped = strip_presentation(parsed, presentation)
    if like is not None:
        _complete_graph_attributes(stripped, like)
    G = canonical_graph(stripped)
    validate_graph(G)
    return G


def _complete_graph_attributes(G: nx.DiGraph, like: nx.DiGraph | Mapping) -> None:
    """Take the graph attributes ``G`` lacks from ``like``; refuse any it holds with another value."""
    attributes = like.graph if isinstance(like, nx.DiGraph) else like
    if not isinstance(attributes, Mapping):
        raise GraphSchemaError(f"like must be a graph or a mapping of graph attributes, got {type(like).__name__}")
    for name, value in attributes.items():
        if name in G.graph and G.graph[name] != value:
            raise GraphSchemaError(f"graph: attribute {name!r} is {G.graph[name]!r} in the file but {value!r} in "
                                   "the graph given as like")
        G.graph.setdefault(name, value)


def canonical_graph(G: nx.DiGraph) -> nx.DiGraph:
    """A copy with every number cast to the Python type its attribute has in the schema.

    Float parameters become ``float`` (also when given as ints or numpy
    scalars), indices and ports become ``int``; values that cannot be cast
    (strings, bools, ...) are left for :func:`validate_graph` to report.
    """
    if not isinstance(G, nx.DiGraph) or G.is_multigraph():
        raise GraphSchemaError(f"a compiled graph must be a networkx.DiGraph, got {type(G).__name__}")
    H = nx.DiGraph()
    graph_type = G.graph.get("graph_type")
    graph_types = GRAPH_ATTRIBUTES.get(graph_type, {}) if isinstance(graph_type, str) else {}
    H.graph.update({name: _cast(value, graph_types.get(name)) for name, value in G.graph.items()})
    for node, attributes in G.nodes(data=True):
        kind = attributes.get("kind")
        floats = NODE_KINDS[kind].number_names if isinstance(kind, str) and kind in NODE_KINDS else ()
        H.add_node(node, **{name: _cast(value, float if name in floats else int)
                            for name, value in attributes.items()})
    for source, target, attributes in G.edges(data=True):
        H.add_edge(source, target, **{name: _cast(value, {"weight": float, "port": int}.get(name))
                                      for name, value in attributes.items()})
    return H


def _cast(value: object, kind: type | None) -> object:
    """``value`` as ``kind``, or as the Python scalar of a numpy scalar when ``kind`` is None.

    Only numbers are cast, and never a float to an int (that would hide a wrong type).
    """
    if isinstance(value, (bool, str)):
        return value
    if isinstance(value, Integral) and kind is not float:
        return int(value)
    if isinstance(value, Real) and kind is not int:
        return float(value)
    return value


def _format_of(path_or_file: Source, format: str | None) -> str:
    if format is not None:
        return _checked_format(format)
    if isinstance(path_or_file, (str, Path)):
        suffix = Path(path_or_file).suffix.lower()
        if suffix in FORMATS:
            return FORMATS[suffix]
        raise GraphSchemaError(f"cannot tell the graph format from the suffix {suffix!r} of {str(path_or_file)!r}; "
                               f"name the file {' or '.join(sorted(FORMATS))} (in Python, format= also says it)")
    raise GraphSchemaError("pass format='graphml' or format='json' when reading or writing a file object")


def _checked_format(format: str) -> str:
    if format not in FORMATS.values():
        raise GraphSchemaError(f"unknown graph format {format!r}; expected one of {sorted(FORMATS.values())}")
    return format


# -------------------------------------------------------- GraphML writer
def _graphml_text(G: nx.DiGraph) -> str:
    keys: dict[tuple[str, str], str] = {}  # (scope, attribute name) -> GraphML type, in order of first use
    body = ["  <graph edgedefault=\"directed\">\n"]
    body += _data_lines(G.graph, "graph", keys, "    ")
    for node, attributes in G.nodes(data=True):
        body.append(f"    <node id={quoteattr(node)}>\n")
        # Label and colour for graph tools, after the numbers; load_graph drops them again.
        body += _data_lines({**attributes, **node_presentation(attributes)}, "node", keys, "      ")
        body.append("    </node>\n")
    for source, target, attributes in G.edges(data=True):
        body.append(f"    <edge source={quoteattr(source)} target={quoteattr(target)}>\n")
        body += _data_lines(attributes, "edge", keys, "      ")
        body.append("    </edge>\n")
    body.append("  </graph>\n</graphml>\n")
    # Presentation keys last, so the header lists the schema's attributes first.
    declarations = [f"  <key id={quoteattr(_key_id(scope, name))} for=\"{scope}\" attr.name={quoteattr(name)} "
                    f"attr.type=\"{xml_type}\"/>\n"
                    for (scope, name), xml_type in sorted(keys.items(), key=lambda item: item[0] in _PRESENTATION_KEYS)]
    return _GRAPHML_HEADER + "".join(declarations) + "".join(body)


def _data_lines(attributes: Mapping, scope: str, keys: dict[tuple[str, str], str], indent: str) -> list[str]:
    # A canonical, validated graph gives each (scope, name) one Python type, hence one GraphML key.
    lines = []
    for name, value in attributes.items():
        keys.setdefault((scope, name), _XML_TYPES[type(value)])
        lines.append(f"{indent}<data key={quoteattr(_key_id(scope, name))}>{escape(_text(value))}</data>\n")
    return lines


def _key_id(scope: str, name: str) -> str:
    return f"{_SCOPE_PREFIX[scope]}_{name}"


def _text(value: object) -> str:
    # repr of a float is the shortest string that float() maps back to the same bits.
    return repr(value) if isinstance(value, float) else str(value)


# -------------------------------------------------------- GraphML reader
def _parse_graphml(data: bytes, lenient: bool) -> nx.DiGraph:
    """Parse GraphML; ``lenient`` also accepts yEd's graphics keys and their data (never read)."""
    text = _xml_text(data)
    # Entities are the one XML feature that can blow up or reach outside the file; schema files never need them.
    # The check runs on the decoded text that expat parses, so no encoding can hide a declaration from it; the
    # parser itself refuses a DOCTYPE too (entities can only be declared in one), whatever the text check misses.
    if "<!DOCTYPE" in text or "<!ENTITY" in text:
        raise GraphSchemaError("GraphML: DOCTYPE and entity declarations are not allowed")
    parser = ElementTree.XMLParser(target=_NoDoctypeTreeBuilder())
    try:
        parser.feed(text)
        root = parser.close()
    except ElementTree.ParseError as exc:
        raise GraphSchemaError(f"GraphML: not well-formed XML ({exc})") from None
    if _tag(root) != "graphml":
        raise GraphSchemaError(f"GraphML: root element must be <graphml>, got <{_tag(root)}>")
    keys: _KeyTable = {}
    graphs = []
    for child in root:
        tag = _tag(child)
        if tag == "key":
            _read_key(child, keys, lenient)
        elif tag == "graph":
            graphs.append(child)
        elif tag == "data":  # only a foreign key (yEd's resources) may be declared for <graphml>
            _read_data(child, keys, "graphml", {}, "<graphml>")
        else:
            raise GraphSchemaError(f"GraphML: unexpected element <{tag}> in <graphml>")
    if len(graphs) != 1:
        raise GraphSchemaError(f"GraphML: expected exactly one <graph>, found {len(graphs)}")
    return _read_graph(graphs[0], keys)


class _NoDoctypeTreeBuilder(ElementTree.TreeBuilder):
    """An element tree builder that stops expat at a document type declaration, before its entities are read."""

    def doctype(self, name: str, pubid: str | None, system: str | None) -> None:
        # expat calls this at the start of <!DOCTYPE ...>; raising aborts the parse there.
        raise GraphSchemaError(f"GraphML: DOCTYPE and entity declarations are not allowed (<!DOCTYPE {name} ...>)")


def _xml_text(data: bytes) -> str:
    """The document decoded as its byte order mark (UTF-8, UTF-16) or XML declaration says, else as UTF-8."""
    codec = next((codec for mark, codec in _BYTE_ORDER_MARKS if data.startswith(mark)), None)
    if codec is None:
        declared = _DECLARED_ENCODING.match(data)
        codec = "utf-8"
        if declared:
            name = declared.group(1).decode("ascii")
            try:
                codec = codecs.lookup(name).name
            except LookupError:
                codec = name
            if codec not in _ASCII_COMPATIBLE:
                raise GraphSchemaError(f"GraphML: encoding {name!r} is not supported; use UTF-8 (or UTF-16 with a "
                                       "byte order mark)")
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        raise GraphSchemaError(f"GraphML: not well-formed XML (not {codec}: {exc.reason} at byte {exc.start})"
                               ) from None


def _tag(element: ElementTree.Element) -> str:
    tag = element.tag if isinstance(element.tag, str) else ""
    namespace, _, local = tag.rpartition("}")
    if namespace and namespace != "{" + _GRAPHML_NS:
        raise GraphSchemaError(f"GraphML: element {tag!r} is outside the GraphML namespace")
    return local


def _read_key(element: ElementTree.Element, keys: _KeyTable, lenient: bool) -> None:
    key_id, scope = element.get("id"), element.get("for")
    where = f"GraphML <key id={key_id!r}>"
    if key_id in keys:
        raise GraphSchemaError(f"{where}: declared twice")
    if _FOREIGN_KEY in element.attrib:
        _read_foreign_key(element, keys, lenient, where)
        return
    _require_attributes(element, {"id", "for", "attr.name", "attr.type"}, "<key>")
    name, xml_type = element.get("attr.name"), element.get("attr.type")
    if scope not in _SCOPE_PREFIX:
        raise GraphSchemaError(f"{where}: for={scope!r} must be 'graph', 'node' or 'edge'")
    if xml_type not in _XML_PARSERS:
        raise GraphSchemaError(f"{where}: attr.type={xml_type!r} must be one of {sorted(_XML_PARSERS)}")
    if len(element):
        raise GraphSchemaError(f"{where}: key defaults and other children are not allowed")
    if any((other_scope, other_name) == (scope, name) for other_scope, other_name, _ in keys.values()):
        raise GraphSchemaError(f"{where}: a second key for the {scope} attribute {name!r}")
    keys[key_id] = (scope, name, xml_type)


def _read_foreign_key(element: ElementTree.Element, keys: _KeyTable, lenient: bool, where: str) -> None:
    """A yEd graphics or resources key: its data are drawing instructions, skipped unread (name None)."""
    if not lenient:
        raise GraphSchemaError(f"{where}: yEd's {element.get(_FOREIGN_KEY)!r} key is presentation "
                               "(refused with presentation='refuse')")
    _require_attributes(element, {"id", "for", _FOREIGN_KEY}, "<key>")
    scope = element.get("for")
    if scope not in _FOREIGN_SCOPES:
        raise GraphSchemaError(f"{where}: for={scope!r} must be one of {sorted(_FOREIGN_SCOPES)}")
    if len(element):
        raise GraphSchemaError(f"{where}: key defaults and other children are not allowed")
    keys[element.get("id")] = (scope, None, None)


def _require_attributes(element: ElementTree.Element, names: set[str], where: str,
                        optional: frozenset[str] = frozenset()) -> None:
    present = set(element.attrib)
    if not names <= present or present - names - optional:
        raise GraphSchemaError(f"GraphML {where}: attributes must be {sorted(names)}"
                               f"{f' (optionally {sorted(optional)})' if optional else ''}, got {sorted(present)}")


def _read_graph(element: ElementTree.Element, keys: _KeyTable) -> nx.DiGraph:
    _require_attributes(element, {"edgedefault"}, "<graph>", frozenset({"id"}))
    if element.get("edgedefault") != "directed":
        raise GraphSchemaError("GraphML <graph>: edgedefault must be 'directed'")
    G, edges = nx.DiGraph(), []
    for child in element:
        tag = _tag(child)
        if tag == "data":
            _read_data(child, keys, "graph", G.graph, "<graph>")
        elif tag == "node":
            _read_node(child, keys, G)
        elif tag == "edge":
            edges.append(child)
        else:
            raise GraphSchemaError(f"GraphML: unexpected element <{tag}> in <graph>")
    for child in edges:
        _read_edge(child, keys, G)
    return G


def _read_node(element: ElementTree.Element, keys: _KeyTable, G: nx.DiGraph) -> None:
    _require_attributes(element, {"id"}, "<node>")
    node = element.get("id")
    where = f"<node id={node!r}>"
    if node in G:
        raise GraphSchemaError(f"GraphML {where}: duplicated node id")
    attributes: dict[str, object] = {}
    for child in element:
        if _tag(child) != "data":
            raise GraphSchemaError(f"GraphML {where}: unexpected element <{_tag(child)}> (nested graphs and ports "
                                   "are not part of the schema)")
        _read_data(child, keys, "node", attributes, where)
    G.add_node(node, **attributes)


def _read_edge(element: ElementTree.Element, keys: _KeyTable, G: nx.DiGraph) -> None:
    _require_attributes(element, {"source", "target"}, "<edge>", frozenset({"id"}))
    source, target = element.get("source"), element.get("target")
    where = f"<edge {source!r} -> {target!r}>"
    for end in (source, target):
        if end not in G:
            raise GraphSchemaError(f"GraphML {where}: node {end!r} is not declared")
    if G.has_edge(source, target):
        raise GraphSchemaError(f"GraphML {where}: parallel edge (the schema holds one edge per node pair)")
    attributes: dict[str, object] = {}
    for child in element:
        if _tag(child) != "data":
            raise GraphSchemaError(f"GraphML {where}: unexpected element <{_tag(child)}>")
        _read_data(child, keys, "edge", attributes, where)
    G.add_edge(source, target, **attributes)


def _read_data(element: ElementTree.Element, keys: _KeyTable, scope: str, into: dict[str, object], where: str) -> None:
    _require_attributes(element, {"key"}, f"{where} <data>", _XML_SPACE)
    key_id = element.get("key")
    if key_id not in keys or keys[key_id][0] != scope:
        raise GraphSchemaError(f"GraphML {where}: <data key={key_id!r}> has no {scope} key declaration")
    _, name, xml_type = keys[key_id]
    if name is None:  # drawing instructions of a foreign key
        return
    assert xml_type is not None  # _read_key declares a named key with its type
    if len(element):
        raise GraphSchemaError(f"GraphML {where}: <data key={key_id!r}> must hold text only")
    if name in into:
        raise GraphSchemaError(f"GraphML {where}: attribute {name!r} given twice")
    into[name] = _parse_value(element.text or "", xml_type, f"GraphML {where}: attribute {name!r}")


def _parse_value(text: str, xml_type: str, where: str) -> bool | int | float | str:
    if xml_type == "string":
        return text
    text = text.strip()
    try:
        if _XML_PARSERS[xml_type] is bool:
            return _BOOLEANS[text.lower()]
        if _XML_PARSERS[xml_type] is int:
            if not _INTEGER_TEXT.fullmatch(text):
                raise ValueError("not an integer")
            return int(text)
        value = float(text)
    except (ValueError, KeyError):
        raise GraphSchemaError(f"{where}: {text[:40]!r} is not a valid {xml_type}") from None
    # A double written without fraction or exponent is an integer (igraph writes indices so); canonical_graph
    # makes it a float again where the schema wants one. save_graph always writes a '.' or an 'e' in a float,
    # and a negative zero keeps its sign.
    if _INTEGER_TEXT.fullmatch(text) and abs(value) < _EXACT_INTEGER_LIMIT and not (value == 0 and "-" in text):
        return int(text)
    return value


# ----------------------------------------------------------------- JSON
def _json_text(G: nx.DiGraph) -> str:
    # One node or edge per line: readable, and diffs of regenerated files stay local.
    def dump(value: object) -> str:
        return json.dumps(value, allow_nan=False, ensure_ascii=True)

    nodes = ",\n".join(f"  {dump({'id': node, **attributes})}" for node, attributes in G.nodes(data=True))
    edges = ",\n".join(f"  {dump({'source': source, 'target': target, **attributes})}"
                       for source, target, attributes in G.edges(data=True))
    return (f"{{\n \"directed\": true,\n \"multigraph\": false,\n \"graph\": {dump(G.graph)},\n"
            f" \"nodes\": [\n{nodes}\n ],\n \"edges\": [\n{edges}\n ]\n}}\n")


def _parse_json(data: bytes) -> nx.DiGraph:
    try:
        document = json.loads(data.decode("utf-8"), parse_constant=_reject_constant,
                              object_pairs_hook=_unique_keys)
    except GraphSchemaError:
        raise
    except (ValueError, RecursionError) as exc:  # ValueError covers decoding, syntax and over-long integers
        raise GraphSchemaError(f"JSON: not valid JSON ({exc})") from None
    if not isinstance(document, dict) or sorted(document) != sorted(_JSON_TOP_LEVEL):
        found = sorted(document) if isinstance(document, dict) else type(document).__name__
        raise GraphSchemaError(f"JSON: top level must be an object with exactly the keys {list(_JSON_TOP_LEVEL)}, "
                               f"got {found}")
    if document["directed"] is not True or document["multigraph"] is not False:
        raise GraphSchemaError("JSON: a compiled graph is directed and not a multigraph")
    for name, expected in (("graph", dict), ("nodes", list), ("edges", list)):
        if not isinstance(document[name], expected):
            raise GraphSchemaError(f"JSON: {name!r} must be a{'n object' if expected is dict else ' list'}")
    G = nx.DiGraph()
    G.graph.update(_json_scalars(document["graph"], "JSON graph"))
    for position, entry in enumerate(document["nodes"]):
        _add_json_node(G, entry, position)
    for position, entry in enumerate(document["edges"]):
        _add_json_edge(G, entry, position)
    return G


def _reject_constant(name: str) -> NoReturn:
    raise GraphSchemaError(f"JSON: {name} is not a finite number; graph files hold finite numbers only")


def _unique_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    result = dict(pairs)
    if len(result) != len(pairs):
        names = [name for name, _ in pairs]
        duplicated = sorted({name for name in names if names.count(name) > 1})
        raise GraphSchemaError(f"JSON: duplicated key(s) {duplicated} in one object")
    return result


def _json_scalars(entry: dict[str, object], where: str) -> dict[str, object]:
    for name, value in entry.items():
        if not isinstance(value, (int, float, str)) or isinstance(value, bool):
            raise GraphSchemaError(f"{where}: attribute {name!r} must be a number or a string, "
                                   f"got {type(value).__name__}")
    return entry


def _add_json_node(G: nx.DiGraph, entry: object, position: int) -> None:
    if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
        raise GraphSchemaError(f"JSON nodes[{position}]: must be an object with a string 'id'")
    attributes = dict(entry)
    node = attributes.pop("id")
    if node in G:
        raise GraphSchemaError(f"JSON nodes[{position}]: duplicated node id {node!r}")
    G.add_node(node, **_json_scalars(attributes, f"JSON node {node!r}"))


def _add_json_edge(G: nx.DiGraph, entry: object, position: int) -> None:
    if not isinstance(entry, dict) or not all(isinstance(entry.get(end), str) for end in ("source", "target")):
        raise GraphSchemaError(f"JSON edges[{position}]: must be an object with string 'source' and 'target'")
    attributes = dict(entry)
    source, target = attributes.pop("source"), attributes.pop("target")
    where = f"JSON edge {source!r} -> {target!r}"
    for end in (source, target):
        if end not in G:
            raise GraphSchemaError(f"{where}: node {end!r} is not declared")
    if G.has_edge(source, target):
        raise GraphSchemaError(f"{where}: parallel edge (the schema holds one edge per node pair)")
    G.add_edge(source, target, **_json_scalars(attributes, where))
