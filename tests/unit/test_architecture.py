"""The layering rules of docs/adr/0007, checked on the source: use cases and the domain talk to ports only."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DATABASE = ("pynamodb", "boto3", "botocore", "chalicelib.store.repositories", "chalicelib.store.models",
            "chalicelib.store.memory")


def imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def modules(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


@pytest.mark.parametrize("path", modules("chalicelib/usecases") + modules("chalicelib/domain"),
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_use_cases_and_the_domain_import_no_database_or_aws_client(path):
    bad = {name for name in imports(path) if name.startswith(DATABASE)}
    assert not bad, f"{path.name} imports {sorted(bad)}: talk to chalicelib.store.ports instead"


@pytest.mark.parametrize("path", modules("chalicelib/domain"), ids=lambda p: str(p.relative_to(ROOT)))
def test_the_domain_is_pure(path):
    bad = {name for name in imports(path)
           if name.startswith(("chalicelib.usecases", "chalicelib.store", "chalicelib.channels", "chalice", "yaml",
                               "requests", "tweepy", "aws_lambda_powertools"))
           and not name.startswith("chalicelib.domain")}
    assert not bad, f"{path.name} imports {sorted(bad)}"


def test_only_the_dynamodb_stores_touch_the_state_table():
    """Every key family of the state table is spelled in store/repositories.py alone: nothing else may import
    its model."""
    users = [p for p in modules("chalicelib") + modules("tools") + [ROOT / "app.py"]
             if "chalicelib.store.models" in imports(p)]
    assert sorted(str(p.relative_to(ROOT)) for p in users) == ["chalicelib/bootstrap.py",
                                                               "chalicelib/store/repositories.py"]


def test_every_refusal_a_use_case_can_raise_has_an_http_status():
    import inspect

    from chalicelib.api.http import ERROR_STATUS
    from chalicelib.usecases import errors

    refusals = {cls for _, cls in inspect.getmembers(errors, inspect.isclass)
                if issubclass(cls, errors.Refused) and cls is not errors.Refused}
    assert refusals == set(ERROR_STATUS)
    assert len(set(ERROR_STATUS.values())) == len(ERROR_STATUS)  # one meaning, one status


def chalice_imports(path: Path) -> set[str]:
    return {name for name in imports(path) if name == "chalice" or name.startswith("chalice.")}


def test_only_app_py_and_the_blueprints_import_chalice():
    """Routing is wiring: ``app.py`` creates the app and registers the blueprints of ``chalicelib/api``; no other
    module of the deployed code imports Chalice."""
    users = [str(p.relative_to(ROOT)) for p in [ROOT / "app.py", *modules("chalicelib")] if chalice_imports(p)]
    assert users and all(p == "app.py" or p.startswith("chalicelib/api/") for p in users), users
    assert "app.py" in users


@pytest.mark.parametrize("path", [p for p in modules("chalicelib") if "api" not in p.relative_to(ROOT).parts[1:2]],
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_nothing_below_the_blueprints_imports_them(path):
    """Use cases, the domain, channels, stores and pages never reach back up into the HTTP layer (or app.py)."""
    names = imports(path) | {f"{node.module}.{alias.name}" for node in ast.walk(ast.parse(path.read_text()))
                             if isinstance(node, ast.ImportFrom) and node.module for alias in node.names}
    bad = {name for name in names if name == "app" or name == "chalicelib.api" or name.startswith("chalicelib.api.")}
    assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}: only app.py registers the blueprints"


def test_app_py_is_wiring_only():
    """``app.py`` creates the app, adds the telemetry middleware and registers blueprints: no route is declared
    in it, and each area's routes live in its own blueprint module."""
    tree = ast.parse((ROOT / "app.py").read_text())
    decorators = [ast.unparse(d) for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)
                  for d in node.decorator_list]
    assert decorators == ["app.middleware('all')"]


def test_the_local_stage_polls_a_local_stand_in_never_x(settings):
    from chalicelib import bootstrap
    from chalicelib.channels.sandbox import LocalMentionSource
    from chalicelib.settings import Secrets
    from tests.conftest import LOCAL_ENV

    local = bootstrap.build(settings, secrets=Secrets(settings, env=LOCAL_ENV), memory=True)
    assert isinstance(local.x_api(), LocalMentionSource)
    page = local.x_api().fetch_mentions("1000000001", since_id=None)
    assert page.mentions == [] and page.newest_id is None


def test_processing_reads_mentions_and_imports_no_channel_parser():
    """Parse once (docs/adr/0020): behind the inbound queue, a mention is a ``Mention``. ``process.py`` imports no
    channel module; an envelope of version 1 (a raw platform payload) is read by ``usecases.legacy_envelope`` alone,
    the one module behind the queue that imports a parser."""
    process = ROOT / "chalicelib/usecases/process.py"
    bad = {name for name in imports(process) if name.startswith("chalicelib.channels")}
    assert not bad, f"process.py imports {sorted(bad)}: read the envelope's mentions (chalicelib.domain.inbound)"
    assert "chalicelib.usecases.legacy_envelope" in imports(process)
    assert {"chalicelib.domain.inbound", "chalicelib.usecases.legacy_envelope"} & imports(
        ROOT / "chalicelib/usecases/ingest.py") == {"chalicelib.domain.inbound"}


def test_nothing_is_queued_as_a_version_1_envelope():
    """Only tests and drills build an old envelope: no entry point writes one."""
    writers = [p for p in modules("chalicelib") + modules("tools") + [ROOT / "app.py"]
               if "chalicelib.usecases.legacy_envelope" in imports(p)]
    assert [str(p.relative_to(ROOT)) for p in writers] == ["chalicelib/usecases/process.py"]


DESK = ("commands", "access", "claims", "actions", "views", "oversight")


def _names_an_action(node: ast.expr, actions: set[str]) -> bool:
    return isinstance(node, ast.Constant) and node.value in actions


def _is_action(node: ast.expr) -> bool:
    return (isinstance(node, ast.Name) and node.id == "action") or (
        isinstance(node, ast.Attribute) and node.attr == "action")


def test_the_desk_is_a_slice_and_its_faces_name_actions_by_the_enum():
    """The agents' desk lives in ``chalicelib/usecases/desk/``, one module per responsibility (no
    ``usecases/inbox.py``). The blueprints and the web pages keep no action table of their own and never compare an
    action with a name: ``commands.Action`` names them, ``actions.ACTIONS`` maps each to its use case."""
    from chalicelib.usecases.desk.actions import ACTIONS
    from chalicelib.usecases.desk.commands import Action

    desk = ROOT / "chalicelib/usecases/desk"
    assert {p.stem for p in desk.glob("*.py")} >= set(DESK)
    assert not (ROOT / "chalicelib/usecases/inbox.py").exists()
    assert set(ACTIONS) == set(Action)
    actions = {a.value for a in Action}
    found = []
    for path in modules("chalicelib/api") + modules("chalicelib/web"):
        where = str(path.relative_to(ROOT))
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Dict) and where.startswith("chalicelib/api/") and any(
                    key is not None and _names_an_action(key, actions) for key in node.keys):
                found.append(f"{where}:{node.lineno}: a dict keyed by action names")
            if isinstance(node, ast.Compare):
                sides = [node.left, *node.comparators]
                if any(_is_action(side) for side in sides) and any(
                        isinstance(op, ast.Eq | ast.NotEq) for op in node.ops) or any(
                        _names_an_action(side, actions) for side in sides):
                    found.append(f"{where}:{node.lineno}: {ast.unparse(node)}")
    assert not found, found


#: Where stored text is read back: the store's codec (old prose rows) and the keys' one reader
_READERS_OF_STORED_TEXT = ("chalicelib/store/codec.py", "chalicelib/domain/keys.py")


def test_no_history_detail_or_key_is_read_back_from_its_text():
    """A timeline entry is asked what it is (its type) and read by its fields; a key by ``ChannelKey``. Nothing in
    chalicelib compares an entry's ``kind`` or ``detail`` with a word, cuts a ``detail`` up, or splits text on ``#``
    — but the store's codec (rows from before the entries were typed) and ``domain/keys.py``."""
    found = []
    for path in modules("chalicelib"):
        where = str(path.relative_to(ROOT))
        if where in _READERS_OF_STORED_TEXT:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Compare):
                sides = [node.left, *node.comparators]
                entry = [s for s in sides if isinstance(s, ast.Attribute) and s.attr in ("kind", "detail")
                         and isinstance(s.value, ast.Name) and s.value.id in ("e", "event", "entry")]
                if entry and any(isinstance(s, ast.Constant | ast.Tuple | ast.List | ast.Set) for s in sides):
                    found.append(f"{where}:{node.lineno}: {ast.unparse(node)}")
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                method, target = node.func.attr, node.func.value
                if method in ("split", "partition", "rpartition", "startswith") and isinstance(
                        target, ast.Attribute) and target.attr == "detail":
                    found.append(f"{where}:{node.lineno}: {ast.unparse(node)}")
                if method in ("split", "partition", "rpartition", "rsplit") and any(
                        isinstance(a, ast.Constant) and a.value == "#" for a in node.args):
                    found.append(f"{where}:{node.lineno}: {ast.unparse(node)}")
    assert not found, found
