"""OData list queries ($filter, $top, $select, $orderby, $count, $skiptoken) over SQLModel tables.

$filter is parsed by the kept `odata-query` library and translated to SQLAlchemy; callers name
the camelCase properties a collection exposes and the columns behind them, and nothing else can
be filtered on. Paging: `@odata.nextLink` carries an opaque `$skiptoken` (an offset).
"""

import base64
import json
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any, Callable

from fastapi import Request
from odata_query import ast as odata_ast
from odata_query import exceptions as odata_errors
from odata_query.grammar import ODataLexer, ODataParser
from odata_query.sqlalchemy.orm import AstToSqlAlchemyOrmVisitor
from sqlalchemy import func, literal, types
from sqlalchemy.exc import (
    ArgumentError, CompileError, DataError, NoInspectionAvailable, ProgrammingError, StatementError,
)
from sqlmodel import SQLModel, select
from sqlmodel.ext.asyncio.session import AsyncSession

from foyer.api.errors import bad_request
from foyer.api.schemas import utc
from foyer.models.base import UTCDateTime

DEFAULT_TOP = 100
MAX_TOP = 999
# Any member may send $filter: bound what the parser and the SQL compiler are given. 2,000
# characters is what many Graph proxies allow; a tree deeper than 64 (a chain of 64 `and`s, say)
# or larger than 500 nodes is not a query a person writes.
MAX_FILTER_LENGTH = 2000
MAX_FILTER_DEPTH = 64
MAX_FILTER_NODES = 500
# The largest offset a $skiptoken may carry: far beyond any collection, well inside the 64-bit
# integer both SQLite and PostgreSQL take for OFFSET (together with LIMIT).
MAX_OFFSET = 2 ** 53


class _Visitor(AstToSqlAlchemyOrmVisitor):
    def __init__(self, model: type[SQLModel], fields: dict[str, str]):
        super().__init__(model)
        self.fields = fields

    def visit_Identifier(self, node: odata_ast.Identifier):
        column = self.fields.get(node.name)
        if column is None:
            raise bad_request(f"$filter: '{node.name}' cannot be filtered on; "
                              f"use one of {', '.join(sorted(self.fields))}")
        return _column(self.root_model, column)

    def visit_Attribute(self, node: odata_ast.Attribute):
        # Graph names a related object's key by a path (`accessPackage/id`, `target/objectId`):
        # a collection lists the paths it serves in `fields`, each a column of its own table.
        name = _property_name(node)
        if name is None:
            raise bad_request("$filter: a property path is names separated by '/', such as accessPackage/id")
        return self.visit_Identifier(odata_ast.Identifier(name))

    def visit_DateTime(self, node: odata_ast.DateTime):
        # Compared as UTC on both databases (SQLite would otherwise drop the offset).
        try:
            value = node.py_val
        except ValueError:
            raise bad_request(f"$filter: {node.val} is not a valid date and time") from None
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        try:
            return literal(utc(value, node.val), UTCDateTime())
        except ValueError as error:
            raise bad_request(f"$filter: {error}") from None

    def _substr_function(self, field, substr, func: str):
        # startswith/endswith/contains: case-insensitive as in Graph, and the same on SQLite and
        # PostgreSQL; % and _ in the text are matched literally.
        if not isinstance(substr, odata_ast.String):
            raise bad_request(f"$filter: {func}() takes a quoted string such as 'Ann'")
        name = _property_name(field)
        if name in self.fields and _kind(_column(self.root_model, self.fields[name]).type) is not str:
            raise bad_request(f"$filter: {func}() works on text properties; {name} is not one")
        return getattr(self.visit(field), "i" + func)(substr.py_val, autoescape=True)

    def visit_Compare(self, node: odata_ast.Compare):
        self._check_operands(node.left, node.right)
        self._check_operands(node.right, node.left)
        return super().visit_Compare(node)

    def _check_operands(self, field, value) -> None:
        """A property compared with a literal of another type is the client's mistake: say so,
        the same way on every database."""
        name = _property_name(field)
        if name not in self.fields:
            return
        values = value.val if isinstance(value, odata_ast.List) else [value]
        kind = _kind(_column(self.root_model, self.fields[name]).type)
        accepted = _LITERALS.get(kind)
        for literal_node in values:
            if accepted is None or isinstance(literal_node, (odata_ast.Null, odata_ast.Identifier)):
                continue
            if not isinstance(literal_node, odata_ast._Literal):
                continue
            if not isinstance(literal_node, accepted):
                raise bad_request(f"$filter: {name} cannot be compared with "
                                  f"{getattr(literal_node, 'val', literal_node)!s}; it is "
                                  f"{_KIND_NAMES.get(kind, kind.__name__)}")


def _column(model: type[SQLModel], spec):
    """A collection's property: a column's name, or an SQL expression over the model's columns
    (users' signInActivity/lastSuccessfulSignInDateTime counts from redemption when empty)."""
    return getattr(model, spec) if isinstance(spec, str) else spec


def filter_properties(text: str) -> set[str]:
    """The property names a $filter mentions (for rules such as Graph's "signInActivity is not
    combined with other properties"); an unparsable filter names none (filter_clause refuses it)."""
    try:
        tree = ODataParser().parse(ODataLexer().tokenize(text[:MAX_FILTER_LENGTH]))
        _check_size(tree)
    except (Exception, RecursionError):
        return set()
    found, stack = set(), [tree]
    while stack:
        node = stack.pop()
        name = _property_name(node)
        if name is not None:
            found.add(name)
            continue
        stack.extend(child for value in vars(node).values()
                     for child in (value if isinstance(value, (list, tuple)) else (value,))
                     if isinstance(child, odata_ast._Node))
    return found


def _property_name(node) -> str | None:
    """`mail` for an identifier, `accessPackage/id` for a path of identifiers; None otherwise."""
    if isinstance(node, odata_ast.Identifier):
        return node.name
    if isinstance(node, odata_ast.Attribute):
        owner = _property_name(node.owner)
        return None if owner is None else f"{owner}/{node.attr}"
    return None


def _kind(sa_type) -> type | None:
    if isinstance(sa_type, types.TypeDecorator):
        sa_type = sa_type.impl_instance
    for sa_kind, kind in ((types.Boolean, bool), (types.DateTime, datetime), (types.Date, date),
                          (types.Integer, int), (types.Numeric, float), (types.String, str)):
        if isinstance(sa_type, sa_kind):
            return kind
    return None


_LITERALS = {
    str: (odata_ast.String, odata_ast.GUID),
    bool: (odata_ast.Boolean,),
    datetime: (odata_ast.DateTime, odata_ast.Date),
    date: (odata_ast.Date,),
    int: (odata_ast.Integer,),
    float: (odata_ast.Integer, odata_ast.Float),
}
_KIND_NAMES = {str: "a string", bool: "true or false", datetime: "a date and time such as "
               "2025-01-31T00:00:00Z", date: "a date", int: "a whole number", float: "a number"}


def _check_size(tree) -> None:
    """Refuse a tree deeper than MAX_FILTER_DEPTH or larger than MAX_FILTER_NODES, walked
    without recursion (the visitor and SQLAlchemy's compiler both recurse per level)."""
    stack, nodes = [(tree, 1)], 0
    while stack:
        node, depth = stack.pop()
        nodes += 1
        if nodes > MAX_FILTER_NODES:
            raise bad_request(f"$filter has more than {MAX_FILTER_NODES} terms")
        children = [child for value in vars(node).values()
                    for child in (value if isinstance(value, (list, tuple)) else (value,))
                    if isinstance(child, odata_ast._Node)]
        # Depth counts expressions (a comparison, an and, a not), not their operands.
        if children and depth > MAX_FILTER_DEPTH:
            raise bad_request(f"$filter is nested more than {MAX_FILTER_DEPTH} levels deep")
        stack.extend((child, depth + 1) for child in children)


def filter_clause(model: type[SQLModel], fields: dict[str, str], text: str):
    if len(text) > MAX_FILTER_LENGTH:
        raise bad_request(f"$filter is longer than {MAX_FILTER_LENGTH} characters")
    try:
        tree = ODataParser().parse(ODataLexer().tokenize(text))
        _check_size(tree)
        return _Visitor(model, fields).visit(tree)
    except RecursionError:
        # The parser recurses on right-nested input (`not not not …`, `- - - 1`).
        raise bad_request("$filter is nested too deeply") from None
    except odata_errors.ODataException as error:
        raise bad_request(f"$filter is not valid: {error}") from error
    except (SyntaxError, ValueError, TypeError, AttributeError, ArgumentError,
            NoInspectionAvailable) as error:
        raise bad_request(f"$filter is not valid: {error}") from error


@dataclass
class Page:
    rows: list[Any]
    next_link: str | None
    count: int | None


def _decode_skiptoken(token: str) -> int:
    """The offset in a $skiptoken this API wrote: a whole number from 0 to MAX_OFFSET, nothing
    else (an offset beyond 64 bits overflows the database driver)."""
    try:
        if len(token) > 100:  # the tokens written here are about 20 characters
            raise ValueError("too long")
        offset = json.loads(base64.urlsafe_b64decode(token.encode()))["o"]
    except (Exception, RecursionError) as error:  # any garbage is a client error
        raise bad_request("$skiptoken is not valid") from error
    if type(offset) is not int or not 0 <= offset <= MAX_OFFSET:
        raise bad_request("$skiptoken is not valid")
    return offset


async def _run(session: AsyncSession, execute: Callable, fetch: str):
    """Run a list query; a $filter literal of the wrong type for its property (a string compared
    with a date, say) fails in the database, and is the client's error, not the server's."""
    try:
        return getattr(await execute(), fetch)()
    except (DataError, ProgrammingError, StatementError, CompileError, OverflowError) as error:
        await session.rollback()
        raise bad_request("$filter compares a property with a value of the wrong type") from error


def _encode_skiptoken(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset}).encode()).decode()


async def list_page(request: Request, session: AsyncSession, model: type[SQLModel],
                    fields: dict[str, str], *, where: list | None = None,
                    default_order: str | tuple[str, ...] = "id", default_desc: bool = False) -> Page:
    """One page of `model`. `default_order` (a column, or several) follows any $orderby and makes
    the order total; `default_desc` sorts it newest/largest first."""
    params = request.query_params
    statement = select(model)
    for clause in where or []:
        statement = statement.where(clause)
    if params.get("$filter"):
        statement = statement.where(filter_clause(model, fields, params["$filter"]))

    try:
        top = int(params.get("$top", DEFAULT_TOP))
    except ValueError:
        raise bad_request("$top must be a whole number") from None
    if not 1 <= top <= MAX_TOP:
        raise bad_request(f"$top must be between 1 and {MAX_TOP}")

    count = None
    if params.get("$count", "").lower() == "true":
        count = await _run(session, lambda: session.exec(
            select(func.count()).select_from(statement.subquery())), "one")

    order = []
    for part in filter(None, (params.get("$orderby") or "").split(",")):
        name, _, direction = part.strip().partition(" ")
        if name not in fields:
            raise bad_request(f"$orderby: '{name}' cannot be sorted on")
        if direction.strip().lower() not in ("", "asc", "desc"):
            raise bad_request("$orderby direction must be asc or desc")
        column = _column(model, fields[name])
        order.append(column.desc() if direction.strip().lower() == "desc" else column.asc())
    for name in (default_order,) if isinstance(default_order, str) else default_order:
        column = getattr(model, name)  # a total order makes paging stable
        order.append(column.desc() if default_desc else column.asc())

    offset = _decode_skiptoken(params["$skiptoken"]) if params.get("$skiptoken") else 0
    rows = list(await _run(session, lambda: session.exec(
        statement.order_by(*order).offset(offset).limit(top + 1)), "all"))
    next_link = None
    if len(rows) > top:
        rows = rows[:top]
        next_link = str(request.url.include_query_params(**{"$skiptoken": _encode_skiptoken(offset + top)}))
    return Page(rows=rows, next_link=next_link, count=count)


def selected_names(wanted: str) -> set[str]:
    """The property names of a `$select` value (comma-separated camelCase names)."""
    return {name.strip() for name in wanted.split(",") if name.strip()}


def refuse_unknown_select(unknown: set[str]) -> None:
    """400 naming the `$select` properties the resource does not have, if any."""
    if unknown:
        raise bad_request(f"$select: unknown propert{'ies' if len(unknown) > 1 else 'y'} "
                          f"{', '.join(sorted(unknown))}")


def select_fields(params, item: dict) -> dict:
    """Apply $select (comma-separated camelCase names) to one serialized item; id and @odata.*
    annotations always stay."""
    wanted = params.get("$select")
    if not wanted:
        return item
    names = selected_names(wanted)
    refuse_unknown_select(names - item.keys())
    return {k: v for k, v in item.items() if k in names or k == "id" or k.startswith("@odata.")}


def collection(request: Request, page: Page, serialize: Callable[[Any], dict]) -> dict:
    body: dict[str, Any] = {"value": [select_fields(request.query_params, serialize(r)) for r in page.rows]}
    if page.count is not None:
        body["@odata.count"] = page.count
    if page.next_link:
        body["@odata.nextLink"] = page.next_link
    return body
