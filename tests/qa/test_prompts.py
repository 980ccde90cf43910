from __future__ import annotations

import pytest

from qa.prompts import TemplateError, load_template


def test_refusal_template_renders_and_names_missing_variables() -> None:
    template = load_template("refusal")
    assert template.variables == {"question"}
    assert "“Why?”" in template.render(question="Why?")
    with pytest.raises(TemplateError, match="missing variables: question"):
        template.render()
    with pytest.raises(TemplateError, match="No template 'nope'"):
        load_template("nope")
