"""Build hook: generate the parser of grammar/drs.lark into the package, so no run pays for it.

hatchling runs this for the wheel and for editable installs. It loads drsparse/_grammar.py by
path (the build environment may lack drsparse's other dependencies) and has it write lark's
standalone parser for the grammar to drsparse/_drs_parser.py, which the package imports
instead of importing lark and building the LALR tables at every start. The file is git-ignored
and declared an artifact so the wheel carries it.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class CompileGrammar(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        root = Path(self.root)
        spec = importlib.util.spec_from_file_location(
            "_drsparse_grammar_build", root / "drsparse" / "_grammar.py"
        )
        if spec is None or spec.loader is None:  # pragma: no cover - the file is in the sdist
            raise RuntimeError("drsparse/_grammar.py not found")
        grammar = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(grammar)
        text = (root / "grammar" / grammar.GRAMMAR_NAME).read_text(encoding="utf-8")
        name = grammar.GENERATED_MODULE.replace(".", "/") + ".py"
        grammar.generate_to(root / name, text)
        build_data["artifacts"].append(name)
