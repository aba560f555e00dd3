"""The registry: decorator registration, lookup errors that help, lazy built-ins and entry-point plug-ins."""

from __future__ import annotations

import sys
import textwrap
import types

import pytest

from cosim.errors import CosimError
from cosim.registry import PluginError, Registry, UnknownNameError


def test_decorator_registers_next_to_the_class():
    reg = Registry("widget", group=None)

    @reg.register("round")
    class Round:
        pass

    assert reg.get("round") is Round
    assert "round" in reg and reg.names() == ["round"] and len(reg) == 1


def test_unknown_name_lists_known_names_and_suggests_the_closest():
    reg = Registry("channel", group=None)
    for name in ("constant", "gilbert_elliott", "snr"):
        reg.add(name, type(name, (), {}))
    with pytest.raises(UnknownNameError) as info:
        reg.get("gilbert_eliot", field="devices.0.channel.kind")
    msg = str(info.value)
    assert isinstance(info.value, CosimError)
    assert "\n" not in msg
    assert msg.startswith("devices.0.channel.kind: unknown channel 'gilbert_eliot'")
    assert "known: constant, gilbert_elliott, snr" in msg
    assert "did you mean 'gilbert_elliott'?" in msg
    with pytest.raises(UnknownNameError) as info:
        reg.get("zzzzzz")
    assert "did you mean" not in str(info.value)


def test_two_different_classes_under_one_name_is_an_error():
    reg = Registry("widget", group=None)
    reg.add("a", type("A", (), {}))
    with pytest.raises(PluginError, match="registered twice"):
        reg.add("a", type("B", (), {}))


def _write_plugin(root, module_body: str, entry_points: str, dist="cosimplug_demo") -> None:
    (root / f"{dist}.py").write_text(textwrap.dedent(module_body))
    info = root / f"{dist}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(textwrap.dedent(entry_points))


@pytest.fixture
def on_sys_path(tmp_path, monkeypatch):
    """tmp_path on sys.path, and a module `cosimplug_hub` through which plug-in code reaches `HUB`."""
    monkeypatch.syspath_prepend(str(tmp_path))
    hub = types.ModuleType("cosimplug_hub")
    hub.HUB = HUB
    monkeypatch.setitem(sys.modules, "cosimplug_hub", hub)
    HUB.clear()
    yield tmp_path
    for name in [m for m in sys.modules if m.startswith("cosimplug_")]:
        del sys.modules[name]


HUB: dict[str, Registry] = {}


def test_builtins_are_imported_lazily_on_first_lookup(on_sys_path):
    HUB["reg"] = reg = Registry("widget", group=None, builtins=("cosimplug_builtin",))
    (on_sys_path / "cosimplug_builtin.py").write_text(
        "from cosimplug_hub import HUB\n@HUB['reg'].register('lazy')\nclass Lazy:\n    pass\n")
    assert "cosimplug_builtin" not in sys.modules
    assert reg.get("lazy").__name__ == "Lazy"
    assert "cosimplug_builtin" in sys.modules


def test_entry_point_plugin_loads_an_object_by_its_entry_name(on_sys_path):
    _write_plugin(on_sys_path, "class Fancy:\n    pass\n",
                  "[cosim.testwidgets]\nfancy = cosimplug_demo:Fancy\n")
    reg = Registry("widget", group="cosim.testwidgets")
    assert reg.names() == ["fancy"]
    assert reg.get("fancy").__name__ == "Fancy"


def test_entry_point_module_registering_through_the_decorator(on_sys_path):
    HUB["reg"] = reg = Registry("widget", group="cosim.testselfreg")
    _write_plugin(on_sys_path, """\
        from cosimplug_hub import HUB
        @HUB["reg"].register("selfreg")
        class SelfRegistered:
            pass
        """, "[cosim.testselfreg]\nanything = cosimplug_demo\n")
    assert reg.names() == ["selfreg"]


def test_broken_plugin_names_itself(on_sys_path):
    _write_plugin(on_sys_path, "raise RuntimeError('boom')\n",
                  "[cosim.testbroken]\nbad = cosimplug_demo:Thing\n")
    reg = Registry("widget", group="cosim.testbroken")
    with pytest.raises(PluginError, match="cosim.testbroken plug-in 'bad' .*RuntimeError: boom"):
        reg.get("bad")


def test_plugin_clashing_with_a_builtin_name_is_an_error(on_sys_path):
    HUB["reg"] = reg = Registry("widget", group="cosim.testclash")
    _write_plugin(on_sys_path, """\
        from cosimplug_hub import HUB
        @HUB["reg"].register("taken")
        class Impostor:
            pass
        """, "[cosim.testclash]\ntaken = cosimplug_demo\n")
    reg.add("taken", type("Original", (), {}))
    with pytest.raises(PluginError, match="widget 'taken' registered twice"):
        reg.names()
