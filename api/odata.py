"""OData list queries ($filter, $top, $select, $orderby, $count, $skiptoken) over SQLModel tables.

$filter is parsed by the kept `odata-query` library and translated to SQLAlchemy; callers name
the camelCase properties a collection exposes and the columns behind them, and nothing else can
be filtered on. Paging: `@odata.nextLink` carries an opaque `$skiptoken` (an offset).
"""

import base64
import json
from dataclasses import dataclass
from typing import Any, Callable

from fastapi import Request
from odata_query import ast as odata_ast
from odata_query import exceptions as odata_errors
from odata_query.grammar import ODataLexer, ODataParser
from odata_query.sqlalchemy.orm import AstToSqlAlchemyOrmVisitor
from sqlalchemy import func
from sqlmodel import SQLModel, select
from sqlmodel.ext.asyncio.session import AsyncSession

from api.errors import bad_request

DEFAULT_TOP = 100
MAX_TOP = 999


class _Visitor(AstToSqlAlchemyOrmVisitor):
    def __init__(self, model: type[SQLModel], fields: dict[str, str]):
        super().__init__(model)
        self.fields = fields

    def visit_Identifier(self, node: odata_ast.Identifier):
        column = self.fields.get(node.name)
        if column is None:
            raise bad_request(f"$filter: '{node.name}' cannot be filtered on; "
                              f"use one of {', '.join(sorted(self.fields))}")
        return getattr(self.root_model, column)


def filter_clause(model: type[SQLModel], fields: dict[str, str], text: str):
    try:
        tree = ODataParser().parse(ODataLexer().tokenize(text))
        return _Visitor(model, fields).visit(tree)
    except odata_errors.ODataException as error:
        raise bad_request(f"$filter is not valid: {error}") from error
    except (SyntaxError, ValueError, TypeError, AttributeError) as error:
        raise bad_request(f"$filter is not valid: {error}") from error


@dataclass
class Page:
    rows: list[Any]
    next_link: str | None
    count: int | None


def _decode_skiptoken(token: str) -> int:
    try:
        return int(json.loads(base64.urlsafe_b64decode(token.encode()))["o"])
    except Exception as error:  # any garbage is a client error
        raise bad_request("$skiptoken is not valid") from error


def _encode_skiptoken(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset}).encode()).decode()


async def list_page(request: Request, session: AsyncSession, model: type[SQLModel],
                    fields: dict[str, str], *, where: list | None = None,
                    default_order: str = "id") -> Page:
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
        count = (await session.exec(select(func.count()).select_from(statement.subquery()))).one()

    order = []
    for part in filter(None, (params.get("$orderby") or "").split(",")):
        name, _, direction = part.strip().partition(" ")
        if name not in fields:
            raise bad_request(f"$orderby: '{name}' cannot be sorted on")
        if direction.strip().lower() not in ("", "asc", "desc"):
            raise bad_request("$orderby direction must be asc or desc")
        column = getattr(model, fields[name])
        order.append(column.desc() if direction.strip().lower() == "desc" else column.asc())
    order.append(getattr(model, default_order).asc())  # a total order makes paging stable

    offset = _decode_skiptoken(params["$skiptoken"]) if params.get("$skiptoken") else 0
    rows = list((await session.exec(statement.order_by(*order).offset(offset).limit(top + 1))).all())
    next_link = None
    if len(rows) > top:
        rows = rows[:top]
        next_link = str(request.url.include_query_params(**{"$skiptoken": _encode_skiptoken(offset + top)}))
    return Page(rows=rows, next_link=next_link, count=count)


def select_fields(params, item: dict) -> dict:
    """Apply $select (comma-separated camelCase names) to one serialized item; id always stays."""
    wanted = params.get("$select")
    if not wanted:
        return item
    names = {name.strip() for name in wanted.split(",") if name.strip()}
    unknown = names - item.keys()
    if unknown:
        raise bad_request(f"$select: unknown propert{'ies' if len(unknown) > 1 else 'y'} "
                          f"{', '.join(sorted(unknown))}")
    return {k: v for k, v in item.items() if k in names or k == "id"}


def collection(request: Request, page: Page, serialize: Callable[[Any], dict]) -> dict:
    body: dict[str, Any] = {"value": [select_fields(request.query_params, serialize(r)) for r in page.rows]}
    if page.count is not None:
        body["@odata.count"] = page.count
    if page.next_link:
        body["@odata.nextLink"] = page.next_link
    return body
